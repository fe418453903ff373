#!/usr/bin/env node
// The test command: every uvu suite under test/ with c8 coverage (thresholds in .c8rc.json).
// uvu exits 0 when nothing matched, so this wrapper reads its totals, fails a run that executed no
// test, and ends with one line "N passed, N failed, N skipped" that CI reads.
// As root, the whole run happens inside a new network namespace that has only loopback
// (`unshare --net`), so no test, and no live server a test starts, can send a packet off the machine.
// QRSCU_NETNS=1 marks a run already inside it. Under CI=true, failing to create it is an error.
// Usage: npm test [-- PATTERN]   (PATTERN: a regex on test file names, default every *.test.ts)
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';

// A user pattern narrows the test files; it never selects fixtures (test/fixtures/*.dcm …).
const pattern = process.argv[2] === undefined ? '\\.test\\.ts$' : `^(?=.*(?:${process.argv[2]})).*\\.test\\.ts$`;
const noCoverage = process.env.QRSCU_NO_COVERAGE === '1' || process.argv[2] !== undefined;
// uvu's bin under `node --import tsx` loads each source file once (with `uvu -r tsx` test files go
// through require() and sources are compiled twice, which skews c8's line attribution).
const uvu = ['--import', 'tsx', 'node_modules/uvu/bin.js', 'test', pattern];
const [cmd, args] = noCoverage ? [process.execPath, uvu] : ['npx', ['c8', process.execPath, ...uvu]];
const inCi = process.env.CI === 'true';

/** The absolute path of an executable on PATH (plus the sbin directories, where `ip` lives), or undefined. */
function findProgram(name) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Network interfaces of the current namespace other than lo (/proc/net/dev is per namespace; /sys is not). */
function interfacesBesidesLoopback() {
  let text;
  try {
    text = readFileSync('/proc/net/dev', 'utf8');
  } catch {
    return ['(unknown: no /proc/net/dev)'];
  }
  return text.split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter((name) => name !== '' && name !== 'lo');
}

/**
 * The command line that runs `cmd args` inside a loopback-only network namespace, or a reason why
 * that cannot be done here. The namespace is probed first (bounded), so a failure to create it is
 * told apart from a failing test run.
 */
function namespaced() {
  if (process.env.QRSCU_NETNS === '1') {
    // Trust the marker only when this namespace really has nothing but loopback.
    const others = interfacesBesidesLoopback();
    if (others.length === 0) return { inside: true };
    console.log(`test: QRSCU_NETNS=1 is set, but this network namespace also has ${others.join(', ')}`);
  }
  if (process.platform !== 'linux') return { why: `${process.platform} has no network namespaces` };
  if (process.getuid?.() !== 0) return { why: 'not running as root' };
  const unshare = findProgram('unshare');
  if (!unshare) return { why: 'unshare (util-linux) is not installed' };
  const ip = findProgram('ip');
  if (!ip) return { why: 'ip (iproute2) is not installed' };
  const script = `"${ip}" link set lo up && exec "$@"`;
  const probe = spawnSync(unshare, ['--net', 'sh', '-c', `"${ip}" link set lo up`], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error || probe.status !== 0) {
    const detail = (probe.error?.message ?? probe.stderr ?? '').trim().split('\n')[0] || `exit ${probe.status}`;
    return { why: `unshare --net failed: ${detail}` };
  }
  return { argv: [unshare, ['--net', 'sh', '-c', script, 'sh', cmd, ...args]] };
}

const ns = namespaced();
let argv = [cmd, args];
if (ns.argv) {
  argv = ns.argv;
  console.log('test: running inside a loopback-only network namespace (unshare --net)');
} else if (ns.why) {
  if (inCi) {
    console.error(`test: CI=true needs a loopback-only network namespace for the live tests, but ${ns.why}. Run as root on Linux with util-linux and iproute2 installed.`);
    process.exit(1);
  }
  console.log(`test: live servers run without a network namespace (${ns.why})`);
}

const child = spawn(argv[0], argv[1], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: '0', ...(ns.argv ? { QRSCU_NETNS: '1' } : {}) },
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
let out = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  out += chunk.toString();
  if (out.length > 1 << 20) out = out.slice(-(1 << 16));
});
child.on('error', (err) => {
  console.error(`test: cannot start ${argv[0]}: ${err.message}`);
  process.exit(1);
});
child.on('close', (code) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const num = (label) => {
    const m = plain.match(new RegExp(`${label}:\\s+(\\d+)`, 'g'));
    return m ? Number(m[m.length - 1].replace(/\D+/g, '')) : 0;
  };
  const total = num('Total');
  const passed = num('Passed');
  const skipped = num('Skipped');
  // uvu's Total counts the tests that ran (test.skip only adds to Skipped), so failed = total - passed.
  const failed = Math.max(0, total - passed);
  let rc = code ?? 1;
  if (total === 0) {
    console.error(`test: no test ran (${skipped > 0 ? 'every matching test was skipped' : 'uvu matched nothing'}): failing the run`);
    rc = rc || 1;
  }
  if (rc !== 0 && total > 0 && failed === 0) {
    console.error(`test: ${argv[0] === cmd ? cmd : `${cmd} (in the namespace)`} exited ${rc} although every test passed: see above (coverage below .c8rc.json's thresholds?)`);
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(rc !== 0 ? rc : failed > 0 ? 1 : 0);
});
