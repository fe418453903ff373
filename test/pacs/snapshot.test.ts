// The simulated PACS in snapshot mode, driven by our own client over loopback: every field and quirk
// of ../shared/docs/pacs-snapshot.md, the quirk switches of real-pacs.md, and the exact request log.

import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDataset, getStrings, keywordOfTag, readPart10, setValue, type Dataset } from '../../src/dicom/index.js';
import { ConfigError, type DicomError } from '../../src/errors.js';
import { connect, type Client, type FinalStatus, type QueryModel } from '../../src/net/client.js';
import { startStoreScp, type StoredObject } from '../../src/net/store-scp.js';
import { listen, type Server } from '../../src/net/server.js';
import { encodeCommand } from '../../src/net/dimse.js';
import { selectMoveItems } from '../../src/pacs/matching.js';
import { parseDestination, startSimulatedPacs, type RequestLogEntry, type SimulatedPacs, type SimulatedPacsOptions } from '../../src/pacs/simulated.js';
import { loadSnapshot, moveStatusClass, parseSnapshot, type Snapshot } from '../../src/pacs/snapshot.js';

const test = suite('pacs snapshot');
const FIXTURES = path.join(process.cwd(), 'test/fixtures/snapshots');
const EXAMPLE = path.join(FIXTURES, 'contract-example.json');
const SITE = path.join(FIXTURES, 'site.json');
const SC = '1.2.840.10008.5.1.4.1.1.7';
const OP_MS = 10_000;

let tmp = '';
let store: Server;
const stored: StoredObject[] = [];
const started: SimulatedPacs[] = [];

test.before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'qrscu-pacs-'));
  store = await startStoreScp({ aeTitle: 'STORE', port: 0, directory: path.join(tmp, 'store'), onStored: (o) => stored.push(o) });
});
test.after(async () => {
  for (const p of started) await p.close();
  await store.close(100);
  rmSync(tmp, { recursive: true, force: true });
});
test.before.each(() => { stored.length = 0; });

// ---- helpers -----------------------------------------------------------------------------------

async function start(snapshot: Snapshot | string, options: Partial<SimulatedPacsOptions> = {}): Promise<SimulatedPacs> {
  const pacs = await startSimulatedPacs({
    snapshot: typeof snapshot === 'string' ? loadSnapshot(snapshot) : snapshot,
    port: 0,
    destinations: { STORE: { host: '127.0.0.1', port: store.port }, NOWHERE: { host: '127.0.0.1', port: 1 } },
    ...options,
  });
  started.push(pacs);
  return pacs;
}

function snap(json: unknown): Snapshot {
  return parseSnapshot(json, 'inline.json');
}

/** An identifier: QueryRetrieveLevel plus keys (null = present and empty, array = multi-valued). */
function query(level: string, keys: Record<string, string | readonly string[] | null> = {}): Dataset {
  const ds = createDataset();
  setValue(ds, 'QueryRetrieveLevel', level);
  for (const [k, v] of Object.entries(keys)) setValue(ds, k, v);
  return ds;
}

/** A dataset as keyword → values, to compare answers exactly. */
function plain(ds: Dataset): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of [...ds.elements.keys()].sort((a, b) => a - b)) out[keywordOfTag(t) ?? String(t)] = getStrings(ds, t) ?? [];
  return out;
}

function withTimeout<T>(p: Promise<T>, what: string, ms = OP_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); })]).finally(() => clearTimeout(timer));
}

async function open(pacs: SimulatedPacs, o: { callingAeTitle?: string; calledAeTitle?: string; dimseTimeoutMs?: number } = {}): Promise<Client> {
  return withTimeout(connect({ host: '127.0.0.1', port: pacs.port, callingAeTitle: 'QRSCU', calledAeTitle: pacs.aeTitle, ...o }), 'connect');
}

async function find(pacs: SimulatedPacs, identifier: Dataset, model: QueryModel = 'study'): Promise<{ matches: Record<string, string[]>[]; final: FinalStatus }> {
  const client = await open(pacs);
  try {
    const op = client.find(identifier, { model });
    const matches: Record<string, string[]>[] = [];
    await withTimeout((async () => { for await (const m of op) matches.push(plain(m)); })(), 'C-FIND');
    return { matches, final: op.final! };
  } finally {
    await client.release();
  }
}

async function move(pacs: SimulatedPacs, identifier: Dataset, destination = 'STORE') {
  const client = await open(pacs);
  try {
    const pendings: unknown[] = [];
    const r = await withTimeout(client.move(identifier, { destination, onPending: (s) => pendings.push({ ...s }) }), 'C-MOVE');
    return { ...r, pendings };
  } finally {
    await client.release();
  }
}

/** The request log without times (checked separately). */
function logOf(pacs: SimulatedPacs): Omit<RequestLogEntry, 'time'>[] {
  return pacs.requests().map(({ time, ...rest }) => {
    assert.ok(!Number.isNaN(Date.parse(time)) && time.endsWith('Z'), `ISO time: ${time}`);
    return rest;
  });
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ConfigError);
    assert.is((e as ConfigError).code, 'ERR_CONFIG_INVALID');
    return e as ConfigError;
  }
  assert.unreachable('expected a ConfigError');
  throw new Error('unreachable');
}

const hex = (n: number | undefined): string => (n ?? -1).toString(16).padStart(4, '0');

// ---- loading and validation ----------------------------------------------------------------------

test('loadSnapshot: the contract example parses into every field with its values', () => {
  const s = loadSnapshot(EXAMPLE);
  assert.is(s.source, EXAMPLE);
  assert.is(s.aet, 'SIMPACS');
  assert.equal(s.quirks, { instanceNumberMatching: true, modalityKeyRequired: false, moveStatuses: [0] });
  assert.equal([...s.studies.keys()], ['CT', 'MG', '*']);
  assert.equal(s.studies.get('CT'), [{ StudyInstanceUID: '2.25.1', ModalitiesInStudy: ['CT', 'SR'], StudyDescription: 'CT HEAD' }]);
  assert.equal(s.studies.get('MG'), []);
  assert.equal(s.series.get('2.25.1'), [{ SeriesInstanceUID: '2.25.1.1', Modality: 'SR', SeriesDescription: 'Dose Report', NumberOfSeriesRelatedInstances: 1 }]);
  assert.equal(s.instances.get('2.25.1.1'), [{ answer: { SOPInstanceUID: '2.25.1.1.1', SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.67', InstanceNumber: 1 }, hidden: false }]);
});

test('quirk defaults: instanceNumberMatching true, modalityKeyRequired false, move status 0000; only "studies" is required', () => {
  const s = snap({ studies: {} });
  assert.equal(s.quirks, { instanceNumberMatching: true, modalityKeyRequired: false, moveStatuses: [0] });
  assert.is(s.aet, undefined);
  assert.is(s.series.size + s.instances.size, 0);
  assert.equal(snap({ studies: {}, quirks: { moveFinalStatus: 'b000' } }).quirks.moveStatuses, [0xb000]);
  // moveStatuses overrides moveFinalStatus.
  assert.equal(snap({ studies: {}, quirks: { moveFinalStatus: 'C000', moveStatuses: ['0000', 'A702'] } }).quirks.moveStatuses, [0, 0xa702]);
});

test('moveStatusClass: 0000 success, Bxxx warning, Axxx and Cxxx failure', () => {
  assert.is(moveStatusClass(0), 'success');
  assert.is(moveStatusClass(0xb000), 'warning');
  assert.is(moveStatusClass(0xb007), 'warning');
  assert.is(moveStatusClass(0xa801), 'failure');
  assert.is(moveStatusClass(0xc000), 'failure');
});

test('validation: every fault is a ConfigError naming the file and the JSON pointer', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [[], '', /must be a JSON object/],
    [{}, '', /needs "studies"/],
    [{ studies: {}, extra: 1 }, '/extra', /unknown snapshot field "extra"/],
    [{ studies: {}, aet: '' }, '/aet', /AE title/],
    [{ studies: {}, aet: 'A_TITLE_THAT_IS_TOO_LONG' }, '/aet', /AE title/],
    [{ studies: [], }, '/studies', /JSON object/],
    [{ studies: { CT: {} } }, '/studies/CT', /list of answers/],
    [{ studies: { 'CT/SR': 1 } }, '/studies/CT~1SR', /list of answers/],
    [{ studies: { CT: [5] } }, '/studies/CT/0', /JSON object/],
    [{ studies: { CT: [{ StudyInstanceUid: '1' }] } }, '/studies/CT/0/StudyInstanceUid', /unknown DICOM keyword "StudyInstanceUid"/],
    [{ studies: { CT: [{ PatientName: { Alphabetic: 'X' } }] } }, '/studies/CT/0/PatientName', /string, a number or a list/],
    [{ studies: { CT: [{ ModalitiesInStudy: ['CT', null] }] } }, '/studies/CT/0/ModalitiesInStudy', /string, a number or a list/],
    [{ studies: { CT: [{ Modality: 'THIS VALUE IS FAR TOO LONG' }] } }, '/studies/CT/0/Modality', /Modality cannot be encoded/],
    [{ studies: { CT: [{ PatientName: '山田^太郎' }] } }, '/studies/CT/0/PatientName', /cannot be encoded in ISO_IR 6/],
    [{ studies: { CT: [{ QueryRetrieveLevel: 'STUDY' }] } }, '/studies/CT/0/QueryRetrieveLevel', /set by the simulated PACS/],
    [{ studies: { CT: [{ hidden: true }] } }, '/studies/CT/0/hidden', /only allowed on instances/],
    [{ studies: {}, series: { '1': [{ hidden: false }] } }, '/series/1/0/hidden', /only allowed on instances/],
    [{ studies: {}, instances: { '1': [{ hidden: 'yes' }] } }, '/instances/1/0/hidden', /true or false/],
    [{ studies: {}, instances: { '1': 'x' } }, '/instances/1', /list of answers/],
    [{ studies: {}, quirks: [] }, '/quirks', /JSON object/],
    [{ studies: {}, quirks: { instanceNumberMatchng: true } }, '/quirks/instanceNumberMatchng', /unknown quirk/],
    [{ studies: {}, quirks: { instanceNumberMatching: 'no' } }, '/quirks/instanceNumberMatching', /true or false/],
    [{ studies: {}, quirks: { modalityKeyRequired: 1 } }, '/quirks/modalityKeyRequired', /true or false/],
    [{ studies: {}, quirks: { moveFinalStatus: 0 } }, '/quirks/moveFinalStatus', /4 hex digits/],
    [{ studies: {}, quirks: { moveFinalStatus: 'FF00' } }, '/quirks/moveFinalStatus', /not 0000, Axxx, Bxxx or Cxxx/],
    [{ studies: {}, quirks: { moveStatuses: [] } }, '/quirks/moveStatuses', /non-empty list/],
    [{ studies: {}, quirks: { moveStatuses: ['0000', 'B00'] } }, '/quirks/moveStatuses/1', /4 hex digits/],
  ];
  for (const [json, pointer, message] of cases) {
    const e = configError(() => parseSnapshot(json, 'x.json'));
    assert.is(e.file, 'x.json', JSON.stringify(json));
    assert.is(e.pointer, pointer, JSON.stringify(json));
    assert.match(e.message, message);
    assert.ok(e.message.includes('x.json'), e.message);
  }
});

test('loadSnapshot: unreadable file and invalid JSON name the file', () => {
  const missing = configError(() => loadSnapshot(path.join(tmp, 'missing.json')));
  assert.match(missing.message, /cannot read snapshot: ENOENT/);
  assert.is(missing.file, path.join(tmp, 'missing.json'));
  const bad = path.join(tmp, 'bad.json');
  writeFileSync(bad, '{ "studies": ');
  const e = configError(() => loadSnapshot(bad));
  assert.match(e.message, /not JSON/);
  assert.is(e.file, bad);
  assert.is(e.pointer, '');
});

// ---- C-ECHO and association ----------------------------------------------------------------------

test('aet: the SCP takes the snapshot AE title (SIMPACS when absent, aeTitle option first); C-ECHO answered and logged', async () => {
  const pacs = await start(EXAMPLE);
  assert.is(pacs.aeTitle, 'SIMPACS');
  const c = await open(pacs);
  assert.is((await c.echo()).status, 0);
  await c.release();
  assert.equal(logOf(pacs), [{ type: 'C-ECHO', callingAeTitle: 'QRSCU', level: '', keys: {} }]);
  assert.is((await start(snap({ studies: {} }))).aeTitle, 'SIMPACS');
  assert.is((await start(EXAMPLE, { aeTitle: 'OTHER' })).aeTitle, 'OTHER');
});

// ---- study level -------------------------------------------------------------------------------

test('studies: the list under the request ModalitiesInStudy value, as is, whatever else is asked; QueryRetrieveLevel echoed', async () => {
  const pacs = await start(EXAMPLE);
  const r = await find(pacs, query('STUDY', { ModalitiesInStudy: 'CT', StudyInstanceUID: null, StudyDate: '19000101', PatientName: null }));
  assert.is(r.final.status, 0);
  // PatientName and StudyDate were asked but are absent from the answer: not returned. StudyDate did not filter.
  assert.equal(r.matches, [{ QueryRetrieveLevel: ['STUDY'], StudyInstanceUID: ['2.25.1'], ModalitiesInStudy: ['CT', 'SR'], StudyDescription: ['CT HEAD'] }]);
});

test('studies: a key with [] answers zero matches even when "*" exists; a value without a key falls back to "*"', async () => {
  const pacs = await start(EXAMPLE);
  assert.equal((await find(pacs, query('STUDY', { ModalitiesInStudy: 'MG' }))).matches, []);
  assert.equal((await find(pacs, query('STUDY', { ModalitiesInStudy: 'US' }))).matches, [{ QueryRetrieveLevel: ['STUDY'], StudyInstanceUID: ['2.25.9'] }]);
  // "CT\SR" has no key of its own in the example: "*" answers it, not "CT".
  assert.equal((await find(pacs, query('STUDY', { ModalitiesInStudy: ['CT', 'SR'] }))).matches, [{ QueryRetrieveLevel: ['STUDY'], StudyInstanceUID: ['2.25.9'] }]);
});

test('studies: the whole value as sent is the key (CT\\SR apart from CT); no key and no "*" gives zero matches', async () => {
  const pacs = await start(snap({ studies: { CT: [{ StudyInstanceUID: '1' }], 'CT\\SR': [{ StudyInstanceUID: '2' }] } }));
  assert.equal((await find(pacs, query('STUDY', { ModalitiesInStudy: ['CT', 'SR'] }))).matches.map((m) => m['StudyInstanceUID']), [['2']]);
  assert.equal((await find(pacs, query('STUDY', { ModalitiesInStudy: 'CT' }))).matches.map((m) => m['StudyInstanceUID']), [['1']]);
  const none = await find(pacs, query('STUDY', { ModalitiesInStudy: ['SR', 'CT'] }));
  assert.equal(none.matches, []);
  assert.is(none.final.status, 0);
});

test('studies: a request without ModalitiesInStudy (or with it empty) is looked up as "", then "*"', async () => {
  const pacs = await start(SITE);
  assert.equal((await find(pacs, query('STUDY', { StudyInstanceUID: null }))).matches.map((m) => m['StudyInstanceUID']), [['2.25.300']]);
  assert.equal((await find(pacs, query('STUDY', { ModalitiesInStudy: null }))).matches.map((m) => m['StudyInstanceUID']), [['2.25.300']]);
  const noEmptyKey = await start(EXAMPLE);
  assert.equal((await find(noEmptyKey, query('STUDY', {}))).matches.map((m) => m['StudyInstanceUID']), [['2.25.9']]);
});

test('answers: a string stays one value ("CT,SR"), an array is multi-valued, "" is returned empty, numbers are sent as IS', async () => {
  const pacs = await start(SITE);
  const r = await find(pacs, query('STUDY', { ModalitiesInStudy: 'CT' }));
  assert.equal(r.matches, [{
    QueryRetrieveLevel: ['STUDY'], StudyDate: ['20240102'], ModalitiesInStudy: ['CT,SR'], StudyDescription: [],
    PatientName: ['Doe^Jane'], PatientID: ['P1'], StudyInstanceUID: ['2.25.100'], NumberOfStudyRelatedInstances: ['4'],
  }]);
  const multi = await find(pacs, query('STUDY', { ModalitiesInStudy: ['CT', 'SR'] }));
  assert.equal(multi.matches[0]!['ModalitiesInStudy'], ['CT', 'SR']);
});

test('answers: SpecificCharacterSet in an answer encodes its other values (UTF-8 names); moved objects carry it', async () => {
  const pacs = await start(snap({
    studies: { '*': [{ SpecificCharacterSet: 'ISO_IR 192', StudyInstanceUID: '2.25.7', PatientName: '山田^太郎' }] },
    series: { '2.25.7': [{ SeriesInstanceUID: '2.25.7.1', Modality: 'DX' }] },
    instances: { '2.25.7.1': [{ SOPInstanceUID: '2.25.7.1.1' }] },
  }));
  const r = await find(pacs, query('STUDY', { PatientName: null }));
  assert.equal(r.matches, [{ SpecificCharacterSet: ['ISO_IR 192'], QueryRetrieveLevel: ['STUDY'], PatientName: ['山田^太郎'], StudyInstanceUID: ['2.25.7'] }]);
  const m = await move(pacs, query('STUDY', { StudyInstanceUID: '2.25.7' }));
  assert.is(m.status, 0);
  const obj = plain(readPart10(readFileSync(stored[0]!.path)).dataset);
  assert.equal([obj['PatientName'], obj['Modality'], obj['SOPClassUID']], [['山田^太郎'], ['DX'], [SC]]);
});

test('modalityKeyRequired: ModalitiesInStudy honoured only with a Modality key (even empty); otherwise "*" or zero matches', async () => {
  const withStar = await start(snap({ quirks: { modalityKeyRequired: true }, studies: { CT: [{ StudyInstanceUID: '1' }], '*': [{ StudyInstanceUID: '9' }] } }));
  assert.equal((await find(withStar, query('STUDY', { ModalitiesInStudy: 'CT' }))).matches.map((m) => m['StudyInstanceUID']), [['9']]);
  assert.equal((await find(withStar, query('STUDY', { ModalitiesInStudy: 'CT', Modality: null }))).matches.map((m) => m['StudyInstanceUID']), [['1']]);
  assert.equal((await find(withStar, query('STUDY', { ModalitiesInStudy: 'CT', Modality: 'CT' }))).matches.map((m) => m['StudyInstanceUID']), [['1']]);
  const noStar = await start(snap({ quirks: { modalityKeyRequired: true }, studies: { CT: [{ StudyInstanceUID: '1' }] } }));
  assert.equal((await find(noStar, query('STUDY', { ModalitiesInStudy: 'CT' }))).matches, []);
});

test('Patient Root C-FIND answers as Study Root does; PATIENT level has zero matches; another level 0xA900', async () => {
  const pacs = await start(EXAMPLE);
  assert.equal((await find(pacs, query('STUDY', { ModalitiesInStudy: 'CT', PatientID: null }), 'patient')).matches.length, 1);
  const patient = await find(pacs, query('PATIENT', { PatientID: null }), 'patient');
  assert.equal(patient.matches, []);
  assert.is(patient.final.status, 0);
  const bad = await find(pacs, query('FRAME', {}));
  assert.is(hex(bad.final.status), 'a900');
});

// ---- series and image level ------------------------------------------------------------------------

test('series: answers by StudyInstanceUID (a UID list concatenates); unknown or empty UID: zero matches', async () => {
  const pacs = await start(SITE);
  const r = await find(pacs, query('SERIES', { StudyInstanceUID: '2.25.100', SeriesInstanceUID: null, Modality: null, StationName: null }));
  assert.equal(r.matches, [
    { QueryRetrieveLevel: ['SERIES'], Modality: ['CT'], SeriesInstanceUID: ['2.25.100.1'], SeriesNumber: ['1'], NumberOfSeriesRelatedInstances: ['3'] },
    { QueryRetrieveLevel: ['SERIES'], Modality: ['SR'], SeriesDescription: ['Dose Report'], SeriesInstanceUID: ['2.25.100.2'], SeriesNumber: ['900'] },
  ]);
  const both = await find(pacs, query('SERIES', { StudyInstanceUID: ['2.25.200', '2.25.100'] }));
  assert.equal(both.matches.map((m) => m['SeriesInstanceUID']), [['2.25.200.1'], ['2.25.100.1'], ['2.25.100.2']]);
  assert.equal((await find(pacs, query('SERIES', { StudyInstanceUID: '2.25.999' }))).matches, []);
  assert.equal((await find(pacs, query('SERIES', { StudyInstanceUID: null }))).matches, []);
});

test('instances: an image-level C-FIND returns every instance of the series; missing or [] gives none; hidden ones never', async () => {
  const pacs = await start(SITE);
  const r = await find(pacs, query('IMAGE', { StudyInstanceUID: '2.25.100', SeriesInstanceUID: '2.25.100.1', SOPInstanceUID: null, SOPClassUID: null, InstanceNumber: null }));
  assert.equal(r.matches, [
    { QueryRetrieveLevel: ['IMAGE'], SOPInstanceUID: ['2.25.100.1.1'], InstanceNumber: ['1'] },
    { QueryRetrieveLevel: ['IMAGE'], SOPClassUID: ['1.2.840.10008.5.1.4.1.1.2'], SOPInstanceUID: ['2.25.100.1.2'], InstanceNumber: ['2'] },
    { QueryRetrieveLevel: ['IMAGE'], SOPInstanceUID: ['2.25.100.1.3'], InstanceNumber: ['3'] },
  ]);
  assert.equal((await find(pacs, query('IMAGE', { SeriesInstanceUID: '2.25.100.2' }))).matches, [], 'hidden');
  assert.equal((await find(pacs, query('IMAGE', { SeriesInstanceUID: '2.25.200.1' }))).matches, [], '[]');
  assert.equal((await find(pacs, query('IMAGE', { SeriesInstanceUID: '2.25.404' }))).matches, [], 'missing');
});

test('instanceNumberMatching (default true): a non-empty InstanceNumber returns only that number ("02" = 2; a list matches any)', async () => {
  const pacs = await start(SITE);
  const uids = async (n: string | string[]) => (await find(pacs, query('IMAGE', { SeriesInstanceUID: '2.25.100.1', InstanceNumber: n }))).matches.map((m) => m['SOPInstanceUID']![0]);
  assert.equal(await uids('2'), ['2.25.100.1.2']);
  assert.equal(await uids('02'), ['2.25.100.1.2']);
  assert.equal(await uids(['1', '3']), ['2.25.100.1.1', '2.25.100.1.3']);
  assert.equal(await uids('7'), []);
  // The SOPInstanceUID key does not select at image level: the snapshot answers as told.
  const all = await find(pacs, query('IMAGE', { SeriesInstanceUID: '2.25.100.1', SOPInstanceUID: '2.25.100.1.3' }));
  assert.is(all.matches.length, 3);
});

test('instanceNumberMatching false: InstanceNumber is ignored', async () => {
  const s = loadSnapshot(SITE);
  const pacs = await start({ ...s, quirks: { ...s.quirks, instanceNumberMatching: false } });
  const r = await find(pacs, query('IMAGE', { SeriesInstanceUID: '2.25.100.1', InstanceNumber: '2' }));
  assert.is(r.matches.length, 3);
  const fromJson = snap({ quirks: { instanceNumberMatching: false }, studies: {}, instances: { '1': [{ SOPInstanceUID: '1.1', InstanceNumber: 1 }] } });
  assert.is(fromJson.quirks.instanceNumberMatching, false);
  assert.is((await find(await start(fromJson), query('IMAGE', { SeriesInstanceUID: '1', InstanceNumber: '5' }))).matches.length, 1);
});

// ---- C-CANCEL and simulated-server quirks -------------------------------------------------------------

const MANY = snap({ studies: { '*': Array.from({ length: 600 }, (_, i) => ({ StudyInstanceUID: `2.25.${i}`, NumberOfStudyRelatedSeries: 2, NumberOfStudyRelatedInstances: 5 })) } });

test('C-CANCEL: the C-FIND ends with 0xFE00 before every answer is sent; the association stays usable', async () => {
  const pacs = await start(MANY);
  const c = await open(pacs);
  const op = c.find(query('STUDY', { StudyInstanceUID: null }));
  let seen = 0;
  await withTimeout((async () => {
    for await (const _ of op) {
      seen++;
      if (seen === 1) await op.cancel();
    }
  })(), 'C-FIND with C-CANCEL');
  assert.is(hex(op.final?.status), 'fe00');
  assert.ok(seen < 600, `seen ${seen}`);
  assert.is((await c.echo()).status, 0);
  await c.release();
});

test('quirk findResultLimit: N answers then 0xFE00 (Orthanc LimitFindResults); fewer answers end 0x0000', async () => {
  const pacs = await start(MANY, { quirks: { findResultLimit: 3 } });
  const r = await find(pacs, query('STUDY', {}));
  assert.is(r.matches.length, 3);
  assert.is(hex(r.final.status), 'fe00');
  const few = await start(EXAMPLE, { quirks: { findResultLimit: 1 } });
  assert.is(hex((await find(few, query('STUDY', { ModalitiesInStudy: 'CT' }))).final.status), '0000');
});

test('quirks omitRelatedCounts and omitSopClassUid (dcmqrscp) drop those keys from answers', async () => {
  const pacs = await start(MANY, { quirks: { omitRelatedCounts: true, findResultLimit: 1 } });
  assert.equal((await find(pacs, query('STUDY', {}))).matches, [{ QueryRetrieveLevel: ['STUDY'], StudyInstanceUID: ['2.25.0'] }]);
  const site = await start(SITE, { quirks: { omitSopClassUid: true, omitRelatedCounts: true } });
  const images = await find(site, query('IMAGE', { SeriesInstanceUID: '2.25.100.1', InstanceNumber: '2', SOPClassUID: null }));
  assert.equal(images.matches, [{ QueryRetrieveLevel: ['IMAGE'], SOPInstanceUID: ['2.25.100.1.2'], InstanceNumber: ['2'] }]);
  const series = await find(site, query('SERIES', { StudyInstanceUID: '2.25.100' }));
  assert.equal(series.matches[0], { QueryRetrieveLevel: ['SERIES'], Modality: ['CT'], SeriesInstanceUID: ['2.25.100.1'], SeriesNumber: ['1'] });
});

test('quirk ignoreModalitiesInStudy (dcmqrscp): every study-level C-FIND is answered from "*"', async () => {
  const pacs = await start(EXAMPLE, { quirks: { ignoreModalitiesInStudy: true } });
  assert.equal((await find(pacs, query('STUDY', { ModalitiesInStudy: 'CT' }))).matches.map((m) => m['StudyInstanceUID']), [['2.25.9']]);
});

test('quirk checkCalledAeTitle: a wrong called AE title is rejected; default accepts it', async () => {
  const strict = await start(EXAMPLE, { quirks: { checkCalledAeTitle: true } });
  const e = await open(strict, { calledAeTitle: 'WRONG' }).then(() => undefined, (x: DicomError) => x);
  assert.is(e?.code, 'ERR_ASSOC_REJECTED');
  const lax = await start(EXAMPLE);
  const c = await open(lax, { calledAeTitle: 'WRONG' });
  await c.release();
});

test('quirk knownCallingAeTitles (Orthanc): an unknown caller is aborted right after its C-FIND, which is still logged', async () => {
  const pacs = await start(EXAMPLE, { quirks: { knownCallingAeTitles: ['QRSCU'] } });
  assert.is((await find(pacs, query('STUDY', { ModalitiesInStudy: 'CT' }))).matches.length, 1);
  const c = await open(pacs, { callingAeTitle: 'STRANGER' });
  assert.is((await c.echo()).status, 0);
  const op = c.find(query('STUDY', { ModalitiesInStudy: 'CT' }));
  const e = await withTimeout((async () => { for await (const _ of op) { /* none */ } })().then(() => undefined, (x: DicomError) => x), 'aborted C-FIND');
  assert.is(e?.code, 'ERR_ASSOC_ABORTED');
  const c2 = await open(pacs, { callingAeTitle: 'STRANGER' });
  const m = await withTimeout(c2.move(query('STUDY', { StudyInstanceUID: '2.25.1' }), { destination: 'STORE' }).then(() => undefined, (x: DicomError) => x), 'aborted C-MOVE');
  assert.is(m?.code, 'ERR_ASSOC_ABORTED');
  assert.equal(logOf(pacs).map((x) => `${x.type} ${x.callingAeTitle}`), ['C-FIND QRSCU', 'C-ECHO STRANGER', 'C-FIND STRANGER', 'C-MOVE STRANGER']);
  assert.is(stored.length, 0);
});

test('quirk neverAnswer: C-ECHO, C-FIND and C-MOVE time out at the client; requests logged; close() ends it', async () => {
  const pacs = await start(EXAMPLE, { quirks: { neverAnswer: true } });
  for (const run of [
    (c: Client) => c.echo(),
    async (c: Client) => { for await (const _ of c.find(query('STUDY', {}))) { /* none */ } },
    (c: Client) => c.move(query('STUDY', { StudyInstanceUID: '2.25.1' }), { destination: 'STORE' }),
  ]) {
    const c = await open(pacs, { dimseTimeoutMs: 150 });
    const e = await withTimeout(Promise.resolve(run(c)).then(() => undefined, (x: DicomError) => x), 'timeout');
    assert.is(e?.code, 'ERR_DIMSE_TIMEOUT');
    c.abort();
  }
  assert.equal(logOf(pacs).map((x) => x.type), ['C-ECHO', 'C-FIND', 'C-MOVE']);
  await withTimeout(pacs.close(), 'close');
});

// ---- retrieve -------------------------------------------------------------------------------------

test('C-MOVE STUDY: every instance of the study\'s series (hidden ones too), one pending per sub-operation, objects as the contract says', async () => {
  const pacs = await start(SITE);
  const r = await move(pacs, query('STUDY', { StudyInstanceUID: '2.25.100' }));
  assert.is(r.status, 0);
  assert.equal(r.subOperations, { remaining: 0, completed: 4, failed: 0, warning: 0 });
  assert.equal(r.failedSopInstanceUids, []);
  assert.equal(r.pendings, [
    { remaining: 3, completed: 1, failed: 0, warning: 0 },
    { remaining: 2, completed: 2, failed: 0, warning: 0 },
    { remaining: 1, completed: 3, failed: 0, warning: 0 },
    { remaining: 0, completed: 4, failed: 0, warning: 0 },
  ]);
  assert.equal(stored.map((o) => [o.sopInstanceUid, o.sopClassUid, o.callingAeTitle, o.moveOriginatorAeTitle]), [
    ['2.25.100.1.1', SC, 'SITEPACS', 'QRSCU'],
    ['2.25.100.1.2', '1.2.840.10008.5.1.4.1.1.2', 'SITEPACS', 'QRSCU'],
    ['2.25.100.1.3', SC, 'SITEPACS', 'QRSCU'],
    ['2.25.100.2.1', '1.2.840.10008.5.1.4.1.1.88.67', 'SITEPACS', 'QRSCU'],
  ]);
  const sc = readPart10(readFileSync(stored[0]!.path));
  assert.equal(sc.warnings, []);
  const obj = plain(sc.dataset);
  assert.equal(obj['SOPClassUID'], [SC]);
  assert.equal(obj['SOPInstanceUID'], ['2.25.100.1.1']);
  assert.equal(obj['StudyInstanceUID'], ['2.25.100']);
  assert.equal(obj['SeriesInstanceUID'], ['2.25.100.1']);
  assert.equal(obj['Modality'], ['CT']);
  assert.equal(obj['PatientName'], ['Doe^Jane']);
  assert.equal(obj['PatientID'], ['P1']);
  assert.equal(obj['Rows'], ['1']);
  assert.ok(sc.dataset.elements.has(0x7fe00010), 'SC carries pixel data');
  const sr = plain(readPart10(readFileSync(stored[3]!.path)).dataset);
  assert.equal([sr['SOPClassUID'], sr['Modality'], sr['SeriesInstanceUID'], sr['StudyInstanceUID']], [['1.2.840.10008.5.1.4.1.1.88.67'], ['SR'], ['2.25.100.2'], ['2.25.100']]);
  assert.is(sr['Rows'], undefined, 'no pixel data outside Secondary Capture');
  assert.equal(readdirSync(path.join(tmp, 'store')).filter((f) => f.endsWith('.part')), []);
});

test('C-MOVE SERIES and IMAGE levels select from instances (hidden ones are moved); unknown UIDs move nothing', async () => {
  const pacs = await start(SITE);
  const series = await move(pacs, query('SERIES', { StudyInstanceUID: '2.25.100', SeriesInstanceUID: '2.25.100.2' }));
  assert.equal([series.status, series.subOperations.completed], [0, 1]);
  assert.equal(stored.map((o) => o.sopInstanceUid), ['2.25.100.2.1']);
  stored.length = 0;
  const image = await move(pacs, query('IMAGE', { StudyInstanceUID: '2.25.100', SeriesInstanceUID: '2.25.100.1', SOPInstanceUID: ['2.25.100.1.3', '2.25.100.1.1'] }));
  assert.equal([image.status, image.subOperations.completed], [0, 2]);
  assert.equal(stored.map((o) => o.sopInstanceUid), ['2.25.100.1.1', '2.25.100.1.3']);
  stored.length = 0;
  const nothing = await move(pacs, query('STUDY', { StudyInstanceUID: '2.25.404' }));
  assert.equal([nothing.status, nothing.subOperations, nothing.pendings], [0, { remaining: 0, completed: 0, failed: 0, warning: 0 }, []]);
  assert.is(stored.length, 0);
  // A series listed under no study, moved without StudyInstanceUID: a stable derived study UID.
  const orphan = await start(snap({ studies: {}, instances: { '2.25.55': [{ SOPInstanceUID: '2.25.55.1' }] } }));
  assert.is((await move(orphan, query('SERIES', { SeriesInstanceUID: '2.25.55' }))).subOperations.completed, 1);
  const study = plain(readPart10(readFileSync(stored[0]!.path)).dataset)['StudyInstanceUID']![0]!;
  assert.match(study, /^2\.25\.[1-9][0-9]{0,38}$/);
  stored.length = 0;
  await move(orphan, query('IMAGE', { SOPInstanceUID: '2.25.55.1' }));
  assert.equal(plain(readPart10(readFileSync(stored[0]!.path)).dataset)['StudyInstanceUID'], [study]);
  const level = await move(pacs, query('PATIENT', { PatientID: 'P1' }));
  assert.is(hex(level.status), 'a900');
});

test('C-MOVE: the contract example moves its one SR instance; matching selects by UID with the series owner from "series"', async () => {
  const pacs = await start(EXAMPLE);
  const r = await move(pacs, query('STUDY', { StudyInstanceUID: '2.25.1' }));
  assert.equal([r.status, r.subOperations.completed, stored.map((o) => o.sopClassUid)], [0, 1, ['1.2.840.10008.5.1.4.1.1.88.67']]);
  const items = selectMoveItems(loadSnapshot(EXAMPLE), { level: 'IMAGE', studyInstanceUids: [], seriesInstanceUids: [], sopInstanceUids: ['2.25.1.1.1'] });
  assert.equal(items.map((i) => [i.sopInstanceUid, i.seriesInstanceUid, i.studyInstanceUid]), [['2.25.1.1.1', '2.25.1.1', '2.25.1']]);
});

test('C-MOVE to a destination not in the AE table: 0xA801 (quirk unknownDestinationStatus: 0xC000, as Orthanc)', async () => {
  const pacs = await start(EXAMPLE);
  const r = await move(pacs, query('STUDY', { StudyInstanceUID: '2.25.1' }), 'UNKNOWN');
  assert.is(hex(r.status), 'a801');
  assert.is(stored.length, 0);
  const orthanc = await start(EXAMPLE, { quirks: { unknownDestinationStatus: 0xc000 } });
  assert.is(hex((await move(orthanc, query('STUDY', { StudyInstanceUID: '2.25.1' }), 'UNKNOWN')).status), 'c000');
});

test('C-MOVE to a destination that does not answer: 0xA702, every sub-operation failed', async () => {
  const pacs = await start(EXAMPLE);
  const r = await move(pacs, query('STUDY', { StudyInstanceUID: '2.25.1' }), 'NOWHERE');
  assert.is(hex(r.status), 'a702');
  assert.equal(r.subOperations, { remaining: 0, completed: 0, failed: 1, warning: 0 });
  assert.equal(r.failedSopInstanceUids, ['2.25.1.1.1']);
});

test('moveFinalStatus warning (Bxxx): all but the last instance moved; the last counted failed and listed', async () => {
  const pacs = await start(snap({ ...JSON.parse(readFileSync(SITE, 'utf8')), quirks: { moveFinalStatus: 'B000' } }));
  const r = await move(pacs, query('SERIES', { SeriesInstanceUID: '2.25.100.1' }));
  assert.is(hex(r.status), 'b000');
  assert.equal(r.subOperations, { remaining: 0, completed: 2, failed: 1, warning: 0 });
  assert.equal(r.failedSopInstanceUids, ['2.25.100.1.3']);
  assert.equal(r.pendings, [{ remaining: 2, completed: 1, failed: 0, warning: 0 }, { remaining: 1, completed: 2, failed: 0, warning: 0 }]);
  assert.equal(stored.map((o) => o.sopInstanceUid), ['2.25.100.1.1', '2.25.100.1.2']);
});

test('moveFinalStatus failure (Axxx, Cxxx): no sub-operation performed', async () => {
  for (const status of ['A702', 'C001']) {
    const pacs = await start(snap({ ...JSON.parse(readFileSync(SITE, 'utf8')), quirks: { moveFinalStatus: status } }));
    const r = await move(pacs, query('STUDY', { StudyInstanceUID: '2.25.100' }));
    assert.is(hex(r.status), status.toLowerCase());
    assert.equal(r.subOperations, { remaining: 0, completed: 0, failed: 4, warning: 0 });
    assert.equal(r.pendings, []);
    assert.is(stored.length, 0);
  }
});

test('moveStatuses: successive C-MOVE requests get successive statuses, the last one repeats (overrides moveFinalStatus)', async () => {
  const pacs = await start(snap({ ...JSON.parse(readFileSync(SITE, 'utf8')), quirks: { moveFinalStatus: '0000', moveStatuses: ['C000', '0000', 'B000'] } }));
  const statuses: string[] = [];
  const completed: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await move(pacs, query('SERIES', { SeriesInstanceUID: '2.25.100.1' }));
    statuses.push(hex(r.status));
    completed.push(r.subOperations.completed ?? -1);
  }
  assert.equal(statuses, ['c000', '0000', 'b000', 'b000', 'b000']);
  assert.equal(completed, [0, 3, 2, 2, 2]);
});

test('C-STORE results at the destination: a warning counts as warning, a failure as failed and listed; a success status becomes B000', async () => {
  const answers = [0xb007, 0xa700, 0x0000];
  let n = 0;
  const dest = await listen(
    { port: 0, policy: { aeTitle: 'PICKY', abstractSyntaxes: () => ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] } },
    { store: () => ({ write: () => undefined, end: async () => answers[n++] ?? 0, abort: () => undefined }) },
  );
  try {
    const pacs = await start(SITE, { destinations: { PICKY: { host: '127.0.0.1', port: dest.port } } });
    const r = await move(pacs, query('SERIES', { SeriesInstanceUID: '2.25.100.1' }), 'PICKY');
    assert.is(hex(r.status), 'b000');
    assert.equal(r.subOperations, { remaining: 0, completed: 1, failed: 1, warning: 1 });
    assert.equal(r.failedSopInstanceUids, ['2.25.100.1.2']);
    assert.equal(r.pendings, [
      { remaining: 2, completed: 0, failed: 0, warning: 1 },
      { remaining: 1, completed: 0, failed: 1, warning: 1 },
      { remaining: 0, completed: 1, failed: 1, warning: 1 },
    ]);
  } finally {
    await dest.close(100);
  }
});

test('C-CANCEL during a C-MOVE: no further sub-operation, final 0xFE00 with the remaining count', async () => {
  let client: Client | undefined;
  let stores = 0;
  const dest = await listen(
    { port: 0, policy: { aeTitle: 'SLOW', abstractSyntaxes: () => ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] } },
    {
      store: () => ({
        write: () => undefined,
        end: async () => {
          stores++;
          // The C-MOVE is message 1 of a fresh client: cancel it while its first sub-operation is under way.
          const ctx = client!.association.contexts.find((c) => c.abstractSyntax === '1.2.840.10008.5.1.4.1.2.2.2')!;
          client!.association.send(ctx.id, encodeCommand({ type: 'C-CANCEL-RQ', messageIdBeingRespondedTo: 1 }));
          await new Promise((r) => setTimeout(r, 50));
          return 0;
        },
        abort: () => undefined,
      }),
    },
  );
  try {
    const pacs = await start(SITE, { destinations: { SLOW: { host: '127.0.0.1', port: dest.port } } });
    client = await open(pacs);
    const r = await withTimeout(client.move(query('SERIES', { SeriesInstanceUID: '2.25.100.1' }), { destination: 'SLOW' }), 'C-MOVE');
    assert.is(hex(r.status), 'fe00');
    assert.is(stores, 1);
    assert.equal(r.subOperations, { remaining: 2, completed: 1, failed: 0, warning: 0 });
    await client.release();
  } finally {
    await dest.close(100);
  }
});

// ---- request log --------------------------------------------------------------------------------

test('request log: every request in order with level, keys as sent and destination; appended to a file as JSON lines', async () => {
  const file = path.join(tmp, 'requests.jsonl');
  const pacs = await start(SITE, { requestLogFile: file });
  const c = await open(pacs);
  await c.echo();
  for await (const _ of c.find(query('STUDY', { PatientName: 'Doe^*', StudyDate: '20240101-20240131', ModalitiesInStudy: ['CT', 'SR'], StudyInstanceUID: null }))) { /* drain */ }
  for await (const _ of c.find(query('SERIES', { StudyInstanceUID: '2.25.100', Modality: null }), { model: 'patient' })) { /* drain */ }
  for await (const _ of c.find(query('IMAGE', { SeriesInstanceUID: '2.25.100.1', InstanceNumber: '1' }))) { /* drain */ }
  await c.move(query('IMAGE', { StudyInstanceUID: '2.25.100', SeriesInstanceUID: '2.25.100.1', SOPInstanceUID: '2.25.100.1.1' }), { destination: 'STORE' });
  await c.move(query('STUDY', { StudyInstanceUID: '2.25.100' }), { destination: 'ELSEWHERE' });
  await c.release();
  const expected = [
    { type: 'C-ECHO', callingAeTitle: 'QRSCU', level: '', keys: {} },
    { type: 'C-FIND', callingAeTitle: 'QRSCU', level: 'STUDY', keys: { StudyDate: '20240101-20240131', ModalitiesInStudy: 'CT\\SR', PatientName: 'Doe^*', StudyInstanceUID: '' } },
    { type: 'C-FIND', callingAeTitle: 'QRSCU', level: 'SERIES', keys: { Modality: '', StudyInstanceUID: '2.25.100' } },
    { type: 'C-FIND', callingAeTitle: 'QRSCU', level: 'IMAGE', keys: { SeriesInstanceUID: '2.25.100.1', InstanceNumber: '1' } },
    { type: 'C-MOVE', callingAeTitle: 'QRSCU', level: 'IMAGE', keys: { SOPInstanceUID: '2.25.100.1.1', StudyInstanceUID: '2.25.100', SeriesInstanceUID: '2.25.100.1' }, destination: 'STORE' },
    { type: 'C-MOVE', callingAeTitle: 'QRSCU', level: 'STUDY', keys: { StudyInstanceUID: '2.25.100' }, destination: 'ELSEWHERE' },
  ];
  assert.equal(logOf(pacs), expected);
  // Keys are in tag order, as on the wire.
  assert.equal(Object.keys(pacs.requests()[1]!.keys), ['StudyDate', 'ModalitiesInStudy', 'PatientName', 'StudyInstanceUID']);
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as RequestLogEntry);
  assert.equal(lines, pacs.requests());
  // requests() is a copy.
  pacs.requests().pop();
  assert.is(pacs.requests().length, 6);
});

test('parseDestination: AET=host:port and AET=port; anything else is a usage error', () => {
  assert.equal(parseDestination('STORE=127.0.0.1:11113'), ['STORE', { host: '127.0.0.1', port: 11113 }]);
  assert.equal(parseDestination('STORE=11113'), ['STORE', { host: '127.0.0.1', port: 11113 }]);
  for (const bad of ['STORE', 'STORE=', '=1', 'STORE=host:0', 'STORE=host:70000', 'A_TITLE_THAT_IS_TOO_LONG=1', 'S=h:p']) {
    const e = (() => { try { parseDestination(bad); return undefined; } catch (x) { return x as DicomError; } })();
    assert.is(e?.code, 'ERR_USAGE', bad);
  }
});

test('onRequest sees every entry as it is recorded', async () => {
  const seen: RequestLogEntry[] = [];
  const pacs = await start(EXAMPLE, { onRequest: (e) => seen.push(e) });
  const c = await open(pacs);
  await c.echo();
  await c.release();
  assert.equal(seen, pacs.requests());
});

test('bad destination port in the AE table and an unwritable request log are ConfigErrors', async () => {
  const e = await startSimulatedPacs({ snapshot: loadSnapshot(EXAMPLE), port: 0, destinations: { X: { host: '127.0.0.1', port: 0 } } }).then(() => undefined, (x: unknown) => x);
  assert.instance(e, ConfigError);
  const unwritable = await startSimulatedPacs({ snapshot: loadSnapshot(EXAMPLE), port: 0, requestLogFile: path.join(tmp, 'no', 'such', 'dir', 'log.jsonl') }).then(() => undefined, (x: DicomError) => x);
  assert.is(unwritable?.code, 'ERR_IO');
});

test.run();
