// Dataset decoding (PS3.5 §7): implicit and explicit VR little endian, explicit VR big endian,
// deflated explicit VR little endian; sequences and items of defined and undefined length.
// Values are not decoded here: each element records its tag, VR and a view of its bytes.

import { inflateRawSync } from 'node:zlib';
import { DatasetError, ErrorCode } from '../errors.js';
import { parseSpecificCharacterSet, type CharacterSet } from './charset.js';
import type { Dataset, DatasetWarning, Element } from './dataset.js';
import { DEFAULT_CHARACTER_SET } from './charset.js';
import { vrOfTag } from './dictionary.js';
import { formatTag, ItemDelimitationTag, ItemTag, SequenceDelimitationTag, UndefinedLength, type Tag } from './tag.js';
import type { TransferSyntax } from './uids.js';
import { VR_INFO, vrFromCode, type VR } from './vr.js';

export interface DecodeOptions {
  /** Absolute offset of `buf[0]` in the larger stream, for error offsets. */
  readonly base?: number;
  /** The character set inherited from an enclosing dataset. */
  readonly characterSet?: CharacterSet;
  /** Tolerated faults are appended here. */
  readonly warnings?: DatasetWarning[];
  /** Nesting limit for sequences (default 64). */
  readonly maxDepth?: number;
  /** Decoded size limit for deflated input (default 1 GiB). */
  readonly maxInflatedLength?: number;
}

interface State {
  readonly buf: Buffer;
  pos: number;
  readonly base: number;
  readonly warnings: DatasetWarning[] | undefined;
  readonly maxDepth: number;
  /** The top-level dataset, so a partial decode can return what was read before a fault. */
  root: Dataset | undefined;
}

const SPECIFIC_CHARACTER_SET = 0x00080005;

/**
 * Decode a whole dataset in the given transfer syntax.
 * @throws DatasetError ERR_DATASET_TRUNCATED (a length runs past the end), ERR_DATASET_INVALID
 *   (an item outside a sequence, an unknown explicit VR, …), ERR_DATASET_TOO_DEEP; each with the offset.
 */
export function decodeDataset(buf: Buffer, syntax: TransferSyntax, options: DecodeOptions = {}): Dataset {
  let input = buf;
  if (syntax.deflated) {
    try {
      input = inflateRawSync(buf, { maxOutputLength: options.maxInflatedLength ?? 1 << 30 });
    } catch (e) {
      throw new DatasetError(ErrorCode.DatasetInvalid, `deflated dataset does not inflate: ${(e as Error).message}`, { offset: options.base ?? 0, cause: e });
    }
  }
  const st: State = { buf: input, pos: 0, base: options.base ?? 0, warnings: options.warnings, maxDepth: options.maxDepth ?? 64, root: undefined };
  return readElements(st, input.length, syntax.explicitVr, syntax.littleEndian, options.characterSet ?? DEFAULT_CHARACTER_SET, 0, false, -1, false);
}

/**
 * Like decodeDataset, but a fault ends the decode instead of discarding it: the elements read before
 * the fault are returned with the error (for dump tools showing what a broken file holds).
 */
export function decodeDatasetPartial(buf: Buffer, syntax: TransferSyntax, options: DecodeOptions = {}): { dataset: Dataset; error?: DatasetError } {
  const st: State = { buf, pos: 0, base: options.base ?? 0, warnings: options.warnings, maxDepth: options.maxDepth ?? 64, root: undefined };
  try {
    if (syntax.deflated) return { dataset: decodeDataset(buf, syntax, options) };
    return { dataset: readElements(st, buf.length, syntax.explicitVr, syntax.littleEndian, options.characterSet ?? DEFAULT_CHARACTER_SET, 0, false, -1, false) };
  } catch (e) {
    if (!(e instanceof DatasetError)) throw e;
    const dataset = st.root ?? { elements: new Map(), littleEndian: syntax.littleEndian, characterSet: options.characterSet ?? DEFAULT_CHARACTER_SET, offset: st.base };
    return { dataset, error: e };
  }
}

/**
 * Decode elements while their group is `group` (the Part-10 meta group), from `start`.
 * Returns the dataset and the offset after it.
 */
export function decodeGroup(buf: Buffer, start: number, group: number, syntax: TransferSyntax, warnings?: DatasetWarning[]): { dataset: Dataset; end: number } {
  const st: State = { buf, pos: start, base: 0, warnings, maxDepth: 8, root: undefined };
  const dataset = readElements(st, buf.length, syntax.explicitVr, syntax.littleEndian, DEFAULT_CHARACTER_SET, 0, false, group, false);
  return { dataset, end: st.pos };
}

function readElements(
  st: State, end: number, explicit: boolean, le: boolean, cs: CharacterSet, depth: number,
  inUndefinedItem: boolean, onlyGroup: number, itemUndefined: boolean, itemOffset = -1,
): Dataset {
  const ds: Dataset = {
    elements: new Map(),
    littleEndian: le,
    characterSet: cs,
    offset: itemOffset >= 0 ? st.base + itemOffset : st.base + st.pos,
    ...(itemOffset >= 0 ? { undefinedLength: itemUndefined } : {}),
  };
  if (depth === 0 && itemOffset < 0) st.root = ds;
  const buf = st.buf;
  let last = -1;
  while (st.pos < end) {
    const start = st.pos;
    if (end - start < 8) {
      throw new DatasetError(ErrorCode.DatasetTruncated, `element header needs 8 bytes, ${end - start} remain`, { offset: st.base + start });
    }
    const group = le ? buf.readUInt16LE(start) : buf.readUInt16BE(start);
    if (onlyGroup >= 0 && group !== onlyGroup) break;
    const t = ((group << 16) | (le ? buf.readUInt16LE(start + 2) : buf.readUInt16BE(start + 2))) >>> 0;
    if (t === ItemDelimitationTag) {
      if (!inUndefinedItem) throw invalid('item delimitation item outside an item of undefined length', st, start, t);
      st.pos = start + 8;
      return ds;
    }
    if (t === ItemTag || t === SequenceDelimitationTag) {
      throw invalid(`${t === ItemTag ? 'item' : 'sequence delimitation item'} outside a sequence`, st, start, t);
    }
    let vr: VR;
    let length: number;
    if (explicit) {
      const code = vrFromCode(buf[start + 4]!, buf[start + 5]!);
      if (code === undefined) {
        throw invalid(`unknown VR '${printable(buf.subarray(start + 4, start + 6))}'`, st, start + 4, t);
      }
      vr = code;
      if (VR_INFO[vr].longLength) {
        if (end - start < 12) throw new DatasetError(ErrorCode.DatasetTruncated, `${vr} header needs 12 bytes, ${end - start} remain`, { offset: st.base + start, tag: formatTag(t) });
        length = le ? buf.readUInt32LE(start + 8) : buf.readUInt32BE(start + 8);
        st.pos = start + 12;
      } else {
        length = le ? buf.readUInt16LE(start + 6) : buf.readUInt16BE(start + 6);
        st.pos = start + 8;
      }
    } else {
      vr = vrOfTag(t);
      length = buf.readUInt32LE(start + 4);
      st.pos = start + 8;
    }
    if (t <= last && st.warnings) {
      st.warnings.push({ code: 'WARN_TAG_ORDER', message: t === last ? 'duplicate element (the first is kept)' : 'element out of ascending tag order', tag: formatTag(t), offset: st.base + start });
    }
    last = t;
    const el = readValue(st, end, t, vr, length, start, explicit, le, ds.characterSet, depth);
    if (!ds.elements.has(t)) ds.elements.set(t, el);
    if (t === SPECIFIC_CHARACTER_SET) {
      const cset = parseSpecificCharacterSet(el.value.toString('latin1').replace(/[\0 ]+$/, ''));
      ds.characterSet = cset;
      if (cset.unknownTerms.length > 0 && st.warnings) {
        st.warnings.push({ code: 'WARN_CHARACTER_SET', message: `unknown character set term(s) ${cset.unknownTerms.map((x) => `'${x}'`).join(', ')}; decoded as ISO_IR 100`, tag: formatTag(t), offset: st.base + start });
      }
    }
  }
  if (inUndefinedItem) {
    throw new DatasetError(ErrorCode.DatasetTruncated, 'item of undefined length has no item delimitation item', { offset: st.base + st.pos });
  }
  return ds;
}

function readValue(
  st: State, end: number, t: Tag, vr: VR, length: number, start: number,
  explicit: boolean, le: boolean, cs: CharacterSet, depth: number,
): Element {
  const valueStart = st.pos;
  if (length === UndefinedLength) {
    if (vr === 'SQ' || vr === 'UN') {
      // PS3.5 §6.2.2: a UN element of undefined length holds a sequence encoded as implicit VR LE.
      // Some writers (seen in a Hologic object) keep explicit VR inside such a UN: when the first
      // item's first element carries a VR code where an implicit length would be, read it explicit.
      const itemsExplicit = vr === 'SQ' ? explicit : unSequenceIsExplicit(st, end, t, start);
      const itemsLe = vr === 'SQ' ? le : true;
      const items = readItems(st, end, t, itemsExplicit, itemsLe, cs, depth, true);
      return { tag: t, vr, value: st.buf.subarray(valueStart, st.pos - 8), items, undefinedLength: true, offset: st.base + start };
    }
    if (vr === 'OB' || vr === 'OW') {
      const fragments = readFragments(st, end, t);
      return { tag: t, vr, value: st.buf.subarray(valueStart, st.pos - 8), fragments, undefinedLength: true, offset: st.base + start };
    }
    throw invalid(`undefined length is not allowed for VR ${vr}`, st, start, t);
  }
  if (length > end - valueStart) {
    throw new DatasetError(ErrorCode.DatasetTruncated, `value length ${length} runs past the end (${end - valueStart} bytes remain)`, { offset: st.base + start, tag: formatTag(t) });
  }
  const value = st.buf.subarray(valueStart, valueStart + length);
  if (vr === 'SQ') {
    const items = readItems(st, valueStart + length, t, explicit, le, cs, depth, false);
    st.pos = valueStart + length;
    return { tag: t, vr, value, items, offset: st.base + start };
  }
  if ((length & 1) === 1 && st.warnings) {
    st.warnings.push({ code: 'WARN_ODD_LENGTH', message: `odd value length ${length}`, tag: formatTag(t), offset: st.base + start });
  }
  st.pos = valueStart + length;
  return { tag: t, vr, value, offset: st.base + start };
}

function readItems(
  st: State, end: number, seqTag: Tag, explicit: boolean, le: boolean, cs: CharacterSet, depth: number, undefinedLength: boolean,
): Dataset[] {
  if (depth >= st.maxDepth) {
    throw new DatasetError(ErrorCode.DatasetTooDeep, `sequences nested deeper than ${st.maxDepth}`, { offset: st.base + st.pos, tag: formatTag(seqTag) });
  }
  const buf = st.buf;
  const items: Dataset[] = [];
  for (;;) {
    if (!undefinedLength && st.pos >= end) return items;
    const start = st.pos;
    if (end - start < 8) {
      throw new DatasetError(ErrorCode.DatasetTruncated, undefinedLength ? 'sequence of undefined length has no sequence delimitation item' : 'item header needs 8 bytes', { offset: st.base + start, tag: formatTag(seqTag) });
    }
    const t = ((( le ? buf.readUInt16LE(start) : buf.readUInt16BE(start)) << 16) | (le ? buf.readUInt16LE(start + 2) : buf.readUInt16BE(start + 2))) >>> 0;
    const length = le ? buf.readUInt32LE(start + 4) : buf.readUInt32BE(start + 4);
    st.pos = start + 8;
    if (t === SequenceDelimitationTag) {
      if (undefinedLength) return items;
      // Tolerated: a delimiter at the end of a defined-length sequence.
      st.warnings?.push({ code: 'WARN_VALUE', message: 'sequence delimitation item in a sequence of defined length', tag: formatTag(seqTag), offset: st.base + start });
      st.pos = end;
      return items;
    }
    if (t !== ItemTag) throw invalid(`expected an item in sequence ${formatTag(seqTag)}, found ${formatTag(t)}`, st, start, seqTag);
    if (length === UndefinedLength) {
      items.push(readElements(st, end, explicit, le, cs, depth + 1, true, -1, true, start));
    } else {
      if (length > end - st.pos) {
        throw new DatasetError(ErrorCode.DatasetTruncated, `item length ${length} runs past the end of its sequence (${end - st.pos} bytes remain)`, { offset: st.base + start, tag: formatTag(seqTag) });
      }
      const itemEnd = st.pos + length;
      items.push({ ...readElements(st, itemEnd, explicit, le, cs, depth + 1, false, -1, false, start), length });
      st.pos = itemEnd;
    }
  }
}

/** PS3.5 §A.4: encapsulated pixel data, items of defined length up to a sequence delimitation item. */
function readFragments(st: State, end: number, t: Tag): Buffer[] {
  const buf = st.buf;
  const fragments: Buffer[] = [];
  for (;;) {
    const start = st.pos;
    if (end - start < 8) {
      throw new DatasetError(ErrorCode.DatasetTruncated, 'encapsulated pixel data has no sequence delimitation item', { offset: st.base + start, tag: formatTag(t) });
    }
    const it = ((buf.readUInt16LE(start) << 16) | buf.readUInt16LE(start + 2)) >>> 0;
    const length = buf.readUInt32LE(start + 4);
    st.pos = start + 8;
    if (it === SequenceDelimitationTag) return fragments;
    if (it !== ItemTag) throw invalid(`expected a fragment item, found ${formatTag(it)}`, st, start, t);
    if (length === UndefinedLength || length > end - st.pos) {
      throw new DatasetError(ErrorCode.DatasetTruncated, `fragment length ${length} runs past the end`, { offset: st.base + start, tag: formatTag(t) });
    }
    fragments.push(buf.subarray(st.pos, st.pos + length));
    st.pos += length;
  }
}

function unSequenceIsExplicit(st: State, end: number, t: Tag, start: number): boolean {
  const p = st.pos;
  if (end - p < 16 || st.buf.readUInt32LE(p) !== 0xe000fffe) return false;
  const explicitInside = vrFromCode(st.buf[p + 12]!, st.buf[p + 13]!) !== undefined;
  if (explicitInside) {
    st.warnings?.push({ code: 'WARN_VALUE', message: 'UN of undefined length holds explicit VR items (PS3.5 §6.2.2 says implicit); read as explicit', tag: formatTag(t), offset: st.base + start });
  }
  return explicitInside;
}

function invalid(message: string, st: State, offset: number, t: Tag): DatasetError {
  return new DatasetError(ErrorCode.DatasetInvalid, message, { offset: st.base + offset, tag: formatTag(t) });
}

function printable(b: Buffer): string {
  return [...b].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : `\\x${x.toString(16).padStart(2, '0')}`)).join('');
}

