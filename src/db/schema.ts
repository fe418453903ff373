// The qrscu database (`<home>/qrscu.json`): its versioned schema as TypeScript types.
// Plain JSON values only. The file is written by src/db/file.ts, read and checked by src/db/validate.ts.

import type { Decision, PlannedMove } from '../rules/model.js';

export const SCHEMA_VERSION = 1;

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** A remote query/retrieve SCP (OpenREM's DicomRemoteQR). */
export interface QrNode {
  /** The short name the user chose ("pacs"): [A-Za-z0-9_-]+, unique over QR and store nodes. */
  readonly id: string;
  readonly name: string;
  /** Its (called) AE title. */
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
  /** Our AE title towards it (C-FIND, C-MOVE, C-ECHO). Default QRSCU. */
  readonly callingAeTitle: string;
  /** Send a universal Modality key at study level (OpenREM's use_modality_tag). Default false. */
  readonly useModalityTag: boolean;
  readonly connectTimeoutMs: number;
  readonly dimseTimeoutMs: number;
  /** The maximum P-DATA length we receive. */
  readonly maxPduLength: number;
  /** Parallel associations for series and image queries and moves. Default 4. */
  readonly maxAssociations: number;
  /** Specific Character Set assumed when a response names none ("ISO_IR 100"); absent: the default repertoire. */
  readonly fallbackCharacterSet?: string;
}

/** A storage SCP the moves go to (OpenREM's DicomStoreSCP): our own, or an external one. */
export interface StoreNode {
  readonly id: string;
  readonly name: string;
  /** The move destination AE title (and ours, when `own`). */
  readonly aeTitle: string;
  /** Default 127.0.0.1. */
  readonly host: string;
  readonly port: number;
  /** Where our store SCP writes (absolute path); informative for an external node. */
  readonly directory: string;
  /** Calling AE titles allowed to store; empty: any. */
  readonly allowedCallingAeTitles: readonly string[];
  /** true: qrscu's own store SCP (started by a run when not listening); false: an external one. */
  readonly own: boolean;
}

export type NodeKind = 'qr' | 'store';

export type QueryStatus = 'running' | 'complete' | 'failed' | 'interrupted';

/** What a run was asked to do. `options` holds the rest of the command line, as parsed. */
export interface QueryParameters {
  readonly qrNodeId: string;
  readonly storeNodeId: string;
  /** The command line (without node and script). */
  readonly argv?: readonly string[];
  readonly dryRun?: boolean;
  readonly options?: { readonly [key: string]: JsonValue };
}

/** One stage of a run (echo, study-query, series-query, selection, retrieve, …). */
export interface StageTiming {
  readonly stage: string;
  readonly startedAt: string;
  readonly durationMs: number;
  /** What the stage counted (responses, moves), where it counts something. */
  readonly count?: number;
}

export type MoveStatus = 'pending' | 'success' | 'warning' | 'failed';

/** One C-MOVE of a run, with its outcome. */
export interface MoveRecord {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly level: 'SERIES' | 'IMAGE';
  readonly sopInstanceUid?: string;
  readonly expectedInstances: number | null;
  readonly status: MoveStatus;
  /** The final C-MOVE-RSP status (0x0000, 0xB000, 0xA701 …). */
  readonly dimseStatus?: number;
  /** Sub-operation counts of the final response; null: the SCP did not say (Q12). */
  readonly completed?: number | null;
  readonly failed?: number | null;
  readonly warning?: number | null;
  /** Objects that arrived at our store node for this move. */
  readonly arrived?: number;
  readonly failedSopInstanceUids?: readonly string[];
  readonly attempts: number;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly error?: string;
}

export interface QueryError {
  readonly at: string;
  readonly stage: string;
  readonly message: string;
  /** The error code (ERR_…), when it was one of ours. */
  readonly code?: string;
}

/** A query record: one run of `qrscu <qr> <store>`. */
export interface QueryRecord {
  /** A random UUID; the CLI accepts a unique prefix. */
  readonly id: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly status: QueryStatus;
  readonly parameters: QueryParameters;
  readonly stages: readonly StageTiming[];
  /** The selection (src/rules/model.ts SelectionResult), stored compactly: see src/db/compact.ts. */
  readonly selection?: CompactSelection;
  readonly moves: readonly MoveRecord[];
  /** Counts for the summary (studiesFound, seriesKept, instancesArrived, …); null: unknown. */
  readonly summary: { readonly [key: string]: number | null };
  readonly errors: readonly QueryError[];
}

/** One held object, under held[study][series][sop]. */
export interface HeldEntry {
  readonly sopClassUid: string;
  /** Where the object is (absolute path), or "" when unknown. */
  readonly file: string;
  /** The query that brought it, absent for objects indexed from a folder. */
  readonly queryId?: string;
  readonly storedAt: string;
}

/** study UID → series UID → SOP Instance UID → entry: lookup by study is one property access. */
export type HeldIndex = { [studyInstanceUid: string]: { [seriesInstanceUid: string]: { [sopInstanceUid: string]: HeldEntry } } };

/** Who may do what on the web page (`qrscu serve`): admin > user > viewer. */
export type UserRole = 'admin' | 'user' | 'viewer';

/** A login of the web page. The password is kept only as a salted scrypt hash (src/db/users.ts). */
export interface UserRecord {
  /** [A-Za-z0-9_.@-]{1,64}, unique. */
  readonly name: string;
  readonly role: UserRole;
  /** "scrypt$N$r$p$<salt base64>$<hash base64>". */
  readonly passwordHash: string;
  readonly createdAt: string;
}

/** The whole file. Its arrays are replaced in place by src/db/database.ts only. */
export interface DatabaseFile {
  schemaVersion: typeof SCHEMA_VERSION;
  qrNodes: QrNode[];
  storeNodes: StoreNode[];
  queries: QueryRecord[];
  held: HeldIndex;
  /** Web-page logins; absent in files written before `qrscu users` (read as none). */
  users?: UserRecord[];
}

// ---- the compact form of a SelectionResult (lossless) ----
// Responses are stored as value tuples in the field order of src/db/compact.ts (trailing nulls left
// out), with any field that list does not know in `x`; decisions by index into a per-record table.

/** Response values in field order; fields the tuple order does not know go in `x`. */
export type ResponseTuple = readonly JsonValue[];

/** [sopInstanceUid, sopClassUid, instanceNumber, kept (1/0), decision index (-1: none), extra fields?]. */
export type CompactImage = readonly JsonValue[];

export interface CompactSeries {
  readonly r: ResponseTuple;
  readonly x?: { readonly [key: string]: JsonValue };
  readonly k: boolean;
  /** Decision indexes. */
  readonly d: readonly number[];
  readonly c?: readonly string[];
  /** 'I': moveLevel IMAGE; absent: SERIES. */
  readonly l?: 'I';
  readonly i?: readonly CompactImage[];
  readonly n?: readonly string[];
}

export interface CompactStudy {
  readonly r: ResponseTuple;
  readonly x?: { readonly [key: string]: JsonValue };
  readonly modalities: readonly string[];
  readonly modalitiesSource: 'returned' | 'rebuilt';
  readonly kept: boolean;
  readonly branch: string | null;
  readonly d: readonly number[];
  readonly series: readonly CompactSeries[];
  readonly notes?: readonly string[];
}

/** A planned move: [study index, series index, IMAGE ? 1 : 0, expectedInstances, branch, sopInstanceUid?], or as is. */
export type CompactMove = readonly JsonValue[] | PlannedMove;

/** SelectionResult with each distinct Decision stored once (`decisions`) and referred to by index. */
export interface CompactSelection {
  readonly decisions: readonly Decision[];
  readonly studies: readonly CompactStudy[];
  readonly moves: readonly CompactMove[];
  readonly warnings: readonly string[];
  readonly imageQueries: number;
  readonly seriesQueries: number;
}
