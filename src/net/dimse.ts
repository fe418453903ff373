// DIMSE-C messages (PS3.7 §9.1, §9.3): command sets in Implicit VR Little Endian (PS3.7 §6.3.1) with
// exactly the elements of PS3.7 Tables 9.3-1 to 9.3-13 per message, decoded tolerantly. Pure: no I/O.

import {
  ascii, createCursor, remaining, skip, u16le, u32le,
  writeAscii, writeU16le, writeU32le, type Cursor, type Writer,
} from '../bytes.js';
import { formatTag, getValue, type Dataset } from '../dicom/index.js';
import { DimseError, ErrorCode } from '../errors.js';
import { formatStatus, type DimseService } from './status.js';

/** Command Field (0000,0100) values of the DIMSE-C services (PS3.7 §E.1, Table E.1-1). */
export const CommandField = {
  CStoreRq: 0x0001,
  CStoreRsp: 0x8001,
  CGetRq: 0x0010,
  CGetRsp: 0x8010,
  CFindRq: 0x0020,
  CFindRsp: 0x8020,
  CMoveRq: 0x0021,
  CMoveRsp: 0x8021,
  CEchoRq: 0x0030,
  CEchoRsp: 0x8030,
  CCancelRq: 0x0fff,
} as const;

/** Priority (0000,0700) values (PS3.7 §E.1, Table E.1-1). */
export const Priority = { Medium: 0x0000, High: 0x0001, Low: 0x0002 } as const;

/**
 * Command Data Set Type (0000,0800) (PS3.7 §E.1, Table E.1-1): 0101H means no data set follows, any
 * other value that one does. We write 0001H, as DCMTK and pynetdicom do.
 */
export const CommandDataSetType = { NoDataSet: 0x0101, DataSetPresent: 0x0001 } as const;

/** Status-related fields any response may carry (PS3.7 Annex C, §C.4, §C.5). */
export interface StatusFields {
  readonly status: number;
  readonly offendingElement?: readonly number[];
  readonly errorComment?: string;
  readonly errorId?: number;
}

/** Sub-operation counts of C-MOVE-RSP and C-GET-RSP (PS3.7 §9.1.3.1, §9.1.4.1): conditional. */
export interface SubOperationCounts {
  readonly numberOfRemainingSuboperations?: number;
  readonly numberOfCompletedSuboperations?: number;
  readonly numberOfFailedSuboperations?: number;
  readonly numberOfWarningSuboperations?: number;
}

/** PS3.7 Table 9.3-1. */
export interface CStoreRq {
  readonly type: 'C-STORE-RQ';
  readonly affectedSopClassUid: string;
  readonly messageId: number;
  readonly priority: number;
  readonly hasDataset: boolean;
  readonly affectedSopInstanceUid: string;
  readonly moveOriginatorApplicationEntityTitle?: string;
  readonly moveOriginatorMessageId?: number;
}

/** PS3.7 Table 9.3-2. */
export interface CStoreRsp extends StatusFields {
  readonly type: 'C-STORE-RSP';
  readonly affectedSopClassUid?: string;
  readonly messageIdBeingRespondedTo: number;
  readonly hasDataset: boolean;
  readonly affectedSopInstanceUid?: string;
}

/** PS3.7 Tables 9.3-3 (C-FIND-RQ) and 9.3-6 (C-GET-RQ). */
export interface CFindRq {
  readonly type: 'C-FIND-RQ';
  readonly affectedSopClassUid: string;
  readonly messageId: number;
  readonly priority: number;
  readonly hasDataset: boolean;
}

/** PS3.7 Table 9.3-4. */
export interface CFindRsp extends StatusFields {
  readonly type: 'C-FIND-RSP';
  readonly affectedSopClassUid?: string;
  readonly messageIdBeingRespondedTo: number;
  readonly hasDataset: boolean;
}

export interface CGetRq extends Omit<CFindRq, 'type'> {
  readonly type: 'C-GET-RQ';
}

/** PS3.7 Table 9.3-7. */
export interface CGetRsp extends StatusFields, SubOperationCounts {
  readonly type: 'C-GET-RSP';
  readonly affectedSopClassUid?: string;
  readonly messageIdBeingRespondedTo: number;
  readonly hasDataset: boolean;
}

/** PS3.7 Table 9.3-9. */
export interface CMoveRq {
  readonly type: 'C-MOVE-RQ';
  readonly affectedSopClassUid: string;
  readonly messageId: number;
  readonly moveDestination: string;
  readonly priority: number;
  readonly hasDataset: boolean;
}

/** PS3.7 Table 9.3-10. */
export interface CMoveRsp extends StatusFields, SubOperationCounts {
  readonly type: 'C-MOVE-RSP';
  readonly affectedSopClassUid?: string;
  readonly messageIdBeingRespondedTo: number;
  readonly hasDataset: boolean;
}

/** PS3.7 Tables 9.3-5, 9.3-8 and 9.3-11 (C-CANCEL-FIND-RQ, C-CANCEL-GET-RQ, C-CANCEL-MOVE-RQ). */
export interface CCancelRq {
  readonly type: 'C-CANCEL-RQ';
  readonly messageIdBeingRespondedTo: number;
  /** Always false on the wire from a conforming peer (Command Data Set Type 0101H). */
  readonly hasDataset?: boolean;
}

/** PS3.7 Table 9.3-12. */
export interface CEchoRq {
  readonly type: 'C-ECHO-RQ';
  readonly affectedSopClassUid: string;
  readonly messageId: number;
  readonly hasDataset: boolean;
}

/** PS3.7 Table 9.3-13. */
export interface CEchoRsp extends StatusFields {
  readonly type: 'C-ECHO-RSP';
  readonly affectedSopClassUid?: string;
  readonly messageIdBeingRespondedTo: number;
  readonly hasDataset: boolean;
}

/** A DIMSE-C command set, by message type. */
export type DimseMessage =
  | CEchoRq | CEchoRsp | CFindRq | CFindRsp | CMoveRq | CMoveRsp
  | CStoreRq | CStoreRsp | CCancelRq | CGetRq | CGetRsp;

export type DimseType = DimseMessage['type'];
export type DimseMessageOf<T extends DimseType> = Extract<DimseMessage, { type: T }>;

// ---- the command elements (PS3.7 §E.1, Table E.1-1) ----------------------------------------------

type FieldKey =
  | 'affectedSopClassUid' | 'messageId' | 'messageIdBeingRespondedTo' | 'moveDestination' | 'priority'
  | 'status' | 'offendingElement' | 'errorComment' | 'errorId' | 'affectedSopInstanceUid'
  | 'numberOfRemainingSuboperations' | 'numberOfCompletedSuboperations' | 'numberOfFailedSuboperations'
  | 'numberOfWarningSuboperations' | 'moveOriginatorApplicationEntityTitle' | 'moveOriginatorMessageId';

interface ElementSpec {
  readonly tag: number;
  readonly keyword: string;
  readonly vr: 'UI' | 'US' | 'AE' | 'LO' | 'AT';
  /** The message property; CommandField and CommandDataSetType map to `type` and `hasDataset`. */
  readonly key: FieldKey | 'type' | 'hasDataset';
  /** Index into the decoder's table of element positions. */
  readonly slot: number;
}

const el = (slot: number, tag: number, keyword: string, vr: ElementSpec['vr'], key: ElementSpec['key']): ElementSpec =>
  ({ tag, keyword, vr, key, slot });

const AffectedSopClassUid = el(0, 0x00000002, 'AffectedSOPClassUID', 'UI', 'affectedSopClassUid');
const CommandFieldElement = el(1, 0x00000100, 'CommandField', 'US', 'type');
const MessageId = el(2, 0x00000110, 'MessageID', 'US', 'messageId');
const MessageIdBeingRespondedTo = el(3, 0x00000120, 'MessageIDBeingRespondedTo', 'US', 'messageIdBeingRespondedTo');
const MoveDestination = el(4, 0x00000600, 'MoveDestination', 'AE', 'moveDestination');
const PriorityElement = el(5, 0x00000700, 'Priority', 'US', 'priority');
const DataSetType = el(6, 0x00000800, 'CommandDataSetType', 'US', 'hasDataset');
const StatusElement = el(7, 0x00000900, 'Status', 'US', 'status');
const OffendingElement = el(8, 0x00000901, 'OffendingElement', 'AT', 'offendingElement');
const ErrorComment = el(9, 0x00000902, 'ErrorComment', 'LO', 'errorComment');
const ErrorId = el(10, 0x00000903, 'ErrorID', 'US', 'errorId');
const AffectedSopInstanceUid = el(11, 0x00001000, 'AffectedSOPInstanceUID', 'UI', 'affectedSopInstanceUid');
const Remaining = el(12, 0x00001020, 'NumberOfRemainingSuboperations', 'US', 'numberOfRemainingSuboperations');
const Completed = el(13, 0x00001021, 'NumberOfCompletedSuboperations', 'US', 'numberOfCompletedSuboperations');
const Failed = el(14, 0x00001022, 'NumberOfFailedSuboperations', 'US', 'numberOfFailedSuboperations');
const Warning = el(15, 0x00001023, 'NumberOfWarningSuboperations', 'US', 'numberOfWarningSuboperations');
const MoveOriginatorAe = el(16, 0x00001030, 'MoveOriginatorApplicationEntityTitle', 'AE', 'moveOriginatorApplicationEntityTitle');
const MoveOriginatorMessageId = el(17, 0x00001031, 'MoveOriginatorMessageID', 'US', 'moveOriginatorMessageId');
const SLOTS = 18;

/** The element of group 0000 at `element`, or undefined for one we do not read. */
function elementSpec(element: number): ElementSpec | undefined {
  switch (element) {
    case 0x0002: return AffectedSopClassUid;
    case 0x0100: return CommandFieldElement;
    case 0x0110: return MessageId;
    case 0x0120: return MessageIdBeingRespondedTo;
    case 0x0600: return MoveDestination;
    case 0x0700: return PriorityElement;
    case 0x0800: return DataSetType;
    case 0x0900: return StatusElement;
    case 0x0901: return OffendingElement;
    case 0x0902: return ErrorComment;
    case 0x0903: return ErrorId;
    case 0x1000: return AffectedSopInstanceUid;
    case 0x1020: return Remaining;
    case 0x1021: return Completed;
    case 0x1022: return Failed;
    case 0x1023: return Warning;
    case 0x1030: return MoveOriginatorAe;
    case 0x1031: return MoveOriginatorMessageId;
    default: return undefined;
  }
}

/** M mandatory, U user option, C conditional: the usage column of PS3.7's message tables. */
type Usage = 'M' | 'U' | 'C';
type MessageFields = readonly (readonly [ElementSpec, Usage])[];

// PS3.7 Annex C: the status-related fields a response may carry with its Status (C.4, C.5).
const STATUS_DETAIL: MessageFields = [[OffendingElement, 'C'], [ErrorComment, 'C'], [ErrorId, 'C']];
const SUB_OPERATIONS: MessageFields = [[Remaining, 'C'], [Completed, 'C'], [Failed, 'C'], [Warning, 'C']];
const RETRIEVE_RQ: MessageFields = [[AffectedSopClassUid, 'M'], [CommandFieldElement, 'M'], [MessageId, 'M'], [PriorityElement, 'M'], [DataSetType, 'M']];
const RETRIEVE_RSP: MessageFields = [
  [AffectedSopClassUid, 'U'], [CommandFieldElement, 'M'], [MessageIdBeingRespondedTo, 'M'], [DataSetType, 'M'],
  [StatusElement, 'M'], ...STATUS_DETAIL, ...SUB_OPERATIONS,
];
const CANCEL_RQ: MessageFields = [[CommandFieldElement, 'M'], [MessageIdBeingRespondedTo, 'M'], [DataSetType, 'M']];

/** The elements of each message's command set, in tag order (PS3.7 §6.3.1: ascending tags). */
const MESSAGE_FIELDS: Readonly<Record<DimseType, MessageFields>> = {
  // PS3.7 Table 9.3-1
  'C-STORE-RQ': [
    [AffectedSopClassUid, 'M'], [CommandFieldElement, 'M'], [MessageId, 'M'], [PriorityElement, 'M'], [DataSetType, 'M'],
    [AffectedSopInstanceUid, 'M'], [MoveOriginatorAe, 'U'], [MoveOriginatorMessageId, 'U'],
  ],
  // PS3.7 Table 9.3-2
  'C-STORE-RSP': [
    [AffectedSopClassUid, 'U'], [CommandFieldElement, 'M'], [MessageIdBeingRespondedTo, 'M'], [DataSetType, 'M'],
    [StatusElement, 'M'], ...STATUS_DETAIL, [AffectedSopInstanceUid, 'U'],
  ],
  // PS3.7 Tables 9.3-3 and 9.3-4
  'C-FIND-RQ': RETRIEVE_RQ,
  'C-FIND-RSP': [[AffectedSopClassUid, 'U'], [CommandFieldElement, 'M'], [MessageIdBeingRespondedTo, 'M'], [DataSetType, 'M'], [StatusElement, 'M'], ...STATUS_DETAIL],
  // PS3.7 Tables 9.3-5, 9.3-8, 9.3-11: one C-CANCEL-RQ for C-FIND, C-GET and C-MOVE
  'C-CANCEL-RQ': CANCEL_RQ,
  // PS3.7 Tables 9.3-6 and 9.3-7
  'C-GET-RQ': RETRIEVE_RQ,
  'C-GET-RSP': RETRIEVE_RSP,
  // PS3.7 Tables 9.3-9 and 9.3-10
  'C-MOVE-RQ': [
    [AffectedSopClassUid, 'M'], [CommandFieldElement, 'M'], [MessageId, 'M'], [MoveDestination, 'M'], [PriorityElement, 'M'], [DataSetType, 'M'],
  ],
  'C-MOVE-RSP': RETRIEVE_RSP,
  // PS3.7 Tables 9.3-12 and 9.3-13: no Priority in C-ECHO
  'C-ECHO-RQ': [[AffectedSopClassUid, 'M'], [CommandFieldElement, 'M'], [MessageId, 'M'], [DataSetType, 'M']],
  'C-ECHO-RSP': [[AffectedSopClassUid, 'U'], [CommandFieldElement, 'M'], [MessageIdBeingRespondedTo, 'M'], [DataSetType, 'M'], [StatusElement, 'M'], ...STATUS_DETAIL],
};

const COMMAND_FIELD: Readonly<Record<DimseType, number>> = {
  'C-STORE-RQ': CommandField.CStoreRq,
  'C-STORE-RSP': CommandField.CStoreRsp,
  'C-GET-RQ': CommandField.CGetRq,
  'C-GET-RSP': CommandField.CGetRsp,
  'C-FIND-RQ': CommandField.CFindRq,
  'C-FIND-RSP': CommandField.CFindRsp,
  'C-MOVE-RQ': CommandField.CMoveRq,
  'C-MOVE-RSP': CommandField.CMoveRsp,
  'C-ECHO-RQ': CommandField.CEchoRq,
  'C-ECHO-RSP': CommandField.CEchoRsp,
  'C-CANCEL-RQ': CommandField.CCancelRq,
};

function typeOfCommandField(field: number): DimseType | undefined {
  switch (field) {
    case CommandField.CStoreRq: return 'C-STORE-RQ';
    case CommandField.CStoreRsp: return 'C-STORE-RSP';
    case CommandField.CGetRq: return 'C-GET-RQ';
    case CommandField.CGetRsp: return 'C-GET-RSP';
    case CommandField.CFindRq: return 'C-FIND-RQ';
    case CommandField.CFindRsp: return 'C-FIND-RSP';
    case CommandField.CMoveRq: return 'C-MOVE-RQ';
    case CommandField.CMoveRsp: return 'C-MOVE-RSP';
    case CommandField.CEchoRq: return 'C-ECHO-RQ';
    case CommandField.CEchoRsp: return 'C-ECHO-RSP';
    case CommandField.CCancelRq: return 'C-CANCEL-RQ';
    default: return undefined;
  }
}

// PS3.7 Table E.1-1: the DIMSE-N command fields, named in the error for a message we do not handle.
const DIMSE_N: Readonly<Record<number, string>> = {
  0x0100: 'N-EVENT-REPORT-RQ', 0x8100: 'N-EVENT-REPORT-RSP', 0x0110: 'N-GET-RQ', 0x8110: 'N-GET-RSP',
  0x0120: 'N-SET-RQ', 0x8120: 'N-SET-RSP', 0x0130: 'N-ACTION-RQ', 0x8130: 'N-ACTION-RSP',
  0x0140: 'N-CREATE-RQ', 0x8140: 'N-CREATE-RSP', 0x0150: 'N-DELETE-RQ', 0x8150: 'N-DELETE-RSP',
};

// ---- encode ----------------------------------------------------------------------------------------

/** (0000,0000) UL: tag, length 4, value. */
const GROUP_LENGTH_ELEMENT = 12;

/**
 * The command set of `msg` in Implicit VR Little Endian: Command Group Length (0000,0000) first,
 * then exactly the elements PS3.7 Tables 9.3-1 to 9.3-13 define for its type, in tag order; UIDs
 * NUL-padded, AE titles and Error Comment space-padded to even length. An Error Comment is cut to 64
 * characters and characters other than printable ASCII become '?' (LO, default repertoire).
 * @throws DimseError ERR_DIMSE_INVALID for a missing mandatory field or a value its VR cannot hold.
 */
export function encodeCommand(msg: DimseMessage): Buffer {
  const fields = MESSAGE_FIELDS[msg.type] as MessageFields | undefined;
  if (fields === undefined) {
    throw new DimseError(ErrorCode.DimseInvalid, `cannot encode a command of type '${String((msg as { type?: unknown }).type)}'`);
  }
  // Measure first, then allocate once and write (no length patched in afterwards).
  const values = new Array<string | number | readonly number[] | undefined>(fields.length);
  let groupLength = 0;
  for (let i = 0; i < fields.length; i++) {
    const [spec, usage] = fields[i]!;
    const value = encodableValue(msg, spec);
    if (value === undefined) {
      if (usage === 'M') throw missing(msg.type, spec);
      continue;
    }
    values[i] = value;
    groupLength += 8 + valueLength(spec, value);
  }
  // Every byte of a command set is written below (padding included; checked at the end), so the
  // buffer may come from Node's pool: a fresh zero-filled ArrayBuffer per message costs more than
  // the whole encoding.
  const total = GROUP_LENGTH_ELEMENT + groupLength;
  const w: Writer = { buf: Buffer.allocUnsafe(total), pos: 0 };
  writeHeader(w, 0x0000, 4);
  writeU32le(w, groupLength);
  for (let i = 0; i < fields.length; i++) {
    const value = values[i];
    if (value === undefined) continue;
    const spec = fields[i]![0];
    const length = valueLength(spec, value);
    writeHeader(w, spec.tag & 0xffff, length);
    switch (spec.vr) {
      case 'US':
        writeU16le(w, value as number);
        break;
      case 'AT':
        for (const t of value as readonly number[]) {
          writeU16le(w, t >>> 16);
          writeU16le(w, t & 0xffff);
        }
        break;
      case 'UI':
        // PS3.5 §9.1: a UID is padded to even length with a single trailing NUL
        writeAscii(w, value as string, length, 0x00);
        break;
      default:
        // PS3.5 §6.2: AE and LO are padded to even length with a trailing space
        writeAscii(w, value as string, length, 0x20);
    }
  }
  if (w.pos !== total) throw new DimseError(ErrorCode.DimseInvalid, `${msg.type}: wrote ${w.pos} of ${total} bytes`);
  return w.buf;
}

/** The value to write for `spec`, validated and normalized, or undefined when the message has none. */
function encodableValue(msg: DimseMessage, spec: ElementSpec): string | number | readonly number[] | undefined {
  if (spec.key === 'type') return COMMAND_FIELD[msg.type];
  if (spec.key === 'hasDataset') return msg.hasDataset === true ? CommandDataSetType.DataSetPresent : CommandDataSetType.NoDataSet;
  const value = (msg as unknown as Readonly<Record<string, unknown>>)[spec.key];
  if (value === undefined) return undefined;
  switch (spec.vr) {
    case 'US':
      if (!isUs(value)) throw invalid(msg.type, spec, `${spec.keyword} ${String(value)} is not a US value (0-65535)`);
      // PS3.7 Table E.1-1: Priority is LOW 0002H, MEDIUM 0000H or HIGH 0001H
      if (spec === PriorityElement && value > 2) throw invalid(msg.type, spec, `Priority ${value} is not 0 (medium), 1 (high) or 2 (low)`);
      return value;
    case 'UI':
      // PS3.5 §9.1: digits and dots, at most 64 characters
      if (typeof value !== 'string' || !/^[0-9.]{1,64}$/.test(value)) {
        throw invalid(msg.type, spec, `${spec.keyword} ${JSON.stringify(value)} is not a UID`);
      }
      return value;
    case 'AE': {
      // PS3.5 Table 6.2-1 (AE): at most 16 characters, no backslash or control characters;
      // leading and trailing spaces are not significant
      const ae = typeof value === 'string' ? value.trim() : '';
      if (ae.length === 0 || ae.length > 16 || !/^[\x20-\x5b\x5d-\x7e]+$/.test(ae)) {
        throw invalid(msg.type, spec, `${spec.keyword} ${JSON.stringify(value)} is not an AE title (1-16 characters, no backslash or control characters)`);
      }
      return ae;
    }
    case 'LO': {
      if (typeof value !== 'string') throw invalid(msg.type, spec, `${spec.keyword} is not a string`);
      // PS3.5 Table 6.2-1 (LO): at most 64 characters of the default repertoire, no backslash
      const lo = value.replace(/[^\x20-\x5b\x5d-\x7e]/g, '?').slice(0, 64);
      return lo.length === 0 ? undefined : lo;
    }
    case 'AT':
      if (!Array.isArray(value) || !value.every((t) => Number.isInteger(t) && t >= 0 && t <= 0xffffffff)) {
        throw invalid(msg.type, spec, `${spec.keyword} is not a list of tags`);
      }
      return value.length === 0 ? undefined : value;
  }
}

function valueLength(spec: ElementSpec, value: string | number | readonly number[]): number {
  switch (spec.vr) {
    case 'US': return 2;
    case 'AT': return 4 * (value as readonly number[]).length;
    default: {
      const n = (value as string).length;
      return n + (n & 1);
    }
  }
}

/** Implicit VR Little Endian element header in group 0000: tag, 32-bit length (PS3.5 §7.1.3). */
function writeHeader(w: Writer, element: number, length: number): void {
  writeU16le(w, 0x0000);
  writeU16le(w, element);
  writeU32le(w, length);
}

function isUs(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff;
}

// ---- decode ----------------------------------------------------------------------------------------

const SCRATCH = new Int32Array(SLOTS * 2);

const commandTruncated = (message: string, field: string, offset: number): DimseError =>
  new DimseError(ErrorCode.DimseInvalid, `command set: ${message}`, { field, offset });

/**
 * The DIMSE message in a command set (Implicit VR Little Endian). Tolerant: elements we do not read
 * (and any outside group 0000) are skipped, Command Group Length is not checked, trailing spaces and
 * NULs are stripped from UIDs and AE titles, and elements may come in any order.
 * @throws DimseError ERR_DIMSE_INVALID for a truncated command set, a missing mandatory element (the
 * error names its tag), an element value of the wrong length, or an unsupported Command Field.
 */
export function decodeCommand(buf: Buffer): DimseMessage {
  const c = createCursor(buf, 0, buf.length, 0, commandTruncated);
  // Offset and length of each element we read, by slot; -1 when absent. Reused: decoding is
  // synchronous, and a typed array allocated per call costs more than the whole decode.
  const at = SCRATCH.fill(-1);
  while (remaining(c) > 0) {
    const offset = c.pos;
    if (remaining(c) < 8) {
      throw new DimseError(ErrorCode.DimseInvalid, `command set: truncated element header, ${remaining(c)} bytes left`, { offset });
    }
    const group = u16le(c, 'element tag');
    const element = u16le(c, 'element tag');
    const length = u32le(c, 'element length');
    if (length > remaining(c)) {
      // PS3.7 §6.3.1: a command set holds no sequences, so no element has undefined length
      const why = length === 0xffffffff ? 'undefined length, not allowed in a command set' : `value length ${length} exceeds the ${remaining(c)} bytes left`;
      throw new DimseError(ErrorCode.DimseInvalid, `command set: ${why}`, { tag: formatTag(((group << 16) | element) >>> 0), offset });
    }
    const spec = group === 0x0000 ? elementSpec(element) : undefined;
    if (spec !== undefined) {
      at[spec.slot * 2] = c.pos;
      at[spec.slot * 2 + 1] = length;
    }
    skip(c, length, 'element value');
  }

  const field = readValue(c, at, CommandFieldElement, 'command set');
  if (field === undefined) throw missing('command set', CommandFieldElement);
  const type = typeOfCommandField(field as number);
  if (type === undefined) {
    const name = DIMSE_N[field as number];
    throw new DimseError(ErrorCode.DimseInvalid, `command set: unsupported CommandField ${hex4(field as number)}${name ? ` (${name})` : ''}`, {
      tag: formatTag(CommandFieldElement.tag),
    });
  }
  const out: Record<string, unknown> = { type };
  const fields = MESSAGE_FIELDS[type];
  for (let i = 0; i < fields.length; i++) {
    const [spec, usage] = fields[i]!;
    if (spec === CommandFieldElement) continue;
    const value = readValue(c, at, spec, type);
    if (value === undefined) {
      if (usage === 'M') throw missing(type, spec);
      continue;
    }
    // PS3.7 Table E.1-1: Command Data Set Type 0101H is "no data set"; any other value, a data set
    out[spec.key] = spec === DataSetType ? value !== CommandDataSetType.NoDataSet : value;
  }
  return out as unknown as DimseMessage;
}

/** The value of one element, or undefined when it is absent or empty. */
function readValue(c: Cursor, at: Int32Array, spec: ElementSpec, where: string): string | number | number[] | undefined {
  const length = at[spec.slot * 2 + 1]!;
  if (length <= 0) return undefined;
  c.pos = at[spec.slot * 2]!;
  switch (spec.vr) {
    case 'US':
      if (length !== 2) throw invalid(where, spec, `${spec.keyword} has ${length} bytes, US needs 2`, c.pos);
      return u16le(c, spec.keyword);
    case 'AT': {
      if (length % 4 !== 0) throw invalid(where, spec, `${spec.keyword} has ${length} bytes, AT needs a multiple of 4`, c.pos);
      const tags = new Array<number>(length / 4);
      for (let i = 0; i < tags.length; i++) {
        const g = u16le(c, spec.keyword);
        tags[i] = ((g << 16) | u16le(c, spec.keyword)) >>> 0;
      }
      return tags;
    }
    default: {
      // PS3.5 §6.2: trailing spaces (and a UID's trailing NUL) are padding; for AE and LO, leading
      // spaces are not significant either
      const text = trimPadding(ascii(c, length, spec.keyword));
      return text.length === 0 ? undefined : text;
    }
  }
}

function trimPadding(s: string): string {
  let start = 0;
  let end = s.length;
  while (end > start && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0x00)) end--;
  while (start < end && s.charCodeAt(start) === 0x20) start++;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

function missing(where: string, spec: ElementSpec): DimseError {
  return new DimseError(ErrorCode.DimseInvalid, `${where}: missing ${spec.keyword}`, { tag: formatTag(spec.tag) });
}

function invalid(where: string, spec: ElementSpec, message: string, offset?: number): DimseError {
  return new DimseError(ErrorCode.DimseInvalid, `${where}: ${message}`, offset === undefined
    ? { tag: formatTag(spec.tag) }
    : { tag: formatTag(spec.tag), offset });
}

function hex4(n: number): string {
  return `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;
}

// ---- helpers ---------------------------------------------------------------------------------------

/**
 * Failed SOP Instance UID List (0008,0058) of a C-MOVE-RSP or C-GET-RSP identifier (PS3.4
 * §C.4.2.1.4.2, §C.4.3.1.4.2): it travels in the response's data set, not its command set.
 * Empty when absent.
 */
export function getFailedSopInstanceUidList(identifier: Dataset): string[] {
  const value = getValue(identifier, 0x00080058);
  const list = Buffer.isBuffer(value) ? value.toString('latin1').split('\\') : value ?? [];
  const out: string[] = [];
  for (const uid of list) {
    if (typeof uid !== 'string') continue;
    const trimmed = trimPadding(uid);
    if (trimmed !== '') out.push(trimmed);
  }
  return out;
}

/** The service whose status table applies to a message (for status names). */
export function serviceOf(type: DimseType): DimseService | undefined {
  return type === 'C-CANCEL-RQ' ? undefined : (type.replace(/-(RQ|RSP)$/, '') as DimseService);
}

const PRIORITY_NAME: Readonly<Record<number, string>> = { 1: 'high', 2: 'low' };

/**
 * One line for traces: type, message id, context, then the fields that matter for the type, e.g.
 * `C-FIND-RSP id=3 ctx=1 status=0xFF00 Pending`,
 * `C-MOVE-RSP id=5 status=0xFF00 Pending remaining=3 completed=7 failed=0 warning=0`.
 */
export function describeMessage(msg: DimseMessage, extra: { contextId?: number; elapsedMs?: number } = {}): string {
  let s = `${msg.type} id=${'messageId' in msg ? msg.messageId : msg.messageIdBeingRespondedTo}`;
  if (extra.contextId !== undefined) s += ` ctx=${extra.contextId}`;
  switch (msg.type) {
    case 'C-ECHO-RQ':
      s += ` sop=${msg.affectedSopClassUid}`;
      break;
    case 'C-FIND-RQ':
    case 'C-GET-RQ':
    case 'C-MOVE-RQ':
    case 'C-STORE-RQ':
      s += ` sop=${msg.affectedSopClassUid}`;
      if (PRIORITY_NAME[msg.priority]) s += ` priority=${PRIORITY_NAME[msg.priority]}`;
      if (msg.type === 'C-MOVE-RQ') s += ` dest=${msg.moveDestination}`;
      if (msg.type === 'C-STORE-RQ') {
        s += ` iuid=${msg.affectedSopInstanceUid}`;
        if (msg.moveOriginatorApplicationEntityTitle !== undefined || msg.moveOriginatorMessageId !== undefined) {
          s += ` origin=${msg.moveOriginatorApplicationEntityTitle ?? '?'}/${msg.moveOriginatorMessageId ?? '?'}`;
        }
      }
      break;
    case 'C-CANCEL-RQ':
      break;
    default: {
      s += ` status=${formatStatus(msg.status, serviceOf(msg.type))}`;
      if (msg.type === 'C-MOVE-RSP' || msg.type === 'C-GET-RSP') {
        if (msg.numberOfRemainingSuboperations !== undefined) s += ` remaining=${msg.numberOfRemainingSuboperations}`;
        if (msg.numberOfCompletedSuboperations !== undefined) s += ` completed=${msg.numberOfCompletedSuboperations}`;
        if (msg.numberOfFailedSuboperations !== undefined) s += ` failed=${msg.numberOfFailedSuboperations}`;
        if (msg.numberOfWarningSuboperations !== undefined) s += ` warning=${msg.numberOfWarningSuboperations}`;
      }
      if (msg.type === 'C-STORE-RSP' && msg.affectedSopInstanceUid !== undefined) s += ` iuid=${msg.affectedSopInstanceUid}`;
      if (msg.errorComment !== undefined) s += ` comment=${JSON.stringify(msg.errorComment)}`;
      if (msg.offendingElement !== undefined) s += ` offending=${msg.offendingElement.map(formatTag).join(',')}`;
      if (msg.errorId !== undefined) s += ` errorId=${msg.errorId}`;
    }
  }
  if (extra.elapsedMs !== undefined) s += ` (${extra.elapsedMs.toFixed(2)} ms)`;
  return s;
}
