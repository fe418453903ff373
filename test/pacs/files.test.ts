// The simulated PACS in files mode: standard attribute matching (PS3.4 C.2.2.2) as pure functions,
// the folder index, and the SCP driven by our own client over loopback — C-FIND at every level of
// both information models with computed attributes, C-MOVE with the stored bytes, unknown
// destinations, C-CANCEL, the quirk switches and the request log.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDataset, decodeDataset, getStrings, keywordOfTag, readPart10, setValue, type Dataset } from '../../src/dicom/index.js';
import { TransferSyntaxUid, transferSyntaxOf } from '../../src/dicom/uids.js';
import { ConfigError } from '../../src/errors.js';
import { connect, type Client, type FinalStatus, type QueryModel } from '../../src/net/client.js';
import { encodeCommand } from '../../src/net/dimse.js';
import { listen, type Server } from '../../src/net/server.js';
import { startStoreScp, type StoredObject } from '../../src/net/store-scp.js';
import { compileDateTimePair, compileKey, interval, isUniversal, wildcardRegExp } from '../../src/pacs/attribute-matching.js';
import { findInIndex, indexFolder, levelOfAttribute, QueryError, selectFilesToMove, type FileIndex, type IndexedFile } from '../../src/pacs/files.js';
import { generateDoseDataset, type Manifest, type ManifestStudy } from '../../src/pacs/generate.js';
import { startFilesPacs, startSimulatedPacs, storeContexts, type SimulatedPacs, type SimulatedPacsOptions } from '../../src/pacs/simulated.js';
import { parseSnapshot } from '../../src/pacs/snapshot.js';

const test = suite('pacs files');
const OP_MS = 10_000;

// ---- attribute matching ----------------------------------------------------------------------------

const m = (vr: Parameters<typeof compileKey>[0], key: string | string[] | undefined, held: string | string[] | undefined, o = {}): boolean =>
  compileKey(vr, key === undefined ? undefined : Array.isArray(key) ? key : [key], o)(held === undefined ? undefined : Array.isArray(held) ? held : [held]);

test('universal matching: absent, empty or "*" keys match everything, even an entity without the attribute', () => {
  assert.ok(isUniversal(undefined) && isUniversal([]) && isUniversal(['']) && !isUniversal(['CT']));
  for (const vr of ['CS', 'DA', 'UI', 'PN', 'TM'] as const) {
    assert.ok(m(vr, undefined, undefined), vr);
    assert.ok(m(vr, '', 'X'), vr);
    assert.ok(m(vr, [], undefined), vr);
  }
  assert.ok(m('LO', '*', undefined));
  assert.ok(m('LO', '**', ''));
  assert.ok(m('CS', ['CT', '*'], 'MR'), 'a "*" among list values is universal');
  assert.ok(m('SQ', 'anything', undefined), 'sequence matching is not done: universal');
});

test('single value matching: exact and case-sensitive text, PN case-insensitive only when asked, IS/DS as numbers, absent or empty held values never match', () => {
  assert.ok(m('CS', 'CT', 'CT'));
  assert.not.ok(m('CS', 'CT', 'ct'));
  assert.not.ok(m('LO', 'CT Head', 'CT Head and Neck'));
  assert.not.ok(m('PN', 'DOE^JOHN', 'Doe^John'));
  assert.ok(m('PN', 'DOE^JOHN', 'Doe^John', { caseInsensitivePersonName: true }));
  assert.ok(m('PN', 'ł*', 'Łukasz', { caseInsensitivePersonName: true }));
  assert.not.ok(m('LO', 'DOE', 'doe', { caseInsensitivePersonName: true }), 'only PN folds case');
  assert.ok(m('IS', '1', '01'));
  assert.ok(m('DS', '2.50', '2.5'));
  assert.not.ok(m('IS', '2', '1'));
  assert.not.ok(m('CS', 'CT', undefined));
  assert.not.ok(m('CS', 'CT', ''));
});

test('UID list matching: any of the listed UIDs; no wildcards in UIDs', () => {
  assert.ok(m('UI', ['1.2.3', '1.2.4'], '1.2.4'));
  assert.not.ok(m('UI', ['1.2.3', '1.2.4'], '1.2.5'));
  assert.ok(m('UI', '1.2.3', '1.2.3'));
  assert.not.ok(m('UI', '1.2.*', '1.2.3'), '"*" is literal in a UI key');
});

test('wildcard matching: "*" any run (also empty), "?" one character (not byte), other characters literal', () => {
  assert.ok(m('LO', '*CT*', 'CT'));
  assert.ok(m('LO', '*CT*', 'Abdomen CT Scan'));
  assert.not.ok(m('LO', '*CT*', 'Abdomen ct'));
  assert.ok(m('LO', 'CT?Head', 'CT Head'));
  assert.not.ok(m('LO', 'CT?Head', 'CT  Head'));
  assert.ok(m('PN', 'SYNTHETIC^?ukasz', 'SYNTHETIC^Łukasz'), '? is one character, Ł is two bytes in UTF-8');
  assert.ok(m('PN', 'Y?mada*', 'Yamada^Tarou=山田^太郎'));
  assert.ok(m('LO', 'a.b(c)+[d]$', 'a.b(c)+[d]$'), 'regular-expression characters are literal');
  assert.not.ok(m('LO', 'a.b', 'axb'));
  assert.ok(m('CS', 'C?', ['SR', 'CT']), 'a multi-valued attribute matches when any value does');
  assert.equal(wildcardRegExp('a*b?').source, '^a.*b.$');
  assert.not.ok(m('DA', '2024*', '20240101'), 'no wildcards in dates');
});

test('date matching: single dates, closed and open ranges inclusive, old "YYYY.MM.DD" form, bad values match nothing', () => {
  assert.ok(m('DA', '20240105', '20240105'));
  assert.not.ok(m('DA', '20240105', '20240106'));
  assert.ok(m('DA', '20240101-20240131', '20240101'));
  assert.ok(m('DA', '20240101-20240131', '20240131'));
  assert.not.ok(m('DA', '20240101-20240131', '20240201'));
  assert.ok(m('DA', '-20240110', '19991231'));
  assert.not.ok(m('DA', '-20240110', '20240111'));
  assert.ok(m('DA', '20240110-', '20991231'));
  assert.not.ok(m('DA', '20240110-', '20240109'));
  assert.ok(m('DA', '2024.01.05', '20240105'));
  assert.not.ok(m('DA', '2024-01-05', '20240105'), 'ISO dates are not DA: a range of unreadable bounds');
  assert.not.ok(m('DA', '20240101-20240131', 'garbage'));
  assert.not.ok(m('DA', '20240101-20240131', undefined));
  assert.ok(m('DA', ['20240101', '20240301'], '20240301'), 'several dates: any (Orthanc; dcmqrscp answers nothing)');
});

test('time matching: ranges at the precision given (upper "10" = to 10:59:59.999999), partial held times, fractions', () => {
  assert.equal(interval('TM', '10'), ['100000.000000', '105959.999999']);
  assert.equal(interval('TM', '1015'), ['101500.000000', '101559.999999']);
  assert.equal(interval('TM', '101530.5'), ['101530.500000', '101530.500000']);
  assert.equal(interval('TM', '10:15:30'), ['101530.000000', '101530.999999'], 'the old colon form');
  assert.ok(m('TM', '080000-120000', '093015'));
  assert.ok(m('TM', '080000-120000', '120000'));
  assert.ok(m('TM', '080000-120000', '120000.1'), 'the upper bound "120000" lasts its whole second');
  assert.not.ok(m('TM', '080000-120000', '120001'));
  assert.ok(m('TM', '08-12', '125959'), 'hour precision upper bound');
  assert.not.ok(m('TM', '08-12', '130000'));
  assert.ok(m('TM', '-0900', '0859'));
  assert.ok(m('TM', '1015-', '1015'));
  assert.ok(m('TM', '101500', '1015'), 'a single value compares at the earliest instant of each');
  assert.not.ok(m('TM', '25-', 'x'));
});

test('date-time (DT) matching: ranges and precision, UTC offsets are not range separators', () => {
  assert.ok(m('DT', '20240101-20240131', '20240115103000'));
  assert.ok(m('DT', '2024-', '20240115103000'));
  assert.ok(m('DT', '202401', '20240101000000'));
  assert.ok(m('DT', '20240115100000-0500-20240116', '20240115120000'));
  assert.not.ok(m('DT', '20240115-20240116', '20240117000000'));
});

test('combined date-time range matching (StudyDate + StudyTime as one range) differs from independent matching', () => {
  const pair = compileDateTimePair(['20240101-20240103'], ['120000-080000'])!;
  // 2 January 07:00 is inside the combined range (1 Jan 12:00 … 3 Jan 08:00) but outside the time range on its own.
  assert.ok(pair(['20240102'], ['070000']));
  assert.not.ok(m('TM', '120000-080000', '070000'));
  assert.not.ok(pair(['20240101'], ['110000']));
  assert.ok(pair(['20240103'], ['080000']));
  assert.not.ok(pair(['20240103'], ['080001']));
  assert.is(compileDateTimePair(['20240101'], ['0800']), undefined, 'no range: matched one by one');
  assert.is(compileDateTimePair(['20240101-'], undefined), undefined);
  const open = compileDateTimePair(['20240102-'], ['1200-'])!;
  assert.ok(open(['20240102'], ['1200']) && !open(['20240102'], ['1159']) && open(['20250101'], ['0000']));
});

test('attribute levels: patient, study, series keys; anything else is instance-level', () => {
  assert.equal(['PatientName', 'StudyDate', 'ModalitiesInStudy', 'Modality', 'StationName', 'SOPInstanceUID', 'SOPClassUID', undefined].map(levelOfAttribute),
    ['PATIENT', 'STUDY', 'STUDY', 'SERIES', 'SERIES', 'IMAGE', 'IMAGE', 'IMAGE']);
});

// ---- the index -----------------------------------------------------------------------------------

let tmp = '';
let data = '';
let manifest: Manifest;
let index: FileIndex;
let store: Server;
const stored: StoredObject[] = [];
const started: SimulatedPacs[] = [];

test.before(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'qrscu-files-'));
  data = path.join(tmp, 'data');
  manifest = await generateDoseDataset({ directory: data, studies: 14, seed: 'files-unit' });
  // Things a real folder holds besides Part-10 files, and one object twice.
  writeFileSync(path.join(data, 'README.txt'), 'not DICOM\n'.repeat(20));
  writeFileSync(path.join(data, 'tiny'), 'x');
  mkdirSync(path.join(data, 'copies'));
  const first = manifest.studies[0]!.series[0]!.instances[0]!;
  copyFileSync(path.join(data, first.file), path.join(data, 'copies', 'dup.dcm'));
  index = indexFolder(data);
  store = await startStoreScp({ aeTitle: 'STORE', port: 0, directory: path.join(tmp, 'store'), onStored: (o) => stored.push(o) });
});
test.after(async () => {
  for (const p of started) await p.close();
  await store?.close(100);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});
test.before.each(() => { stored.length = 0; });

const instancesOf = (s: ManifestStudy): number => s.series.reduce((n, se) => n + se.instances.length, 0);

test('indexFolder: every generated file, in patients → studies → series; other files skipped with a reason', () => {
  assert.is(index.instances.size, manifest.fileCount);
  assert.is(index.studies.size, manifest.studies.length);
  for (const s of manifest.studies) {
    const e = index.studies.get(s.studyInstanceUid)!;
    assert.equal([...e.series.keys()].sort(), s.series.map((x) => x.seriesInstanceUid).sort());
    assert.is(e.patientId, s.patientId);
  }
  const reasons = Object.fromEntries(index.skipped.map((x) => [path.relative(data, x.file), x.reason]));
  assert.is(reasons['README.txt'], 'not a Part-10 file');
  assert.is(reasons['manifest.json'], 'not a Part-10 file');
  assert.match(reasons[path.join('copies', 'dup.dcm')]!, /duplicate SOP Instance UID/);
  assert.not.ok('tiny' in reasons, 'files too small to be Part-10 are not even read');
  assert.is(index.skipped.length, 3);
});

test('indexFolder: bounded (maxFiles, maxDepth); an unreadable folder is a ConfigError', () => {
  assert.throws(() => indexFolder(data, { maxFiles: 5 }), (e: unknown) => e instanceof ConfigError && /more than 5 files/.test(e.message));
  const shallow = indexFolder(data, { maxDepth: 0 });
  assert.is(shallow.instances.size, 0, 'the generator writes <study>/<series>/<sop>.dcm: nothing at depth 0');
  assert.throws(() => indexFolder(path.join(tmp, 'missing')), (e: unknown) => e instanceof ConfigError);
});

// ---- findInIndex (no network) --------------------------------------------------------------------

function q(level: string, keys: Record<string, string | readonly string[] | null> = {}): Dataset {
  const ds = createDataset();
  if (Object.values(keys).some((v) => typeof v === 'string' && /[^\x00-\x7f]/.test(v))) setValue(ds, 'SpecificCharacterSet', 'ISO_IR 192');
  setValue(ds, 'QueryRetrieveLevel', level);
  for (const [k, v] of Object.entries(keys)) setValue(ds, k, v);
  return ds;
}
function plain(ds: Dataset): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of [...ds.elements.keys()].sort((a, b) => a - b)) out[keywordOfTag(t) ?? String(t)] = (getStrings(ds, t) ?? []).join('\\');
  return out;
}
const findLocal = (identifier: Dataset, level: string, model: QueryModel = 'study', o = {}): Record<string, string>[] => [...findInIndex(index, identifier, level, model, o)].map(plain);

test('study level: computed ModalitiesInStudy, SOPClassesInStudy and related counts; return keys filled from the files', () => {
  const answers = findLocal(q('STUDY', { StudyInstanceUID: null, ModalitiesInStudy: null, SOPClassesInStudy: null, NumberOfStudyRelatedSeries: null, NumberOfStudyRelatedInstances: null, StudyDescription: null, PatientName: null, StudyDate: null }), 'STUDY');
  assert.is(answers.length, manifest.studies.length);
  for (const s of manifest.studies) {
    const a = answers.find((x) => x['StudyInstanceUID'] === s.studyInstanceUid)!;
    assert.equal(a['ModalitiesInStudy']!.split('\\').sort(), [...new Set(s.series.map((x) => x.modality))].sort(), s.kind);
    assert.equal(a['SOPClassesInStudy']!.split('\\').sort(), [...new Set(s.series.map((x) => x.sopClassUid))].sort());
    assert.is(a['NumberOfStudyRelatedSeries'], String(s.series.length));
    assert.is(a['NumberOfStudyRelatedInstances'], String(instancesOf(s)));
    assert.is(a['StudyDescription'], s.description);
    assert.is(a['PatientName'], s.patientName);
    assert.is(a['StudyDate'], s.date);
    assert.is(a['QueryRetrieveLevel'], 'STUDY');
  }
});

test('study level: ModalitiesInStudy matches any listed modality; the ignore quirk neither matches nor returns it', () => {
  const uids = (mods: string[]): string[] => manifest.studies.filter((s) => s.series.some((se) => mods.includes(se.modality))).map((s) => s.studyInstanceUid).sort();
  const got = (key: string | string[], o = {}): string[] => findLocal(q('STUDY', { ModalitiesInStudy: key, StudyInstanceUID: null }), 'STUDY', 'study', o).map((a) => a['StudyInstanceUID']!).sort();
  assert.equal(got('MG'), uids(['MG']));
  assert.equal(got(['NM', 'PT']), uids(['NM', 'PT']));
  assert.equal(got('SR'), uids(['SR']));
  assert.equal(got('XX'), []);
  assert.equal(got('MG', { ignoreModalitiesInStudy: true }).length, manifest.studies.length);
  assert.not.ok('ModalitiesInStudy' in findLocal(q('STUDY', { ModalitiesInStudy: 'MG' }), 'STUDY', 'study', { ignoreModalitiesInStudy: true })[0]!);
});

test('study level: lower-level keys are ignored for matching and returned empty; RetrieveAETitle and InstanceAvailability; SpecificCharacterSet of the file', () => {
  const s = manifest.studies.find((x) => x.characterSet !== '')!;
  const [a] = findLocal(q('STUDY', { StudyInstanceUID: s.studyInstanceUid, Modality: 'NONE', StationName: null, SOPInstanceUID: null, RetrieveAETitle: null, InstanceAvailability: null }), 'STUDY', 'study', { aeTitle: 'SIMPACS' });
  assert.ok(a, 'Modality at study level does not restrict');
  assert.equal([a!['Modality'], a!['StationName'], a!['SOPInstanceUID'], a!['RetrieveAETitle'], a!['InstanceAvailability']], ['', '', '', 'SIMPACS', 'ONLINE']);
  assert.is(a!['SpecificCharacterSet'], s.characterSet);
});

test('series and image levels: UID keys above restrict, counts per series, SOPClassUID and InstanceNumber from the files', () => {
  const s = manifest.studies.find((x) => x.series.length >= 2)!;
  const series = findLocal(q('SERIES', { StudyInstanceUID: s.studyInstanceUid, SeriesInstanceUID: null, Modality: null, NumberOfSeriesRelatedInstances: null, StationName: null, SeriesDescription: null }), 'SERIES');
  assert.equal(series.map((a) => [a['SeriesInstanceUID'], a['Modality'], a['NumberOfSeriesRelatedInstances'], a['SeriesDescription'], a['StationName']]).sort(),
    s.series.map((se) => [se.seriesInstanceUid, se.modality, String(se.instances.length), se.description, s.station]).sort());
  const se = s.series[0]!;
  const images = findLocal(q('IMAGE', { StudyInstanceUID: s.studyInstanceUid, SeriesInstanceUID: se.seriesInstanceUid, SOPInstanceUID: null, SOPClassUID: null, InstanceNumber: null }), 'IMAGE');
  assert.equal(images.map((a) => [a['SOPInstanceUID'], a['SOPClassUID'], a['InstanceNumber']]).sort(), se.instances.map((i) => [i.sopInstanceUid, i.sopClassUid, String(i.instanceNumber)]).sort());
  const one = findLocal(q('IMAGE', { SeriesInstanceUID: se.seriesInstanceUid, InstanceNumber: String(se.instances[0]!.instanceNumber), SOPInstanceUID: null }), 'IMAGE');
  assert.equal(one.map((a) => a['SOPInstanceUID']), [se.instances[0]!.sopInstanceUid]);
  // Without the study key the series is still found (relational, as Orthanc; dcmqrscp refuses with 0xC000).
  assert.is(findLocal(q('SERIES', { SeriesInstanceUID: se.seriesInstanceUid }), 'SERIES').length, 1);
  assert.is(findLocal(q('SERIES', { StudyInstanceUID: '1.2.3', SeriesInstanceUID: se.seriesInstanceUid }), 'SERIES').length, 0);
});

test('Patient Root: PATIENT level with patient counts; STUDY under a patient; PATIENT level is not Study Root (0xA900)', () => {
  const patients = findLocal(q('PATIENT', { PatientID: null, PatientName: null, NumberOfPatientRelatedStudies: null, NumberOfPatientRelatedSeries: null, NumberOfPatientRelatedInstances: null }), 'PATIENT', 'patient');
  const ids = [...new Set(manifest.studies.map((s) => s.patientId))];
  assert.is(patients.length, ids.length);
  for (const p of patients) {
    const studies = manifest.studies.filter((s) => s.patientId === p['PatientID']);
    assert.equal([p['NumberOfPatientRelatedStudies'], p['NumberOfPatientRelatedSeries'], p['NumberOfPatientRelatedInstances']],
      [String(studies.length), String(studies.reduce((n, s) => n + s.series.length, 0)), String(studies.reduce((n, s) => n + instancesOf(s), 0))]);
    assert.is(p['PatientName'], studies[0]!.patientName);
  }
  const s = manifest.studies[3]!;
  assert.equal(findLocal(q('STUDY', { PatientID: s.patientId, StudyInstanceUID: null }), 'STUDY', 'patient').map((a) => a['StudyInstanceUID']), manifest.studies.filter((x) => x.patientId === s.patientId).map((x) => x.studyInstanceUid));
  assert.throws(() => findLocal(q('PATIENT'), 'PATIENT', 'study'), (e: unknown) => e instanceof QueryError && e.status === 0xa900);
  assert.throws(() => findLocal(q('FOO'), 'FOO', 'patient'), (e: unknown) => e instanceof QueryError && e.status === 0xa900);
});

test('PN matching: case-sensitive by default, insensitive with the option; wildcards on names in every character set', () => {
  const s = manifest.studies.find((x) => /[^\x00-\x7f]/.test(x.patientName))!;
  const got = (key: string, o = {}): number => findLocal(q('STUDY', { PatientName: key }), 'STUDY', 'study', o).length;
  assert.ok(got(s.patientName) >= 1);
  assert.is(got(s.patientName.toLowerCase()), 0);
  assert.ok(got(s.patientName.toLowerCase(), { caseInsensitivePersonName: true }) >= 1);
  assert.ok(got(`${[...s.patientName].slice(0, 3).join('')}*`) >= 1);
});

test('combinedDateTime: StudyDate+StudyTime ranges as one range, as the date and time of the manifest say; independent otherwise', () => {
  const sorted = [...manifest.studies].sort((a, b) => `${a.date}${a.time}`.localeCompare(`${b.date}${b.time}`));
  const lo = sorted[2]!;
  const hi = sorted[sorted.length - 3]!;
  const key = { StudyDate: `${lo.date}-${hi.date}`, StudyTime: `${lo.time}-${hi.time}`, StudyInstanceUID: null };
  const got = (o = {}): string[] => findLocal(q('STUDY', key), 'STUDY', 'study', o).map((a) => a['StudyInstanceUID']!).sort();
  const at = (s: ManifestStudy): string => `${s.date}${s.time.padEnd(6, '0')}`;
  assert.equal(got({ combinedDateTime: true }), manifest.studies.filter((s) => at(s) >= at(lo) && at(s) <= at(hi)).map((s) => s.studyInstanceUid).sort());
  const [t1, t2] = [lo.time, hi.time].map((t) => t.padEnd(6, '0'));
  assert.equal(got(), manifest.studies.filter((s) => s.date >= lo.date && s.date <= hi.date && s.time.padEnd(6, '0') >= t1! && s.time.padEnd(6, '0') <= t2!).map((s) => s.studyInstanceUid).sort());
});

test('selectFilesToMove: by level and unique keys; a missing key of the move level selects nothing', () => {
  const s = manifest.studies.find((x) => x.series.length >= 2)!;
  const uids = (files: IndexedFile[]): string[] => files.map((f) => f.sopInstanceUid).sort();
  const all = s.series.flatMap((se) => se.instances.map((i) => i.sopInstanceUid)).sort();
  assert.equal(uids(selectFilesToMove(index, q('STUDY', { StudyInstanceUID: s.studyInstanceUid }), 'STUDY', 'study')), all);
  assert.equal(uids(selectFilesToMove(index, q('SERIES', { StudyInstanceUID: s.studyInstanceUid, SeriesInstanceUID: s.series[1]!.seriesInstanceUid }), 'SERIES', 'study')), s.series[1]!.instances.map((i) => i.sopInstanceUid).sort());
  const one = s.series[0]!.instances[0]!.sopInstanceUid;
  assert.equal(uids(selectFilesToMove(index, q('IMAGE', { SOPInstanceUID: [one, '1.2.3'] }), 'IMAGE', 'study')), [one]);
  assert.equal(selectFilesToMove(index, q('SERIES', { StudyInstanceUID: s.studyInstanceUid }), 'SERIES', 'study'), []);
  assert.equal(selectFilesToMove(index, q('SERIES', { StudyInstanceUID: '1.2.3', SeriesInstanceUID: s.series[1]!.seriesInstanceUid }), 'SERIES', 'study'), []);
  const patient = manifest.studies.filter((x) => x.patientId === s.patientId).flatMap((x) => x.series.flatMap((se) => se.instances.map((i) => i.sopInstanceUid))).sort();
  assert.equal(uids(selectFilesToMove(index, q('PATIENT', { PatientID: s.patientId }), 'PATIENT', 'patient')), patient);
});

test('storeContexts: the stored syntax alone first, then Explicit/Implicit VR LE for convertible objects; one per class and syntax', () => {
  const job = (c: string, ts: string | undefined, convertible: boolean) => ({ sopClassUid: c, sopInstanceUid: '1', ...(ts ? { storedSyntax: ts } : {}), convertible, dataset: () => Buffer.alloc(0) });
  assert.equal(storeContexts([job('1.1', TransferSyntaxUid.ExplicitVrLittleEndian, true), job('1.1', TransferSyntaxUid.ExplicitVrLittleEndian, true), job('1.2', '1.2.840.10008.1.2.4.70', false), job('1.3', undefined, true)]), [
    { abstractSyntax: '1.1', transferSyntaxes: [TransferSyntaxUid.ExplicitVrLittleEndian] },
    { abstractSyntax: '1.2', transferSyntaxes: ['1.2.840.10008.1.2.4.70'] },
    { abstractSyntax: '1.1', transferSyntaxes: [TransferSyntaxUid.ExplicitVrLittleEndian, TransferSyntaxUid.ImplicitVrLittleEndian] },
    { abstractSyntax: '1.3', transferSyntaxes: [TransferSyntaxUid.ExplicitVrLittleEndian, TransferSyntaxUid.ImplicitVrLittleEndian] },
  ]);
});

// ---- over the network ------------------------------------------------------------------------------

function withTimeout<T>(p: Promise<T>, what: string, ms = OP_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); })]).finally(() => clearTimeout(timer));
}

async function start(options: Partial<SimulatedPacsOptions> = {}): Promise<SimulatedPacs> {
  const pacs = await startFilesPacs({
    files: index,
    port: 0,
    destinations: { STORE: { host: '127.0.0.1', port: store.port } },
    ...options,
  });
  started.push(pacs);
  return pacs;
}

async function open(pacs: SimulatedPacs): Promise<Client> {
  return withTimeout(connect({ host: '127.0.0.1', port: pacs.port, callingAeTitle: 'QRSCU', calledAeTitle: pacs.aeTitle }), 'connect');
}

async function find(pacs: SimulatedPacs, identifier: Dataset, model: QueryModel = 'study'): Promise<{ matches: Record<string, string>[]; final: FinalStatus }> {
  const client = await open(pacs);
  try {
    const op = client.find(identifier, { model });
    const matches: Record<string, string>[] = [];
    await withTimeout((async () => { for await (const x of op) matches.push(plain(x)); })(), 'C-FIND');
    return { matches, final: op.final! };
  } finally {
    await client.release();
  }
}

async function move(pacs: SimulatedPacs, identifier: Dataset, destination = 'STORE', model: QueryModel = 'study') {
  const client = await open(pacs);
  try {
    return await withTimeout(client.move(identifier, { destination, model }), 'C-MOVE');
  } finally {
    await client.release();
  }
}

const hex = (n: number | undefined): string => (n ?? -1).toString(16).padStart(4, '0');

test('startSimulatedPacs: exactly one of snapshot and files; a folder path is indexed at start', async () => {
  const failure = async (p: Promise<unknown>): Promise<unknown> => p.then(() => assert.unreachable('expected a rejection'), (e: unknown) => e);
  const none = await failure(startSimulatedPacs({ port: 0 }));
  assert.ok(none instanceof ConfigError && none.code === 'ERR_USAGE');
  assert.instance(await failure(startSimulatedPacs({ port: 0, files: data, snapshot: parseSnapshot({ studies: {} }) })), ConfigError);
  const pacs = await start({ files: data });
  assert.is(pacs.index!.instances.size, manifest.fileCount);
  assert.is(pacs.aeTitle, 'SIMPACS');
});

test('C-ECHO and C-FIND at every level in both models over DIMSE; the request log has the snapshot mode shape', async () => {
  const pacs = await start();
  const client = await open(pacs);
  assert.is((await withTimeout(client.echo(), 'C-ECHO')).status, 0);
  await client.release();
  const s = manifest.studies[5]!;
  const se = s.series[0]!;
  const st = await find(pacs, q('STUDY', { StudyDate: `${s.date}-${s.date}`, StudyInstanceUID: null, NumberOfStudyRelatedInstances: null }));
  assert.is(st.final.status, 0);
  assert.ok(st.matches.some((x) => x['StudyInstanceUID'] === s.studyInstanceUid && x['NumberOfStudyRelatedInstances'] === String(instancesOf(s))));
  assert.equal(st.matches.map((x) => x['StudyInstanceUID']).sort(), manifest.studies.filter((x) => x.date === s.date).map((x) => x.studyInstanceUid).sort());
  const sr = await find(pacs, q('SERIES', { StudyInstanceUID: s.studyInstanceUid, SeriesInstanceUID: null }), 'patient');
  assert.is(sr.matches.length, s.series.length);
  const im = await find(pacs, q('IMAGE', { StudyInstanceUID: s.studyInstanceUid, SeriesInstanceUID: se.seriesInstanceUid, SOPInstanceUID: null }));
  assert.is(im.matches.length, se.instances.length);
  const pt = await find(pacs, q('PATIENT', { PatientID: s.patientId, NumberOfPatientRelatedStudies: null }), 'patient');
  assert.equal(pt.matches.map((x) => x['PatientID']), [s.patientId]);
  const bad = await find(pacs, q('PATIENT', { PatientID: s.patientId }), 'study');
  assert.equal([hex(bad.final.status), bad.matches.length], ['a900', 0]);
  const log = pacs.requests().map(({ time, ...rest }) => {
    assert.ok(!Number.isNaN(Date.parse(time)) && time.endsWith('Z'));
    return rest;
  });
  assert.equal(log[0], { type: 'C-ECHO', callingAeTitle: 'QRSCU', level: '', keys: {} });
  assert.equal(log[1], { type: 'C-FIND', callingAeTitle: 'QRSCU', level: 'STUDY', keys: { StudyDate: `${s.date}-${s.date}`, StudyInstanceUID: '', NumberOfStudyRelatedInstances: '' } });
  assert.equal(log.map((e) => `${e.type} ${e.level}`), ['C-ECHO ', 'C-FIND STUDY', 'C-FIND SERIES', 'C-FIND IMAGE', 'C-FIND PATIENT', 'C-FIND PATIENT']);
});

test('quirks in files mode: omitSopClassUid, omitRelatedCounts, findResultLimit (0xFE00), caseInsensitivePersonName', async () => {
  const s = manifest.studies[0]!;
  const se = s.series[0]!;
  const pacs = await start({ quirks: { omitSopClassUid: true, omitRelatedCounts: true, findResultLimit: 3, caseInsensitivePersonName: true } });
  const im = await find(pacs, q('IMAGE', { StudyInstanceUID: s.studyInstanceUid, SeriesInstanceUID: se.seriesInstanceUid, SOPInstanceUID: null, SOPClassUID: null }));
  assert.ok(im.matches.every((x) => !('SOPClassUID' in x)));
  const st = await find(pacs, q('STUDY', { StudyInstanceUID: null, NumberOfStudyRelatedInstances: null, NumberOfStudyRelatedSeries: null, ModalitiesInStudy: null }));
  assert.equal([hex(st.final.status), st.matches.length], ['fe00', 3]);
  assert.ok(st.matches.every((x) => !('NumberOfStudyRelatedInstances' in x) && !('NumberOfStudyRelatedSeries' in x) && x['ModalitiesInStudy'] !== ''));
  const pn = await find(pacs, q('STUDY', { PatientName: s.patientName.toLowerCase(), StudyInstanceUID: null }));
  assert.ok(pn.matches.some((x) => x['StudyInstanceUID'] === s.studyInstanceUid));
});

test('C-MOVE of a series: one sub-operation per file, the stored data set bytes unchanged, in the stored transfer syntax', async () => {
  const pacs = await start();
  const s = manifest.studies.find((x) => x.series.some((se) => se.instances.length > 3))!;
  const se = s.series.find((x) => x.instances.length > 3)!;
  const r = await move(pacs, q('SERIES', { StudyInstanceUID: s.studyInstanceUid, SeriesInstanceUID: se.seriesInstanceUid }));
  assert.equal([hex(r.status), r.subOperations.completed, r.subOperations.failed], ['0000', se.instances.length, 0]);
  assert.is(r.pendingResponses, se.instances.length);
  assert.equal(stored.map((o) => o.sopInstanceUid).sort(), se.instances.map((i) => i.sopInstanceUid).sort());
  for (const o of stored) {
    const original = readFileSync(path.join(data, se.instances.find((i) => i.sopInstanceUid === o.sopInstanceUid)!.file));
    const p10 = readPart10(original);
    const got = readFileSync(o.path);
    assert.ok(got.subarray(readPart10(got).datasetOffset).equals(original.subarray(p10.datasetOffset)), o.sopInstanceUid);
    assert.is(o.transferSyntaxUid, p10.transferSyntax.uid);
    assert.is(o.moveOriginatorAeTitle, 'QRSCU');
  }
  const log = pacs.requests().at(-1)!;
  assert.equal([log.type, log.level, log.destination, log.keys], ['C-MOVE', 'SERIES', 'STORE', { StudyInstanceUID: s.studyInstanceUid, SeriesInstanceUID: se.seriesInstanceUid }]);
});

test('C-MOVE: re-encoded only when the destination refuses the stored syntax (Implicit VR LE only)', async () => {
  const received: { ts: string; bytes: Buffer }[] = [];
  const implicitOnly = await listen({ port: 0, policy: { aeTitle: 'IMPLICIT', checkCalledAeTitle: false, abstractSyntaxes: () => [TransferSyntaxUid.ImplicitVrLittleEndian] } }, {
    store: (info) => {
      const chunks: Buffer[] = [];
      return { write: (c) => chunks.push(Buffer.from(c)), end: async () => { received.push({ ts: info.transferSyntaxUid, bytes: Buffer.concat(chunks) }); return 0; }, abort: () => undefined };
    },
  });
  try {
    const pacs = await start({ destinations: { IMPLICIT: { host: '127.0.0.1', port: implicitOnly.port } } });
    const s = manifest.studies[1]!;
    const r = await move(pacs, q('STUDY', { StudyInstanceUID: s.studyInstanceUid }), 'IMPLICIT');
    assert.equal([hex(r.status), r.subOperations.completed], ['0000', instancesOf(s)]);
    assert.ok(received.every((x) => x.ts === TransferSyntaxUid.ImplicitVrLittleEndian));
    const original = readPart10(readFileSync(path.join(data, s.series[0]!.instances[0]!.file)));
    const back = received.map((x) => plain(decodeDataset(x.bytes, transferSyntaxOf(x.ts)))).find((x) => x['SOPInstanceUID'] === s.series[0]!.instances[0]!.sopInstanceUid)!;
    assert.is(back['PatientName'], getStrings(original.dataset, 'PatientName')![0]);
  } finally {
    await implicitOnly.close(100);
  }
});

test('C-MOVE: unknown destination 0xA801 (or the quirk status), no key of the move level → success with no sub-operations, PATIENT level in Patient Root', async () => {
  const pacs = await start();
  const s = manifest.studies[2]!;
  const unknown = await move(pacs, q('STUDY', { StudyInstanceUID: s.studyInstanceUid }), 'NOWHERE');
  assert.is(hex(unknown.status), 'a801');
  const quirky = await start({ quirks: { unknownDestinationStatus: 0xc000 } });
  assert.is(hex((await move(quirky, q('STUDY', { StudyInstanceUID: s.studyInstanceUid }), 'NOWHERE')).status), 'c000');
  const none = await move(pacs, q('SERIES', { StudyInstanceUID: s.studyInstanceUid }));
  assert.equal([hex(none.status), none.subOperations.completed ?? 0], ['0000', 0]);
  const bad = await move(pacs, q('PATIENT', { PatientID: s.patientId }));
  assert.is(hex(bad.status), 'a900');
  const patient = await move(pacs, q('PATIENT', { PatientID: s.patientId }), 'STORE', 'patient');
  const expected = manifest.studies.filter((x) => x.patientId === s.patientId).reduce((n, x) => n + instancesOf(x), 0);
  assert.equal([hex(patient.status), patient.subOperations.completed], ['0000', expected]);
  assert.is(stored.length, expected);
});

test('C-CANCEL: a C-FIND with many matches ends with 0xFE00 well before the last', async () => {
  // A big index in memory: 3,000 instances of one series sharing one file's attributes.
  const f = [...index.instances.values()][0]!;
  const study = { uid: '2.25.1', patientId: 'P', series: new Map() };
  const series = { uid: '2.25.1.1', instances: [] as IndexedFile[], study };
  for (let i = 0; i < 3000; i++) series.instances.push({ ...f, sopInstanceUid: `2.25.1.1.${i}` });
  study.series.set(series.uid, series);
  const big: FileIndex = { directory: '<memory>', patients: new Map([['P', { id: 'P', studies: new Map([[study.uid, study]]) }]]), studies: new Map([[study.uid, study]]), series: new Map([[series.uid, series]]), instances: new Map(series.instances.map((x) => [x.sopInstanceUid, x])), skipped: [] };
  const pacs = await start({ files: big });
  const client = await open(pacs);
  try {
    // Matching reads the files' attributes: the series UID they all carry.
    const op = client.find(q('IMAGE', { SeriesInstanceUID: getStrings(f.attributes, 'SeriesInstanceUID')![0]!, SOPInstanceUID: null }));
    let seen = 0;
    await withTimeout((async () => {
      for await (const _ of op) {
        seen++;
        if (seen === 1) await op.cancel();
      }
    })(), 'C-FIND with cancel');
    assert.is(hex(op.final?.status), 'fe00', `seen ${seen}`);
    assert.ok(seen < 3000, `${seen} matches before the cancel took effect`);
  } finally {
    await client.release();
  }
});

test('C-CANCEL of a C-MOVE: the sub-operations stop; final 0xFE00 with the remaining count', async () => {
  const s = manifest.studies.find((x) => instancesOf(x) >= 4)!;
  let client: Client | undefined;
  let stores = 0;
  const dest = await listen(
    { port: 0, policy: { aeTitle: 'SLOW', checkCalledAeTitle: false, abstractSyntaxes: () => [TransferSyntaxUid.ExplicitVrLittleEndian, TransferSyntaxUid.ImplicitVrLittleEndian] } },
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
    const pacs = await start({ destinations: { SLOW: { host: '127.0.0.1', port: dest.port } } });
    client = await open(pacs);
    const r = await withTimeout(client.move(q('STUDY', { StudyInstanceUID: s.studyInstanceUid }), { destination: 'SLOW' }), 'C-MOVE');
    assert.is(hex(r.status), 'fe00');
    assert.is(stores, 1);
    assert.equal(r.subOperations, { remaining: instancesOf(s) - 1, completed: 1, failed: 0, warning: 0 });
    await client.release();
  } finally {
    await dest.close(100);
  }
});

test.run();
