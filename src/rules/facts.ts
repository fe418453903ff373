// The fact objects json-logic expressions read (rules/README.md, "Facts"): one per study, series and
// image looked at. Every one has the same shape at its level (the run-wide facts are shared by
// reference and written out in a fixed order), so property reads stay monomorphic when 50,000 series go through.

import type { ImageResponse, SelectionOptions, SeriesResponse, StudyQueryOutcome, StudyResponse } from './model.js';

/** Facts about the run, shared by every study. */
export interface RunFacts {
  readonly groups: readonly string[];
  readonly codes: readonly string[];
  readonly groupCodes: Readonly<Record<string, readonly string[]>>;
  readonly flags: Readonly<Record<string, boolean>>;
  readonly options: {
    readonly descriptionInclude: readonly string[];
    readonly descriptionExclude: readonly string[];
    readonly stationInclude: readonly string[];
    readonly stationExclude: readonly string[];
    readonly stationNameStudyLevel: boolean;
    readonly removeDuplicates: boolean;
  };
  readonly outcome: StudyQueryOutcome;
}

export interface StudyFacts {
  uid: string;
  description: string | null;
  stationName: string | null;
  /** null until known (not returned and not rebuilt yet). */
  modalities: string[] | null;
  modalitiesSource: 'returned' | 'rebuilt';
  queriedCode: string;
  date: string | null;
  time: string | null;
  accessionNumber: string | null;
  numberOfSeries: number | null;
  /** 1-based copy number after a split, 0 when the study was not split. */
  copy: number;
  copies: number;
  /** The branch that handles the study, once chosen. */
  branch: string | null;
  /** Whether the study is already held (null before a duplicates step looked). */
  held: boolean | null;
}

/** The study-level fact object: what `when`, `applies`, `set` and study-level expressions see. */
export interface StudyContext extends RunFacts {
  study: StudyFacts;
  /** Series still kept, in series-response order. */
  series: SeriesFacts[];
  /** Every series, kept or not. */
  allSeries: SeriesFacts[];
  /** Values of `set` steps, by name. */
  found: Record<string, unknown>;
}

/** Series facts, with the study-level facts by reference (not the series lists). */
export interface SeriesFacts extends RunFacts {
  study: StudyFacts;
  found: Record<string, unknown>;
  uid: string;
  modality: string;
  description: string | null;
  number: number | null;
  instances: number | null;
  stationName: string | null;
  categories: string[];
  probed: boolean;
  /** Responses to the latest image-level probe; null before any. */
  imageCount: number | null;
  firstSopClass: string | null;
  firstCategories: string[];
  kept: boolean;
  moveLevel: 'SERIES' | 'IMAGE';
}

/** Image facts, with their series and the study-level facts by reference. */
export interface ImageFacts extends RunFacts {
  study: StudyFacts;
  found: Record<string, unknown>;
  series: SeriesFacts;
  sopInstanceUid: string;
  sopClassUid: string;
  instanceNumber: number | null;
  categories: string[];
  /** The first response of the series' latest probe. */
  first: boolean;
  kept: boolean;
}

export function runFacts(options: SelectionOptions, outcome: StudyQueryOutcome, codes: readonly string[], groupCodes: Record<string, readonly string[]>): RunFacts {
  return {
    groups: [...options.groups],
    codes: [...codes],
    groupCodes,
    flags: { ...options.flags },
    options: {
      descriptionInclude: [...options.descriptionInclude],
      descriptionExclude: [...options.descriptionExclude],
      stationInclude: [...options.stationInclude],
      stationExclude: [...options.stationExclude],
      stationNameStudyLevel: options.stationNameStudyLevel,
      removeDuplicates: options.removeDuplicates,
    },
    outcome: { ...outcome },
  };
}

export function studyContext(run: RunFacts, r: StudyResponse): StudyContext {
  return {
    groups: run.groups,
    codes: run.codes,
    groupCodes: run.groupCodes,
    flags: run.flags,
    options: run.options,
    outcome: run.outcome,
    study: {
      uid: r.studyInstanceUid,
      description: r.studyDescription,
      stationName: r.stationName,
      modalities: r.modalitiesInStudy === null ? null : [...r.modalitiesInStudy],
      modalitiesSource: 'returned',
      queriedCode: r.queriedCode,
      date: r.studyDate,
      time: r.studyTime,
      accessionNumber: r.accessionNumber,
      numberOfSeries: r.numberOfStudyRelatedSeries,
      copy: 0,
      copies: 0,
      branch: null,
      held: null,
    },
    series: [],
    allSeries: [],
    found: {},
  };
}

export function seriesFacts(ctx: StudyContext, r: SeriesResponse): SeriesFacts {
  // Written out property by property: `{...shared, more}` makes V8 build slow dictionary-mode objects.
  return {
    groups: ctx.groups,
    codes: ctx.codes,
    groupCodes: ctx.groupCodes,
    flags: ctx.flags,
    options: ctx.options,
    outcome: ctx.outcome,
    study: ctx.study,
    found: ctx.found,
    uid: r.seriesInstanceUid,
    modality: r.modality,
    description: r.seriesDescription,
    number: r.seriesNumber,
    instances: r.numberOfSeriesRelatedInstances,
    stationName: r.stationName,
    categories: [],
    probed: false,
    imageCount: null,
    firstSopClass: null,
    firstCategories: [],
    kept: true,
    moveLevel: 'SERIES',
  };
}

export function imageFacts(series: SeriesFacts, r: ImageResponse, categories: readonly string[]): ImageFacts {
  return {
    groups: series.groups,
    codes: series.codes,
    groupCodes: series.groupCodes,
    flags: series.flags,
    options: series.options,
    outcome: series.outcome,
    study: series.study,
    found: series.found,
    series,
    sopInstanceUid: r.sopInstanceUid,
    sopClassUid: r.sopClassUid,
    instanceNumber: r.instanceNumber,
    categories: [...categories],
    first: false,
    kept: true,
  };
}
