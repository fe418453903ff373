import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDataset, dumpDataset, encodeDataset, getString, setValue } from '../../src/dicom/index.js';
import { TransferSyntaxUid, transferSyntaxOf } from '../../src/dicom/uids.js';
import { dicomDate, dicomTime, imageIdentifier, localDate, moveIdentifier, seriesIdentifier, studyDateRange, studyIdentifier, studyTimeRange } from '../../src/qr/identifiers.js';
import { modalitiesOf, readImage, readSeries, readStudy } from '../../src/qr/responses.js';
import { dateKeys } from '../../src/qr/identifiers.js';
import { normaliseOpenRemFlags, parseTerms, runParameters } from '../../src/cli/run-args.js';

const keywords = (ds: ReturnType<typeof createDataset>) => dumpDataset(ds).map((l) => /#.*\s(\w+)$/.exec(l)?.[1] ?? l);

test('study date ranges follow make_dcm_date_range', () => {
  assert.is(studyDateRange('20240101', '20240131', '20240301'), '20240101-20240131');
  assert.is(studyDateRange('20240131', '20240101', '20240301'), '20240101-20240131', 'swapped when reversed');
  assert.is(studyDateRange('20240101', '20240101', '20240301'), '20240101', 'one date when equal');
  assert.is(studyDateRange('20240101', undefined, '20240301'), '20240101-20240301', 'from only: until today');
  assert.is(studyDateRange(undefined, '20240101', '20240301'), '19000101-20240101');
  assert.is(studyDateRange(undefined, undefined, '20240301'), '');
});

test('study time ranges need a single date and are HHMM', () => {
  assert.is(studyTimeRange('0800', '1200'), '0800-1200');
  assert.is(studyTimeRange('1200', '0800'), '0800-1200');
  assert.is(studyTimeRange('0800', undefined), '0800-2359');
  assert.is(studyTimeRange(undefined, '1200'), '0000-1200');
  assert.is(studyTimeRange(undefined, undefined), '');
});

test('dates and times are validated with OpenREM messages', () => {
  assert.is(dicomDate('2024-02-29'), '20240229');
  assert.throws(() => dicomDate('2023-02-29'), /Incorrect data format, should be YYYY-MM-DD/);
  assert.throws(() => dicomDate('20240101'), /Incorrect data format/);
  assert.is(dicomTime('2359'), '2359');
  assert.throws(() => dicomTime('2460'), /Incorrect time format, should be HHMM/);
});

test('with no date options a run asks for yesterday to today (§9 Q16); --all-dates for no limit', () => {
  const now = new Date(2026, 10, 27, 10, 0, 0);
  const base = { groups: ['CT'], selection: {} as never };
  assert.equal(dateKeys(base, now), { studyDate: '20261126-20261127', studyTime: '' });
  assert.equal(dateKeys({ ...base, allDates: true }, now), { studyDate: '', studyTime: '' });
  assert.equal(dateKeys({ ...base, singleDate: '2026-11-01', timeFrom: '0900' }, now), { studyDate: '20261101', studyTime: '0900-2359' });
  assert.equal(dateKeys({ ...base, dateFrom: '2026-11-01' }, now), { studyDate: '20261101-20261127', studyTime: '' });
  assert.is(localDate(new Date(2026, 0, 5)), '20260105');
});

test('study identifier carries the OpenREM keys; Modality only with useModalityTag', () => {
  const ds = studyIdentifier('CT', { studyDate: '20240101-20240131', studyTime: '', useModalityTag: false });
  assert.is(getString(ds, 'QueryRetrieveLevel'), 'STUDY');
  assert.is(getString(ds, 'ModalitiesInStudy'), 'CT');
  assert.is(getString(ds, 'StudyDate'), '20240101-20240131');
  assert.equal(keywords(ds), ['SpecificCharacterSet', 'StudyDate', 'StudyTime', 'AccessionNumber', 'QueryRetrieveLevel', 'ModalitiesInStudy', 'StationName', 'StudyDescription', 'PatientName', 'PatientID', 'StudyInstanceUID', 'StudyID', 'NumberOfStudyRelatedSeries']);
  const withModality = studyIdentifier('CT', { studyDate: '', studyTime: '', useModalityTag: true });
  assert.ok(keywords(withModality).includes('Modality'));
  // Encodes: every element valid for its VR.
  assert.ok(encodeDataset(withModality, transferSyntaxOf(TransferSyntaxUid.ImplicitVrLittleEndian)).length > 0);
});

test('series, image and move identifiers', () => {
  const series = seriesIdentifier({ studyInstanceUid: '1.2.3' });
  assert.equal(keywords(series), ['SpecificCharacterSet', 'SeriesTime', 'QueryRetrieveLevel', 'Modality', 'StationName', 'SeriesDescription', 'StudyInstanceUID', 'SeriesInstanceUID', 'SeriesNumber', 'NumberOfSeriesRelatedInstances']);
  const image = imageIdentifier({ studyInstanceUid: '1.2.3' }, { seriesInstanceUid: '1.2.3.4' }, 1);
  assert.is(getString(image, 'InstanceNumber'), '1');
  assert.is(getString(imageIdentifier({ studyInstanceUid: '1' }, { seriesInstanceUid: '2' }), 'InstanceNumber'), '');
  const move = moveIdentifier({ studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', level: 'IMAGE', sopInstanceUid: '1.2.3.4', expectedInstances: 1, branch: 'CT' });
  assert.equal(keywords(move), ['SOPInstanceUID', 'QueryRetrieveLevel', 'StudyInstanceUID', 'SeriesInstanceUID']);
  assert.is(getString(move, 'QueryRetrieveLevel'), 'IMAGE');
});

function response(values: Record<string, string | string[]>) {
  const ds = createDataset();
  for (const [k, v] of Object.entries(values)) setValue(ds, k, v);
  return ds;
}

test('study responses: ModalitiesInStudy split on commas, absent = null, no UID = skipped', () => {
  assert.equal(modalitiesOf(response({ ModalitiesInStudy: ['CT', 'SR'] })), ['CT', 'SR']);
  assert.equal(modalitiesOf(response({ ModalitiesInStudy: 'CT,SR' })), ['CT', 'SR']);
  assert.is(modalitiesOf(response({ ModalitiesInStudy: '' })), null);
  assert.is(modalitiesOf(response({})), null);
  const r = readStudy(response({ StudyInstanceUID: '1.2', StudyDescription: '  ', StationName: 'CT01', NumberOfStudyRelatedSeries: '3' }), 'CT');
  assert.ok(r.ok);
  if (r.ok) {
    assert.is(r.value.studyDescription, null);
    assert.is(r.value.stationName, 'CT01');
    assert.is(r.value.numberOfStudyRelatedSeries, 3);
    assert.is(r.value.queriedCode, 'CT');
  }
  const bad = readStudy(response({ StudyDescription: 'x' }), 'MG');
  assert.not.ok(bad.ok);
  if (!bad.ok) assert.match(bad.warning, /no StudyInstanceUID: skipped/);
});

test('series and image responses: OT for a missing Modality, 0 count = unknown, missing InstanceNumber warned', () => {
  const s = readSeries(response({ SeriesInstanceUID: '1.2.3', NumberOfSeriesRelatedInstances: '0', SeriesDescription: 'Dose Info ' }), '1.2');
  assert.ok(s.ok);
  if (s.ok) {
    assert.is(s.value.modality, 'OT');
    assert.is(s.value.numberOfSeriesRelatedInstances, null);
    assert.is(s.value.seriesDescription, 'Dose Info');
    assert.match(s.warnings[0]!, /no Modality: taken as OT/);
  }
  const i = readImage(response({ SOPInstanceUID: '1.2.3.4' }), '1.2.3');
  assert.ok(i.ok);
  if (i.ok) {
    assert.is(i.value.sopClassUid, '');
    assert.is(i.value.instanceNumber, null);
    assert.match(i.warnings[0]!, /no InstanceNumber/);
  }
  assert.not.ok(readImage(response({ SOPClassUID: '1.2' }), '1.2.3').ok);
});

test('OpenREM flags: -ct is --ct, validation order and messages of §1', () => {
  assert.equal(normaliseOpenRemFlags(['1', '2', '-ct', '-mg', '-f', '2024-01-01', '-sd=2024-01-01', '-toshiba', '-v']), ['1', '2', '--ct', '--mg', '-f', '2024-01-01', '--sd=2024-01-01', '--toshiba', '-v']);
  const a = { qr_id: 'q', store_id: 's' };
  assert.throws(() => runParameters({ ...a, sr: true, ct: true }), /The sr option can not be combined with any other modalities/);
  assert.throws(() => runParameters(a), /At least one modality must be specified/);
  assert.throws(() => runParameters({ ...a, ct: true, sd: '2024-01-01', dfrom: '2024-01-01' }), /--single_date cannot be used with --dfrom or --duntil/);
  assert.throws(() => runParameters({ ...a, ct: true, dfrom: '01/01/2024' }), /Incorrect data format, should be YYYY-MM-DD/);
  assert.throws(() => runParameters({ ...a, ct: true, tf: '0900' }), /--tfrom and --tuntil require --single_date to be used/);
  assert.throws(() => runParameters({ ...a, ct: true, sd: '2024-01-01', tf: '9am' }), /Incorrect time format, should be HHMM/);
  const p = runParameters({ ...a, dx: true, ct: true, fl: true, desc_exclude: 'Imported, ,', dup: true, toshiba: true });
  assert.equal(p.groups, ['CT', 'FL', 'DX'], 'fixed order CT, MG, FL, DX, NM');
  assert.equal(p.selection.descriptionExclude, ['imported']);
  assert.is(p.selection.removeDuplicates, false);
  assert.equal(p.selection.flags, { toshiba: true, emptySr: false });
  assert.equal(runParameters({ ...a, sr: true }).groups, ['SR']);
  assert.equal(parseTerms('a,,B '), ['a', 'b']);
});

test.run();
