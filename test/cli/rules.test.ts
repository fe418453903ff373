// `qrscu rules check` and `qrscu rules test`: the offline what-if for people editing rule files.
// A CT scanner whose dose screen is called "Dose Report" (not Philips's "Dose Info"): dropped by the
// built-in rules, kept after the README's one-line edit of constants.json in a site rules folder.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';

const test = suite('cli: rules');
const SNAPSHOT = path.join(process.cwd(), 'test/fixtures/snapshots/dose-report-screen.json');
let tmp = '';
test.before(() => { tmp = mkdtempSync(path.join(tmpdir(), 'qrscu-rules-')); });
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, line: (t) => void out.push(t), error: (t) => void err.push(t) };
}

test('rules check: the built-in files are valid (exit 0); a broken site file gives file, pointer and exit 5', async () => {
  const ok = capture();
  assert.is(await main(['rules', 'check'], ok), 0);
  assert.match(ok.out[0]!, /^rules OK: /);
  const dir = path.join(tmp, 'broken');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'branch-ct.json'), JSON.stringify({ branch: 'CT', order: 'first', applies: { log: 1 }, steps: [] }));
  const bad = capture();
  assert.is(await main(['rules', 'check', dir], bad), 5);
  const text = bad.err.join('\n');
  assert.match(text, /branch-ct\.json at \/order: /);
  assert.match(text, /branch-ct\.json at \/applies\/log: operator "log" is not allowed/);
  assert.match(text, /\d+ problems/);
});

test('rules test: the snapshot through the simulated PACS; the plan follows the rules; a one-line edit changes it', async () => {
  const builtIn = capture();
  assert.is(await main(['rules', 'test', '--snapshot', SNAPSHOT, '-ct'], builtIn), 0, builtIn.err.join('\n'));
  const a = builtIn.out.join('\n');
  assert.match(a, /retrieve plan:\n {2}\(nothing\)/);
  assert.match(a, /study 2\.25\.4000 DROPPED branch CT/);
  assert.match(a, /no-usable-information/);

  // The README's edit: copy constants.json into a site folder and add "dose report".
  const site = path.join(tmp, 'site');
  mkdirSync(site);
  copyFileSync(path.join(process.cwd(), 'rules/constants.json'), path.join(site, 'constants.json'));
  const file = path.join(site, 'constants.json');
  writeFileSync(file, readFileSync(file, 'utf8').replace('"doseScreenDescriptions": ["dose info"]', '"doseScreenDescriptions": ["dose info", "dose report"]'));
  assert.ok(readFileSync(file, 'utf8').includes('"dose report"'), 'the edit applied');
  const edited = capture();
  assert.is(await main(['rules', 'test', '--snapshot', SNAPSHOT, '-ct', '--rules', site], edited), 0, edited.err.join('\n'));
  const b = edited.out.join('\n');
  assert.match(b, /retrieve plan:\n {2}C-MOVE SERIES 2\.25\.4000\.2 \(study 2\.25\.4000, CT\)/);
  assert.match(b, /series 999 2\.25\.4000\.2 CT "Dose Report" .*KEPT at SERIES level/);
  assert.match(b, /series 2 2\.25\.4000\.1 CT "Chest 1\.0 B70f" .*DROPPED/);
});

test('rules test --json: the plan and the simulated PACS request log', async () => {
  const o = capture();
  assert.is(await main(['rules', 'test', '--snapshot', SNAPSHOT, '-ct', '--json'], o), 0);
  const r = JSON.parse(o.out[0]!) as { moves: unknown[]; requests: Array<{ type: string; level: string }> };
  assert.equal(r.moves, []);
  assert.equal(r.requests.map((q) => `${q.type} ${q.level}`), ['C-ECHO ', 'C-FIND STUDY', 'C-FIND SERIES']);
});

test.run();
