// Issue 7, proof: the whole run `qrscu <qr> <store> -ct -mg -fl -dx` through the CLI against real
// Q/R SCPs on loopback — Orthanc, dcmqrscp and PixelMed — each loaded with the same generated dose
// data set (28 studies: two of every kind). Our store node runs in-process on a free port that every
// server knows as the move destination QRSCU_STORE. What arrives is compared, SOP Instance UID by SOP
// Instance UID, with the manifest; a second run moves nothing; -dup moves again; -e and -sd narrow.
//
// Orthanc answers every key the rules need: exactly the manifest's expected objects arrive.
//
// PixelMed (DicomAndWebStorageServer, libpixelmed-java) answers them too, measured with findscu:
// ModalitiesInStudy and the Number…Related… counts at study level, SeriesDescription and
// NumberOfSeriesRelatedInstances at series level, SOPClassUID at image level. So it is held to the
// manifest, like Orthanc. Its quirks (C-MOVE sends N−1 pending responses; it sends PDUs larger than
// the max PDU we announce, so the QR node keeps the default 64 KiB) cost nothing here.
//
// dcmqrscp answers far fewer keys (real-pacs.md): no ModalitiesInStudy (the engine rebuilds the
// modalities from the series), no Number…Related… counts, no SOPClassUID at image level, and no
// SeriesDescription (not in its index). Without SOPClassUID an RDSR cannot be told from another SR:
// the SR check then answers `class_not_returned` (rules/procedures.json), a qrscu decision where
// OpenREM (§3.1) would call the SR a non-dose object: SR series are moved whole as possible dose
// reports and the image series they stand for are not. Per study kind:
//
// | kind                                 | manifest (Orthanc)          | dcmqrscp                         | why |
// |--------------------------------------|-----------------------------|----------------------------------|-----|
// | ct-rdsr, ct-esr                      | the dose SR only            | the same                         | SR kept as a possible dose report; images replaced |
// | mg-rdsr, dx-rdsr, rf-rdsr, xa-rdsr   | the RDSR only               | the same                         | the same |
// | ct-non-dose-sr                       | nothing (study dropped)     | the SR series                    | the non-dose SR cannot be told apart from an RDSR: fetched, the images not |
// | philips-dose-info                    | the "Dose Info" SC series   | every series whole               | no SeriesDescription: the dose screen cannot be recognised; counts unknown (Q7) |
// | toshiba-no-sr                        | the ≤5-image SC series      | every series whole               | counts unknown: the >5-image series cannot be dropped (Q7) |
// | mg-no-rdsr, cr-no-sr                 | the image series            | the same                         | no SR involved |
// | nm-rrdsr, pet-rrdsr, sr-only         | nothing (not asked for)     | the same                         | modalities rebuilt from the series: not CT/MG/FL/DX (exact membership, Q6) |
//
// So with dcmqrscp qrscu never loses a dose report; it fetches a non-dose SR it cannot rule out, and
// the whole CT study where only descriptions or counts could have narrowed it. The README says so.

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { openDatabase } from '../../src/db/index.js';
import { generateDoseDataset, type DoseKind, type Manifest, type ManifestStudy } from '../../src/pacs/generate.js';
import { requireProgram } from '../support/live.js';
import { freePorts, havePixelmed, startDcmqrscp, startOrthanc, startPixelmed, type OrthancHandle, type PacsHandle } from '../support/pacs.js';

const test = suite('live: qrscu <qr> <store> against Orthanc, dcmqrscp and PixelMed');
const HAVE_ORTHANC = requireProgram('Orthanc') !== undefined;
const HAVE_DCMQRSCP = requireProgram('dcmqrscp') !== undefined && requireProgram('dcmqridx') !== undefined;
// PixelMed is loaded with dcmtk's storescu and checked with findscu.
const HAVE_PIXELMED = havePixelmed() && requireProgram('storescu') !== undefined && requireProgram('findscu') !== undefined;

const FROM = '2024-01-01';
const UNTIL = '2024-01-31';
const DOSE = ['-ct', '-mg', '-fl', '-dx'];
let root = '';
let manifest: Manifest;
let storePort = 0;
let orthanc: OrthancHandle | undefined;
let dcmqrscp: PacsHandle | undefined;
let pixelmed: PacsHandle | undefined;
let setupError: unknown;

test.before(async () => {
  if (!HAVE_ORTHANC && !HAVE_DCMQRSCP && !HAVE_PIXELMED) return;
  try {
    root = mkdtempSync(path.join(tmpdir(), 'qrscu-run-live-'));
    const data = path.join(root, 'data');
    manifest = await generateDoseDataset({ directory: data, studies: 28, seed: 'run-live', startDate: FROM, days: 28 });
    const files = manifest.studies.flatMap((s) => s.series.flatMap((se) => se.instances.map((i) => path.join(data, i.file))));
    [storePort] = (await freePorts(1)) as [number];
    const [o, d, p] = await Promise.allSettled([
      // Orthanc only serves callers it knows: QRSCU (our calling AE) and the move destination.
      HAVE_ORTHANC ? startOrthanc({ files, aeTitle: 'ORTHANC', modalities: { QRSCU: storePort, QRSCU_STORE: storePort } }) : Promise.resolve(undefined),
      HAVE_DCMQRSCP ? startDcmqrscp({ files, aeTitle: 'DCMQRSCP', moveDestinations: { QRSCU_STORE: storePort } }) : Promise.resolve(undefined),
      HAVE_PIXELMED ? startPixelmed({ files, aeTitle: 'PIXELMED', moveDestinations: { QRSCU_STORE: storePort }, studies: manifest.studies.length }) : Promise.resolve(undefined),
    ]);
    if (o.status === 'fulfilled') orthanc = o.value;
    if (d.status === 'fulfilled') dcmqrscp = d.value;
    if (p.status === 'fulfilled') pixelmed = p.value;
    if (o.status === 'rejected') throw o.reason;
    if (d.status === 'rejected') throw d.reason;
    if (p.status === 'rejected') throw p.reason;
  } catch (e) {
    setupError = e;
  }
});

test.after(async () => {
  await orthanc?.stop();
  await dcmqrscp?.stop();
  await pixelmed?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, line: (t) => void out.push(t), error: (t) => void err.push(t) };
}

let homes = 0;
async function home(server: PacsHandle): Promise<{ home: string; store: string }> {
  const h = path.join(root, `home${++homes}`);
  const store = path.join(h, 'store');
  const db = await openDatabase({ home: h });
  db.addQrNode({ id: 'pacs1', aeTitle: server.aeTitle, host: '127.0.0.1', port: server.port, maxAssociations: 3, dimseTimeoutMs: 15_000 });
  db.addStoreNode({ id: 'store1', aeTitle: 'QRSCU_STORE', host: '127.0.0.1', port: storePort, directory: store });
  await db.close();
  return { home: h, store };
}

async function run(h: string, ...args: string[]): Promise<{ code: number; text: string }> {
  const o = capture();
  const dates = args.includes('-sd') ? [] : ['-f', FROM, '-t', UNTIL];
  const code = await main(['pacs1', 'store1', ...DOSE, ...dates, ...args, '--home', h], o);
  return { code, text: [...o.out, ...o.err].join('\n') };
}

const arrived = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.dcm')).map((f) => f.slice(0, -4)).sort() : []);

/** What arrives from a PACS that answers every key: the manifest. */
const manifestExpected = (s: ManifestStudy): string[] => s.expected['ct-mg-fl-dx'].flatMap((m) => m.sopInstanceUids);

/** What arrives from dcmqrscp, per kind: the table at the top. */
const DCMQRSCP_OUTCOME: Readonly<Record<DoseKind, 'manifest' | 'every series' | 'sr series' | 'nothing'>> = {
  'ct-rdsr': 'manifest',
  'ct-esr': 'manifest',
  'philips-dose-info': 'every series',
  'toshiba-no-sr': 'every series',
  'ct-non-dose-sr': 'sr series',
  'mg-rdsr': 'manifest',
  'dx-rdsr': 'manifest',
  'mg-no-rdsr': 'manifest',
  'cr-no-sr': 'manifest',
  'rf-rdsr': 'manifest',
  'xa-rdsr': 'manifest',
  'nm-rrdsr': 'manifest',
  'pet-rrdsr': 'manifest',
  'sr-only': 'manifest',
};
function dcmqrscpExpected(s: ManifestStudy): string[] {
  const outcome = DCMQRSCP_OUTCOME[s.kind];
  if (outcome === 'manifest') return manifestExpected(s);
  if (outcome === 'nothing') return [];
  return s.series.filter((se) => outcome === 'every series' || se.modality === 'SR').flatMap((se) => se.instances.map((i) => i.sopInstanceUid));
}

interface Server {
  readonly name: string;
  readonly have: boolean;
  handle(): PacsHandle;
  expected(s: ManifestStudy): string[];
}

const SERVERS: readonly Server[] = [
  { name: 'Orthanc', have: HAVE_ORTHANC, handle: () => ready(orthanc), expected: manifestExpected },
  { name: 'dcmqrscp', have: HAVE_DCMQRSCP, handle: () => ready(dcmqrscp), expected: dcmqrscpExpected },
  { name: 'PixelMed', have: HAVE_PIXELMED, handle: () => ready(pixelmed), expected: manifestExpected },
];

function ready<T>(h: T | undefined): T {
  if (setupError) throw setupError;
  if (h === undefined) throw new Error('server not started');
  return h;
}

const expectedOf = (server: Server, studies: readonly ManifestStudy[] = manifest.studies): string[] => studies.flatMap((s) => server.expected(s)).sort();

for (const server of SERVERS) {
  const live = server.have ? test : test.skip;

  live(`${server.name}: ${DOSE.join(' ')} retrieves exactly the expected SOP instances; a second run nothing; -dup again`, async () => {
    const h = await home(server.handle());
    const wanted = expectedOf(server);
    const first = await run(h.home);
    assert.is(first.code, 0, first.text);
    assert.match(first.text, /result: complete/);
    const got = arrived(h.store);
    if (server.expected === dcmqrscpExpected) {
      // Per kind, so a change of behaviour names the kind that changed.
      const gotSet = new Set(got);
      const byKind = (f: (s: ManifestStudy) => string[]) => Object.fromEntries(Object.keys(DCMQRSCP_OUTCOME).map((k) => [k, manifest.studies.filter((s) => s.kind === k).flatMap(f).sort()]));
      assert.equal(byKind((s) => s.series.flatMap((se) => se.instances.map((i) => i.sopInstanceUid)).filter((u) => gotSet.has(u))), byKind(dcmqrscpExpected));
      // And the differences from the manifest are the ones the table names.
      const differs = Object.keys(DCMQRSCP_OUTCOME).filter((k) => manifest.studies.some((s) => s.kind === k && manifestExpected(s).sort().join() !== dcmqrscpExpected(s).sort().join()));
      assert.equal(differs, Object.entries(DCMQRSCP_OUTCOME).filter(([, v]) => v !== 'manifest').map(([k]) => k));
      assert.match(first.text, /modalities rebuilt|kept by branch/);
    }
    if (server.expected === manifestExpected) {
      // Every key answered: no modalities rebuilt from the series, the object counts known.
      assert.not.match(first.text, /modalities rebuilt/);
      assert.match(first.text, new RegExp(`arrived at store1: ${wanted.length} objects of ${wanted.length} expected`));
    }
    assert.equal(got, wanted);
    assert.match(first.text, new RegExp(`arrived at store1: ${wanted.length} objects`));

    const again = await run(h.home);
    assert.is(again.code, 0, again.text);
    assert.match(again.text, /0 C-MOVEs planned/);
    assert.equal(arrived(h.store), wanted);

    const dup = await run(h.home, '-dup');
    assert.is(dup.code, 0, dup.text);
    assert.match(dup.text, new RegExp(`sub-operations ${wanted.length} completed, 0 failed`));
    assert.match(dup.text, new RegExp(`arrived at store1: ${wanted.length} objects`));
    assert.equal(arrived(h.store), wanted);

    const db = await openDatabase({ home: h.home, readOnly: true });
    assert.is(db.heldCounts().instances, wanted.length);
    assert.equal(db.listQueries().map((q) => q.status), ['complete', 'complete', 'complete']);
    await db.close();
  });

  live(`${server.name}: -e imported and -sd DAY narrow the retrieve as documented`, async () => {
    const isImported = (s: ManifestStudy) => s.description.toLowerCase().includes('imported');
    assert.ok(manifest.studies.some((s) => isImported(s) && server.expected(s).length > 0), 'some imported study would be retrieved');
    const e = await home(server.handle());
    const r = await run(e.home, '-e', 'imported');
    assert.is(r.code, 0, r.text);
    assert.equal(arrived(e.store), expectedOf(server, manifest.studies.filter((s) => !isImported(s))));

    // One day that holds a study with something to retrieve; only that day's objects arrive.
    const day = manifest.studies.find((s) => server.expected(s).length > 0)!.date;
    const iso = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
    const d = await home(server.handle());
    const one = await run(d.home, '-sd', iso);
    assert.is(one.code, 0, one.text);
    const onDay = expectedOf(server, manifest.studies.filter((s) => s.date === day));
    assert.ok(onDay.length > 0 && onDay.length < expectedOf(server).length);
    assert.equal(arrived(d.store), onDay);
  });
}

test.run();
