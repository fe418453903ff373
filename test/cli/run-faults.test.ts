// Issue 7, proof (faults): a run that the PACS or the operator breaks off loses no record and the next
// run completes the work. Against our simulated PACS (files mode, generated dose studies):
// - the PACS aborts the association mid-move (quirk abortMoveAfter, OpenREM #858): the move is
//   retried once on a new association (§9 Q13), fails again, the run goes on and ends with exit 4;
//   the query record says which moves failed and why; the objects that did arrive are held; the next
//   run moves only what is missing;
// - the run is killed (SIGTERM) mid-retrieve, as a cron job or an operator would: the query record
//   says 'interrupted', every object that arrived is held, and a re-run ends with every expected
//   object.
// A move answered 0xB000, a store port taken and a locked database are in run.test.ts.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { openDatabase } from '../../src/db/index.js';
import { generateDoseDataset, type Manifest } from '../../src/pacs/generate.js';
import { startSimulatedPacs, type SimulatedPacs, type SimulatedPacsQuirks } from '../../src/pacs/simulated.js';
import { freePorts, waitUntil } from '../support/pacs.js';

const test = suite('cli: qrscu <qr> <store> faults');
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FROM = '2024-01-01';
const UNTIL = '2024-01-31';
const DOSE = ['-ct', '-mg', '-fl', '-dx'];
let root = '';
let manifest: Manifest;
let pacs: SimulatedPacs;
let storePort = 0;
/** The PACS's quirks, read live: each test switches on what it needs and off again. */
const quirks: { -readonly [K in keyof SimulatedPacsQuirks]: SimulatedPacsQuirks[K] } = {};
/** While set, every C-MOVE after the first one made after `movesBefore` is held unanswered (quirk neverAnswer, read per request). */
let holdAfterFirstMove = false;
let movesBefore = 0;
const moves = (): number => pacs.requests().filter((r) => r.type === 'C-MOVE').length;

test.before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'qrscu-run-faults-'));
  const data = path.join(root, 'pacs');
  manifest = await generateDoseDataset({ directory: data, studies: 28, seed: 'run-faults', startDate: FROM, days: 28 });
  [storePort] = (await freePorts(1)) as [number];
  Object.defineProperty(quirks, 'neverAnswer', {
    enumerable: true,
    get: () => holdAfterFirstMove && moves() - movesBefore > 1,
  });
  pacs = await startSimulatedPacs({ files: data, port: 0, aeTitle: 'SIMPACS', quirks, destinations: { QRSCU_STORE: { host: '127.0.0.1', port: storePort } } });
});
test.after(async () => {
  await pacs?.close();
  rmSync(root, { recursive: true, force: true });
});

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, line: (t) => void out.push(t), error: (t) => void err.push(t) };
}

let homes = 0;
async function home(): Promise<{ home: string; store: string }> {
  const h = path.join(root, `home${++homes}`);
  const store = path.join(h, 'store');
  const db = await openDatabase({ home: h });
  db.addQrNode({ id: 'pacs1', aeTitle: 'SIMPACS', host: '127.0.0.1', port: pacs.port, maxAssociations: 3, dimseTimeoutMs: 10_000 });
  db.addStoreNode({ id: 'store1', aeTitle: 'QRSCU_STORE', host: '127.0.0.1', port: storePort, directory: store });
  await db.close();
  return { home: h, store };
}

const ARGS = (h: string): string[] => ['pacs1', 'store1', ...DOSE, '-f', FROM, '-t', UNTIL, '--home', h];

async function run(h: string): Promise<{ code: number; text: string }> {
  const o = capture();
  const code = await main(ARGS(h), o);
  return { code, text: [...o.out, ...o.err].join('\n') };
}

const arrived = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.dcm')).map((f) => f.slice(0, -4)).sort() : []);
const expected = (): string[] => manifest.studies.flatMap((s) => s.expected['ct-mg-fl-dx'].flatMap((m) => m.sopInstanceUids)).sort();

test('the PACS aborts mid-move: retried once, exit 4, the record names the failed moves, arrivals held; the next run completes', async () => {
  const h = await home();
  // Moves of more than one object break off after the first object (on the retry too).
  const broken = manifest.studies.flatMap((s) => s.expected['ct-mg-fl-dx'].filter((m) => m.level === 'SERIES' && m.sopInstanceUids.length > 1));
  assert.ok(broken.length > 0, 'the data set has moves of several objects');
  quirks.abortMoveAfter = 1;
  let first: { code: number; text: string };
  try {
    first = await run(h.home);
  } finally {
    delete quirks.abortMoveAfter;
  }
  assert.is(first.code, 4, first.text);
  for (const m of broken) {
    assert.match(first.text, new RegExp(`C-MOVE of series ${m.seriesInstanceUid.replace(/\./g, '\\.')} failed \\(association aborted by SIMPACS@127\\.0\\.0\\.1:\\d+: A-ABORT[^)]*\\); retrying once on a new association`));
    assert.match(first.text, new RegExp(`failed: series ${m.seriesInstanceUid.replace(/\./g, '\\.')}: no final response +\\(association aborted`));
  }
  assert.match(first.text, new RegExp(`moves: \\d+ succeeded, 0 partial, ${broken.length} failed`));
  assert.match(first.text, /result: INCOMPLETE — re-run the same command to fetch what is missing/);
  // No record lost: every object that arrived (the first of each broken series included) is held.
  const got = arrived(h.store);
  const missing = expected().filter((u) => !got.includes(u));
  // Exactly one object of each broken series arrived (twice: first attempt and retry); nothing else is missing.
  for (const m of broken) assert.is(m.sopInstanceUids.filter((u) => got.includes(u)).length, 1);
  assert.equal(missing, broken.flatMap((m) => m.sopInstanceUids.filter((u) => !got.includes(u))).sort());
  const db = await openDatabase({ home: h.home, readOnly: true });
  assert.is(db.heldCounts().instances, got.length);
  const [record] = db.listQueries();
  await db.close();
  assert.is(record!.status, 'failed');
  // The query record says what happened: each broken move failed after 2 attempts, and why.
  const o = capture();
  assert.is(await main(['queries', 'show', record!.id.slice(0, 8), '--home', h.home], o), 0);
  const shown = o.out.join('\n');
  assert.match(shown, /status: +failed/);
  assert.match(shown, new RegExp(`movesFailed ${broken.length}`));
  for (const m of broken) {
    assert.match(shown, new RegExp(`failed +SERIES ${m.seriesInstanceUid.replace(/\./g, '\\.')} .*\\(2 attempts\\) +association aborted by SIMPACS`));
  }
  // The next run moves only the missing instances (image level) and ends complete.
  const before = moves();
  const second = await run(h.home);
  assert.is(second.code, 0, second.text);
  assert.match(second.text, /result: complete/);
  assert.equal(arrived(h.store), expected());
  const made = pacs.requests().filter((r) => r.type === 'C-MOVE').slice(before).map((r) => `${r.level} ${r.keys.SOPInstanceUID ?? r.keys.SeriesInstanceUID}`).sort();
  assert.equal(made, missing.map((u) => `IMAGE ${u}`).sort());
});

test('a run killed mid-retrieve (SIGTERM) is recorded as interrupted, keeps what arrived; a re-run completes', async () => {
  const h = await home();
  movesBefore = moves();
  holdAfterFirstMove = true;
  let code: number | null;
  let output = '';
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...ARGS(h.home)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => void (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => void (output += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    try {
      // The first move's objects have arrived; the next moves hang in the PACS: a run mid-retrieve.
      await waitUntil(() => arrived(h.store).length > 0 && moves() - movesBefore > 1, 20_000, 'the first objects to arrive');
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      child.kill('SIGTERM');
    }
    code = await exited;
  } finally {
    holdAfterFirstMove = false;
  }
  assert.is(code, 130, output);
  const partial = arrived(h.store);
  assert.ok(partial.length > 0 && partial.length < expected().length);
  const db = await openDatabase({ home: h.home, readOnly: true });
  const queries = db.listQueries();
  assert.equal(queries.map((q) => q.status), ['interrupted']);
  assert.is(db.heldCounts().instances, partial.length, 'every object that arrived is held');
  const view = db.getQuery(queries[0]!.id);
  assert.match(JSON.stringify(view?.errors ?? []), /stopped by SIGTERM/);
  await db.close();
  const again = await run(h.home);
  assert.is(again.code, 0, again.text);
  assert.match(again.text, /result: complete/);
  assert.equal(arrived(h.store), expected());
  const after = await openDatabase({ home: h.home, readOnly: true });
  assert.equal(after.listQueries().map((q) => q.status).sort(), ['complete', 'interrupted']);
  assert.is(after.heldCounts().instances, expected().length);
  await after.close();
});

test.run();
