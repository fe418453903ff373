// Element values ↔ bytes per VR (PS3.5 §6.2): decoding on read, strict encoding on write.

import { DatasetError, ErrorCode } from '../errors.js';
import { decodeText, decodeTextValues, encodeText, parseSpecificCharacterSet, type CharacterSet } from './charset.js';
import { resolveTag, type Dataset, type Element, type ElementKey, type PersonName, type Value } from './dataset.js';
import { lookupTag } from './dictionary.js';
import { formatTag, type Tag } from './tag.js';
import { VR_INFO, type VR } from './vr.js';

const SPECIFIC_CHARACTER_SET = 0x00080005;

/** The decoded value of an element (see `Value`). Strings are trimmed of their padding. */
export function decodeValue(el: Element, ds: Dataset): Value {
  const info = VR_INFO[el.vr];
  switch (info.kind) {
    case 'sequence':
      return el.items ? [...el.items] : [];
    case 'bytes':
      if (el.items) return [...el.items];
      return el.value;
    case 'strings':
      return decodeStrings(el, ds.characterSet);
    case 'text':
      return el.value.length === 0 ? [] : [trimText(info.usesCharacterSet ? decodeText(el.value, ds.characterSet, el.vr) : el.value.toString('latin1'))];
    case 'numberString':
      return decodeStrings(el, ds.characterSet).map(Number);
    case 'personName':
      return decodeStrings(el, ds.characterSet).map(parsePersonName);
    case 'int':
      return readNumbers(el, ds.littleEndian);
    case 'float':
      return readNumbers(el, ds.littleEndian);
    case 'bigint':
      return readBigInts(el, ds.littleEndian);
    case 'tag':
      return readTags(el, ds.littleEndian);
  }
}

/** Every value of a string element as text: strings, DS/IS as written, PN as its DICOM string form. */
export function decodeStrings(el: Element, cs: CharacterSet): string[] {
  if (el.value.length === 0) return [];
  const info = VR_INFO[el.vr];
  if (info.kind === 'text') return [trimText(info.usesCharacterSet ? decodeText(el.value, cs, el.vr) : el.value.toString('latin1'))];
  const parts = info.usesCharacterSet ? decodeTextValues(el.value, cs, el.vr) : splitLatin1(el.value);
  // PS3.5 §6.2: leading and trailing spaces are not significant (UI is NUL-padded).
  for (let i = 0; i < parts.length; i++) parts[i] = trimValue(parts[i]!);
  return parts;
}

function splitLatin1(b: Buffer): string[] {
  const s = b.toString('latin1');
  return s.indexOf('\\') < 0 ? [s] : s.split('\\');
}

function trimValue(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) === 0x20) start++;
  while (end > start && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** LT, ST, UT, UR: PS3.5 Table 6.2-1, trailing spaces are not significant, leading ones are. */
function trimText(s: string): string {
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 0x20 || s.charCodeAt(end - 1) === 0)) end--;
  return end === s.length ? s : s.slice(0, end);
}

function parsePersonName(s: string): PersonName {
  const [a, i, p] = s.split('=');
  const pn: { Alphabetic?: string; Ideographic?: string; Phonetic?: string } = {};
  if (a) pn.Alphabetic = a;
  if (i) pn.Ideographic = i;
  if (p) pn.Phonetic = p;
  return pn;
}

export function formatPersonName(pn: PersonName): string {
  const groups = [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''];
  while (groups.length > 1 && groups[groups.length - 1] === '') groups.pop();
  return groups.join('=');
}

function readNumbers(el: Element, le: boolean): number[] {
  const size = VR_INFO[el.vr].wordSize;
  const n = Math.floor(el.value.length / size);
  const out = new Array<number>(n);
  const b = el.value;
  for (let i = 0, o = 0; i < n; i++, o += size) {
    switch (el.vr) {
      case 'US': out[i] = le ? b.readUInt16LE(o) : b.readUInt16BE(o); break;
      case 'SS': out[i] = le ? b.readInt16LE(o) : b.readInt16BE(o); break;
      case 'UL': out[i] = le ? b.readUInt32LE(o) : b.readUInt32BE(o); break;
      case 'SL': out[i] = le ? b.readInt32LE(o) : b.readInt32BE(o); break;
      case 'FL': out[i] = le ? b.readFloatLE(o) : b.readFloatBE(o); break;
      default: out[i] = le ? b.readDoubleLE(o) : b.readDoubleBE(o); break;
    }
  }
  return out;
}

function readBigInts(el: Element, le: boolean): bigint[] {
  const n = Math.floor(el.value.length / 8);
  const out = new Array<bigint>(n);
  for (let i = 0; i < n; i++) {
    const o = i * 8;
    out[i] = el.vr === 'SV'
      ? (le ? el.value.readBigInt64LE(o) : el.value.readBigInt64BE(o))
      : (le ? el.value.readBigUInt64LE(o) : el.value.readBigUInt64BE(o));
  }
  return out;
}

function readTags(el: Element, le: boolean): number[] {
  const n = Math.floor(el.value.length / 4);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const g = le ? el.value.readUInt16LE(o) : el.value.readUInt16BE(o);
    const e = le ? el.value.readUInt16LE(o + 2) : el.value.readUInt16BE(o + 2);
    out[i] = ((g << 16) | e) >>> 0;
  }
  return out;
}

// ---- getters -------------------------------------------------------------------------------------

/** The decoded value, or undefined when the element is absent. */
export function getValue(ds: Dataset, key: ElementKey): Value | undefined {
  const el = ds.elements.get(resolveTag(key));
  return el && decodeValue(el, ds);
}

/** The first value as text ('' when present but empty; undefined when absent). PN as "Family^Given". */
export function getString(ds: Dataset, key: ElementKey): string | undefined {
  const el = ds.elements.get(resolveTag(key));
  if (!el) return undefined;
  const kind = VR_INFO[el.vr].kind;
  if (kind === 'strings' || kind === 'text' || kind === 'numberString' || kind === 'personName') {
    return decodeStrings(el, ds.characterSet)[0] ?? '';
  }
  const v = decodeValue(el, ds);
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  const first = v[0];
  return first === undefined ? '' : typeof first === 'object' ? '' : String(first);
}

/** Every value as text. */
export function getStrings(ds: Dataset, key: ElementKey): string[] | undefined {
  const el = ds.elements.get(resolveTag(key));
  if (!el) return undefined;
  const kind = VR_INFO[el.vr].kind;
  if (kind === 'strings' || kind === 'text' || kind === 'numberString' || kind === 'personName') return decodeStrings(el, ds.characterSet);
  const v = decodeValue(el, ds);
  if (Buffer.isBuffer(v)) return [v.toString('latin1')];
  return (v as unknown[]).map((x) => (typeof x === 'object' ? '' : String(x)));
}

/** The first value as a number (IS/DS/US/UL/…); undefined when absent, empty or not a number. */
export function getNumber(ds: Dataset, key: ElementKey): number | undefined {
  const v = getValue(ds, key);
  if (v === undefined || Buffer.isBuffer(v) || v.length === 0) return undefined;
  const x = v[0];
  const n = typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : typeof x === 'string' ? Number(x) : NaN;
  return Number.isNaN(n) ? undefined : n;
}

/** The items of a sequence (empty when absent). */
export function getItems(ds: Dataset, key: ElementKey): readonly Dataset[] {
  return ds.elements.get(resolveTag(key))?.items ?? [];
}

// ---- setters -------------------------------------------------------------------------------------

/** What `setValue` accepts: one value or many, by VR kind. */
export type ValueInput =
  | string | readonly string[]
  | number | readonly number[]
  | bigint | readonly bigint[]
  | PersonName | readonly PersonName[]
  | Buffer
  | readonly Dataset[]
  | null;

/**
 * Set an element from JS values, encoded strictly (even length, padded, within the VR's limits,
 * in the dataset's character set). The VR comes from the dictionary unless given.
 * @throws DatasetError ERR_VALUE_INVALID, ERR_UNKNOWN_KEYWORD
 */
export function setValue(ds: Dataset, key: ElementKey, value: ValueInput, vr?: VR): Element {
  const t = resolveTag(key);
  const elVr = vr ?? lookupTag(t)?.vr ?? 'UN';
  const el = buildElement(t, elVr, value, ds.characterSet);
  ds.elements.set(t, el);
  if (t === SPECIFIC_CHARACTER_SET) ds.characterSet = parseSpecificCharacterSet(decodeStrings(el, ds.characterSet));
  return el;
}

export function deleteElement(ds: Dataset, key: ElementKey): boolean {
  return ds.elements.delete(resolveTag(key));
}

/**
 * An element built in memory from a JS value; `checkLength` false keeps values longer than the VR allows.
 * @throws DatasetError ERR_VALUE_INVALID
 */
export function buildElement(t: Tag, vr: VR, value: ValueInput, cs: CharacterSet, checkLength = true): Element {
  const info = VR_INFO[vr];
  const fail = (why: string): never => {
    throw new DatasetError(ErrorCode.ValueInvalid, `${vr} value ${why}`, { tag: formatTag(t) });
  };
  if (value === null || value === undefined) return { tag: t, vr, value: EMPTY, offset: -1 };
  if (info.kind === 'sequence' || (vr === 'UN' && Array.isArray(value) && value.length > 0 && isDatasetLike(value[0]))) {
    if (!Array.isArray(value)) fail('must be a list of items');
    return { tag: t, vr, value: EMPTY, items: value as Dataset[], offset: -1 };
  }
  if (Buffer.isBuffer(value)) {
    return { tag: t, vr, value: padEven(value, info.pad), offset: -1 };
  }
  const list: readonly unknown[] = Array.isArray(value) ? value : [value];
  switch (info.kind) {
    case 'bytes':
      return fail('must be a Buffer');
    case 'int':
    case 'float':
    case 'bigint':
    case 'tag':
      return { tag: t, vr, value: writeBinary(vr, list, fail), offset: -1 };
    case 'text':
      if (list.length > 1) fail('cannot hold more than one value');
      return { tag: t, vr, value: encodeString(t, vr, list.map((x) => String(x ?? '')), cs, checkLength), offset: -1 };
    case 'numberString':
      return { tag: t, vr, value: encodeString(t, vr, list.map((x) => formatNumberString(vr, x, fail)), cs, checkLength), offset: -1 };
    case 'personName':
      return { tag: t, vr, value: encodeString(t, vr, list.map((x) => (typeof x === 'string' ? x : formatPersonName(x as PersonName))), cs, checkLength), offset: -1 };
    case 'strings':
      return { tag: t, vr, value: encodeString(t, vr, list.map((x) => String(x ?? '')), cs, checkLength), offset: -1 };
  }
}

const EMPTY = Buffer.alloc(0);

function isDatasetLike(x: unknown): boolean {
  return typeof x === 'object' && x !== null && 'elements' in x;
}

function padEven(b: Buffer, pad: number): Buffer {
  if (b.length % 2 === 0) return b;
  const out = Buffer.alloc(b.length + 1, pad);
  b.copy(out);
  return out;
}

// VRs whose values in a C-FIND identifier may be ranges (PS3.4 C.2.2.2.5), so longer than one value.
const RANGE_VRS: ReadonlySet<VR> = new Set(['DA', 'TM', 'DT']);

function encodeString(t: Tag, vr: VR, values: string[], cs: CharacterSet, checkLength: boolean): Buffer {
  const info = VR_INFO[vr];
  for (const v of values) {
    if (info.kind !== 'text' && v.includes('\\')) {
      throw new DatasetError(ErrorCode.ValueInvalid, `${vr} value contains a backslash: '${v}'`, { tag: formatTag(t) });
    }
  }
  const text = values.join('\\');
  let bytes: Buffer;
  if (info.usesCharacterSet) {
    bytes = encodeText(text, cs, vr);
  } else {
    // PS3.5 §6.1.2.2: these VRs use the default repertoire only.
    if (!/^[\x20-\x7e]*$/.test(text)) {
      throw new DatasetError(ErrorCode.ValueInvalid, `${vr} value has characters outside the default repertoire: '${text}'`, { tag: formatTag(t) });
    }
    bytes = Buffer.from(text, 'latin1');
  }
  if (checkLength && info.maxLength > 0 && !RANGE_VRS.has(vr)) {
    const limit = vr === 'PN' ? info.maxLength * 3 + 2 : info.maxLength;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x5c) {
        if (i - start > limit) {
          throw new DatasetError(ErrorCode.ValueInvalid, `${vr} value longer than ${limit} bytes: '${bytes.subarray(start, i).toString('latin1')}'`, { tag: formatTag(t) });
        }
        start = i + 1;
      }
    }
  }
  return padEven(bytes, info.pad);
}

function formatNumberString(vr: VR, x: unknown, fail: (why: string) => never): string {
  if (typeof x === 'string') return x;
  if (typeof x !== 'number' || !Number.isFinite(x)) return fail(`not a finite number: ${String(x)}`);
  if (vr === 'IS') {
    // PS3.5 Table 6.2-1: -2^31 <= n <= 2^31 - 1.
    if (!Number.isInteger(x) || x < -0x80000000 || x > 0x7fffffff) fail(`not an integer in the IS range: ${x}`);
    return String(x);
  }
  let s = String(x);
  // The shortest exponent form that reads back as the same number, before any rounding.
  if (s.length > 16) s = x.toExponential();
  if (s.length > 16) s = x.toPrecision(10).replace(/\.?0+(e|$)/, '$1');
  if (s.length > 16) s = x.toExponential(8);
  return s;
}

function writeBinary(vr: VR, list: readonly unknown[], fail: (why: string) => never): Buffer {
  const size = VR_INFO[vr].wordSize;
  const per = vr === 'AT' ? 4 : size;
  const out = Buffer.alloc(list.length * per);
  list.forEach((x, i) => {
    const o = i * per;
    if (vr === 'SV' || vr === 'UV') {
      const v = typeof x === 'bigint' ? x : typeof x === 'number' && Number.isInteger(x) ? BigInt(x) : fail(`not an integer: ${String(x)}`);
      const [lo, hi] = vr === 'SV' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      if (v < lo || v > hi) fail(`out of range: ${v}`);
      if (vr === 'SV') out.writeBigInt64LE(v, o); else out.writeBigUInt64LE(v, o);
      return;
    }
    if (typeof x !== 'number' || Number.isNaN(x)) fail(`not a number: ${String(x)}`);
    const n = x as number;
    try {
      switch (vr) {
        case 'US': out.writeUInt16LE(n, o); break;
        case 'SS': out.writeInt16LE(n, o); break;
        case 'UL': out.writeUInt32LE(n, o); break;
        case 'SL': out.writeInt32LE(n, o); break;
        case 'FL': out.writeFloatLE(n, o); break;
        case 'FD': out.writeDoubleLE(n, o); break;
        case 'AT': out.writeUInt16LE(n >>> 16, o); out.writeUInt16LE(n & 0xffff, o + 2); break;
      }
    } catch {
      fail(`out of range: ${n}`);
    }
  });
  return out;
}
