// DIMSE messages over P-DATA-TF (PS3.8 Annex E, PS3.7 §6.3.1, §9.3): split a command and its data set
// into PDVs no larger than the peer's Maximum Length, and reassemble PDVs into messages, optionally
// streaming a data set to a sink as it arrives.

import { createCursor, createWriter, remaining, skip, u16le, u32le, writeBytes, type ErrorFactory } from '../bytes.js';
import { ErrorCode, PduError } from '../errors.js';
import { checkUint } from './items.js';
import { encodePDataHeaderInto, P_DATA_TF_HEADER_LENGTH, PDV_HEADER_LENGTH } from './pdu-codec.js';
import { AbortReason, type PDataTf } from './pdu.js';

/**
 * Largest PDU-length we send to a peer that declared no maximum (0). PS3.8 D.1: "a value of zero indicates
 * that no maximum length is specified", so any size is allowed; 1 MiB keeps each PDU's buffering bounded
 * on both sides and lets other messages interleave.
 */
export const UNLIMITED_SEND_LENGTH = 1 << 20;

/** A complete DIMSE message: its command set and, unless streamed to a sink, its data set. */
export interface PDataMessage {
  readonly contextId: number;
  readonly command: Buffer;
  /** The data set; absent when the command announces none (0000,0800 = 0x0101) or when it was streamed. */
  readonly dataset?: Buffer;
  /** True when the data set went to a sink returned by `streamDataset`. */
  readonly datasetStreamed?: true;
}

/** Receives a data set fragment by fragment; `data` is a view into the PDU. */
export type DatasetSink = (data: Buffer, isLast: boolean) => void;

export interface AssemblerOptions {
  /**
   * Called when a command that announces a data set is complete (before any of the data set arrives);
   * return a sink to receive that data set's fragments instead of accumulating them (the C-STORE SCP
   * streams objects to disk), or undefined to accumulate.
   */
  readonly streamDataset?: (contextId: number, command: Buffer) => DatasetSink | undefined;
  /** Whether a data set follows this command; default reads Command Data Set Type (0000,0800). */
  readonly hasDataset?: (command: Buffer) => boolean;
  /** Largest accumulated command or data set; default 256 MiB. */
  readonly maxMessageLength?: number;
}

export interface MessageAssembler {
  /**
   * Feed the PDVs of one P-DATA-TF; return the messages they complete.
   * @throws PduError ERR_PDU_INVALID (abort reason 5) for a PDV out of sequence; ERR_PDU_TOO_LARGE over the cap.
   */
  push(pdu: PDataTf): PDataMessage[];
  /** True while a message is partly received. */
  inProgress(): boolean;
}

// ---------------------------------------------------------------------------------------------
// Sending

/** Data bytes per PDV so that PDU-length = 4 + 2 + data ≤ max (PS3.8 D.1, Table 9-23), rounded down to even. */
function fragmentLength(peerMaxLength: number): number {
  checkUint(peerMaxLength, 4, 'Maximum-length-received');
  const max = peerMaxLength === 0 ? UNLIMITED_SEND_LENGTH : peerMaxLength;
  // Fragments are kept even: data sets and command sets are even-length (PS3.5 §7.1), and some receivers
  // decode each PDV as it arrives.
  const n = (max - PDV_HEADER_LENGTH) & ~1;
  if (n < 2) {
    throw new PduError(ErrorCode.PduInvalid, `Maximum-length-received: ${peerMaxLength} leaves no room for a PDV`, {
      field: 'Maximum-length-received',
      abortReason: AbortReason.NotSpecified,
    });
  }
  return n;
}

function fragmentCount(length: number, per: number): number {
  return length === 0 ? 1 : Math.ceil(length / per);
}

/**
 * The P-DATA-TF PDUs carrying one DIMSE message, as one buffer for one socket write: the command in its
 * own PDU(s), then the data set in its own, one PDV per PDU, each PDU-length within `peerMaxLength`
 * (0 = no maximum; sent in 1 MiB PDUs).
 * @throws PduError ERR_PDU_INVALID when `peerMaxLength` cannot hold a 2-byte PDV or a value does not fit its field.
 */
export function fragmentMessage(contextId: number, command: Buffer, dataset: Buffer | undefined, peerMaxLength: number): Buffer {
  checkUint(contextId, 1, 'Presentation-context-ID');
  const per = fragmentLength(peerMaxLength);
  const commandPdus = fragmentCount(command.length, per);
  const datasetPdus = dataset === undefined ? 0 : fragmentCount(dataset.length, per);
  const total = (commandPdus + datasetPdus) * P_DATA_TF_HEADER_LENGTH + command.length + (dataset?.length ?? 0);
  const w = createWriter(total);
  const put = (data: Buffer, isCommand: boolean, count: number): void => {
    for (let i = 0; i < count; i++) {
      const part = data.subarray(i * per, Math.min(data.length, (i + 1) * per));
      const header = { presentationContextId: contextId, isCommand, isLast: i === count - 1 };
      w.pos = encodePDataHeaderInto(w.buf, w.pos, header, part.length);
      writeBytes(w, part);
    }
  };
  put(command, true, commandPdus);
  if (dataset !== undefined) put(dataset, false, datasetPdus);
  return w.buf;
}

// ---------------------------------------------------------------------------------------------
// Receiving

const commandInvalid: ErrorFactory = (message, field, offset) =>
  new PduError(ErrorCode.PduInvalid, `command set: ${message}`, { field, offset, abortReason: AbortReason.NotSpecified });

/**
 * Whether a data set follows this command: Command Data Set Type (0000,0800) other than 0x0101 (PS3.7 §9.3, E.1).
 * The command set is Implicit VR Little Endian (PS3.7 §6.3.1).
 * @throws PduError ERR_PDU_INVALID when the command set is malformed or lacks (0000,0800).
 */
export function commandHasDataset(command: Buffer): boolean {
  const c = createCursor(command, 0, command.length, 0, commandInvalid);
  while (remaining(c) > 0) {
    const group = u16le(c, 'group');
    const element = u16le(c, 'element');
    const length = u32le(c, 'value length');
    if (group === 0x0000 && element === 0x0800) {
      if (length !== 2) throw commandInvalid(`(0000,0800) has length ${length}, not 2`, 'CommandDataSetType', c.pos - 4);
      return u16le(c, 'CommandDataSetType') !== 0x0101;
    }
    skip(c, length, 'command element value');
  }
  throw commandInvalid('Command Data Set Type (0000,0800) is absent', 'CommandDataSetType', command.length);
}

function unexpected(message: string, field: string): PduError {
  // PS3.8 Table 9-26 reason 5: the PDV is well formed but not expected at this point of the message.
  return new PduError(ErrorCode.PduInvalid, message, { field, abortReason: AbortReason.UnexpectedPduParameter });
}

/** Accumulates views; joins them once (one copy) or returns the single view. */
interface Parts {
  list: Buffer[];
  length: number;
}

function join(parts: Parts): Buffer {
  return parts.list.length === 1 ? parts.list[0]! : Buffer.concat(parts.list, parts.length);
}

/** Reassemble DIMSE messages from P-DATA-TF PDUs (PS3.8 Annex E: a command, then its data set, one context). */
export function createMessageAssembler(options: AssemblerOptions = {}): MessageAssembler {
  const hasDataset = options.hasDataset ?? commandHasDataset;
  const maxLength = options.maxMessageLength ?? 256 << 20;
  // 'idle' between messages; 'command' while command fragments arrive; 'dataset' while data set fragments do.
  let phase: 'idle' | 'command' | 'dataset' = 'idle';
  let contextId = 0;
  let command: Buffer | undefined;
  let parts: Parts = { list: [], length: 0 };
  let sink: DatasetSink | undefined;

  function add(data: Buffer, what: string): void {
    if (parts.length + data.length > maxLength) {
      const message = `${what}: more than ${maxLength} bytes`;
      throw new PduError(ErrorCode.PduTooLarge, message, { field: what, abortReason: AbortReason.NotSpecified });
    }
    parts.list.push(data);
    parts.length += data.length;
  }

  return {
    push(pdu) {
      const messages: PDataMessage[] = [];
      for (const pdv of pdu.pdvs) {
        const id = pdv.presentationContextId;
        if (phase === 'idle') {
          if (!pdv.isCommand) throw unexpected(`data set fragment on context ${id} before its command`, 'Message Control Header');
          phase = 'command';
          contextId = id;
        } else if (id !== contextId) {
          throw unexpected(`PDV on context ${id} inside a message on context ${contextId}`, 'Presentation-context-ID');
        } else if (phase === 'command' && !pdv.isCommand) {
          throw unexpected(`data set fragment on context ${id} before the last command fragment`, 'Message Control Header');
        } else if (phase === 'dataset' && pdv.isCommand) {
          throw unexpected(`command fragment on context ${id} while its data set is expected`, 'Message Control Header');
        }

        if (phase === 'command') {
          add(pdv.data, 'command set');
          if (!pdv.isLast) continue;
          command = join(parts);
          parts = { list: [], length: 0 };
          if (!hasDataset(command)) {
            messages.push({ contextId, command });
            phase = 'idle';
            command = undefined;
            continue;
          }
          phase = 'dataset';
          sink = options.streamDataset?.(contextId, command);
          continue;
        }

        // phase === 'dataset'
        if (sink !== undefined) sink(pdv.data, pdv.isLast);
        else add(pdv.data, 'data set');
        if (!pdv.isLast) continue;
        messages.push(
          sink !== undefined
            ? { contextId, command: command!, datasetStreamed: true }
            : { contextId, command: command!, dataset: join(parts) },
        );
        phase = 'idle';
        command = undefined;
        sink = undefined;
        parts = { list: [], length: 0 };
      }
      return messages;
    },
    inProgress: () => phase !== 'idle',
  };
}
