// Proof of the simulated PACS in files mode against dcmqrscp (DCMTK's reference Q/R SCP): both serve
// the same generated dose studies; dcmtk's findscu asks both the same questions and gets the same
// answers, and movescu moves a series and a study from ours to dcmtk's storescp byte for byte.
//
// What is compared, and why:
// - Each C-FIND's matches are read from findscu's extracted responses (-X) with our decoder (so the
//   character sets are read, not compared as bytes), reduced to the return keys both servers support,
//   as keyword → values, and compared as sorted lists (the order of matches is not specified).
// - Left out of the comparison, because dcmqrscp does not give them (real-pacs.md): RetrieveAETitle
//   (dcmqrscp adds it unasked), SpecificCharacterSet (a property of the encoding, not of the answer),
//   ModalitiesInStudy and the Number…Related… counts (dcmqrscp neither matches nor returns them),
//   SOPClassUID at image level (dcmqrscp never returns it), and keys dcmqrscp does not index
//   (StationName…), which it drops and we return empty. Each of these is asserted on its own below,
//   so a change on either side shows.
// - ModalitiesInStudy is compared with our PACS switched to dcmqrscp's quirk (ignoreModalitiesInStudy),
//   and our standard matching of it against the manifest.
// - Moves: the received objects' data sets are compared byte for byte with the files' data sets (the
//   part after the File Meta Information). Whole files cannot be equal: storescp writes its own File
//   Meta Information (its Implementation Class UID and version, our AE title as Source AE Title).

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getStrings, keywordOfTag, readPart10 } from '../../src/dicom/index.js';
import { generateDoseDataset, type Manifest, type ManifestStudy } from '../../src/pacs/generate.js';
import { startFilesPacs, type SimulatedPacs } from '../../src/pacs/simulated.js';
import { requireProgram } from '../support/live.js';
import { runTool, startDcmqrscp, startStorescp, type PacsHandle, type StorescpHandle } from '../support/pacs.js';

const test = suite('pacs files mode vs dcmqrscp (live)');
const FINDSCU = requireProgram('findscu');
const MOVESCU = requireProgram('movescu');
const HAVE = FINDSCU !== undefined && MOVESCU !== undefined && requireProgram('dcmqrscp') !== undefined && requireProgram('dcmqridx') !== undefined && requireProgram('storescp') !== undefined;
const live = HAVE ? test : test.skip;

/** Two studies of every kind: every modality, series layout and character set of the generator. */
const STUDIES = 28;
let root = '';
let manifest: Manifest;
let files: string[] = [];
let ours: SimulatedPacs;
let oursDcmqrscpQuirk: SimulatedPacs;
let dcmqrscp: PacsHandle;
let storescp: StorescpHandle;

test.before(async () => {
  if (!HAVE) return;
  root = mkdtempSync(path.join(tmpdir(), 'qrscu-files-live-'));
  manifest = await generateDoseDataset({ directory: path.join(root, 'data'), studies: STUDIES, seed: 'parity' });
  files = manifest.studies.flatMap((s) => s.series.flatMap((se) => se.instances.map((i) => path.join(root, 'data', i.file))));
  storescp = await startStorescp({ aeTitle: 'STORESCP' });
  const destinations = { STORESCP: { host: '127.0.0.1', port: storescp.port } };
  ours = await startFilesPacs({ files: path.join(root, 'data'), port: 0, aeTitle: 'SIMPACS', destinations });
  oursDcmqrscpQuirk = await startFilesPacs({ files: ours.index!, port: 0, aeTitle: 'SIMPACS', destinations, quirks: { ignoreModalitiesInStudy: true } });
  dcmqrscp = await startDcmqrscp({ files, aeTitle: 'DCMQRSCP', moveDestinations: { STORESCP: storescp.port } });
});

test.after(async () => {
  await ours?.close();
  await oursDcmqrscpQuirk?.close();
  await dcmqrscp?.stop();
  await storescp?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

// ---- helpers -----------------------------------------------------------------------------------

type Answer = Record<string, string>;
interface Server { readonly port: number; readonly aeTitle: string }

let runs = 0;
/** findscu against a server; its matches as keyword → values joined by "\" (every key it returned). */
async function findscu(server: Server, keys: readonly string[], model: 'study' | 'patient' = 'study', extra: readonly string[] = []): Promise<{ answers: Answer[]; output: string }> {
  const out = path.join(root, `find-${++runs}`);
  mkdirSync(out);
  const r = await runTool(FINDSCU!, [model === 'patient' ? '-P' : '-S', '-aet', 'FINDSCU', '-aec', server.aeTitle, '-X', '-od', out, ...extra, '127.0.0.1', String(server.port), ...keys.flatMap((k) => ['-k', k])], 20_000);
  assert.ok(r.code === 0 || extra.includes('--cancel'), `findscu exit ${r.code}: ${r.output}`);
  const answers = readdirSync(out).filter((f) => /^rsp\d+\.dcm$/.test(f)).sort().map((f) => {
    const ds = readPart10(readFileSync(path.join(out, f))).dataset;
    const a: Answer = {};
    for (const t of ds.elements.keys()) a[keywordOfTag(t) ?? String(t)] = (getStrings(ds, t) ?? []).join('\\');
    return a;
  });
  return { answers, output: r.output };
}

/** Only `keys` of each answer, sorted, for comparison. */
function normalise(answers: readonly Answer[], keys: readonly string[]): string[] {
  return answers.map((a) => JSON.stringify(Object.fromEntries(keys.filter((k) => k in a).map((k) => [k, a[k]])))).sort();
}

/** Ask both; assert the same matches on `compare` (the return keys both support); resolve to our answers. */
async function parity(name: string, level: string, match: Record<string, string>, returned: readonly string[], o: { model?: 'study' | 'patient'; minimum?: number; server?: Server } = {}): Promise<{ ours: Answer[]; theirs: Answer[] }> {
  const keys = [`QueryRetrieveLevel=${level}`, ...Object.entries(match).map(([k, v]) => `${k}=${v}`), ...returned.filter((k) => !(k in match))];
  const compare = [...new Set([...Object.keys(match), ...returned])].filter((k) => !NOT_COMPARED.has(k));
  const [a, b] = await Promise.all([findscu(o.server ?? ours, keys, o.model), findscu(dcmqrscp, keys, o.model)]);
  assert.equal(normalise(a.answers, compare), normalise(b.answers, compare), `${name}: same matches as dcmqrscp`);
  assert.ok(a.answers.length >= (o.minimum ?? 1), `${name}: ${a.answers.length} matches, expected at least ${o.minimum ?? 1}`);
  return { ours: a.answers, theirs: b.answers };
}

const NOT_COMPARED = new Set(['RetrieveAETitle', 'SpecificCharacterSet', 'ModalitiesInStudy', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances', 'NumberOfSeriesRelatedInstances', 'SOPClassUID', 'StationName']);
const STUDY_KEYS = ['StudyInstanceUID', 'StudyDate', 'StudyTime', 'AccessionNumber', 'StudyID', 'StudyDescription', 'PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'ReferringPhysicianName'];
const SERIES_KEYS = ['StudyInstanceUID', 'SeriesInstanceUID', 'Modality', 'SeriesNumber'];
const IMAGE_KEYS = ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'InstanceNumber'];

const dates = (): string[] => [...new Set(manifest.studies.map((s) => s.date))].sort();
const study = (i: number): ManifestStudy => manifest.studies[i]!;

// ---- C-FIND, study level --------------------------------------------------------------------------

live('study level: universal, single date, date ranges (closed, open either side), time range, date and time together', async () => {
  const d = dates();
  const all = await parity('universal', 'STUDY', {}, STUDY_KEYS);
  assert.is(all.ours.length, STUDIES);
  await parity('single date', 'STUDY', { StudyDate: study(3).date }, STUDY_KEYS);
  const mid = await parity('closed range', 'STUDY', { StudyDate: `${d[2]}-${d[d.length - 3]}` }, STUDY_KEYS);
  assert.ok(mid.ours.length < STUDIES);
  await parity('open start', 'STUDY', { StudyDate: `-${d[3]}` }, STUDY_KEYS);
  await parity('open end', 'STUDY', { StudyDate: `${d[d.length - 4]}-` }, STUDY_KEYS);
  await parity('time range', 'STUDY', { StudyTime: '090000-123000' }, STUDY_KEYS);
  // Independent matching of both keys (no combined date-time negotiation): dcmqrscp's and ours.
  await parity('date and time ranges', 'STUDY', { StudyDate: `${d[1]}-${d[d.length - 2]}`, StudyTime: '-120000' }, STUDY_KEYS);
});

live('study level: wildcards on StudyDescription and PatientName, case-sensitive; UID list; single values', async () => {
  await parity('StudyDescription *CT*', 'STUDY', { StudyDescription: '*CT*' }, STUDY_KEYS);
  const imported = manifest.studies.map((s) => s.description).find((d) => /^imported /i.test(d))!;
  await parity('StudyDescription prefix*', 'STUDY', { StudyDescription: `${imported.split(' ')[0]}*` }, STUDY_KEYS);
  await parity('StudyDescription with ?', 'STUDY', { StudyDescription: 'CT?Head' }, STUDY_KEYS);
  await parity('PatientName SYNTHETIC^*', 'STUDY', { PatientName: 'SYNTHETIC^*' }, STUDY_KEYS);
  // PN matching is case-sensitive in dcmqrscp and by default in ours: no match for lower case.
  await parity('PatientName lower case', 'STUDY', { PatientName: 'synthetic*' }, STUDY_KEYS, { minimum: 0 });
  const none = await findscu(ours, ['QueryRetrieveLevel=STUDY', 'PatientName=synthetic*', 'StudyInstanceUID']);
  assert.is(none.answers.length, 0);
  const list = await parity('UID list', 'STUDY', { StudyInstanceUID: [study(0), study(5), study(11)].map((s) => s.studyInstanceUid).join('\\') }, STUDY_KEYS);
  assert.is(list.ours.length, 3);
  await parity('AccessionNumber', 'STUDY', { AccessionNumber: study(7).accessionNumber }, STUDY_KEYS);
  await parity('PatientID', 'STUDY', { PatientID: study(9).patientId }, STUDY_KEYS);
});

live('study level: ModalitiesInStudy — dcmqrscp ignores it (ours with that quirk agrees), ours matches it as the manifest says', async () => {
  for (const m of ['MG', 'CT\\SR', 'NM']) {
    const r = await parity(`ModalitiesInStudy=${m} (quirk)`, 'STUDY', { ModalitiesInStudy: m }, STUDY_KEYS, { server: oursDcmqrscpQuirk });
    assert.is(r.theirs.length, STUDIES, 'dcmqrscp ignores ModalitiesInStudy');
    assert.ok(r.theirs.every((a) => !('ModalitiesInStudy' in a)), 'and does not return it');
    const standard = await findscu(ours, ['QueryRetrieveLevel=STUDY', `ModalitiesInStudy=${m}`, 'StudyInstanceUID', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances']);
    const wanted = m.split('\\');
    const expected = manifest.studies.filter((s) => s.series.some((se) => wanted.includes(se.modality)));
    assert.equal(standard.answers.map((a) => a['StudyInstanceUID']).sort(), expected.map((s) => s.studyInstanceUid).sort(), `ModalitiesInStudy=${m}`);
    for (const a of standard.answers) {
      const s = manifest.studies.find((x) => x.studyInstanceUid === a['StudyInstanceUID'])!;
      assert.equal(a['ModalitiesInStudy']!.split('\\').sort(), [...new Set(s.series.map((se) => se.modality))].sort());
      assert.is(a['NumberOfStudyRelatedSeries'], String(s.series.length));
      assert.is(a['NumberOfStudyRelatedInstances'], String(s.series.reduce((n, se) => n + se.instances.length, 0)));
    }
  }
});

live('study level: keys dcmqrscp does not support are dropped by it, returned empty by us; RetrieveAETitle', async () => {
  const keys = ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${study(0).studyInstanceUid}`, 'StationName', 'NumberOfStudyRelatedInstances', 'RetrieveAETitle'];
  const [a, b] = await Promise.all([findscu(ours, keys), findscu(dcmqrscp, keys)]);
  assert.is(a.answers.length, 1);
  assert.is(b.answers.length, 1);
  assert.is(a.answers[0]!['StationName'], '', 'StationName is a series attribute: empty at study level');
  assert.not.ok('StationName' in b.answers[0]!);
  assert.not.ok('NumberOfStudyRelatedInstances' in b.answers[0]!);
  assert.ok(Number(a.answers[0]!['NumberOfStudyRelatedInstances']) > 0);
  assert.is(a.answers[0]!['RetrieveAETitle'], 'SIMPACS');
  assert.is(b.answers[0]!['RetrieveAETitle'], 'DCMQRSCP');
});

// ---- C-FIND, series and image level, Patient Root --------------------------------------------------

live('series level: every series of a study, Modality (single, wildcards), SeriesInstanceUID; SeriesDescription and counts only from us', async () => {
  for (const s of manifest.studies.slice(0, 14)) {
    const r = await parity(`series of ${s.kind}`, 'SERIES', { StudyInstanceUID: s.studyInstanceUid }, SERIES_KEYS);
    assert.is(r.ours.length, s.series.length);
  }
  const withSr = manifest.studies.find((s) => s.series.some((se) => se.modality === 'SR'))!;
  await parity('Modality=SR', 'SERIES', { StudyInstanceUID: withSr.studyInstanceUid, Modality: 'SR' }, SERIES_KEYS);
  await parity('Modality wildcard', 'SERIES', { StudyInstanceUID: withSr.studyInstanceUid, Modality: 'S?' }, SERIES_KEYS);
  await parity('Modality wildcard', 'SERIES', { StudyInstanceUID: withSr.studyInstanceUid, Modality: '*' }, SERIES_KEYS);
  // dcmqrscp does not index SeriesDescription: it drops it (and ignores it as a matching key); we return it.
  const keys = ['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${withSr.studyInstanceUid}`, 'SeriesInstanceUID', 'SeriesDescription', 'NumberOfSeriesRelatedInstances'];
  const [a, b] = await Promise.all([findscu(ours, keys), findscu(dcmqrscp, keys)]);
  assert.equal(a.answers.map((x) => x['SeriesDescription']).sort(), withSr.series.map((se) => se.description).sort());
  assert.equal(a.answers.map((x) => Number(x['NumberOfSeriesRelatedInstances'])).sort(), withSr.series.map((se) => se.instances.length).sort());
  assert.ok(b.answers.length === withSr.series.length && b.answers.every((x) => !('SeriesDescription' in x) && !('NumberOfSeriesRelatedInstances' in x)));
  await parity('SeriesInstanceUID', 'SERIES', { StudyInstanceUID: withSr.studyInstanceUid, SeriesInstanceUID: withSr.series[0]!.seriesInstanceUid }, SERIES_KEYS);
});

live('image level: instances of a series, InstanceNumber, SOPInstanceUID list; dcmqrscp never returns SOPClassUID', async () => {
  const big = manifest.studies.map((s) => s.series.find((se) => se.instances.length > 5)).find((x) => x !== undefined)!;
  const owner = manifest.studies.find((s) => s.series.includes(big))!;
  const r = await parity('all instances', 'IMAGE', { StudyInstanceUID: owner.studyInstanceUid, SeriesInstanceUID: big.seriesInstanceUid }, [...IMAGE_KEYS, 'SOPClassUID']);
  assert.is(r.ours.length, big.instances.length);
  assert.ok(r.ours.every((a) => a['SOPClassUID'] === big.sopClassUid));
  assert.ok(r.theirs.every((a) => !('SOPClassUID' in a)));
  await parity('InstanceNumber', 'IMAGE', { StudyInstanceUID: owner.studyInstanceUid, SeriesInstanceUID: big.seriesInstanceUid, InstanceNumber: String(big.instances[2]!.instanceNumber) }, IMAGE_KEYS);
  const uids = [big.instances[0]!, big.instances[3]!].map((i) => i.sopInstanceUid).join('\\');
  const l = await parity('SOPInstanceUID list', 'IMAGE', { StudyInstanceUID: owner.studyInstanceUid, SeriesInstanceUID: big.seriesInstanceUid, SOPInstanceUID: uids }, IMAGE_KEYS);
  assert.is(l.ours.length, 2);
});

live('Patient Root: patient level (wildcard, PatientID) and study level under a patient', async () => {
  const keys = ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex'];
  const all = await parity('patients', 'PATIENT', { PatientName: '*' }, keys, { model: 'patient' });
  assert.is(all.ours.length, new Set(manifest.studies.map((s) => s.patientId)).size);
  await parity('one patient', 'PATIENT', { PatientID: study(4).patientId }, keys, { model: 'patient' });
  await parity('studies of a patient', 'STUDY', { PatientID: study(4).patientId }, STUDY_KEYS, { model: 'patient' });
});

live('C-CANCEL from findscu after the first match: both end the C-FIND with a final response, no abort', async () => {
  // Both servers write 28 small matches faster than findscu's C-CANCEL comes back, so both usually
  // end with Success and every match (measured: dcmqrscp too); a cancel that arrives in time ends
  // with 0xFE00. Our cancel itself is proven deterministically in files.test.ts.
  const keys = ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID'];
  for (const server of [ours, dcmqrscp]) {
    const r = await findscu(server, keys, 'study', ['--cancel', '1', '-v']);
    const cancelled = /Received Final Find Response \(Cancel/i.test(r.output);
    const complete = /Received Final Find Response \(Success\)/.test(r.output) && r.answers.length === STUDIES;
    assert.ok(cancelled || complete, `${server.aeTitle}: ${r.answers.length} answers; ${r.output.slice(-600)}`);
    assert.not.match(r.output, /abort/i);
  }
});

// ---- C-MOVE ----------------------------------------------------------------------------------------

async function movescu(server: Server, keys: readonly string[], destination = 'STORESCP'): Promise<string> {
  const r = await runTool(MOVESCU!, ['-v', '-S', '-aet', 'MOVESCU', '-aec', server.aeTitle, '-aem', destination, '127.0.0.1', String(server.port), ...keys.flatMap((k) => ['-k', k])], 30_000);
  return r.output;
}

/** storescp's files, emptied out of its folder: SOP Instance UID → file bytes. */
function takeReceived(): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(storescp.outputDir)) {
    const p = path.join(storescp.outputDir, f);
    const buf = readFileSync(p);
    out.set(getStrings(readPart10(buf).dataset, 'SOPInstanceUID')![0]!, buf);
    rmSync(p);
  }
  return out;
}

/** The data set part of a Part-10 file (after the File Meta Information). */
function datasetBytes(buf: Buffer): Buffer {
  return buf.subarray(readPart10(buf).datasetOffset);
}

live('C-MOVE of a series and of a study from ours to storescp: every object arrives with its data set byte-identical; dcmqrscp moves the same objects', async () => {
  takeReceived();
  const big = manifest.studies.map((s) => s.series.find((se) => se.instances.length > 5)).find((x) => x !== undefined)!;
  const owner = manifest.studies.find((s) => s.series.includes(big))!;
  const output = await movescu(ours, ['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${owner.studyInstanceUid}`, `SeriesInstanceUID=${big.seriesInstanceUid}`]);
  assert.match(output, /Final Move Response \(Success\)/, output.slice(-800));
  const received = takeReceived();
  assert.equal([...received.keys()].sort(), big.instances.map((i) => i.sopInstanceUid).sort());
  for (const i of big.instances) {
    const original = readFileSync(path.join(root, 'data', i.file));
    assert.ok(datasetBytes(received.get(i.sopInstanceUid)!).equals(datasetBytes(original)), `${i.sopInstanceUid}: data set byte-identical`);
    assert.is(readPart10(received.get(i.sopInstanceUid)!).transferSyntax.uid, readPart10(original).transferSyntax.uid, 'sent in its stored transfer syntax');
  }

  // A whole study of several SOP classes (SR, secondary capture, images): ours and dcmqrscp move the same set.
  const s = manifest.studies.find((x) => new Set(x.series.map((se) => se.sopClassUid)).size >= 2)!;
  const keys = ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${s.studyInstanceUid}`];
  assert.match(await movescu(ours, keys), /Final Move Response \(Success\)/);
  const fromOurs = takeReceived();
  assert.match(await movescu(dcmqrscp, keys), /Final Move Response \(Success\)/);
  const fromDcmqrscp = takeReceived();
  const expected = s.series.flatMap((se) => se.instances);
  assert.equal([...fromOurs.keys()].sort(), expected.map((i) => i.sopInstanceUid).sort());
  assert.equal([...fromDcmqrscp.keys()].sort(), [...fromOurs.keys()].sort(), 'dcmqrscp moves the same objects');
  for (const i of expected) {
    assert.ok(datasetBytes(fromOurs.get(i.sopInstanceUid)!).equals(datasetBytes(readFileSync(path.join(root, 'data', i.file)))), `${i.file}: byte-identical`);
  }
});

live('C-MOVE to an unknown destination: 0xA801 from both', async () => {
  const keys = ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${study(0).studyInstanceUid}`];
  for (const server of [ours, dcmqrscp]) {
    const output = await movescu(server, keys, 'NOWHERE');
    assert.match(output, /Received Final Move Response \(Refused: MoveDestinationUnknown\)/, `${server.aeTitle}: ${output.slice(-600)}`);
  }
  assert.is(readdirSync(storescp.outputDir).length, 0);
});

test.run();
