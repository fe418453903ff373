// The README's main-job command, `npx qrscu demo`, as a user runs it: the built executable
// (dist/, made by `npm ci` through the prepare script) in a child process. Its output is checked:
// every expected dose object arrived and the second run fetched nothing.

import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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

/** CI builds dist/ with `npm ci`; a developer's stale build is rebuilt rather than tested. */
function ensureBuilt(): void {
  const sources = Math.max(newest(path.join(ROOT, 'src')), statSync(path.join(ROOT, 'scripts', 'bundle.mjs')).mtimeMs);
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < sources) {
    const built = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.is(built.status, 0, `build failed: ${built.stdout}${built.stderr}`);
  }
}

test('npx qrscu demo: exit 0, every expected object arrived, nothing fetched twice', () => {
  ensureBuilt();
  const r = spawnSync('npx', ['--no-install', 'qrscu', 'demo'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, QRSCU_HOME: '/nonexistent-demo-must-not-touch' } });
  assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /\$ qrscu demo-pacs demo-store -ct -mg -fl -dx -f \d{4}-\d{2}-\d{2} -t \d{4}-\d{2}-\d{2}/);
  assert.match(r.stdout, /result: complete/);
  assert.match(r.stdout, /KEPT branch CT/);
  assert.match(r.stdout, /demo: check against the manifest: all \d+ expected dose objects arrived, and nothing else/);
  assert.match(r.stdout, /again: everything is held now\)\n[^\n]*\n[^\n]*\n[^\n]*0 C-MOVEs planned/);
  assert.not.ok(existsSync('/nonexistent-demo-must-not-touch'), 'the demo uses its own temporary home');
});

test('the built CLI is self-contained: the bundle alone (no node_modules, no other dist/ module) runs the demo, knows its version, serves --help from its cache', async () => {
  ensureBuilt();
  // A package root of its own under the temporary folder: package.json, rules/, and only the files
  // the build wrote for the executable (bin.js, help-cache.js, main.js, its chunks, help.json).
  const root = mkdtempSync(path.join(os.tmpdir(), 'qrscu-bundle-'));
  try {
    const cli = path.join(root, 'dist', 'cli');
    mkdirSync(cli, { recursive: true });
    copyFileSync(path.join(ROOT, 'package.json'), path.join(root, 'package.json'));
    cpSync(path.join(ROOT, 'rules'), path.join(root, 'rules'), { recursive: true });
    if (existsSync(path.join(ROOT, 'native'))) symlinkSync(path.join(ROOT, 'native'), path.join(root, 'native'));
    const wanted = readdirSync(path.join(ROOT, 'dist', 'cli')).filter((n) => /^(bin|help-cache|main|chunk-[\w-]+)\.js$|^help\.json$/.test(n));
    assert.ok(wanted.some((n) => n.startsWith('chunk-')), 'the build splits the lazily loaded commands into chunks');
    for (const n of wanted) copyFileSync(path.join(ROOT, 'dist', 'cli', n), path.join(cli, n));
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const v = spawnSync(process.execPath, [path.join(cli, 'bin.js'), '--version'], { cwd: os.tmpdir(), encoding: 'utf8', timeout: 30_000 });
    assert.is(v.status, 0, v.stderr);
    assert.is(v.stdout.trim(), version, 'the version of our package.json, whatever the working directory');
    // --help comes from the build-time cache (its stamp matches the bundle) and is what yargs prints.
    const { helpStamp } = (await import(pathToFileURL(path.join(cli, 'help-cache.js')).href)) as { helpStamp: (dir: string) => string };
    assert.is((JSON.parse(readFileSync(path.join(cli, 'help.json'), 'utf8')) as { stamp: string }).stamp, helpStamp(cli), 'the help cache is valid for the bundle');
    const env = { ...process.env, LANG: 'C.UTF-8' };
    const cachedHelp = spawnSync(process.execPath, [path.join(cli, 'bin.js'), '--help'], { encoding: 'utf8', timeout: 30_000, env });
    const yargsHelp = spawnSync(process.execPath, [path.join(cli, 'bin.js'), '--help'], { encoding: 'utf8', timeout: 30_000, env: { ...env, QRSCU_HELP_CACHE: '0' } });
    assert.is(cachedHelp.status, 0);
    assert.is(cachedHelp.stdout, yargsHelp.stdout);
    const r = spawnSync(process.execPath, [path.join(cli, 'bin.js'), 'demo'], { cwd: os.tmpdir(), encoding: 'utf8', timeout: 60_000, env: { ...process.env, QRSCU_HOME: '/nonexistent-demo-must-not-touch' } });
    assert.is(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /demo: check against the manifest: all \d+ expected dose objects arrived, and nothing else/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
