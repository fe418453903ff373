// Dataset encoding (PS3.5 §7): implicit and explicit VR little endian, deflated explicit VR LE.
// Measure first, allocate once, write. Elements are written in ascending tag order, values padded to
// even length; sequences and items keep the length form they were read with (undefined when built).

import { deflateRawSync } from 'node:zlib';
import { DatasetError, ErrorCode } from '../errors.js';
import { sortedElements, type Dataset, type Element } from './dataset.js';
import { vrOfTag } from './dictionary.js';
import { ItemDelimitationTag, ItemTag, SequenceDelimitationTag, UndefinedLength } from './tag.js';
import type { TransferSyntax } from './uids.js';
import { VR_INFO, type VR } from './vr.js';

interface Plan {
  readonly explicit: boolean;
  /** Measured sizes of sequences' item lists and items, reused by the write pass. */
  readonly sizes: Map<object, number>;
}

/** Encoded length of a dataset in a (non-deflated) syntax. */
export function datasetLength(ds: Dataset, syntax: TransferSyntax): number {
  checkSyntax(syntax);
  return measureDataset(ds, { explicit: syntax.explicitVr, sizes: new Map() });
}

/**
 * Encode a dataset. Explicit VR big endian is read-only.
 * @throws DatasetError ERR_UNSUPPORTED_TRANSFER_SYNTAX
 */
export function encodeDataset(ds: Dataset, syntax: TransferSyntax): Buffer {
  checkSyntax(syntax);
  const plan: Plan = { explicit: syntax.explicitVr, sizes: new Map() };
  const length = measureDataset(ds, plan);
  const out = Buffer.alloc(length);
  const end = writeDataset(out, 0, ds, plan);
  if (end !== length) throw new Error(`encodeDataset: wrote ${end} of ${length} bytes`);
  return syntax.deflated ? deflateRawSync(out) : out;
}

function checkSyntax(syntax: TransferSyntax): void {
  if (!syntax.littleEndian) {
    throw new DatasetError(ErrorCode.UnsupportedTransferSyntax, `writing ${syntax.uid} (Explicit VR Big Endian, retired) is not supported`);
  }
}

function headerLength(vr: VR, explicit: boolean, valueLength: number): number {
  if (!explicit) return 8;
  return VR_INFO[vr].longLength || valueLength > 0xffff ? 12 : 8;
}

function isSequence(el: Element): boolean {
  return el.items !== undefined;
}

/**
 * PS3.5 §6.2.2: UN is for elements whose VR is not known. A UN sequence of a tag the dictionary knows
 * as SQ (a Hologic object sends (0040,0260) so) is written as SQ, its items in the dataset's syntax.
 */
function sequenceVr(el: Element): VR {
  return el.vr === 'UN' && vrOfTag(el.tag) === 'SQ' ? 'SQ' : el.vr;
}

function measureDataset(ds: Dataset, plan: Plan): number {
  let n = 0;
  for (const el of ds.elements.values()) n += measureElement(el, plan);
  return n;
}

function measureElement(el: Element, plan: Plan): number {
  if (isSequence(el)) {
    // PS3.5 §6.2.2: a UN sequence's items are implicit VR little endian.
    const vr = sequenceVr(el);
    const itemPlan = vr === 'UN' ? { explicit: false, sizes: plan.sizes } : plan;
    let body = 0;
    for (const item of el.items!) {
      const size = measureDataset(item, itemPlan);
      plan.sizes.set(item, size);
      body += 8 + size + (itemUndefined(item) ? 8 : 0);
    }
    plan.sizes.set(el, body);
    return headerLength(vr, plan.explicit, 0) + body + (seqUndefined(el) ? 8 : 0);
  }
  if (el.undefinedLength) return headerLength(el.vr, plan.explicit, 0) + el.value.length + 8;
  const len = el.value.length + (el.value.length & 1);
  return headerLength(el.vr, plan.explicit, len) + len;
}

function seqUndefined(el: Element): boolean {
  return el.offset < 0 || el.undefinedLength === true;
}

function itemUndefined(item: Dataset): boolean {
  return item.offset < 0 || item.undefinedLength === true;
}

function writeDataset(out: Buffer, pos: number, ds: Dataset, plan: Plan): number {
  for (const el of sortedElements(ds)) pos = writeElement(out, pos, el, plan, ds.littleEndian);
  return pos;
}

function writeHeader(out: Buffer, pos: number, el: Element, explicit: boolean, length: number, elVr: VR = el.vr): number {
  out.writeUInt16LE(el.tag >>> 16, pos);
  out.writeUInt16LE(el.tag & 0xffff, pos + 2);
  if (!explicit) {
    out.writeUInt32LE(length >>> 0, pos + 4);
    return pos + 8;
  }
  // PS3.5 §6.2.2 note: a value too long for a 16-bit length is written as UN.
  const vr: VR = !VR_INFO[elVr].longLength && length > 0xffff && length !== UndefinedLength ? 'UN' : elVr;
  out.write(vr, pos + 4, 'latin1');
  if (VR_INFO[vr].longLength) {
    out.writeUInt32LE(length >>> 0, pos + 8);
    return pos + 12;
  }
  out.writeUInt16LE(length, pos + 6);
  return pos + 8;
}

function writeElement(out: Buffer, pos: number, el: Element, plan: Plan, sourceLe: boolean): number {
  if (isSequence(el)) {
    const undefinedSeq = seqUndefined(el);
    const vr = sequenceVr(el);
    pos = writeHeader(out, pos, el, plan.explicit, undefinedSeq ? UndefinedLength : plan.sizes.get(el)!, vr);
    const itemPlan = vr === 'UN' ? { explicit: false, sizes: plan.sizes } : plan;
    for (const item of el.items!) {
      const undefinedItem = itemUndefined(item);
      pos = writeItemTag(out, pos, ItemTag, undefinedItem ? UndefinedLength : plan.sizes.get(item)!);
      pos = writeDataset(out, pos, item, itemPlan);
      if (undefinedItem) pos = writeItemTag(out, pos, ItemDelimitationTag, 0);
    }
    return undefinedSeq ? writeItemTag(out, pos, SequenceDelimitationTag, 0) : pos;
  }
  if (el.undefinedLength) {
    // Encapsulated pixel data: the fragment items are copied as read.
    pos = writeHeader(out, pos, el, plan.explicit, UndefinedLength);
    pos += el.value.copy(out, pos);
    return writeItemTag(out, pos, SequenceDelimitationTag, 0);
  }
  const v = el.value;
  const len = v.length + (v.length & 1);
  pos = writeHeader(out, pos, el, plan.explicit, len);
  const info = VR_INFO[el.vr];
  if (!sourceLe && info.wordSize > 1) {
    swapInto(out, pos, v, el.vr === 'AT' ? 2 : info.wordSize);
  } else {
    v.copy(out, pos);
  }
  if (v.length & 1) out[pos + v.length] = info.pad;
  return pos + len;
}

function writeItemTag(out: Buffer, pos: number, t: number, length: number): number {
  out.writeUInt16LE(t >>> 16, pos);
  out.writeUInt16LE(t & 0xffff, pos + 2);
  out.writeUInt32LE(length >>> 0, pos + 4);
  return pos + 8;
}

/** Big-endian words → little-endian, for re-encoding Explicit VR Big Endian input. */
function swapInto(out: Buffer, pos: number, v: Buffer, size: number): void {
  const n = v.length - (v.length % size);
  for (let i = 0; i < n; i += size) {
    for (let j = 0; j < size; j++) out[pos + i + j] = v[i + size - 1 - j]!;
  }
  v.copy(out, pos + n, n);
}
