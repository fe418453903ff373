// `qrscu pacs serve --files DIR`: the CLI face of files mode (the behaviour itself is in files.test.ts),
// and the rule that exactly one of --snapshot and --files is given.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { generateDoseDataset, type Manifest } from '../../src/pacs/generate.js';

const test = suite('cli: pacs serve --files');
const SNAPSHOT = fileURLToPath(new URL('../fixtures/snapshots/contract-example.json', import.meta.url));
let root = '';
let manifest: Manifest;

test.before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'qrscu-serve-files-'));
  manifest = await generateDoseDataset({ directory: path.join(root, 'data'), studies: 4, seed: 'cli' });
});
test.after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, line: (t) => void out.push(t), error: (t) => void err.push(t) };
}

test('serves a folder: a study C-FIND gets every study with computed counts; skipped files and requests are reported', async () => {
  const served = capture();
  const serving = main(['pacs', 'serve', '--files', path.join(root, 'data'), '--port', '0', '--max-seconds', '2', '--aet', 'FILESPACS'], served);
  let port: number | undefined;
  for (let i = 0; i < 100 && port === undefined; i++) {
    const m = served.err.map((l) => /127\.0\.0\.1:(\d+)/.exec(l)).find(Boolean);
    if (m) port = Number(m[1]);
    else await new Promise((r) => setTimeout(r, 30));
  }
  assert.ok(port, `the simulated PACS printed its port: ${served.err.join('\n')}`);
  assert.match(served.err.join('\n'), new RegExp(`serving ${manifest.fileCount} files \\(4 studies\\)`));
  assert.match(served.err.join('\n'), /skipped .*manifest\.json: not a Part-10 file/);
  const found = capture();
  assert.is(await main(['find', '127.0.0.1', String(port), '--aec', 'FILESPACS', '-k', 'StudyInstanceUID', '-k', 'NumberOfStudyRelatedInstances'], found), 0);
  assert.is(found.out.length, 4);
  const counts = Object.fromEntries(found.out.map((l) => JSON.parse(l) as Record<string, { Value: (string | number)[] }>).map((j) => [j['0020000D']!.Value[0], Number(j['00201208']!.Value[0])]));
  for (const s of manifest.studies) assert.is(counts[s.studyInstanceUid], s.series.reduce((n, se) => n + se.instances.length, 0));
  assert.is(await serving, 0);
  assert.equal(served.out.map((l) => JSON.parse(l)).map((e) => [e.type, e.level, e.keys]), [['C-FIND', 'STUDY', { StudyInstanceUID: '', NumberOfStudyRelatedInstances: '' }]]);
});

test('exactly one of --snapshot and --files: neither or both is a usage error (exit 2); a missing folder is a config error', async () => {
  const neither = capture();
  assert.is(await main(['pacs', 'serve', '--port', '0'], neither), 2);
  assert.match(neither.err.join('\n'), /--snapshot FILE or --files DIR/);
  const both = capture();
  assert.is(await main(['pacs', 'serve', '--port', '0', '--snapshot', SNAPSHOT, '--files', root], both), 2);
  assert.match(both.err.join('\n'), /mutually exclusive|exactly one/);
  const missing = capture();
  assert.is(await main(['pacs', 'serve', '--port', '0', '--files', path.join(root, 'nope')], missing), 2);
  assert.match(missing.err.join('\n'), /cannot read folder/);
});

test.run();
