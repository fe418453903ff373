// The query and retrieve halves of a run against the simulated PACS over loopback DIMSE: the study
// stage's stop rule, retries on a fresh association, and every C-MOVE outcome of §9 Q12/Q13.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startStoreScp, type StoredObject } from '../../src/net/store-scp.js';
import type { Server } from '../../src/net/server.js';
import { createPool } from '../../src/net/pool.js';
import { listen } from '../../src/net/server.js';
import { createDataset, setValue } from '../../src/dicom/index.js';
import { parseSpecificCharacterSet } from '../../src/dicom/charset.js';
import { TransferSyntaxUid } from '../../src/dicom/uids.js';
import { startSimulatedPacs, type SimulatedPacs, type SimulatedPacsQuirks } from '../../src/pacs/simulated.js';
import { parseSnapshot } from '../../src/pacs/snapshot.js';
import { clientOptionsFor, type QrNodeConfig } from '../../src/qr/nodes.js';
import { createQuerySession } from '../../src/qr/query.js';
import { retrieve } from '../../src/qr/retrieve.js';
import type { PlannedMove } from '../../src/rules/model.js';

const test = suite('qr query and retrieve');
const RDSR = '1.2.840.10008.5.1.4.1.1.88.67';
let tmp = '';
let store: Server;
const stored: StoredObject[] = [];
const running: SimulatedPacs[] = [];

test.before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'qrscu-qr-'));
  store = await startStoreScp({ aeTitle: 'STORE', port: 0, directory: tmp, onStored: (o) => stored.push(o) });
});
test.after(async () => {
  for (const p of running) await p.close();
  await store.close(100);
  rmSync(tmp, { recursive: true, force: true });
});
test.before.each(() => { stored.length = 0; });

const SITE = {
  studies: {
    CT: [{ StudyInstanceUID: '2.25.1', ModalitiesInStudy: ['CT', 'SR'], StudyDescription: 'CT HEAD' }],
    MG: [{ StudyInstanceUID: '2.25.2', ModalitiesInStudy: ['MG'] }],
    DX: [{ StudyInstanceUID: '2.25.3', ModalitiesInStudy: 'DX,SR' }, { StudyDescription: 'no uid' }],
  },
  series: {
    '2.25.1': [
      { SeriesInstanceUID: '2.25.1.1', Modality: 'SR', SeriesDescription: 'Dose Report', NumberOfSeriesRelatedInstances: 2 },
      { SeriesInstanceUID: '2.25.1.2', Modality: 'CT', NumberOfSeriesRelatedInstances: 3 },
    ],
  },
  instances: {
    '2.25.1.1': [{ SOPInstanceUID: '2.25.1.1.1', SOPClassUID: RDSR, InstanceNumber: 1 }, { SOPInstanceUID: '2.25.1.1.2', SOPClassUID: RDSR, InstanceNumber: 2 }],
    '2.25.1.2': [1, 2, 3].map((n) => ({ SOPInstanceUID: `2.25.1.2.${n}`, InstanceNumber: n })),
  },
};

async function pacs(snapshot: unknown, quirks: SimulatedPacsQuirks = {}): Promise<{ p: SimulatedPacs; node: QrNodeConfig }> {
  const p = await startSimulatedPacs({
    snapshot: parseSnapshot(snapshot, 'inline.json'), port: 0, quirks,
    destinations: { STORE: { host: '127.0.0.1', port: store.port } },
  });
  running.push(p);
  return { p, node: { id: 'pacs', aeTitle: p.aeTitle, host: '127.0.0.1', port: p.port, callingAeTitle: 'QRSCU', useModalityTag: false, maxAssociations: 2, dimseTimeoutMs: 5000 } };
}

test('study stage: one C-FIND per code; comma lists split; a response without UID skipped with a warning', async () => {
  const { p, node } = await pacs(SITE);
  const warnings: string[] = [];
  const s = createQuerySession(node, { warning: (m) => warnings.push(m) });
  const { studies, outcome } = await s.studyStage(['CT', 'MG', 'DX'], { studyDate: '20240101-20240131', studyTime: '' });
  await s.close();
  assert.equal(studies.map((x) => [x.studyInstanceUid, x.queriedCode, x.modalitiesInStudy]), [['2.25.1', 'CT', ['CT', 'SR']], ['2.25.2', 'MG', ['MG']], ['2.25.3', 'DX', ['DX', 'SR']]]);
  assert.equal(outcome, { modalitiesReturned: true, modalityMatching: true, useModalityTag: false });
  assert.equal(warnings, ['study response to the DX C-FIND has no StudyInstanceUID: skipped']);
  const log = p.requests().filter((r) => r.type === 'C-FIND');
  assert.equal(log.map((r) => [r.level, r.keys.ModalitiesInStudy, r.keys.StudyDate]), [['STUDY', 'CT', '20240101-20240131'], ['STUDY', 'MG', '20240101-20240131'], ['STUDY', 'DX', '20240101-20240131']]);
  assert.is(log[0]!.callingAeTitle, 'QRSCU');
  assert.not.ok('Modality' in log[0]!.keys, 'no Modality key without useModalityTag');
});

test('study stage: a PACS that ignores ModalitiesInStudy is asked once; one that does not return it is asked for every code', async () => {
  const ignoring = await pacs({ studies: { '*': [{ StudyInstanceUID: '2.25.1', ModalitiesInStudy: ['MG'] }, { StudyInstanceUID: '2.25.2', ModalitiesInStudy: ['CT'] }] } });
  const warnings: string[] = [];
  const s1 = createQuerySession(ignoring.node, { warning: (m) => warnings.push(m) });
  const r1 = await s1.studyStage(['CT', 'MG', 'DX'], { studyDate: '', studyTime: '' });
  await s1.close();
  assert.is(ignoring.p.requests().length, 1, 'stopped after the first C-FIND');
  assert.is(r1.outcome.modalityMatching, false);
  assert.is(r1.studies.length, 2);
  assert.match(warnings[0]!, /ignores ModalitiesInStudy/);

  const silent = await pacs({ studies: { CT: [{ StudyInstanceUID: '2.25.1' }], MG: [{ StudyInstanceUID: '2.25.2' }] } });
  const s2 = createQuerySession({ ...silent.node, useModalityTag: true });
  const r2 = await s2.studyStage(['CT', 'MG'], { studyDate: '', studyTime: '' });
  await s2.close();
  assert.equal(r2.studies.map((x) => x.studyInstanceUid), ['2.25.1', '2.25.2']);
  assert.equal(r2.outcome, { modalitiesReturned: false, modalityMatching: true, useModalityTag: true });
  assert.equal(silent.p.requests().map((r) => r.keys.Modality), ['', ''], 'universal Modality key sent');
});

test('query port: series and image C-FINDs, InstanceNumber as a matching key', async () => {
  const { p, node } = await pacs(SITE);
  const s = createQuerySession(node);
  const study = (await s.studyStage(['CT'], { studyDate: '', studyTime: '' })).studies[0]!;
  const series = await s.port.findSeries(study);
  assert.equal(series.map((x) => [x.seriesInstanceUid, x.modality, x.seriesDescription, x.numberOfSeriesRelatedInstances]), [['2.25.1.1', 'SR', 'Dose Report', 2], ['2.25.1.2', 'CT', null, 3]]);
  const all = await s.port.findImages(study, series[0]!, {});
  assert.equal(all.map((i) => [i.sopInstanceUid, i.sopClassUid, i.instanceNumber]), [['2.25.1.1.1', RDSR, 1], ['2.25.1.1.2', RDSR, 2]]);
  const first = await s.port.findImages(study, series[1]!, { instanceNumber: 1 });
  assert.equal(first.map((i) => i.sopInstanceUid), ['2.25.1.2.1']);
  assert.equal(s.counts().series, 1);
  assert.equal(s.counts().image, 2);
  await s.close();
  const image = p.requests().filter((r) => r.level === 'IMAGE');
  assert.equal(image.map((r) => r.keys.InstanceNumber), ['', '1']);
});

test('a C-FIND whose association is aborted is retried once on a new association', async () => {
  // Orthanc-like: an unknown calling AE is aborted after its request; the pool's second association
  // is no better, so the retry fails too and the error is thrown (the run ends with a network error).
  const { node } = await pacs(SITE, { knownCallingAeTitles: ['SOMEONE'] });
  const warnings: string[] = [];
  const s = createQuerySession(node, { warning: (m) => warnings.push(m) });
  const error = await s.studyStage(['CT'], { studyDate: '', studyTime: '' }).then(() => undefined, (e: Error) => e);
  assert.match(String(error?.message), /abort/i);
  assert.is(s.counts().retries, 1);
  assert.match(warnings[0]!, /retrying once on a new association/);
  await s.close();
});

test('a C-FIND cut by a result limit (0xFE00) keeps its matches and warns', async () => {
  const { node } = await pacs({ studies: { CT: [1, 2, 3].map((n) => ({ StudyInstanceUID: `2.25.${n}`, ModalitiesInStudy: ['CT'] })) } }, { findResultLimit: 2 });
  const warnings: string[] = [];
  const s = createQuerySession(node, { warning: (m) => warnings.push(m) });
  const { studies } = await s.studyStage(['CT'], { studyDate: '', studyTime: '' });
  await s.close();
  assert.is(studies.length, 2);
  assert.match(warnings[0]!, /0xFE00.*narrow the date range/);
});

const MOVES: PlannedMove[] = [
  { studyInstanceUid: '2.25.1', seriesInstanceUid: '2.25.1.1', level: 'SERIES', expectedInstances: 2, branch: 'CT' },
  { studyInstanceUid: '2.25.1', seriesInstanceUid: '2.25.1.2', level: 'IMAGE', sopInstanceUid: '2.25.1.2.3', expectedInstances: 1, branch: 'CT' },
];

test('retrieve: series and image moves arrive; the move identifiers are exact', async () => {
  const { p, node } = await pacs(SITE);
  const pool = createPool(clientOptionsFor(node), node.maxAssociations);
  const records = await retrieve(MOVES, { node, destination: 'STORE', pool });
  await pool.close();
  assert.equal(records.map((r) => [r.outcome, r.completed, r.failed, r.attempts]), [['success', 2, 0, 1], ['success', 1, 0, 1]]);
  assert.equal(stored.map((o) => o.sopInstanceUid).sort(), ['2.25.1.1.1', '2.25.1.1.2', '2.25.1.2.3']);
  assert.equal(stored.map((o) => [o.studyInstanceUid, o.seriesInstanceUid])[0], ['2.25.1', stored[0]!.sopInstanceUid.startsWith('2.25.1.1.') ? '2.25.1.1' : '2.25.1.2'], 'UIDs read from the object head');
  const moves = p.requests().filter((r) => r.type === 'C-MOVE');
  assert.equal(moves.map((r) => [r.level, r.keys, r.destination]).sort(), [
    ['IMAGE', { SOPInstanceUID: '2.25.1.2.3', StudyInstanceUID: '2.25.1', SeriesInstanceUID: '2.25.1.2' }, 'STORE'],
    ['SERIES', { StudyInstanceUID: '2.25.1', SeriesInstanceUID: '2.25.1.1' }, 'STORE'],
  ]);
});

test('retrieve: 0xB000 is a partial success (no retry); a failure is retried once, then recorded and the run goes on', async () => {
  const { p, node } = await pacs({ ...SITE, quirks: { moveStatuses: ['B000', 'C000', 'C000', '0000'] } });
  const pool = createPool(clientOptionsFor(node), 1);
  const warnings: string[] = [];
  const records = await retrieve([...MOVES, MOVES[0]!], { node: { ...node, maxAssociations: 1 }, destination: 'STORE', pool, events: { warning: (m) => warnings.push(m) } });
  await pool.close();
  assert.equal(records.map((r) => [r.outcome, r.status, r.attempts]), [['warning', 0xb000, 1], ['failed', 0xc000, 2], ['success', 0, 1]]);
  assert.equal(records[0]!.failedSopInstanceUids, ['2.25.1.1.2']);
  assert.is(p.requests().filter((r) => r.type === 'C-MOVE').length, 4);
  assert.match(warnings[0]!, /retrying once/);
});

test('retrieve: an unknown move destination (0xA801) skips the remaining moves with advice', async () => {
  const { p, node } = await pacs(SITE);
  const pool = createPool(clientOptionsFor(node), 1);
  const warnings: string[] = [];
  const records = await retrieve(MOVES, { node: { ...node, maxAssociations: 1 }, destination: 'NOBODY', pool, events: { warning: (m) => warnings.push(m) } });
  await pool.close();
  assert.equal(records.map((r) => r.outcome), ['failed', 'skipped']);
  assert.is(p.requests().filter((r) => r.type === 'C-MOVE').length, 2, 'the first move and its retry');
  assert.ok(warnings.some((w) => /does not know move destination NOBODY .*AE table/.test(w)));
});

test('a node\'s fallback character set decodes matches that name none (Cyrillic ISO 8859-5 sent without SpecificCharacterSet)', async () => {
  const cyrillic = parseSpecificCharacterSet('ISO_IR 144');
  const server = await listen({ port: 0, policy: { aeTitle: 'LATIN', abstractSyntaxes: () => [TransferSyntaxUid.ImplicitVrLittleEndian] } }, {
    *find() {
      const ds = createDataset({ characterSet: cyrillic });
      setValue(ds, 'StudyInstanceUID', '2.25.5');
      setValue(ds, 'StudyDescription', 'Грудная клетка');
      setValue(ds, 'ModalitiesInStudy', 'CT');
      yield ds;
    },
  });
  try {
    const node: QrNodeConfig = { id: 'latin', aeTitle: 'LATIN', host: '127.0.0.1', port: server.port, callingAeTitle: 'QRSCU', useModalityTag: false, maxAssociations: 1 };
    const plain = createQuerySession(node);
    const asIs = (await plain.studyStage(['CT'], { studyDate: '', studyTime: '' })).studies[0]!;
    await plain.close();
    assert.is.not(asIs.studyDescription, 'Грудная клетка', 'without a fallback the ISO 8859-5 bytes are not Cyrillic');
    const withFallback = createQuerySession({ ...node, fallbackCharacterSet: 'ISO_IR 144' });
    const decoded = (await withFallback.studyStage(['CT'], { studyDate: '', studyTime: '' })).studies[0]!;
    await withFallback.close();
    assert.is(decoded.studyDescription, 'Грудная клетка');
  } finally {
    await server.close(100);
  }
});

test.run();
