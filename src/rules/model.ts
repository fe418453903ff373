// The data the selection engine works on and what it returns. This is the contract between the
// engine (src/rules), the pipeline that feeds it from a PACS (src/qr) and the database that keeps
// its decisions (src/db). Plain JSON-serialisable values only: a query record stores them as is.

/** One study-level C-FIND match, as read from the identifier. */
export interface StudyResponse {
  readonly studyInstanceUid: string;
  /** Raw value; null when absent or empty. */
  readonly studyDescription: string | null;
  readonly stationName: string | null;
  /** null: the PACS did not return it (absent or empty); values split on "," (PS3.5-illegal "CT,SR"). */
  readonly modalitiesInStudy: readonly string[] | null;
  readonly studyDate: string | null;
  readonly studyTime: string | null;
  readonly accessionNumber: string | null;
  readonly numberOfStudyRelatedSeries: number | null;
  /** The ModalitiesInStudy code of the C-FIND that returned it (the first one, when several did). */
  readonly queriedCode: string;
}

/** One series-level C-FIND match. */
export interface SeriesResponse {
  readonly seriesInstanceUid: string;
  /** "OT" when the PACS did not return it (a warning is recorded by the reader). */
  readonly modality: string;
  /** Raw value; null when absent or empty. */
  readonly seriesDescription: string | null;
  readonly seriesNumber: number | null;
  /** null when absent, empty or 0. */
  readonly numberOfSeriesRelatedInstances: number | null;
  readonly stationName: string | null;
}

/** One image-level C-FIND match. */
export interface ImageResponse {
  readonly sopInstanceUid: string;
  /** "" when the PACS did not return it. */
  readonly sopClassUid: string;
  readonly instanceNumber: number | null;
}

/**
 * What the user asked for. `groups` are rule-file group names in the order given (e.g. ["CT", "MG"]);
 * `flags` are free-form switches rule files may test (e.g. toshiba, emptySr), so a site can add its
 * own without touching the engine.
 */
export interface SelectionOptions {
  readonly groups: readonly string[];
  readonly flags: Readonly<Record<string, boolean>>;
  readonly descriptionInclude: readonly string[];
  readonly descriptionExclude: readonly string[];
  readonly stationInclude: readonly string[];
  readonly stationExclude: readonly string[];
  /** Station filters on study responses instead of series responses. */
  readonly stationNameStudyLevel: boolean;
  /** false with `-dup`: objects already held are retrieved again. */
  readonly removeDuplicates: boolean;
}

/** How the study-level C-FINDs went (OpenREM's modalities_returned / modality_matching, §2.1). */
export interface StudyQueryOutcome {
  /** Some response carried a non-empty ModalitiesInStudy. */
  readonly modalitiesReturned: boolean;
  /** No response contradicted the ModalitiesInStudy key that was asked (the PACS honoured it). */
  readonly modalityMatching: boolean;
  /** The node sends a universal Modality key at study level (OpenREM's use_modality_tag). */
  readonly useModalityTag: boolean;
}

/**
 * The engine's access to the PACS (or a recording of one, or a snapshot). Implementations own
 * concurrency; the engine may call them concurrently for different studies.
 */
export interface QueryPort {
  findSeries(study: StudyResponse): Promise<readonly SeriesResponse[]>;
  /** `instanceNumber` set: a matching key (first-instance probes); unset: every instance. */
  findImages(study: StudyResponse, series: SeriesResponse, options: { readonly instanceNumber?: number }): Promise<readonly ImageResponse[]>;
}

/** The index of objects already held: SOP Instance UIDs of a study, or undefined when none is held. */
export interface HeldObjects {
  heldInstances(studyInstanceUid: string): Promise<ReadonlySet<string> | undefined>;
}

/** Why something was kept or dropped: which rule decided. */
export interface Decision {
  readonly kept: boolean;
  /** Rule-file branch name ("CT"), or the stage for study-wide steps ("study-filters"). */
  readonly branch: string;
  /** Step id inside the branch or stage. */
  readonly step: string;
  readonly reason: string;
  /** The rule file and JSON pointer of the step that decided. */
  readonly source?: string;
}

export interface ImageSelection extends ImageResponse {
  readonly kept: boolean;
  readonly decision?: Decision;
}

export interface SeriesSelection {
  readonly response: SeriesResponse;
  readonly kept: boolean;
  /** Every decision about this series, in order; the last one is the verdict. */
  readonly decisions: readonly Decision[];
  /** Named categories the engine assigned (e.g. "rdsr"), from SOP classes found at image level. */
  readonly categories: readonly string[];
  /** SERIES: one C-MOVE of the whole series; IMAGE: one C-MOVE per kept image. */
  readonly moveLevel: 'SERIES' | 'IMAGE';
  /** Image responses looked at (probes, SR checks, duplicate checks), with their verdicts. */
  readonly images: readonly ImageSelection[];
  /** Free-form notes for explain (e.g. "image count unknown: kept"). */
  readonly notes: readonly string[];
}

export interface StudySelection {
  readonly response: StudyResponse;
  /** ModalitiesInStudy as the engine used it (returned, rebuilt from series, or split copy). */
  readonly modalities: readonly string[];
  readonly modalitiesSource: 'returned' | 'rebuilt';
  readonly kept: boolean;
  /** The branch that handled it; null when none applied. */
  readonly branch: string | null;
  readonly decisions: readonly Decision[];
  readonly series: readonly SeriesSelection[];
  readonly notes: readonly string[];
}

/** One C-MOVE the retrieve must make. */
export interface PlannedMove {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly level: 'SERIES' | 'IMAGE';
  /** IMAGE level: the SOP Instance UID of this move. */
  readonly sopInstanceUid?: string;
  /** What the series is expected to hold (NumberOfSeriesRelatedInstances, or 1 at image level). */
  readonly expectedInstances: number | null;
  readonly branch: string | null;
}

export interface SelectionResult {
  readonly studies: readonly StudySelection[];
  /** Kept series and images, in study and series order: the retrieve plan. */
  readonly moves: readonly PlannedMove[];
  /** Responses skipped (missing unique key) and other warnings, for the summary. */
  readonly warnings: readonly string[];
  /** Image-level C-FINDs the engine made. */
  readonly imageQueries: number;
  readonly seriesQueries: number;
}

export interface SelectionInput {
  /** Study-level responses in the order received (duplicates included: the engine removes them). */
  readonly studies: readonly StudyResponse[];
  readonly outcome: StudyQueryOutcome;
  readonly options: SelectionOptions;
  readonly port: QueryPort;
  /** Absent, or options.removeDuplicates false: no duplicates step. */
  readonly held?: HeldObjects;
  /** Studies worked on at once (series and image C-FINDs in flight); default 1. */
  readonly concurrency?: number;
}
