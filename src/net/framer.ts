// TCP chunks in, whole PDUs out (PS3.8 §9.3.1: a 6-byte header whose PDU-length counts the bytes after it).
// Chunks are queued, not concatenated: a PDU inside one chunk is handed over as a view; only a PDU that
// spans chunks is copied, once, into a buffer of its exact size. Bad headers are refused on arrival.

import { createCursor, u32be, u8, type Cursor } from '../bytes.js';
import { ErrorCode, PduError } from '../errors.js';
import { pduTruncated } from './items.js';
import { AbortReason, PDU_HEADER_LENGTH, PduType, isPduType } from './pdu.js';

/** Cap on A-ASSOCIATE-RQ/AC and the fixed-size PDUs, which the negotiated maximum does not bound (PS3.8 D.1). */
export const MAX_ASSOCIATE_PDU_LENGTH = 1 << 20;

/** Cap on P-DATA-TF when we declared no maximum (0), to bound memory. */
export const UNLIMITED_P_DATA_CAP = 64 << 20;

export interface FramerOptions {
  /** Largest PDU-length accepted for PDUs other than P-DATA-TF; default 1 MiB (a 120-context RQ is ~13 KB). */
  readonly maxAssociatePduLength?: number;
}

/** Receives each whole PDU (header included; a view where possible) and its offset in the stream. */
export type PduHandler = (pdu: Buffer, offset: number) => void;

export interface Framer {
  /**
   * Queue a chunk and hand every PDU it completes to the handler, in order.
   * @throws PduError ERR_PDU_UNKNOWN_TYPE (abort reason 1) or ERR_PDU_TOO_LARGE (reason 6) after the PDUs
   * before the fault were handed over; then again on every call.
   */
  push(chunk: Buffer): void;
  /** Bytes queued that do not yet make a whole PDU. */
  buffered(): number;
}

/**
 * A framer for a stream whose P-DATA-TF PDUs we bounded by `maxPduLength`, the Maximum Length we sent
 * (0 = no maximum, capped at 64 MiB). PDUs go to `onPdu` as they complete, so a fault later in the same
 * chunk surfaces after the PDUs before it, as a PDU-at-a-time reader would see them (PS3.8 Table 9-10
 * takes events in arrival order); returning an array would lose them or delay the fault. The framer's
 * state is settled before each call to `onPdu`, so a handler may throw or stop pushing.
 */
export function createFramer(maxPduLength: number, onPdu: PduHandler, options: FramerOptions = {}): Framer {
  const maxData = maxPduLength === 0 ? UNLIMITED_P_DATA_CAP : maxPduLength;
  const maxOther = options.maxAssociatePduLength ?? MAX_ASSOCIATE_PDU_LENGTH;
  const chunks: Buffer[] = []; // the queue is chunks[first..]; consumed entries are dropped in batches
  let first = 0;
  let head = 0; // read position in chunks[first]
  let queued = 0; // bytes from chunks[first][head] to the end of the queue
  let streamOffset = 0; // offset of chunks[first][head] since the first byte pushed, for errors
  let expected = 0; // size of the PDU being assembled once its header is read; 0 before
  let failure: PduError | undefined;
  const header = Buffer.alloc(PDU_HEADER_LENGTH); // a header that spans chunks is copied here

  function fail(error: PduError): never {
    failure = error;
    throw error;
  }

  /** Drop chunks[first] once read to its end. */
  function advanceChunk(): void {
    // Drop the reference at once: a long stream rarely empties the queue, and a read chunk kept
    // here would hold its memory until then (memory must stay flat in the number of responses).
    (chunks as Array<Buffer | undefined>)[first] = undefined;
    first++;
    head = 0;
    if (first === chunks.length) {
      chunks.length = 0;
      first = 0;
    } else if (first >= 1024 && first * 2 >= chunks.length) {
      chunks.splice(0, first);
      first = 0;
    }
  }

  /** Copy `n` bytes from the front of the queue into `target` without consuming them. */
  function peek(target: Buffer, n: number): void {
    let copied = 0;
    let pos = head;
    for (let i = first; copied < n; i++) {
      const chunk = chunks[i]!;
      copied += chunk.copy(target, copied, pos, Math.min(chunk.length, pos + n - copied));
      pos = 0;
    }
  }

  /** Remove `n` bytes from the front of the queue: a view if they lie in one chunk, else one exact copy. */
  function take(n: number): Buffer {
    const chunk = chunks[first]!;
    if (chunk.length - head >= n) {
      const pdu = chunk.subarray(head, head + n);
      head += n;
      if (head === chunk.length) advanceChunk();
      return pdu;
    }
    const pdu = Buffer.allocUnsafe(n); // every byte is copied in below
    let copied = 0;
    while (copied < n) {
      const next = chunks[first]!;
      const count = next.copy(pdu, copied, head, Math.min(next.length, head + n - copied));
      copied += count;
      head += count;
      if (head === next.length) advanceChunk();
    }
    return pdu;
  }

  /** Check the PDU-type as soon as its byte is here, and the PDU-length once the whole header is. */
  function readHeader(): boolean {
    const chunk = chunks[first]!;
    const type = u8(createCursor(chunk, head, head + 1, streamOffset - head, pduTruncated), 'PDU-type');
    if (!isPduType(type)) {
      // PS3.8 §9.3.1, Table 9-26: an unrecognized PDU type is reason 1; its length is not trusted, so
      // nothing after the type byte is awaited.
      fail(
        new PduError(ErrorCode.PduUnknownType, `PDU-type: 0x${type.toString(16).padStart(2, '0')} is not a PDU type`, {
          field: 'PDU-type',
          offset: streamOffset,
          abortReason: AbortReason.UnrecognizedPdu,
        }),
      );
    }
    if (queued < PDU_HEADER_LENGTH) return false;
    let c: Cursor;
    if (chunk.length - head >= PDU_HEADER_LENGTH) {
      c = createCursor(chunk, head + 2, head + PDU_HEADER_LENGTH, streamOffset - head, pduTruncated);
    } else {
      peek(header, PDU_HEADER_LENGTH);
      c = createCursor(header, 2, PDU_HEADER_LENGTH, streamOffset, pduTruncated);
    }
    const length = u32be(c, 'PDU-length');
    // PS3.8 D.1: the Maximum Length we sent bounds the variable field of each P-DATA-TF, i.e. its PDU-length.
    // A PDU over it is refused before any of its body is buffered: invalid-PDU-parameter-value (Table 9-26).
    const max = type === PduType.PDataTf ? maxData : maxOther;
    if (length > max) {
      fail(
        new PduError(ErrorCode.PduTooLarge, `PDU-length: ${length} exceeds the maximum ${max}`, {
          field: 'PDU-length',
          offset: streamOffset + 2,
          abortReason: AbortReason.InvalidPduParameterValue,
        }),
      );
    }
    expected = PDU_HEADER_LENGTH + length;
    return true;
  }

  return {
    push(chunk) {
      if (failure !== undefined) throw failure;
      if (chunk.length === 0) return;
      chunks.push(chunk);
      queued += chunk.length;
      while (queued > 0) {
        if (expected === 0 && !readHeader()) break;
        if (queued < expected) break;
        const pdu = take(expected);
        const offset = streamOffset;
        queued -= expected;
        streamOffset += expected;
        expected = 0;
        onPdu(pdu, offset);
      }
    },
    buffered: () => queued,
  };
}
