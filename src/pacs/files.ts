// The simulated PACS in files mode: an index of a folder of Part-10 files (patients → studies →
// series → instances) and the answers of C-FIND (PS3.4 C.4.1, C.6) and the selections of C-MOVE
// (C.4.2) over it. Matching is standard (attribute-matching.ts); the related counts and
// ModalitiesInStudy / SOPClassesInStudy are computed. No network here.

import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { createDataset, getStrings, lookupTag, readPart10, setValue, type Dataset, type Element } from '../dicom/index.js';
import { buildElement } from '../dicom/values.js';
import { VR_INFO, type VR } from '../dicom/vr.js';
import { ConfigError, ErrorCode, isDicomError } from '../errors.js';
import { compileDateTimePair, compileKey, isUniversal, type MatchOptions, type Matcher } from './attribute-matching.js';

export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';
export type InformationModel = 'study' | 'patient';

/** One Part-10 file of the folder: where it is, who it is, and its small top-level attributes. */
export interface IndexedFile {
  readonly file: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** Transfer Syntax UID of its File Meta Information. */
  readonly transferSyntaxUid: string;
  /** Top-level attributes with short values (no sequences, bulk data or pixel data), copied. */
  readonly attributes: Dataset;
}

export interface SeriesEntry {
  readonly uid: string;
  readonly instances: IndexedFile[];
}

export interface StudyEntry {
  readonly uid: string;
  readonly patientId: string;
  readonly series: Map<string, SeriesEntry>;
}

export interface PatientEntry {
  readonly id: string;
  readonly studies: Map<string, StudyEntry>;
}

export interface FileIndex {
  readonly directory: string;
  readonly patients: ReadonlyMap<string, PatientEntry>;
  readonly studies: ReadonlyMap<string, StudyEntry>;
  readonly series: ReadonlyMap<string, SeriesEntry & { readonly study: StudyEntry }>;
  readonly instances: ReadonlyMap<string, IndexedFile>;
  /** Files found but not served, with why (not Part-10, undecodable, no UIDs, duplicate SOP Instance UID). */
  readonly skipped: readonly { readonly file: string; readonly reason: string }[];
}

export interface ScanOptions {
  /** At most this many files are looked at (default 200,000); more is an error. */
  readonly maxFiles?: number;
  /** At most this many folder levels below the root (default 16); deeper folders are not entered. */
  readonly maxDepth?: number;
  /** Files larger than this are skipped (default 256 MiB). */
  readonly maxFileBytes?: number;
}

/** Values longer than this are not kept in the index (they are never query keys). */
const MAX_KEPT_VALUE = 1024;

/**
 * Index every Part-10 file under `directory` (recursively, in sorted path order, symbolic links not
 * followed). Files that are not Part-10 (no "DICM" at 128), cannot be decoded, lack Study, Series or
 * SOP Instance UID, or repeat a SOP Instance UID are skipped and listed.
 * @throws ConfigError ERR_CONFIG_INVALID when the folder cannot be read or holds more than maxFiles files
 */
export function indexFolder(directory: string, options: ScanOptions = {}): FileIndex {
  const maxFiles = options.maxFiles ?? 200_000;
  const maxDepth = options.maxDepth ?? 16;
  const maxFileBytes = options.maxFileBytes ?? 256 * 1024 * 1024;
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      if (depth === 0) throw new ConfigError(ErrorCode.ConfigInvalid, `cannot read folder: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: dir, cause: e });
      return;
    }
    for (const name of names) {
      const p = path.join(dir, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (depth < maxDepth) walk(p, depth + 1);
      } else if (st.isFile() && st.size >= 132 && st.size <= maxFileBytes) {
        if (found.length >= maxFiles) throw new ConfigError(ErrorCode.ConfigInvalid, `more than ${maxFiles} files under the folder`, { file: directory });
        found.push(p);
      }
    }
  };
  walk(directory, 0);

  const patients = new Map<string, PatientEntry>();
  const studies = new Map<string, StudyEntry>();
  const series = new Map<string, SeriesEntry & { study: StudyEntry }>();
  const instances = new Map<string, IndexedFile>();
  const skipped: { file: string; reason: string }[] = [];
  for (const file of found) {
    if (!hasDicmPrefix(file)) {
      skipped.push({ file, reason: 'not a Part-10 file' });
      continue;
    }
    let indexed: IndexedFile & { studyUid: string; seriesUid: string; patientId: string };
    try {
      indexed = indexFile(file);
    } catch (e) {
      skipped.push({ file, reason: isDicomError(e) ? e.message : String(e) });
      continue;
    }
    if (instances.has(indexed.sopInstanceUid)) {
      skipped.push({ file, reason: `duplicate SOP Instance UID ${indexed.sopInstanceUid}` });
      continue;
    }
    const { studyUid, seriesUid, patientId, ...entry } = indexed;
    let study = studies.get(studyUid);
    if (!study) {
      study = { uid: studyUid, patientId, series: new Map() };
      studies.set(studyUid, study);
      let patient = patients.get(patientId);
      if (!patient) {
        patient = { id: patientId, studies: new Map() };
        patients.set(patientId, patient);
      }
      patient.studies.set(studyUid, study);
    }
    let s = series.get(seriesUid);
    if (!s) {
      s = { uid: seriesUid, instances: [], study };
      series.set(seriesUid, s);
      study.series.set(seriesUid, s);
    } else if (s.study !== study) {
      skipped.push({ file, reason: `series ${seriesUid} is already in study ${s.study.uid}` });
      continue;
    }
    s.instances.push(entry);
    instances.set(entry.sopInstanceUid, entry);
  }
  return { directory, patients, studies, series, instances, skipped };
}

function hasDicmPrefix(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(132);
    return readSync(fd, b, 0, 132, 0) === 132 && b.toString('latin1', 128, 132) === 'DICM';
  } finally {
    closeSync(fd);
  }
}

function indexFile(file: string): IndexedFile & { studyUid: string; seriesUid: string; patientId: string } {
  const p10 = readPart10(readFileSync(file));
  const ds = p10.dataset;
  const uid = (keyword: string): string => {
    const v = getStrings(ds, keyword)?.[0] ?? '';
    if (v === '') throw new Error(`no ${keyword}`);
    return v;
  };
  const attributes = createDataset({ characterSet: ds.characterSet });
  for (const el of ds.elements.values()) {
    const kept = keep(el, ds.littleEndian);
    if (kept) attributes.elements.set(el.tag, kept);
  }
  return {
    file,
    sopClassUid: uid('SOPClassUID'),
    sopInstanceUid: uid('SOPInstanceUID'),
    transferSyntaxUid: p10.transferSyntax.uid,
    attributes,
    studyUid: uid('StudyInstanceUID'),
    seriesUid: uid('SeriesInstanceUID'),
    patientId: getStrings(ds, 'PatientID')?.[0] ?? '',
  };
}

/** A copy of a short top-level element, its binary values in little endian; undefined when not kept. */
function keep(el: Element, littleEndian: boolean): Element | undefined {
  const kind = VR_INFO[el.vr].kind;
  if (kind === 'sequence' || kind === 'bytes' || el.value.length > MAX_KEPT_VALUE || el.tag >>> 16 === 0x7fe0) return undefined;
  const value = Buffer.from(el.value);
  const size = VR_INFO[el.vr].wordSize;
  if (!littleEndian && size > 1) {
    for (let o = 0; o + size <= value.length; o += size) value.subarray(o, o + size).reverse();
  }
  return { tag: el.tag, vr: el.vr, value, offset: -1 };
}

// ---- levels and attributes -------------------------------------------------------------------------

const LEVEL_RANK: Readonly<Record<QueryLevel, number>> = { PATIENT: 0, STUDY: 1, SERIES: 2, IMAGE: 3 };

/** Attributes of the patient, study and series levels (PS3.4 C.6.1.1, C.6.2.1 and common practice); any other is instance-level. */
const PATIENT_KEYS = [
  'PatientName', 'PatientID', 'IssuerOfPatientID', 'TypeOfPatientID', 'IssuerOfPatientIDQualifiersSequence', 'OtherPatientIDsSequence',
  'PatientBirthDate', 'PatientBirthTime', 'PatientSex', 'OtherPatientNames', 'EthnicGroup', 'PatientComments',
  'NumberOfPatientRelatedStudies', 'NumberOfPatientRelatedSeries', 'NumberOfPatientRelatedInstances',
];
const STUDY_KEYS = [
  'StudyInstanceUID', 'StudyDate', 'StudyTime', 'AccessionNumber', 'IssuerOfAccessionNumberSequence', 'StudyID', 'StudyDescription',
  'ReferringPhysicianName', 'PhysiciansOfRecord', 'NameOfPhysiciansReadingStudy', 'ProcedureCodeSequence', 'AdmittingDiagnosesDescription',
  'PatientAge', 'PatientSize', 'PatientWeight', 'Occupation', 'AdditionalPatientHistory', 'OtherStudyNumbers',
  'ModalitiesInStudy', 'SOPClassesInStudy', 'AnatomicRegionsInStudyCodeSequence', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances',
];
const SERIES_KEYS = [
  'SeriesInstanceUID', 'Modality', 'SeriesNumber', 'SeriesDescription', 'SeriesDate', 'SeriesTime', 'BodyPartExamined', 'Laterality',
  'ProtocolName', 'PerformedProcedureStepStartDate', 'PerformedProcedureStepStartTime', 'PerformedProcedureStepID',
  'RequestAttributesSequence', 'StationName', 'Manufacturer', 'ManufacturerModelName', 'InstitutionName', 'InstitutionalDepartmentName',
  'OperatorsName', 'PerformingPhysicianName', 'FrameOfReferenceUID', 'NumberOfSeriesRelatedInstances',
];
const ATTRIBUTE_LEVEL = new Map<string, QueryLevel>([
  ...PATIENT_KEYS.map((k) => [k, 'PATIENT'] as const),
  ...STUDY_KEYS.map((k) => [k, 'STUDY'] as const),
  ...SERIES_KEYS.map((k) => [k, 'SERIES'] as const),
]);

/** The level an attribute belongs to (instance level for any other). */
export function levelOfAttribute(keyword: string | undefined): QueryLevel {
  return (keyword && ATTRIBUTE_LEVEL.get(keyword)) || 'IMAGE';
}

const COMPUTED = new Set([
  'ModalitiesInStudy', 'SOPClassesInStudy', 'NumberOfPatientRelatedStudies', 'NumberOfPatientRelatedSeries', 'NumberOfPatientRelatedInstances',
  'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances', 'NumberOfSeriesRelatedInstances',
]);

/** Date–time pairs matched as one range with combined date-time matching (PS3.4 C.2.2.2.5.1). */
const DATE_TIME_PAIRS: readonly (readonly [string, string])[] = [
  ['StudyDate', 'StudyTime'], ['SeriesDate', 'SeriesTime'], ['ContentDate', 'ContentTime'], ['AcquisitionDate', 'AcquisitionTime'],
  ['PatientBirthDate', 'PatientBirthTime'], ['PerformedProcedureStepStartDate', 'PerformedProcedureStepStartTime'],
];

const TAG = {
  QueryRetrieveLevel: 0x00080052,
  SpecificCharacterSet: 0x00080005,
  RetrieveAETitle: 0x00080054,
  InstanceAvailability: 0x00080056,
} as const;

export interface FilesFindOptions extends MatchOptions {
  /** Combined date-time range matching of StudyDate+StudyTime and the other pairs (default off: each key on its own, as dcmqrscp and Orthanc). */
  readonly combinedDateTime?: boolean;
  /** Ignore ModalitiesInStudy as a matching key and do not return it (dcmqrscp). */
  readonly ignoreModalitiesInStudy?: boolean;
  /** Our AE title, returned as RetrieveAETitle when asked. */
  readonly aeTitle?: string;
}

/** One entity a query at some level looks at: the files below it and its representative file. */
interface Entity {
  readonly level: QueryLevel;
  readonly files: readonly IndexedFile[];
  readonly patient: PatientEntry;
  readonly study?: StudyEntry;
  readonly series?: SeriesEntry;
}

/** A failure the SCP answers with a status (PS3.4 C.4.1.1.4: A900 identifier does not match the SOP class). */
export class QueryError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface CompiledKey {
  readonly tag: number;
  readonly keyword: string | undefined;
  readonly vr: VR;
  readonly level: QueryLevel;
  readonly values: readonly string[] | undefined;
  matcher: Matcher;
}

/**
 * The answers of a C-FIND over the index, lazily, in folder order. Keys of the query level and above
 * are matched (those below are ignored and returned empty); every key is returned, filled from the
 * entity's first file or computed; SpecificCharacterSet is that file's.
 * @throws QueryError 0xA900 for a level the information model does not have
 */
export function* findInIndex(index: FileIndex, identifier: Dataset, level: string, model: InformationModel, options: FilesFindOptions = {}): Generator<Dataset> {
  const lvl = checkLevel(level, model);
  const keys: CompiledKey[] = [];
  for (const el of identifier.elements.values()) {
    if (el.tag === TAG.QueryRetrieveLevel || el.tag === TAG.SpecificCharacterSet || el.tag >>> 16 === 0x0000 || el.tag >>> 16 === 0x0002) continue;
    const keyword = lookupTag(el.tag)?.keyword;
    let values: string[] | undefined;
    try {
      values = VR_INFO[el.vr].kind === 'sequence' ? undefined : getStrings(identifier, el.tag);
    } catch {
      values = undefined;
    }
    keys.push({ tag: el.tag, keyword, vr: el.vr, level: levelOfAttribute(keyword), values, matcher: compileKey(el.vr, values, options) });
  }
  const byKeyword = new Map(keys.filter((k) => k.keyword).map((k) => [k.keyword!, k]));
  const pairs: { date: CompiledKey; time: CompiledKey; test: NonNullable<ReturnType<typeof compileDateTimePair>> }[] = [];
  if (options.combinedDateTime) {
    for (const [d, t] of DATE_TIME_PAIRS) {
      const date = byKeyword.get(d);
      const time = byKeyword.get(t);
      const test = date && time ? compileDateTimePair(date.values, time.values) : undefined;
      if (date && time && test) {
        pairs.push({ date, time, test });
        date.matcher = () => true;
        time.matcher = () => true;
      }
    }
  }
  const modalities = byKeyword.get('ModalitiesInStudy');
  if (modalities && options.ignoreModalitiesInStudy) modalities.matcher = () => true;
  const active = keys.filter((k) => k.tag !== TAG.RetrieveAETitle && k.tag !== TAG.InstanceAvailability && LEVEL_RANK[k.level] <= LEVEL_RANK[lvl] && !isUniversal(k.values) && k.vr !== 'SQ' && !(k.keyword && /^NumberOf/.test(k.keyword)));

  for (const entity of entities(index, lvl)) {
    const first = entity.files[0]!;
    const held = (k: CompiledKey): string[] | undefined => (k.keyword && COMPUTED.has(k.keyword) ? computed(entity, k.keyword) : getHeld(first.attributes, k.tag));
    if (!active.every((k) => k.matcher(held(k)))) continue;
    if (!pairs.every((p) => p.test(held(p.date), held(p.time)))) continue;
    yield answer(entity, first, keys, lvl, options);
  }
}

function checkLevel(level: string, model: InformationModel): QueryLevel {
  if (level === 'STUDY' || level === 'SERIES' || level === 'IMAGE' || (level === 'PATIENT' && model === 'patient')) return level;
  throw new QueryError(0xa900, `QueryRetrieveLevel "${level}" is not one of the ${model === 'patient' ? 'Patient' : 'Study'} Root levels`);
}

function getHeld(ds: Dataset, tag: number): string[] | undefined {
  if (!ds.elements.has(tag)) return undefined;
  try {
    return getStrings(ds, tag);
  } catch {
    return undefined;
  }
}

function* entities(index: FileIndex, level: QueryLevel): Generator<Entity> {
  if (level === 'PATIENT') {
    for (const patient of index.patients.values()) yield { level, patient, files: [...patient.studies.values()].flatMap(filesOfStudy) };
    return;
  }
  for (const study of index.studies.values()) {
    const patient = index.patients.get(study.patientId)!;
    if (level === 'STUDY') {
      yield { level, patient, study, files: filesOfStudy(study) };
      continue;
    }
    for (const series of study.series.values()) {
      if (level === 'SERIES') {
        yield { level, patient, study, series, files: series.instances };
        continue;
      }
      for (const file of series.instances) yield { level, patient, study, series, files: [file] };
    }
  }
}

function filesOfStudy(study: StudyEntry): IndexedFile[] {
  return [...study.series.values()].flatMap((s) => s.instances);
}

/** ModalitiesInStudy, SOPClassesInStudy and the Number…Related… attributes of an entity. */
function computed(entity: Entity, keyword: string): string[] | undefined {
  const studies = entity.study ? [entity.study] : [...entity.patient.studies.values()];
  const series = entity.series ? [entity.series] : studies.flatMap((s) => [...s.series.values()]);
  const distinct = (values: (string | undefined)[]): string[] => [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))];
  switch (keyword) {
    case 'ModalitiesInStudy':
      return entity.study ? distinct(series.map((s) => getHeld(s.instances[0]!.attributes, 0x00080060)?.[0])) : undefined;
    case 'SOPClassesInStudy':
      return entity.study ? distinct(entity.files.map((f) => f.sopClassUid)) : undefined;
    case 'NumberOfPatientRelatedStudies':
      return [String(entity.patient.studies.size)];
    case 'NumberOfPatientRelatedSeries':
      return [String([...entity.patient.studies.values()].reduce((n, s) => n + s.series.size, 0))];
    case 'NumberOfPatientRelatedInstances':
      return [String([...entity.patient.studies.values()].reduce((n, s) => n + filesOfStudy(s).length, 0))];
    case 'NumberOfStudyRelatedSeries':
      return entity.study ? [String(entity.study.series.size)] : undefined;
    case 'NumberOfStudyRelatedInstances':
      return entity.study ? [String(filesOfStudy(entity.study).length)] : undefined;
    case 'NumberOfSeriesRelatedInstances':
      return entity.series ? [String(entity.series.instances.length)] : undefined;
    default:
      return undefined;
  }
}

function answer(entity: Entity, first: IndexedFile, keys: readonly CompiledKey[], level: QueryLevel, options: FilesFindOptions): Dataset {
  const src = first.attributes;
  const ds = createDataset({ characterSet: src.characterSet });
  const cs = src.elements.get(TAG.SpecificCharacterSet);
  if (cs) ds.elements.set(cs.tag, cs);
  setValue(ds, TAG.QueryRetrieveLevel, level);
  for (const k of keys) {
    if (k.keyword === 'ModalitiesInStudy' && options.ignoreModalitiesInStudy) continue;
    const empty = (): Element => ({ tag: k.tag, vr: k.vr, value: Buffer.alloc(0), offset: -1 });
    let el: Element;
    if (k.tag === TAG.RetrieveAETitle && options.aeTitle) {
      el = buildElement(k.tag, 'AE', options.aeTitle, ds.characterSet);
    } else if (k.tag === TAG.InstanceAvailability) {
      el = buildElement(k.tag, 'CS', 'ONLINE', ds.characterSet);
    } else if (LEVEL_RANK[k.level] > LEVEL_RANK[level]) {
      el = empty();
    } else if (k.keyword && COMPUTED.has(k.keyword)) {
      const values = computed(entity, k.keyword);
      el = values === undefined ? empty() : buildElement(k.tag, lookupTag(k.tag)?.vr ?? k.vr, values, ds.characterSet);
    } else {
      el = src.elements.get(k.tag) ?? empty();
    }
    ds.elements.set(k.tag, el);
  }
  return ds;
}

// ---- C-MOVE ----------------------------------------------------------------------------------------

/**
 * The files a C-MOVE selects: the unique keys of the move level and above that carry values restrict
 * (UID lists allowed); the unique key of the move level itself must carry a value, else nothing is
 * selected (as dcmqrscp: success with no sub-operations). Each file once, in folder order.
 * @throws QueryError 0xA900 for a level the information model does not have
 */
export function selectFilesToMove(index: FileIndex, identifier: Dataset, level: string, model: InformationModel): IndexedFile[] {
  const lvl = checkLevel(level, model);
  const list = (keyword: string): Set<string> | undefined => {
    const v = (getStrings(identifier, keyword) ?? []).map((x) => x.trim()).filter((x) => x !== '');
    return v.length > 0 ? new Set(v) : undefined;
  };
  const patientIds = list('PatientID');
  const studyUids = list('StudyInstanceUID');
  const seriesUids = list('SeriesInstanceUID');
  const sopUids = list('SOPInstanceUID');
  const own = { PATIENT: patientIds, STUDY: studyUids, SERIES: seriesUids, IMAGE: sopUids }[lvl];
  if (own === undefined) return [];
  const out: IndexedFile[] = [];
  for (const study of index.studies.values()) {
    if (patientIds && !patientIds.has(study.patientId)) continue;
    if (studyUids && LEVEL_RANK[lvl] >= LEVEL_RANK.STUDY && !studyUids.has(study.uid)) continue;
    for (const series of study.series.values()) {
      if (seriesUids && LEVEL_RANK[lvl] >= LEVEL_RANK.SERIES && !seriesUids.has(series.uid)) continue;
      for (const f of series.instances) {
        if (sopUids && lvl === 'IMAGE' && !sopUids.has(f.sopInstanceUid)) continue;
        out.push(f);
      }
    }
  }
  return out;
}
