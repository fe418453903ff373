#!/usr/bin/env node
// Build the optional TCP_QUICKACK addon (native/quickack.c) with node-gyp, for src/net/quickack.ts.
// Runs from npm's install script. It never fails the install: any problem (not Linux, no compiler,
// no Node headers, no node-gyp) prints one line and exits 0, and qrscu then runs on plain sockets.
//
// node-gyp: npm's own (npm_config_node_gyp, set by npm for scripts), else the one bundled with the
// npm next to this node, else node-gyp on PATH. Never `npx` (that would download it).
// Headers: npm_config_nodedir when set, else this node's own include/node (installed by Debian's
// nodejs and by the official tarballs), else node-gyp's cache (which downloads: fails offline).
// Output: native/build/Release/quickack.node. Skip with QRSCU_SKIP_NATIVE=1.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const output = path.join(nativeDir, 'build', 'Release', 'quickack.node');
const logFile = path.join(nativeDir, 'build-native.log');
const TIMEOUT_MS = 180_000;

function done(message) {
  console.log(`quickack: ${message}`);
  process.exit(0);
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** [command, leading args] that runs node-gyp, or undefined. */
function findNodeGyp() {
  const scripts = [
    process.env.npm_config_node_gyp,
    // Debian/nodesource: /usr/bin/node + /usr/lib/node_modules/npm; tarballs: bin/node + lib/node_modules/npm.
    path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.resolve(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    scripts.push(createRequire(path.join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not a dependency
  }
  for (const s of scripts) {
    if (s && s.endsWith('.js') && existsSync(s)) return [process.execPath, [s]];
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const name of process.platform === 'win32' ? ['node-gyp.cmd'] : ['node-gyp']) {
      const file = path.join(dir, name);
      if (executable(file)) return [file, []];
    }
  }
  return undefined;
}

/** --nodedir for node-gyp so it uses local headers instead of downloading them, or undefined. */
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) && existsSync(path.join(prefix, 'include', 'node', 'common.gypi'))) return prefix;
  return undefined;
}

/** One line of node-gyp's output that says what went wrong: the compiler's or gyp's own words first. */
function reason(text) {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean).reverse();
  const line = lines.find((l) => !/^(gyp (ERR|WARN|info)!|make(\[\d+\])?:)/.test(l) && /error|not found|No such file|denied/i.test(l))
    ?? lines.find((l) => /^gyp ERR! stack Error:/.test(l))
    ?? lines.find((l) => /^gyp ERR!/.test(l) && !/not ok|^gyp ERR! (cwd|node|command|System)/.test(l))
    ?? lines[0] ?? 'no output';
  return line.replace(/^gyp ERR! (stack )?/, '').slice(0, 200);
}

try {
  if (process.env.QRSCU_SKIP_NATIVE === '1') done('skipped (QRSCU_SKIP_NATIVE=1); plain sockets');
  if (process.platform !== 'linux') done(`skipped: ${process.platform} has no TCP_QUICKACK; plain sockets`);
  const gyp = findNodeGyp();
  if (!gyp) done('not built: node-gyp not found (it comes with npm); plain sockets');
  const nodedir = findNodeDir();
  const args = [...gyp[1], 'rebuild', '--release', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const run = spawnSync(gyp[0], args, { cwd: nativeDir, encoding: 'utf8', timeout: TIMEOUT_MS, env: process.env, maxBuffer: 16 << 20 });
  const text = `${gyp[0]} ${args.join(' ')}\n${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? `\n${run.error.message}` : ''}`;
  try {
    writeFileSync(logFile, text);
  } catch {
    // a read-only tree: no log
  }
  if (run.error || run.status !== 0 || !existsSync(output)) {
    const why = run.error?.code === 'ETIMEDOUT' ? `node-gyp took over ${TIMEOUT_MS / 1000} s` : reason(text);
    done(`not built (${why}); plain sockets, see native/build-native.log`);
  }
  // Load it once here, so a broken build is reported now rather than silently at run time.
  const addon = createRequire(import.meta.url)(output);
  if (typeof addon.setQuickAck !== 'function' || addon.supported !== true) done('built but unusable (no TCP_QUICKACK); plain sockets');
  done(`built ${path.relative(root, output)}`);
} catch (e) {
  done(`not built (${String(e?.message ?? e).split('\n')[0]}); plain sockets`);
}
