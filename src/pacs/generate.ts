// Synthetic dose data generator (`qrscu pacs generate DIR --studies N --seed S`): Part-10 files for
// every kind of study OpenREM's query/retrieve rules tell apart (behaviour reference §3), plus a
// manifest of what was written and which objects a dose retrieval should fetch. Deterministic per
// seed: no clock, UIDs under 2.25 (PS3.5 §B.2) hashed from the seed. Only synthetic patients.

import createDebug from 'debug';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, DicomError, ErrorCode } from '../errors.js';
import { EXPLICIT_LE, writePart10, type Dataset } from '../dicom/index.js';
import {
  StorageClass, addCtImage, addNmImage, addPetImage, addProjectionImage, addSecondaryCapture, addSrDocument,
  addXrayAngioImage, commonModules, type SeriesContent, type SrContent, type StudyContent,
} from './generate-content.js';

const log = createDebug('qrscu:pacs:generate');

/** The kinds of study, written in this rotation: study i (from 0) is DOSE_KINDS[i % DOSE_KINDS.length]. */
export const DOSE_KINDS = [
  'ct-rdsr',
  'ct-esr',
  'philips-dose-info',
  'toshiba-no-sr',
  'ct-non-dose-sr',
  'mg-rdsr',
  'mg-no-rdsr',
  'dx-rdsr',
  'cr-no-sr',
  'rf-rdsr',
  'xa-rdsr',
  'nm-rrdsr',
  'pet-rrdsr',
  'sr-only',
] as const;
export type DoseKind = (typeof DOSE_KINDS)[number];

/**
 * The retrieval profiles the manifest gives expectations for, as OpenREM 1.0 (§3) with qrscu's
 * decisions of §9 (exact modality membership, `-sr` = SR-only studies), on an empty database:
 * - `ct-mg-fl-dx`: `-ct -mg -fl -dx`
 * - `ct-mg-fl-dx-toshiba`: `-ct -mg -fl -dx -toshiba`
 * - `nm`: `-nm`
 * - `sr`: `-sr`
 */
export const RETRIEVAL_PROFILES = {
  'ct-mg-fl-dx': { groups: ['CT', 'MG', 'FL', 'DX'], toshiba: false },
  'ct-mg-fl-dx-toshiba': { groups: ['CT', 'MG', 'FL', 'DX'], toshiba: true },
  nm: { groups: ['NM'], toshiba: false },
  sr: { groups: ['SR'], toshiba: false },
} as const satisfies Record<string, { groups: readonly Group[]; toshiba: boolean }>;
export type RetrievalProfile = keyof typeof RETRIEVAL_PROFILES;
type Group = 'CT' | 'MG' | 'FL' | 'DX' | 'NM' | 'SR';

export interface GenerateOptions {
  /** Folder to write into (created if missing; files of the same names are overwritten). */
  readonly directory: string;
  /** Number of studies, 1..100000. */
  readonly studies: number;
  /** Any string or integer: the same seed gives the same bytes. */
  readonly seed: string | number;
  /** First study date, YYYY-MM-DD or YYYYMMDD (default 2024-01-01). */
  readonly startDate?: string;
  /** Study dates spread over this many days from startDate (default 30). */
  readonly days?: number;
}

export interface ManifestInstance {
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly instanceNumber: number;
  /** Path relative to the output folder, '/'-separated. */
  readonly file: string;
}

export interface ManifestSeries {
  readonly seriesInstanceUid: string;
  readonly seriesNumber: number;
  readonly modality: string;
  /** '' when the series has an empty SeriesDescription. */
  readonly description: string;
  readonly sopClassUid: string;
  readonly instances: readonly ManifestInstance[];
}

/** One C-MOVE a dose retrieval makes: a whole series, or the listed instances at IMAGE level. */
export interface ExpectedMove {
  readonly seriesInstanceUid: string;
  readonly level: 'SERIES' | 'IMAGE';
  /** The instances that arrive. */
  readonly sopInstanceUids: readonly string[];
}

export interface ManifestStudy {
  readonly studyInstanceUid: string;
  readonly kind: DoseKind;
  /** Distinct series modalities, sorted (what ModalitiesInStudy computes to). */
  readonly modalities: readonly string[];
  readonly description: string;
  readonly station: string;
  readonly date: string;
  readonly time: string;
  readonly characterSet: string;
  readonly patientName: string;
  readonly patientId: string;
  readonly accessionNumber: string;
  readonly manufacturer: string;
  readonly series: readonly ManifestSeries[];
  /** Per profile, the moves a dose retrieval should make for this study (empty: the study is dropped). */
  readonly expected: Readonly<Record<RetrievalProfile, readonly ExpectedMove[]>>;
}

export interface Manifest {
  readonly generator: 'qrscu pacs generate';
  readonly version: 1;
  readonly seed: string;
  readonly startDate: string;
  readonly days: number;
  readonly layout: '<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm';
  readonly fileCount: number;
  readonly studies: readonly ManifestStudy[];
}

// ---- determinism -----------------------------------------------------------------------------------

/** A UID under 2.25 derived from the seed and `parts`: 128 bits of SHA-256, as a decimal (≤ 44 chars). */
export function syntheticUid(seed: string, ...parts: readonly (string | number)[]): string {
  const digest = createHash('sha256').update([seed, ...parts].join('/')).digest();
  return `2.25.${BigInt(`0x${digest.subarray(0, 16).toString('hex')}`).toString()}`;
}

interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  pick<T>(list: readonly T[]): T;
}

/** mulberry32 seeded from SHA-256 of the parts: a stream per study, independent of the study count. */
function createRng(...parts: readonly (string | number)[]): Rng {
  let a = createHash('sha256').update(parts.join('/')).digest().readUInt32LE(0);
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)]!,
  };
}

// ---- what each kind holds --------------------------------------------------------------------------

type Builder = 'ct' | 'sc' | 'mg' | 'dx' | 'cr' | 'xa' | 'rf' | 'nm' | 'pet' | 'sr';

interface SeriesPlan {
  readonly modality: string;
  readonly description: string;
  readonly sopClassUid: string;
  readonly builder: Builder;
  readonly seriesNumber: number;
  readonly instanceNumbers: readonly number[];
  readonly sr?: SrContent;
}

interface Equipment {
  readonly manufacturer: string;
  readonly model: string;
  readonly stations: readonly string[];
}

interface KindPlan {
  readonly equipment: readonly Equipment[];
  readonly descriptions: readonly string[];
  series(rng: Rng): SeriesPlan[];
}

const range = (first: number, count: number): number[] => Array.from({ length: count }, (_, i) => first + i);

const image = (modality: string, builder: Builder, sopClassUid: string, seriesNumber: number, description: string, count: number, first = 1): SeriesPlan =>
  ({ modality, builder, sopClassUid, seriesNumber, description, instanceNumbers: range(first, count) });

const srSeries = (sopClassUid: string, seriesNumber: number, description: string, sr: SrContent, instanceNumber = 1): SeriesPlan =>
  ({ modality: 'SR', builder: 'sr', sopClassUid, seriesNumber, description, instanceNumbers: [instanceNumber], sr });

const ctDose = (rng: Rng): SrContent => ({ type: 'xray-dose', procedure: 'CT', totals: [rng.int(1, 6), rng.int(50, 1500)] });
const projectionDose = (procedure: 'MG' | 'DX' | 'FL', rng: Rng): SrContent =>
  ({ type: 'xray-dose', procedure, totals: [rng.int(1, 5000) / 1000, rng.int(1, 20000) / 100000] });
const ctImages = (rng: Rng, count: number): SeriesPlan =>
  image('CT', 'ct', StorageClass.ct, 2, rng.pick(['Thorax 5.0 B31f', 'Abdomen 3mm', 'Head 4.8 H31s', 'AXIAL 5mm']), count);

const KINDS: Readonly<Record<DoseKind, KindPlan>> = {
  'ct-rdsr': {
    equipment: [
      { manufacturer: 'SIEMENS', model: 'SOMATOM Synthetic Flash', stations: ['SYNCTAWP01', 'SYNCTAWP02'] },
      { manufacturer: 'GE MEDICAL SYSTEMS', model: 'Revolution Synth', stations: ['syn-rev-ct'] },
    ],
    descriptions: ['CT Thorax', 'CT Abdomen Pelvis with contrast', 'CT Head', 'Schädel CT nativ'],
    series: (rng) => [ctImages(rng, rng.int(2, 4)), srSeries(StorageClass.xrayDoseSr, 501, rng.pick(['Dose Report', 'Radiation Dose Information']), ctDose(rng))],
  },
  'ct-esr': {
    equipment: [{ manufacturer: 'GE MEDICAL SYSTEMS', model: 'LightSpeed Synth VCT', stations: ['SYNVCT01', 'synoptima'] }],
    descriptions: ['CT Chest', 'CT Abdomen', 'CT Angio Pulmonary'],
    series: (rng) => [ctImages(rng, rng.int(2, 4)), srSeries(StorageClass.enhancedSr, 999, 'Dose Record', ctDose(rng))],
  },
  'philips-dose-info': {
    equipment: [{ manufacturer: 'Philips', model: 'Brilliance Synth 16P', stations: ['PHILIPS-SYN01', 'PHILIPS-SYN02'] }],
    descriptions: ['CT Abdomen', 'CT Thorax Abdomen', 'CT Sinus'],
    series: (rng) => [ctImages(rng, rng.int(3, 8)), image('CT', 'sc', StorageClass.secondaryCapture, 1001, 'Dose Info', 1)],
  },
  'toshiba-no-sr': {
    // No SeriesDescription at all: the CT rule falls back to counts (> 5 images dropped, the dose
    // summary kept as "maybe Philips"); with -toshiba the SC series is moved whole, the rest one image each.
    equipment: [{ manufacturer: 'TOSHIBA', model: 'Aquilion Synth', stations: ['SYNTOSHIBA1', 'SYNTOSHIBA2'] }],
    descriptions: ['CT Brain', 'CT Abdomen', 'CT Kopf'],
    series: (rng) => [
      image('CT', 'ct', StorageClass.ct, 2, '', rng.int(6, 10)),
      image('CT', 'sc', StorageClass.secondaryCapture, 9000, '', 1),
    ],
  },
  'ct-non-dose-sr': {
    equipment: [{ manufacturer: 'SIEMENS', model: 'SOMATOM Synthetic Edge', stations: ['SYNCTAWP03'] }],
    descriptions: ['CT Thorax', 'CT Lung screening'],
    series: (rng) => [ctImages(rng, rng.int(2, 4)), srSeries(StorageClass.comprehensiveSr, 800, 'Report', { type: 'imaging-report', text: 'Synthetic report: no findings.' })],
  },
  'mg-rdsr': {
    equipment: [
      { manufacturer: 'HOLOGIC, Inc.', model: 'Selenia Synth Dimensions', stations: ['SYNHOLOGIC1'] },
      { manufacturer: 'GE HEALTHCARE', model: 'Senographe Synth', stations: ['SynPristina'] },
    ],
    descriptions: ['Mammography screening', 'MAMMO BILAT', 'Mammographie beidseits'],
    series: (rng) => [
      image('MG', 'mg', StorageClass.mgPresentation, 1, rng.pick(['', 'L CC', 'Bilateral']), 4),
      srSeries(StorageClass.xrayDoseSr, 900, 'Radiation Dose Structured Report', projectionDose('MG', rng)),
    ],
  },
  'mg-no-rdsr': {
    equipment: [{ manufacturer: 'SYNTHETIC MAMMO', model: 'Old Synth MG', stations: ['SYNMAMMO0'] }],
    descriptions: ['Mammography diagnostic', 'Mammographie rechts'],
    series: (rng) => [image('MG', 'mg', StorageClass.mgPresentation, 1, '', rng.int(2, 4))],
  },
  'dx-rdsr': {
    equipment: [{ manufacturer: 'CARESTREAM', model: 'DRX-Synth', stations: ['SYNDRX01', 'SYNDRX02'] }],
    descriptions: ['XR Chest PA', 'Thorax p.a.', 'XR Abdomen'],
    series: (rng) => [
      image('DX', 'dx', StorageClass.dxPresentation, 1, rng.pick(['Chest PA', 'Abdomen', '']), rng.int(1, 3)),
      srSeries(StorageClass.xrayDoseSr, 999, 'Radiation Dose Information', projectionDose('DX', rng)),
    ],
  },
  'cr-no-sr': {
    equipment: [{ manufacturer: 'SYNTHETIC CR', model: 'CR Synth 10', stations: ['SYNCR01'] }],
    descriptions: ['XR Knee', 'Hand links', 'XR Chest'],
    series: (rng) => [image('CR', 'cr', StorageClass.cr, 1, rng.pick(['W033 Chest p.a.', 'AP', '']), rng.int(1, 2))],
  },
  'rf-rdsr': {
    equipment: [{ manufacturer: 'SIEMENS', model: 'Fluorospot Synth', stations: ['SYNRF01', 'SynFluoro'] }],
    descriptions: ['Barium swallow', 'Fluoroscopy guided injection', 'Durchleuchtung'],
    series: (rng) => [
      image('RF', 'rf', StorageClass.rf, 1, 'Fluoro', rng.int(1, 3)),
      srSeries(StorageClass.xrayDoseSr, 990, rng.pick(['Radiation Dose Information', 'Exam Protocol SR']), projectionDose('FL', rng), rng.pick([1, 990])),
    ],
  },
  'xa-rdsr': {
    equipment: [{ manufacturer: 'Philips Medical Systems', model: 'Allura Synth', stations: ['SYN CCL Lab A', 'SYN CCL Lab B'] }],
    descriptions: ['Coronary angiography', 'PCI', 'Herzkatheter'],
    series: (rng) => [
      image('XA', 'xa', StorageClass.xa, 1, 'Coro', rng.int(1, 3)),
      srSeries(StorageClass.xrayDoseSr, 65533, 'Radiation Dose Information', projectionDose('FL', rng), rng.pick([1, 65533])),
    ],
  },
  'nm-rrdsr': {
    // Half of these number their NM images from 0 (the InstanceNumber=0 retry of §2.3).
    equipment: [{ manufacturer: 'SIEMENS NM', model: 'Symbia Synth', stations: ['SYNNM01'] }],
    descriptions: ['Bone scan', 'Skelettszintigraphie', 'Thyroid scan'],
    series: (rng) => [
      image('NM', 'nm', StorageClass.nm, 1, 'WB ANT', rng.int(1, 2), rng.pick([0, 1])),
      srSeries(StorageClass.radiopharmaceuticalDoseSr, 900, 'NM Dose Report SR', { type: 'radiopharmaceutical-dose', agent: 'Tc99m', activityMBq: rng.int(400, 800) }),
    ],
  },
  'pet-rrdsr': {
    equipment: [{ manufacturer: 'SIEMENS', model: 'Biograph Synth', stations: ['SYNPET01'] }],
    descriptions: ['PET FDG whole body', 'PET Ganzkörper'],
    series: (rng) => [
      image('PT', 'pet', StorageClass.pet, 3, 'PET AC', rng.int(2, 5)),
      srSeries(StorageClass.radiopharmaceuticalDoseSr, 900, 'PET Dose Report SR', { type: 'radiopharmaceutical-dose', agent: 'F18-FDG', activityMBq: rng.int(150, 400) }),
    ],
  },
  'sr-only': {
    equipment: [{ manufacturer: 'SIEMENS', model: 'SOMATOM Synthetic Flash', stations: ['SYNCTAWP01', ''] }],
    descriptions: ['Dose report', 'Imported dose report', 'CT dose summary'],
    series: (rng) => [srSeries(StorageClass.xrayDoseSr, 501, 'Dose Report', ctDose(rng))],
  },
};

// Names are synthetic: the family name says so, or is invented. Per character set: '' (default
// repertoire, no (0008,0005)), Latin-1 and UTF-8 (with non-Latin scripts and a PN with ideographic group).
const NAMES: Readonly<Record<string, readonly string[]>> = {
  '': ['SYNTHETIC^PATIENT', 'SYNTHETIC^JANE', 'SYNTHETIC^JOHN^Q'],
  'ISO_IR 100': ['SYNTHETIC^Jürgen', 'Müller-Synth^Anna', 'SYNTHETIC^Zoë', 'SYNTHETIC^François', 'Åström-Synth^Lars'],
  'ISO_IR 192': ['ΣΥΝΘΕΤΙΚΟΣ^Νίκος', 'СИНТЕТИКОВ^Иван', 'GOSEI^TARO=合成^太郎', 'SYNTHETIC^Łukasz', 'Müller-Synth^Jörg'],
};
const CHARACTER_SETS = ['ISO_IR 100', 'ISO_IR 192', ''] as const;
const IMPORTED = ['IMPORTED ', 'Imported: ', 'imported '] as const;

// ---- planning --------------------------------------------------------------------------------------

interface StudyPlan {
  readonly content: StudyContent;
  readonly kind: DoseKind;
  readonly series: readonly (SeriesPlan & { readonly content: SeriesContent; readonly instanceUids: readonly string[] })[];
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const formatTime = (seconds: number): string => {
  const s = Math.min(seconds, 86399);
  return `${pad(Math.floor(s / 3600))}${pad(Math.floor(s / 60) % 60)}${pad(s % 60)}`;
};

function planStudy(seed: string, index: number, startMs: number, days: number): StudyPlan {
  const kind = DOSE_KINDS[index % DOSE_KINDS.length]!;
  const k = KINDS[kind];
  const rng = createRng(seed, 'study', index);
  const uid = (...parts: (string | number)[]): string => syntheticUid(seed, index, ...parts);
  const characterSet = CHARACTER_SETS[index % CHARACTER_SETS.length]!;
  const ascii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);
  const descriptions = characterSet === '' ? k.descriptions.filter(ascii) : k.descriptions;
  let description = rng.pick(descriptions.length > 0 ? descriptions : ['SYNTHETIC STUDY']);
  // Every seventh study (and a few more at random) says "imported" somewhere in its description.
  if (index % 7 === 3 || rng.next() < 0.1) description = `${rng.pick(IMPORTED)}${description}`.slice(0, 64);
  const equipment = rng.pick(k.equipment);
  const date = new Date(startMs + rng.int(0, days - 1) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  const startSeconds = rng.int(7 * 3600, 19 * 3600);
  const patientNumber = rng.int(0, 999_999);
  const content: StudyContent = {
    studyInstanceUid: uid('study'),
    characterSet,
    patientName: rng.pick(NAMES[characterSet]!),
    patientId: `SYN${pad(patientNumber, 6)}`,
    patientBirthDate: `19${pad(rng.int(30, 99))}${pad(rng.int(1, 12))}${pad(rng.int(1, 28))}`,
    patientSex: rng.pick(['F', 'M', 'O']),
    accessionNumber: `SYNACC${pad(index, 6)}`,
    studyId: String(index + 1),
    studyDate: date,
    studyTime: formatTime(startSeconds),
    studyDescription: description,
    stationName: rng.pick(equipment.stations),
    institutionName: 'Synthetic Hospital',
    manufacturer: equipment.manufacturer,
    manufacturerModelName: equipment.model,
    deviceSerialNumber: `SYN${pad(rng.int(0, 99999), 5)}`,
    deviceObserverUid: syntheticUid(seed, 'device', equipment.model),
  };
  const series = k.series(rng).map((s, j) => {
    const seriesTime = formatTime(startSeconds + 60 * (j + 1));
    return {
      ...s,
      content: {
        seriesInstanceUid: uid('series', j),
        seriesNumber: s.seriesNumber,
        modality: s.modality,
        seriesDescription: s.description,
        seriesTime,
        frameOfReferenceUid: uid('frame'),
      },
      instanceUids: s.instanceNumbers.map((n) => uid('instance', j, n)),
    };
  });
  return { content, kind, series };
}

function buildInstance(plan: StudyPlan, seriesIndex: number, instanceIndex: number): Dataset {
  const s = plan.series[seriesIndex]!;
  const number = s.instanceNumbers[instanceIndex]!;
  const t = s.content.seriesTime;
  const contentTime = formatTime(Number(t.slice(0, 2)) * 3600 + Number(t.slice(2, 4)) * 60 + Number(t.slice(4, 6)) + instanceIndex + 1);
  const ds = commonModules(plan.content, s.content, { sopClassUid: s.sopClassUid, sopInstanceUid: s.instanceUids[instanceIndex]!, instanceNumber: number, contentTime });
  const o = { rows: 2 + ((seriesIndex + instanceIndex) % 7), columns: 2 + (instanceIndex % 7), index: instanceIndex + 1 };
  switch (s.builder) {
    case 'ct': addCtImage(ds, o, s.content.frameOfReferenceUid); break;
    case 'sc': addSecondaryCapture(ds, { ...o, rows: 8, columns: 8 }); break;
    case 'mg': addProjectionImage(ds, o, 'MG'); break;
    case 'dx': addProjectionImage(ds, o, 'DX'); break;
    case 'cr': addProjectionImage(ds, o, 'CR'); break;
    case 'xa':
    case 'rf': addXrayAngioImage(ds, o); break;
    case 'nm': addNmImage(ds, o); break;
    case 'pet': addPetImage(ds, o, s.content.frameOfReferenceUid); break;
    case 'sr': addSrDocument(ds, plan.content, s.sr!); break;
  }
  return ds;
}

// ---- expected retrieval (behaviour reference §3, §9) -----------------------------------------------

const GROUP_CODES: Readonly<Record<Group, readonly string[]>> = {
  CT: ['CT'], MG: ['MG'], FL: ['RF', 'XA'], DX: ['DX', 'CR', 'PX'], NM: ['NM', 'PT'], SR: ['SR'],
};

const whole = (s: ManifestSeries): ExpectedMove => ({ seriesInstanceUid: s.seriesInstanceUid, level: 'SERIES', sopInstanceUids: s.instances.map((i) => i.sopInstanceUid) });

/** §2.3 "first image only": InstanceNumber 1, else 0. */
function firstImage(s: ManifestSeries): ManifestInstance | undefined {
  return s.instances.find((i) => i.instanceNumber === 1) ?? s.instances.find((i) => i.instanceNumber === 0);
}

/** §3.1: RDSR, else ESR, else no dose report; with the SR series that hold the found class. */
function checkSr(series: readonly ManifestSeries[]): { result: 'RDSR' | 'ESR' | 'none'; keep: ExpectedMove[] } {
  const sr = series.filter((s) => s.modality === 'SR');
  for (const [result, cls] of [['RDSR', StorageClass.xrayDoseSr], ['ESR', StorageClass.enhancedSr]] as const) {
    const holding = sr.filter((s) => s.instances.some((i) => i.sopClassUid === cls));
    if (holding.length === 0) continue;
    const keep = holding.map((s): ExpectedMove => {
      const mine = s.instances.filter((i) => i.sopClassUid === cls);
      return mine.length === s.instances.length ? whole(s) : { seriesInstanceUid: s.seriesInstanceUid, level: 'IMAGE', sopInstanceUids: mine.map((i) => i.sopInstanceUid) };
    });
    return { result, keep };
  }
  return { result: 'none', keep: [] };
}

/**
 * What a dose retrieval under `profile` moves for a study with these series, on an empty database.
 * Follows §3 S1–S8 with qrscu's §9 decisions: exact modality membership (Q6), the SR check whenever an
 * SR series exists (Q4), `-sr` keeps only studies that are exactly SR (Q3). PET/CT splitting (S3) does
 * not arise: no generated study holds CT with NM or PT.
 */
export function expectedMoves(series: readonly ManifestSeries[], profile: RetrievalProfile): ExpectedMove[] {
  const { groups, toshiba } = RETRIEVAL_PROFILES[profile];
  const mods = new Set(series.map((s) => s.modality));
  const selected = (g: Group): boolean => (groups as readonly Group[]).includes(g) && GROUP_CODES[g].some((c) => mods.has(c));
  if (selected('MG') || selected('DX')) {
    if (!mods.has('SR')) return series.map(whole);
    const sr = checkSr(series);
    return sr.result === 'RDSR' ? sr.keep : series.filter((s) => s.modality !== 'SR').map(whole);
  }
  if (selected('FL')) return checkSr(series).keep;
  if (selected('CT')) {
    if (mods.has('SR')) {
      const sr = checkSr(series);
      if (sr.result !== 'none') return sr.keep;
    }
    const described = series.length === 0 || series.some((s) => s.description.trim() !== '');
    if (described) {
      const doseInfo = series.find((s) => s.description.trim().toLowerCase() === 'dose info');
      if (doseInfo) return [whole(doseInfo)];
      if (!toshiba) return [];
    }
    if (!toshiba) return series.filter((s) => s.instances.length <= 5).map(whole);
    // S8.5: an SC first image moves the whole series; otherwise only that first image.
    return series.flatMap((s): ExpectedMove[] => {
      const first = firstImage(s);
      if (!first) return [];
      if (first.sopClassUid === StorageClass.secondaryCapture) return [whole(s)];
      return [{ seriesInstanceUid: s.seriesInstanceUid, level: 'IMAGE', sopInstanceUids: [first.sopInstanceUid] }];
    });
  }
  if (selected('NM')) {
    // S8.6: RRDSR series whole, PET first image; NM (first series, whole) only when neither exists.
    const moves: ExpectedMove[] = series
      .filter((s) => s.modality === 'SR' && s.instances.some((i) => i.sopClassUid === StorageClass.radiopharmaceuticalDoseSr))
      .map(whole);
    for (const s of series.filter((x) => x.modality === 'PT')) {
      const first = firstImage(s);
      if (first?.sopClassUid === StorageClass.pet) moves.push({ seriesInstanceUid: s.seriesInstanceUid, level: 'IMAGE', sopInstanceUids: [first.sopInstanceUid] });
    }
    if (moves.length === 0) {
      const nm = series.find((s) => s.modality === 'NM' && firstImage(s)?.sopClassUid === StorageClass.nm);
      if (nm) moves.push(whole(nm));
    }
    return moves;
  }
  if ((groups as readonly Group[]).includes('SR') && mods.size === 1 && mods.has('SR')) return checkSr(series).keep;
  return [];
}

// ---- writing -------------------------------------------------------------------------------------

function checkOptions(options: GenerateOptions): { seed: string; startMs: number; startDate: string; days: number } {
  const { studies, seed } = options;
  if (!Number.isInteger(studies) || studies < 1 || studies > 100_000) {
    throw new ConfigError(ErrorCode.Usage, `--studies must be an integer from 1 to 100000, not ${String(studies)}`);
  }
  if (typeof seed !== 'string' && !(typeof seed === 'number' && Number.isFinite(seed))) {
    throw new ConfigError(ErrorCode.Usage, `--seed must be a string or a number, not ${String(seed)}`);
  }
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(options.startDate ?? '2024-01-01');
  const startMs = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(startMs) || new Date(startMs).getUTCDate() !== Number(m[3])) {
    throw new ConfigError(ErrorCode.Usage, `--start-date must be a date YYYY-MM-DD, not '${options.startDate}'`);
  }
  const days = options.days ?? 30;
  if (!Number.isInteger(days) || days < 1 || days > 36_500) {
    throw new ConfigError(ErrorCode.Usage, `--days must be an integer from 1 to 36500, not ${String(days)}`);
  }
  return { seed: String(seed), startMs, startDate: new Date(startMs).toISOString().slice(0, 10), days };
}

/** One study's files (relative path → bytes) and manifest entry, built in memory. */
export function buildDoseStudy(seed: string | number, index: number, options: { startDate?: string; days?: number } = {}): { files: Map<string, Buffer>; study: ManifestStudy } {
  const o = checkOptions({ directory: '', studies: 1, seed, ...options });
  return buildStudy(o.seed, index, o.startMs, o.days);
}

function buildStudy(seed: string, index: number, startMs: number, days: number): { files: Map<string, Buffer>; study: ManifestStudy } {
  const plan = planStudy(seed, index, startMs, days);
  const files = new Map<string, Buffer>();
  const studyUid = plan.content.studyInstanceUid;
  const series: ManifestSeries[] = plan.series.map((s, j) => ({
    seriesInstanceUid: s.content.seriesInstanceUid,
    seriesNumber: s.seriesNumber,
    modality: s.modality,
    description: s.description,
    sopClassUid: s.sopClassUid,
    instances: s.instanceNumbers.map((n, k) => {
      const sopInstanceUid = s.instanceUids[k]!;
      const file = `${studyUid}/${s.content.seriesInstanceUid}/${sopInstanceUid}.dcm`;
      files.set(file, writePart10(buildInstance(plan, j, k), { transferSyntax: EXPLICIT_LE }));
      return { sopInstanceUid, sopClassUid: s.sopClassUid, instanceNumber: n, file };
    }),
  }));
  const expected = Object.fromEntries(
    (Object.keys(RETRIEVAL_PROFILES) as RetrievalProfile[]).map((p) => [p, expectedMoves(series, p)]),
  ) as Record<RetrievalProfile, ExpectedMove[]>;
  const c = plan.content;
  return {
    files,
    study: {
      studyInstanceUid: studyUid,
      kind: plan.kind,
      modalities: [...new Set(series.map((s) => s.modality))].sort(),
      description: c.studyDescription,
      station: c.stationName,
      date: c.studyDate,
      time: c.studyTime,
      characterSet: c.characterSet,
      patientName: c.patientName,
      patientId: c.patientId,
      accessionNumber: c.accessionNumber,
      manufacturer: c.manufacturer,
      series,
      expected,
    },
  };
}

/**
 * Write `studies` synthetic dose studies under `directory` as `<Study>/<Series>/<SOP>.dcm` (Explicit VR
 * Little Endian Part-10 files) and `manifest.json`; the same options give the same bytes.
 * @throws ConfigError ERR_USAGE for bad options; DicomError ERR_IO when a file cannot be written.
 */
export async function generateDoseDataset(options: GenerateOptions): Promise<Manifest> {
  const o = checkOptions(options);
  const studies: ManifestStudy[] = [];
  let fileCount = 0;
  for (let i = 0; i < options.studies; i++) {
    const { files, study } = buildStudy(o.seed, i, o.startMs, o.days);
    const dirs = new Set([...files.keys()].map((f) => path.posix.dirname(f)));
    await io(options.directory, async () => {
      for (const d of dirs) await mkdir(path.join(options.directory, d), { recursive: true });
      await Promise.all([...files].map(([f, bytes]) => writeFile(path.join(options.directory, f), bytes)));
    });
    log('study %d %s %s: %d files', i, study.kind, study.studyInstanceUid, files.size);
    fileCount += files.size;
    studies.push(study);
  }
  const manifest: Manifest = {
    generator: 'qrscu pacs generate',
    version: 1,
    seed: o.seed,
    startDate: o.startDate,
    days: o.days,
    layout: '<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm',
    fileCount,
    studies,
  };
  const manifestFile = path.join(options.directory, 'manifest.json');
  await io(manifestFile, () => writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`));
  return manifest;
}

/** A short summary for the CLI: totals, then studies per kind and per character set. */
export function describeManifest(manifest: Manifest, directory: string): string[] {
  const count = (key: (s: ManifestStudy) => string): string => {
    const n = new Map<string, number>();
    for (const s of manifest.studies) n.set(key(s), (n.get(key(s)) ?? 0) + 1);
    return [...n].map(([k, v]) => `${k || '(default)'} ${v}`).join(', ');
  };
  return [
    `wrote ${manifest.studies.length} studies, ${manifest.fileCount} files and manifest.json to ${directory} (seed ${JSON.stringify(manifest.seed)})`,
    `kinds: ${count((s) => s.kind)}`,
    `character sets: ${count((s) => s.characterSet)}`,
  ];
}

async function io(file: string, action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (err) {
    throw new DicomError(ErrorCode.Io, `cannot write ${file}: ${(err as Error).message}`, { file, cause: err });
  }
}
