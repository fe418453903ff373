// The whole run, `qrscu <qr> <store> …`, through the CLI against the simulated PACS serving
// generated dose studies (files mode): exactly the manifest's expected objects arrive, for every
// retrieval profile; a re-run fetches nothing; -dup fetches again; filters, dry runs and the
// documented failures with their exit codes. The PACS's request log proves which requests were made.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { openDatabase } from '../../src/db/index.js';
import { generateDoseDataset, RETRIEVAL_PROFILES, type Manifest, type RetrievalProfile } from '../../src/pacs/generate.js';
import { startSimulatedPacs, type SimulatedPacs } from '../../src/pacs/simulated.js';
import { parseSnapshot } from '../../src/pacs/snapshot.js';

const test = suite('cli: qrscu <qr> <store>');
let root = '';
let data = '';
let manifest: Manifest;
let pacs: SimulatedPacs;
let storePort = 0;
const FROM = '2024-01-01';
const UNTIL = '2024-01-31';

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, line: (t) => void out.push(t), error: (t) => void err.push(t) };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

let homes = 0;
/** A fresh qrscu home with the QR node `pacs1` (the simulated PACS) and our store node `store1`. */
async function home(qrPort = pacs.port): Promise<{ home: string; store: string }> {
  const h = path.join(root, `home${++homes}`);
  const store = path.join(h, 'store');
  const db = await openDatabase({ home: h });
  db.addQrNode({ id: 'pacs1', aeTitle: 'SIMPACS', host: '127.0.0.1', port: qrPort, maxAssociations: 3, dimseTimeoutMs: 10_000 });
  db.addStoreNode({ id: 'store1', aeTitle: 'QRSCU_STORE', host: '127.0.0.1', port: storePort, directory: store });
  await db.close();
  return { home: h, store };
}

async function run(h: string, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const o = capture();
  const code = await main(['pacs1', 'store1', '-f', FROM, '-t', UNTIL, ...args, '--home', h], o);
  return { code, out: o.out, err: o.err };
}

const arrived = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.dcm')).map((f) => f.slice(0, -4)).sort() : []);
const expectedFor = (profile: RetrievalProfile): string[] => manifest.studies.flatMap((s) => s.expected[profile].flatMap((m) => m.sopInstanceUids)).sort();

test.before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'qrscu-run-'));
  data = path.join(root, 'pacs');
  // Two of each dose kind, January 2024.
  manifest = await generateDoseDataset({ directory: data, studies: 28, seed: 'run-test', startDate: FROM, days: 28 });
  storePort = await freePort();
  pacs = await startSimulatedPacs({ files: data, port: 0, aeTitle: 'SIMPACS', destinations: { QRSCU_STORE: { host: '127.0.0.1', port: storePort } } });
});
test.after(async () => {
  await pacs?.close();
  rmSync(root, { recursive: true, force: true });
});

const PROFILE_ARGS: Record<RetrievalProfile, string[]> = {
  'ct-mg-fl-dx': ['-ct', '-mg', '-fl', '-dx'],
  'ct-mg-fl-dx-toshiba': ['-ct', '-mg', '-fl', '-dx', '-toshiba'],
  nm: ['-nm'],
  sr: ['-sr'],
};

for (const profile of Object.keys(RETRIEVAL_PROFILES) as RetrievalProfile[]) {
  test(`${PROFILE_ARGS[profile].join(' ')}: exactly the manifest's expected objects arrive, at the expected move levels`, async () => {
    const h = await home();
    const before = pacs.requests().length;
    const r = await run(h.home, ...PROFILE_ARGS[profile]);
    assert.is(r.code, 0, r.err.join('\n') + r.out.join('\n'));
    assert.equal(arrived(h.store), expectedFor(profile));
    assert.match(r.out.join('\n'), /result: complete/);
    // The C-MOVEs made are the manifest's expected moves (level and UIDs), each once.
    const moves = pacs.requests().slice(before).filter((q) => q.type === 'C-MOVE');
    const made = moves.map((m) => `${m.level} ${m.level === 'IMAGE' ? m.keys.SOPInstanceUID : m.keys.SeriesInstanceUID}`).sort();
    const wanted = manifest.studies.flatMap((s) => s.expected[profile].flatMap((m) => (m.level === 'IMAGE' ? m.sopInstanceUids.map((u) => `IMAGE ${u}`) : [`SERIES ${m.seriesInstanceUid}`]))).sort();
    assert.equal(made, wanted);
    assert.ok(moves.every((m) => m.destination === 'QRSCU_STORE' && m.callingAeTitle === 'QRSCU'));
  });
}

test('a second run fetches nothing (everything is held); -dup fetches it all again', async () => {
  const h = await home();
  assert.is((await run(h.home, '-ct', '-mg', '-fl', '-dx')).code, 0);
  const before = pacs.requests().length;
  const again = await run(h.home, '-ct', '-mg', '-fl', '-dx');
  assert.is(again.code, 0);
  assert.is(pacs.requests().slice(before).filter((q) => q.type === 'C-MOVE').length, 0, 'no C-MOVE on the second run');
  assert.match(again.out.join('\n'), /0 C-MOVEs planned/);
  const before2 = pacs.requests().length;
  const dup = await run(h.home, '-ct', '-mg', '-fl', '-dx', '-dup');
  assert.is(dup.code, 0);
  assert.ok(pacs.requests().slice(before2).filter((q) => q.type === 'C-MOVE').length > 0, '-dup moves again');
  // The index holds every object that arrived, with the query that brought it.
  const db = await openDatabase({ home: h.home, readOnly: true });
  assert.is(db.heldCounts().instances, expectedFor('ct-mg-fl-dx').length);
  const queries = db.listQueries();
  assert.equal(queries.map((q) => q.status), ['complete', 'complete', 'complete']);
  await db.close();
});

test('a run that lost objects (deleted from the store and the index) fetches only those again', async () => {
  const h = await home();
  assert.is((await run(h.home, '-ct')).code, 0);
  const all = arrived(h.store);
  // Forget one study: the next run re-fetches exactly its objects.
  const db = await openDatabase({ home: h.home });
  const study = manifest.studies.find((s) => s.expected['ct-mg-fl-dx'].length > 0 && s.modalities.includes('CT'))!;
  db.forgetHeld(study.studyInstanceUid);
  await db.close();
  const lost = study.expected['ct-mg-fl-dx'].flatMap((m) => m.sopInstanceUids);
  for (const u of lost) rmSync(path.join(h.store, `${u}.dcm`));
  const before = pacs.requests().length;
  assert.is((await run(h.home, '-ct')).code, 0);
  assert.equal(arrived(h.store), all);
  assert.is(pacs.requests().slice(before).filter((q) => q.type === 'C-MOVE').length, study.expected['ct-mg-fl-dx'].length);
});

test('filters narrow: -e excludes descriptions, -i includes, -sd picks one day', async () => {
  const h = await home();
  const r = await run(h.home, '-ct', '-mg', '-fl', '-dx', '-e', 'imported', '--dry-run');
  assert.is(r.code, 0);
  const kept = (lines: string[]) => lines.filter((l) => /^study \S+ KEPT/.test(l)).map((l) => l.split(' ')[1]!).sort();
  const imported = new Set(manifest.studies.filter((s) => s.description.toLowerCase().includes('imported')).map((s) => s.studyInstanceUid));
  assert.ok(imported.size > 0, 'the generator writes "imported" descriptions');
  const withoutImported = kept(r.out);
  assert.ok(withoutImported.length > 0);
  assert.ok(withoutImported.every((u) => !imported.has(u)));
  const all = kept((await run(h.home, '-ct', '-mg', '-fl', '-dx', '--dry-run')).out);
  assert.equal(all.filter((u) => !imported.has(u)), withoutImported);
  const inc = kept((await run(h.home, '-ct', '-mg', '-fl', '-dx', '-i', 'imported', '--dry-run')).out);
  assert.ok(inc.length > 0 && inc.every((u) => imported.has(u)));
  // One day: only that day's studies are asked for and kept.
  const day = manifest.studies[0]!.date;
  const iso = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
  const o = capture();
  assert.is(await main(['pacs1', 'store1', '-ct', '-mg', '-fl', '-dx', '-sd', iso, '--dry-run', '--home', h.home], o), 0);
  const onDay = new Set(manifest.studies.filter((s) => s.date === day).map((s) => s.studyInstanceUid));
  assert.ok(kept(o.out).every((u) => onDay.has(u)));
});

test('--dry-run moves nothing and prints the plan with the explain tree; the store node is not started', async () => {
  const h = await home();
  const before = pacs.requests().length;
  const r = await run(h.home, '-ct', '--dry-run');
  assert.is(r.code, 0);
  assert.is(pacs.requests().slice(before).filter((q) => q.type === 'C-MOVE').length, 0);
  assert.match(r.out.join('\n'), /dry run: nothing moved/);
  assert.match(r.out.join('\n'), /KEPT branch CT/);
  assert.equal(arrived(h.store), []);
});

test('--json prints one JSON report; queries and explain read it back from the database', async () => {
  const h = await home();
  const r = await run(h.home, '-mg', '--json');
  assert.is(r.code, 0);
  assert.is(r.out.length, 1);
  const report = JSON.parse(r.out[0]!) as { queryId: string; complete: boolean; summary: { arrived: number } };
  assert.ok(report.complete);
  assert.is(report.summary.arrived, expectedFor('ct-mg-fl-dx').filter((u) => manifest.studies.some((s) => s.modalities.includes('MG') && s.expected['ct-mg-fl-dx'].some((m) => m.sopInstanceUids.includes(u)))).length);
  const e = capture();
  assert.is(await main(['explain', report.queryId.slice(0, 8), '--home', h.home], e), 0);
  assert.match(e.out.join('\n'), /branch MG/);
  const log = readFileSync(path.join(h.home, 'qrscu.log'), 'utf8');
  assert.match(log, /INFO \[[0-9a-f]{8}\] retrieve: /);
  for (const s of manifest.studies) assert.not.ok(log.includes(s.patientName.split('^')[0]!) || log.includes(s.patientId), 'no patient names or IDs in the log');
});

test('usage errors: OpenREM messages and exit 2; unknown node ids name the known ones', async () => {
  const h = await home();
  const a = await run(h.home);
  assert.is(a.code, 2);
  assert.match(a.err.join('\n'), /At least one modality must be specified/);
  const b = await run(h.home, '-sr', '-ct');
  assert.is(b.code, 2);
  assert.match(b.err.join('\n'), /The sr option can not be combined with any other modalities/);
  const o = capture();
  assert.is(await main(['nope', 'store1', '-ct', '--home', h.home], o), 2);
  assert.match(o.err.join('\n'), /no QR node "nope" \(known: pacs1\)/);
});

test('a QR node that does not answer: exit 3 naming the node; the query is recorded as failed', async () => {
  const closed = await freePort();
  const h = await home(closed);
  const r = await run(h.home, '-ct');
  assert.is(r.code, 3);
  assert.match(r.err.join('\n'), /QR node 'pacs1' \(SIMPACS@127\.0\.0\.1:\d+\) is not ready/);
  const db = await openDatabase({ home: h.home, readOnly: true });
  assert.equal(db.listQueries().map((q) => q.status), ['failed']);
  await db.close();
});

test("the store node's port taken by something else: exit 3 with advice", async () => {
  const h = await home();
  const squatter: NetServer = createServer((s) => s.destroy());
  await new Promise<void>((r) => squatter.listen(storePort, '127.0.0.1', () => r()));
  try {
    const r = await run(h.home, '-ct');
    assert.is(r.code, 3);
    assert.match(r.err.join('\n'), /port \d+ on 127\.0\.0\.1 is taken by something that does not answer C-ECHO/);
  } finally {
    await new Promise((r) => squatter.close(r));
  }
});

test('another run holds the database: exit 7, nothing done', async () => {
  const h = await home();
  const holder = await openDatabase({ home: h.home, command: 'qrscu pacs1 store1 -ct (the other run)' });
  try {
    const before = pacs.requests().length;
    const r = await run(h.home, '-ct');
    assert.is(r.code, 7);
    assert.match(r.err.join('\n'), /the other run/);
    assert.is(pacs.requests().length, before, 'no request made');
  } finally {
    await holder.close();
  }
});

test('a broken site rules folder: exit 5 with the file and JSON pointer', async () => {
  const h = await home();
  const dir = path.join(h.home, 'rules');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'branch-ct.json'), '{"order": "first"}');
  const r = await run(h.home, '-ct');
  assert.is(r.code, 5);
  assert.match(r.err.join('\n'), /branch-ct\.json/);
});

test('a move answered 0xB000 with failed sub-operations: exit 4, recorded; the next run fetches what is missing', async () => {
  const snapshot = parseSnapshot({
    quirks: { moveStatuses: ['B000', '0000'] },
    studies: { CT: [{ StudyInstanceUID: '2.25.70', ModalitiesInStudy: ['CT', 'SR'], StudyDate: '20240105' }] },
    series: { '2.25.70': [{ SeriesInstanceUID: '2.25.70.1', Modality: 'SR', SeriesDescription: 'Dose', NumberOfSeriesRelatedInstances: 2 }, { SeriesInstanceUID: '2.25.70.2', Modality: 'CT', NumberOfSeriesRelatedInstances: 40 }] },
    instances: { '2.25.70.1': [{ SOPInstanceUID: '2.25.70.1.1', SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.67', InstanceNumber: 1 }, { SOPInstanceUID: '2.25.70.1.2', SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.67', InstanceNumber: 2 }] },
  }, 'partial.json');
  const p = await startSimulatedPacs({ snapshot, port: 0, destinations: { QRSCU_STORE: { host: '127.0.0.1', port: storePort } } });
  try {
    const h = await home(p.port);
    const first = await run(h.home, '-ct');
    assert.is(first.code, 4, first.err.join('\n'));
    assert.match(first.out.join('\n'), /warning: series 2\.25\.70\.1: 0xB000 .*failed: 2\.25\.70\.1\.2/);
    assert.match(first.out.join('\n'), /INCOMPLETE/);
    assert.equal(arrived(h.store), ['2.25.70.1.1']);
    const second = await run(h.home, '-ct');
    assert.is(second.code, 0, second.out.join('\n'));
    assert.equal(arrived(h.store), ['2.25.70.1.1', '2.25.70.1.2']);
    const moves = p.requests().filter((q) => q.type === 'C-MOVE');
    assert.equal(moves.map((m) => `${m.level} ${m.keys.SOPInstanceUID ?? m.keys.SeriesInstanceUID}`), ['SERIES 2.25.70.1', 'IMAGE 2.25.70.1.2'], 'the re-run moves only the missing instance');
  } finally {
    await p.close();
  }
});

test('qrscu echo: a status table of every node; exit 3 when one does not answer', async () => {
  const h = await home();
  const o = capture();
  assert.is(await main(['echo', '--home', h.home], o), 0);
  assert.match(o.out[1]!, /^pacs1\s+QR\s+SIMPACS\s+127\.0\.0\.1:\d+\s+[\d.]+ ms\s+responding to DICOM echo/);
  assert.match(o.out[2]!, /^store1\s+store\s+QRSCU_STORE .*not running \(a run starts it in-process\)/);
  const dead = await home(await freePort());
  const d = capture();
  assert.is(await main(['echo', 'pacs1', '--home', dead.home], d), 3);
});

test('qrscu find and move take a configured QR node id instead of host and port', async () => {
  const h = await home();
  const o = capture();
  assert.is(await main(['find', 'pacs1', '-k', 'ModalitiesInStudy=MG', '-k', 'StudyInstanceUID', '--home', h.home], o), 0, o.err.join('\n'));
  const mg = manifest.studies.filter((s) => s.modalities.includes('MG')).map((s) => s.studyInstanceUid).sort();
  assert.equal(o.out.map((l) => (JSON.parse(l) as Record<string, { Value: string[] }>)['0020000D']!.Value[0]).sort(), mg);
  const last = pacs.requests().at(-1)!;
  assert.equal([last.type, last.callingAeTitle, last.keys.ModalitiesInStudy], ['C-FIND', 'QRSCU', 'MG']);
  const unknown = capture();
  assert.is(await main(['find', 'nosuch', '-k', 'StudyInstanceUID', '--home', h.home], unknown), 2);
  assert.match(unknown.err.join('\n'), /no QR node "nosuch" \(known: pacs1\)/);
});

test('a store node already running (qrscu store <node>) is used by the run and indexes what arrives', async () => {
  const h = await home();
  const daemon = capture();
  const running = main(['store', 'store1', '--home', h.home, '--max-seconds', '6'], daemon);
  for (let i = 0; i < 100 && !daemon.err.some((l) => l.includes('listening')); i++) await new Promise((r) => setTimeout(r, 30));
  assert.match(daemon.err.join('\n'), /store SCP QRSCU_STORE listening on 127\.0\.0\.1:\d+, writing to .*indexing into the database of store node store1/);
  const r = await run(h.home, '-mg');
  assert.is(r.code, 0, r.err.join('\n') + r.out.join('\n'));
  assert.not.match(r.out.join('\n'), /arrived at store1/, 'the objects went to the daemon, not to an in-process store node');
  const mg = manifest.studies.filter((s) => s.modalities.includes('MG')).flatMap((s) => s.expected['ct-mg-fl-dx'].flatMap((m) => m.sopInstanceUids)).sort();
  assert.equal(arrived(h.store), mg);
  assert.is(await running, 0);
  const db = await openDatabase({ home: h.home, readOnly: true });
  assert.is(db.heldCounts().instances, mg.length, 'the daemon indexed every arrival once the run released the database');
  await db.close();
});

test('qrscu demo: the README main job, offline, checks itself against the manifest', async () => {
  const o = capture();
  const code = await main(['demo', '--studies', '14', '--dir', path.join(root, 'demo')], o);
  const text = o.out.join('\n');
  assert.is(code, 0, text + o.err.join('\n'));
  assert.match(text, /all \d+ expected dose objects arrived, and nothing else/);
  assert.match(text, /again: everything is held now[\s\S]*0 C-MOVEs planned/);
});

test.run();
