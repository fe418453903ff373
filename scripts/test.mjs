#!/usr/bin/env node
// The test command: every uvu suite under test/ with c8 coverage (thresholds in .c8rc.json).
// uvu exits 0 when nothing matched, so this wrapper reads its totals, fails a run that executed no
// test, and ends with one line "N passed, N failed, N skipped" that CI reads.
// Usage: npm test [-- PATTERN]   (PATTERN: a regex on test file names, default every *.test.ts)
import { spawn } from 'node:child_process';

const pattern = process.argv[2] ?? '\\.test\\.ts$';
const noCoverage = process.env.QRSCU_NO_COVERAGE === '1' || process.argv[2] !== undefined;
const uvu = ['uvu', '-r', 'tsx', 'test', pattern];
const [cmd, args] = noCoverage ? ['npx', uvu] : ['npx', ['c8', ...uvu]];

const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });
let out = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  out += chunk.toString();
  if (out.length > 1 << 20) out = out.slice(-(1 << 16));
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
  const failed = Math.max(0, total - passed - skipped);
  let rc = code ?? 1;
  if (total === 0) {
    console.error('test: no test ran (uvu matched nothing): failing the run');
    rc = rc || 1;
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(rc !== 0 ? rc : failed > 0 ? 1 : 0);
});
