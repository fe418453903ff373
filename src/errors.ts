// Typed errors with stable codes. Every error qrscu throws is a DicomError; the code says what went
// wrong, the fields say where (byte offset, tag, PDU field, file, JSON pointer).

/** Stable error codes. Tests and the CLI's exit-code mapping depend on these strings. */
export const ErrorCode = {
  // bytes / dataset codec
  BufferOverrun: 'ERR_BUFFER_OVERRUN',
  DatasetTruncated: 'ERR_DATASET_TRUNCATED',
  DatasetInvalid: 'ERR_DATASET_INVALID',
  DatasetTooDeep: 'ERR_DATASET_TOO_DEEP',
  ValueInvalid: 'ERR_VALUE_INVALID',
  UnknownKeyword: 'ERR_UNKNOWN_KEYWORD',
  UnsupportedTransferSyntax: 'ERR_UNSUPPORTED_TRANSFER_SYNTAX',
  UnsupportedCharacterSet: 'ERR_UNSUPPORTED_CHARACTER_SET',
  Part10Invalid: 'ERR_PART10_INVALID',
  JsonInvalid: 'ERR_JSON_INVALID',
  // upper layer
  PduTruncated: 'ERR_PDU_TRUNCATED',
  PduUnknownType: 'ERR_PDU_UNKNOWN_TYPE',
  PduTooLarge: 'ERR_PDU_TOO_LARGE',
  PduInvalid: 'ERR_PDU_INVALID',
  AssocRejected: 'ERR_ASSOC_REJECTED',
  AssocAborted: 'ERR_ASSOC_ABORTED',
  AssocClosed: 'ERR_ASSOC_CLOSED',
  ArtimTimeout: 'ERR_ARTIM_TIMEOUT',
  ConnectTimeout: 'ERR_CONNECT_TIMEOUT',
  ConnectFailed: 'ERR_CONNECT_FAILED',
  DimseTimeout: 'ERR_DIMSE_TIMEOUT',
  IdleTimeout: 'ERR_IDLE_TIMEOUT',
  DimseStatus: 'ERR_DIMSE_STATUS',
  DimseInvalid: 'ERR_DIMSE_INVALID',
  NoPresentationContext: 'ERR_NO_PRESENTATION_CONTEXT',
  // packet captures (src/pcap)
  PcapInvalid: 'ERR_PCAP_INVALID',
  PcapTruncated: 'ERR_PCAP_TRUNCATED',
  // rules, configuration, CLI
  RuleInvalid: 'ERR_RULE_INVALID',
  ConfigInvalid: 'ERR_CONFIG_INVALID',
  /** Another live run holds the database lock (<home>/qrscu.lock). */
  DatabaseLocked: 'ERR_DB_LOCKED',
  Usage: 'ERR_USAGE',
  Io: 'ERR_IO',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorDetails {
  /** Byte offset in the buffer being decoded, where known. */
  readonly offset?: number;
  /** Tag of the element being decoded, as "(gggg,eeee)". */
  readonly tag?: string;
  /** Name of the field being read or written ("PDU length", "item length"). */
  readonly field?: string;
  /** File the input came from. */
  readonly file?: string;
  /** JSON pointer of the fault inside a JSON document. */
  readonly pointer?: string;
  readonly cause?: unknown;
}

/** Base class of every error qrscu throws. */
export class DicomError extends Error {
  readonly code: ErrorCode;
  readonly offset?: number;
  readonly tag?: string;
  readonly field?: string;
  readonly file?: string;
  readonly pointer?: string;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(describe(message, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    if (details.offset !== undefined) this.offset = details.offset;
    if (details.tag !== undefined) this.tag = details.tag;
    if (details.field !== undefined) this.field = details.field;
    if (details.file !== undefined) this.file = details.file;
    if (details.pointer !== undefined) this.pointer = details.pointer;
  }
}

/** A dataset, Part-10 file or value that cannot be decoded or encoded. */
export class DatasetError extends DicomError {}

/** A PDU that cannot be decoded; `abortReason` is the A-ABORT reason of PS3.8 Table 9-26. */
export class PduError extends DicomError {
  readonly abortReason: number;
  constructor(code: ErrorCode, message: string, details: ErrorDetails & { abortReason?: number } = {}) {
    super(code, message, details);
    this.abortReason = details.abortReason ?? 0;
  }
}

export class AssociationError extends DicomError {}
export class DimseError extends DicomError {}
export class RuleError extends DicomError {}
export class ConfigError extends DicomError {}

function describe(message: string, d: ErrorDetails): string {
  const where: string[] = [];
  if (d.file !== undefined) where.push(d.file);
  if (d.pointer !== undefined) where.push(`at ${d.pointer === '' ? '/' : d.pointer}`);
  if (d.tag !== undefined) where.push(`tag ${d.tag}`);
  if (d.field !== undefined) where.push(d.field);
  if (d.offset !== undefined) where.push(`offset ${d.offset}`);
  return where.length === 0 ? message : `${message} (${where.join(', ')})`;
}

/** True when `e` is one of ours. */
export function isDicomError(e: unknown): e is DicomError {
  return e instanceof DicomError;
}
