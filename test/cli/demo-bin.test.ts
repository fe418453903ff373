// The README's main-job command, `npx qrscu demo`, as a user runs it: the built executable
// (dist/, made by `npm ci` through the prepare script) in a child process. Its output is checked:
// every expected dose object arrived and the second run fetched nothing.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = process.cwd();
const BIN = path.join(ROOT, 'dist/cli/bin.js');

/** Newest modification time under a folder (bounded walk). */
function newest(dir: string, depth = 0): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && depth < 6) t = Math.max(t, newest(p, depth + 1));
    else if (e.isFile()) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

test('npx qrscu demo: exit 0, every expected object arrived, nothing fetched twice', () => {
  // CI builds dist/ with `npm ci`; a developer's stale build is rebuilt rather than tested.
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < newest(path.join(ROOT, 'src'))) {
    const built = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.is(built.status, 0, `build failed: ${built.stdout}${built.stderr}`);
  }
  const r = spawnSync('npx', ['--no-install', 'qrscu', 'demo'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, QRSCU_HOME: '/nonexistent-demo-must-not-touch' } });
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /\$ qrscu demo-pacs demo-store -ct -mg -fl -dx -f \d{4}-\d{2}-\d{2} -t \d{4}-\d{2}-\d{2}/);
  assert.match(r.stdout, /result: complete/);
  assert.match(r.stdout, /KEPT branch CT/);
  assert.match(r.stdout, /demo: check against the manifest: all \d+ expected dose objects arrived, and nothing else/);
  assert.match(r.stdout, /again: everything is held now\)\n[^\n]*\n[^\n]*\n[^\n]*0 C-MOVEs planned/);
  assert.not.ok(existsSync('/nonexistent-demo-must-not-touch'), 'the demo uses its own temporary home');
});

test.run();
