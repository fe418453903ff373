// Test support for the rule engine: an in-memory PACS built from plain tables (study, series and
// image rows) behind the QueryPort interface, with a log of every query, and small readers of results.

import type {
  HeldObjects,
  ImageResponse,
  QueryPort,
  SelectionInput,
  SelectionOptions,
  SelectionResult,
  SeriesResponse,
  StudyQueryOutcome,
  StudyResponse,
} from '../../src/rules/model.js';
import { loadRuleSet, select, type RuleSet } from '../../src/rules/index.js';

// SOP classes of the vendor samples (test/fixtures/dicom-samples/README.md).
export const RDSR = '1.2.840.10008.5.1.4.1.1.88.67';
export const ESR = '1.2.840.10008.5.1.4.1.1.88.22';
export const RRDSR = '1.2.840.10008.5.1.4.1.1.88.68';
export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
export const BASIC_TEXT_SR = '1.2.840.10008.5.1.4.1.1.88.11';
export const SC = '1.2.840.10008.5.1.4.1.1.7';
export const MF_SC = '1.2.840.10008.5.1.4.1.1.7.2';
export const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';
export const CR_IMAGE = '1.2.840.10008.5.1.4.1.1.1';
export const DX_IMAGE = '1.2.840.10008.5.1.4.1.1.1.1';
export const DX_PROCESSING = '1.2.840.10008.5.1.4.1.1.1.1.1';
export const MG_IMAGE = '1.2.840.10008.5.1.4.1.1.1.2';
export const PET = '1.2.840.10008.5.1.4.1.1.128';
export const NM_IMAGE = '1.2.840.10008.5.1.4.1.1.20';
export const XA_IMAGE = '1.2.840.10008.5.1.4.1.1.12.1';

export interface ImageRow {
  readonly uid: string;
  readonly sopClass: string;
  readonly instance?: number | null;
}

export interface SeriesRow {
  readonly uid: string;
  readonly modality: string;
  readonly description?: string | null;
  readonly number?: number;
  /** NumberOfSeriesRelatedInstances; default the number of image rows (null: not returned). */
  readonly count?: number | null;
  readonly station?: string | null;
  readonly images?: readonly ImageRow[];
}

export interface StudyRow {
  readonly uid: string;
  /** Returned ModalitiesInStudy; null: not returned. */
  readonly modalities: readonly string[] | null;
  readonly description?: string | null;
  readonly station?: string | null;
  readonly code?: string;
  readonly series: readonly SeriesRow[];
}

export interface QueryLogEntry {
  readonly level: 'SERIES' | 'IMAGE';
  readonly study: string;
  readonly series?: string;
  readonly instanceNumber?: number;
}

/** A study response as the pipeline reads it. */
export function studyResponse(row: StudyRow, code?: string): StudyResponse {
  return {
    studyInstanceUid: row.uid,
    studyDescription: row.description ?? null,
    stationName: row.station ?? null,
    modalitiesInStudy: row.modalities,
    studyDate: '20240102',
    studyTime: '101500',
    accessionNumber: null,
    numberOfStudyRelatedSeries: row.series.length,
    queriedCode: code ?? row.code ?? row.modalities?.[0] ?? 'CT',
  };
}

/** The in-memory PACS: answers series and image C-FINDs from the rows, logging each. */
export function tablePort(rows: readonly StudyRow[]): QueryPort & { readonly log: QueryLogEntry[] } {
  const log: QueryLogEntry[] = [];
  const byUid = new Map(rows.map((r) => [r.uid, r]));
  return {
    log,
    async findSeries(study: StudyResponse): Promise<readonly SeriesResponse[]> {
      log.push({ level: 'SERIES', study: study.studyInstanceUid });
      return (byUid.get(study.studyInstanceUid)?.series ?? []).map((s, i) => ({
        seriesInstanceUid: s.uid,
        modality: s.modality,
        seriesDescription: s.description ?? null,
        seriesNumber: s.number ?? i + 1,
        numberOfSeriesRelatedInstances: s.count === undefined ? (s.images?.length || null) : s.count,
        stationName: s.station ?? null,
      }));
    },
    async findImages(study, series, options): Promise<readonly ImageResponse[]> {
      log.push({ level: 'IMAGE', study: study.studyInstanceUid, series: series.seriesInstanceUid, ...(options.instanceNumber === undefined ? {} : { instanceNumber: options.instanceNumber }) });
      const row = byUid.get(study.studyInstanceUid)?.series.find((s) => s.uid === series.seriesInstanceUid);
      return (row?.images ?? [])
        .map((im, i) => ({ sopInstanceUid: im.uid, sopClassUid: im.sopClass, instanceNumber: im.instance === undefined ? i + 1 : im.instance }))
        .filter((im) => options.instanceNumber === undefined || im.instanceNumber === options.instanceNumber);
    },
  };
}

/** Objects already held, by study. */
export function heldIndex(held: Record<string, readonly string[]>): HeldObjects {
  return {
    async heldInstances(uid) {
      return held[uid] === undefined ? undefined : new Set(held[uid]);
    },
  };
}

export function options(groups: readonly string[], more: Partial<SelectionOptions> = {}): SelectionOptions {
  return {
    groups,
    flags: {},
    descriptionInclude: [],
    descriptionExclude: [],
    stationInclude: [],
    stationExclude: [],
    stationNameStudyLevel: false,
    removeDuplicates: true,
    ...more,
  };
}

export const MATCHING: StudyQueryOutcome = { modalitiesReturned: true, modalityMatching: true, useModalityTag: false };

let builtIn: RuleSet | undefined;
export function rules(): RuleSet {
  builtIn ??= loadRuleSet();
  return builtIn;
}

export interface RunSetup {
  readonly rows: readonly StudyRow[];
  readonly groups: readonly string[];
  readonly options?: Partial<SelectionOptions>;
  readonly outcome?: Partial<StudyQueryOutcome>;
  readonly held?: Record<string, readonly string[]>;
  /** Study responses in order; default one per row. */
  readonly responses?: readonly StudyResponse[];
  readonly ruleSet?: RuleSet;
  readonly concurrency?: number;
}

export async function runRules(setup: RunSetup): Promise<{ result: SelectionResult; log: QueryLogEntry[] }> {
  const port = tablePort(setup.rows);
  const input: SelectionInput = {
    studies: setup.responses ?? setup.rows.map((r) => studyResponse(r)),
    outcome: { ...MATCHING, ...setup.outcome },
    options: options(setup.groups, setup.options),
    port,
    ...(setup.held === undefined ? {} : { held: heldIndex(setup.held) }),
    ...(setup.concurrency === undefined ? {} : { concurrency: setup.concurrency }),
  };
  const result = await select(setup.ruleSet ?? rules(), input);
  return { result, log: port.log };
}

/** Kept series UIDs per kept study copy: "study[branch]" -> series (":IMAGE" suffix when image level). */
export function keptSets(result: SelectionResult): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const st of result.studies) {
    if (!st.kept) continue;
    let key = `${st.response.studyInstanceUid}[${st.branch ?? '-'}]`;
    while (key in out) key += "'";
    out[key] = st.series.filter((s) => s.kept).map((s) => (s.moveLevel === 'IMAGE' ? `${s.response.seriesInstanceUid}:IMAGE` : s.response.seriesInstanceUid));
  }
  return out;
}

/** The moves as short strings: "SERIES study/series" or "IMAGE study/series/sop". */
export function moveList(result: SelectionResult): string[] {
  return result.moves.map((m) => (m.level === 'SERIES' ? `SERIES ${m.studyInstanceUid}/${m.seriesInstanceUid}` : `IMAGE ${m.studyInstanceUid}/${m.seriesInstanceUid}/${m.sopInstanceUid}`));
}

/** The last decision of a series (its verdict). */
export function verdict(result: SelectionResult, seriesUid: string, studyIndex?: number) {
  const studies = studyIndex === undefined ? result.studies : [result.studies[studyIndex]];
  for (const st of studies) {
    const s = st.series.find((x) => x.response.seriesInstanceUid === seriesUid);
    if (s) return s.decisions[s.decisions.length - 1];
  }
  return undefined;
}

export function studyVerdict(result: SelectionResult, studyUid: string) {
  const st = result.studies.find((x) => x.response.studyInstanceUid === studyUid);
  return st?.decisions[st.decisions.length - 1];
}
