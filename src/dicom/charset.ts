// Specific Character Set (0008,0005): text values ↔ bytes, PS3.5 §6.1 and PS3.3 C.12.1.1.2, including the
// ISO/IEC 2022 code extensions of PS3.5 §6.1.2.5 as in the examples of PS3.5 Annexes H, I, J and K.
// Built on TextDecoder (full ICU) and Buffer; reverse tables for encoding are built at runtime on first use.

import { isAscii } from 'node:buffer';
import { DatasetError, ErrorCode } from '../errors.js';
import { VR_INFO, type VR } from './vr.js';

/**
 * A graphic character set that ISO 2022 designates to G0 or G1 (PS3.3 Tables C.12-2 to C.12-4).
 * - ascii: ISO-IR 6, and ISO-IR 14 (JIS X 0201 romaji) which is decoded as ASCII
 * - katakana: ISO-IR 13 (JIS X 0201 katakana), a 94-set
 * - sbcs: a 96-set of ISO 8859 or TIS 620 in G1
 * - dbcs: a 94×94 set (JIS X 0208, JIS X 0212, KS X 1001, GB 2312), decoded through its EUC form
 */
export interface GraphicSet {
  /** ISO-IR registration number. */
  readonly ir: number;
  readonly kind: 'ascii' | 'katakana' | 'sbcs' | 'dbcs';
  /** The code element PS3.3 designates the set to. */
  readonly element: 0 | 1;
  /** Designation escape sequence, ESC included. */
  readonly escape: readonly number[];
  /** TextDecoder label of the upper half (sbcs) or of the EUC form (dbcs); '' for latin1 or none. */
  readonly label: string;
  /** EUC single-shift byte written before each character (0x8F for JIS X 0212), 0 for none. */
  readonly prefix: number;
}

/** How a value's bytes are decoded as a whole. */
export type CharsetScheme = 'default' | 'latin1' | 'single' | 'utf8' | 'gb18030' | 'gbk' | 'jisx0201' | 'iso2022';

export interface CharacterSet {
  /** The defined terms as given, e.g. ['', 'ISO 2022 IR 87']. */
  readonly terms: readonly string[];
  /** Terms we do not know; value 1 unknown is decoded as ISO_IR 100, later ones are ignored. */
  readonly unknownTerms: readonly string[];
  readonly scheme: CharsetScheme;
  /** PS3.5 §6.1.2.5.3: the sets active at the start of each value and after each delimiter. */
  readonly g0: GraphicSet;
  readonly g1: GraphicSet | null;
  /** The sets the terms declare, value 1 first: the ones encoding may designate. */
  readonly sets: readonly GraphicSet[];
  /** For messages: the terms joined as in the element, or 'ISO_IR 6' for the default repertoire. */
  readonly name: string;
}

const ESC = 0x1b;

const set = (ir: number, kind: GraphicSet['kind'], element: 0 | 1, escape: string, label = '', prefix = 0): GraphicSet =>
  ({ ir, kind, element, escape: [ESC, ...Buffer.from(escape, 'latin1')], label, prefix });

// PS3.3 Table C.12-3 (single-byte sets, their G1 escape ESC 02/13 F) and Table C.12-4 (multi-byte sets).
const IR6 = set(6, 'ascii', 0, '(B');
const IR14 = set(14, 'ascii', 0, '(J');
const IR13 = set(13, 'katakana', 1, ')I');
const SETS: ReadonlyMap<number, GraphicSet> = new Map([
  [6, IR6],
  [100, set(100, 'sbcs', 1, '-A')],
  [101, set(101, 'sbcs', 1, '-B', 'iso-8859-2')],
  [109, set(109, 'sbcs', 1, '-C', 'iso-8859-3')],
  [110, set(110, 'sbcs', 1, '-D', 'iso-8859-4')],
  [144, set(144, 'sbcs', 1, '-L', 'iso-8859-5')],
  [127, set(127, 'sbcs', 1, '-G', 'iso-8859-6')],
  [126, set(126, 'sbcs', 1, '-F', 'iso-8859-7')],
  [138, set(138, 'sbcs', 1, '-H', 'iso-8859-8')],
  // ISO 8859-9 equals windows-1254 from 0xA0 up (the WHATWG label iso-8859-9 means windows-1254 anyway).
  [148, set(148, 'sbcs', 1, '-M', 'windows-1254')],
  [203, set(203, 'sbcs', 1, '-b', 'iso-8859-15')],
  // TIS 620-2533 equals windows-874 from 0xA0 up.
  [166, set(166, 'sbcs', 1, '-T', 'windows-874')],
  [13, IR13],
  [87, set(87, 'dbcs', 0, '$B', 'euc-jp')],
  [159, set(159, 'dbcs', 0, '$(D', 'euc-jp', 0x8f)],
  [149, set(149, 'dbcs', 1, '$)C', 'euc-kr')],
  [58, set(58, 'dbcs', 1, '$)A', 'gbk')],
]);
const sbcs = (ir: number): GraphicSet => SETS.get(ir)!;

/** Escape sequences we honour when decoding (bytes after ESC): the DICOM ones plus common ISO 2022 variants. */
const ESCAPES: ReadonlyMap<string, GraphicSet> = (() => {
  const m = new Map<string, GraphicSet>();
  for (const s of SETS.values()) m.set(Buffer.from(s.escape.slice(1)).toString('latin1'), s);
  m.set('(J', IR14);
  // Tolerated though outside DICOM: katakana in G0, JIS C 6226-1978, and 94×94 sets in the other element.
  m.set('(I', set(13, 'katakana', 0, '(I'));
  m.set('$@', SETS.get(87)!);
  m.set('$(B', SETS.get(87)!);
  m.set('$)B', set(87, 'dbcs', 1, '$)B', 'euc-jp'));
  m.set('$)D', set(159, 'dbcs', 1, '$)D', 'euc-jp', 0x8f));
  m.set('$(C', set(149, 'dbcs', 0, '$(C', 'euc-kr'));
  m.set('$A', set(58, 'dbcs', 0, '$A', 'gbk'));
  m.set('$(A', set(58, 'dbcs', 0, '$(A', 'gbk'));
  return m;
})();

export const DEFAULT_CHARACTER_SET: CharacterSet = {
  terms: [], unknownTerms: [], scheme: 'default', g0: IR6, g1: null, sets: [IR6], name: 'ISO_IR 6',
};

// --- parsing the terms ---------------------------------------------------------------------------

/** A known term: a standalone set of PS3.3 Table C.12-5, or an ISO-IR set with or without code extensions. */
type Term =
  | { readonly standalone: 'utf8' | 'gb18030' | 'gbk' }
  | { readonly standalone: null; readonly set: GraphicSet; readonly iso2022: boolean };

const EMPTY_TERM: Term = { standalone: null, set: IR6, iso2022: true };

/** A defined term, or one of its common misspellings ('ISO-IR 100', 'ISO_IR100'); null when unknown. */
function parseTerm(raw: string): Term | null {
  if (raw === '') return EMPTY_TERM;
  const t = raw.toUpperCase().replace(/\s+/g, ' ');
  if (t === 'GB18030') return { standalone: 'gb18030' };
  if (t === 'GBK') return { standalone: 'gbk' };
  const m = /^ISO[ _-]?(2022[ _-]?)?IR[ _-]?(\d+)$/.exec(t);
  if (m === null) return null;
  const ir = Number(m[2]);
  if (ir === 192) return { standalone: 'utf8' };
  const s = SETS.get(ir);
  if (s === undefined) return null;
  // PS3.3 Table C.12-4: the multi-byte sets exist only with code extensions.
  return { standalone: null, set: s, iso2022: m[1] !== undefined || s.kind === 'dbcs' };
}

const cache = new Map<string, CharacterSet>();

/** The character set named by a Specific Character Set value (raw "\ISO 2022 IR 87" or its values); cached. */
export function parseSpecificCharacterSet(value: string | readonly string[]): CharacterSet {
  const key = typeof value === 'string' ? value : value.join('\\');
  let cs = cache.get(key);
  if (cs === undefined) {
    cs = buildCharacterSet(key.split('\\').map((s) => s.replace(/^[\s\0]+|[\s\0]+$/g, '')));
    if (cache.size >= 256) cache.clear();
    cache.set(key, cs);
  }
  return cs;
}

function buildCharacterSet(terms: readonly string[]): CharacterSet {
  if (terms.length === 1 && terms[0] === '') return DEFAULT_CHARACTER_SET;
  const parsed = terms.map(parseTerm);
  const base = { terms, unknownTerms: terms.filter((_, i) => parsed[i] === null), name: terms.join('\\') };
  // An unknown value 1 is read as ISO_IR 100 (decode.ts warns so).
  const first: Term = parsed[0] ?? { standalone: null, set: sbcs(100), iso2022: false };
  // PS3.3 Table C.12-5: UTF-8, GB18030 and GBK allow no code extensions; later values naming them are ignored.
  if (first.standalone !== null) return { ...base, scheme: first.standalone, g0: IR6, g1: null, sets: [IR6] };
  const v1 = first.set;
  if (terms.length === 1 && !first.iso2022) {
    // PS3.3 Table C.12-2: one value, no code extensions.
    if (v1 === IR6) return { ...base, scheme: 'default', g0: IR6, g1: null, sets: [IR6] };
    if (v1 === IR13) return { ...base, scheme: 'jisx0201', g0: IR14, g1: IR13, sets: [IR14, IR13] };
    return { ...base, scheme: v1.ir === 100 ? 'latin1' : 'single', g0: IR6, g1: v1, sets: [IR6, v1] };
  }
  // PS3.5 §6.1.2.5, PS3.3 C.12.1.1.2: value 1 names the sets active at the start of each value (ISO-IR 6 when empty);
  // ISO 2022 IR 13 is romaji in G0 and katakana in G1. A 94×94 G0 set as value 1 is not allowed: ASCII then.
  const g0 = v1 === IR13 ? IR14 : IR6;
  const g1 = v1.element === 1 ? v1 : null;
  const sets: GraphicSet[] = g1 === null ? [g0] : [g0, g1];
  for (const p of parsed) {
    if (p !== null && p.standalone === null && !sets.includes(p.set)) sets.push(p.set);
  }
  return { ...base, scheme: 'iso2022', g0, g1, sets };
}

// --- decoding --------------------------------------------------------------------------------------

const decoders = new Map<string, TextDecoder | null>();

function decoderFor(label: string): TextDecoder | null {
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label);
    } catch {
      d = null; // an ICU without this converter: callers fall back to latin1
    }
    decoders.set(label, d);
  }
  return d;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function latin1(bytes: Uint8Array): string {
  return toBuffer(bytes).toString('latin1');
}

function decodeWith(label: string, bytes: Uint8Array): string {
  const d = decoderFor(label);
  return d === null ? latin1(bytes) : d.decode(bytes);
}

/** True when every byte is ASCII (and, with code extensions, none is ESC): the same text in every scheme. */
function isPlainAscii(bytes: Uint8Array, cs: CharacterSet): boolean {
  return isAscii(bytes) && (cs.scheme !== 'iso2022' || bytes.indexOf(ESC) < 0);
}

const sbcsTables = new Map<number, Uint16Array>();

/** Code unit per byte: ASCII and C1 as themselves, 0xA0–0xFF from the set's decoder (U+FFFD where unassigned). */
function sbcsTable(s: GraphicSet): Uint16Array {
  let t = sbcsTables.get(s.ir);
  if (t === undefined) {
    t = new Uint16Array(256);
    for (let b = 0; b < 256; b++) t[b] = b;
    const d = s.label === '' ? null : decoderFor(s.label);
    if (d !== null) {
      const high = d.decode(Uint8Array.from({ length: 96 }, (_, i) => 0xa0 + i));
      if (high.length === 96) for (let i = 0; i < 96; i++) t[0xa0 + i] = high.charCodeAt(i);
    }
    sbcsTables.set(s.ir, t);
  }
  return t;
}

const dbcsTables = new Map<number, Uint16Array | null>();

/**
 * Code unit of each character of a 94×94 set, at (row − 0x21) × 94 + (cell − 0x21); U+FFFD where unassigned.
 * Built with one decode call over every row and cell in EUC form (all four sets lie in the BMP); null when
 * this runtime lacks the converter.
 */
function dbcsTable(s: GraphicSet): Uint16Array | null {
  let t = dbcsTables.get(s.ir);
  if (t === undefined) {
    const d = decoderFor(s.label);
    const bytes: number[] = [];
    for (let r = 0x21; r <= 0x7e; r++) {
      for (let c = 0x21; c <= 0x7e; c++) {
        if (s.prefix !== 0) bytes.push(s.prefix);
        bytes.push(r | 0x80, c | 0x80);
      }
    }
    const text = d === null ? '' : d.decode(Uint8Array.from(bytes));
    t = null;
    if (text.length === 94 * 94) {
      t = new Uint16Array(94 * 94);
      for (let i = 0; i < t.length; i++) t[i] = text.charCodeAt(i);
    }
    dbcsTables.set(s.ir, t);
  }
  return t;
}

function unitsToString(units: Uint16Array | readonly number[], length: number): string {
  let s = '';
  for (let i = 0; i < length; i += 4096) {
    const chunk = units.slice(i, Math.min(length, i + 4096));
    s += String.fromCharCode(...chunk);
  }
  return s;
}

function decodeSingle(bytes: Uint8Array, table: Uint16Array): string {
  const units = new Uint16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) units[i] = table[bytes[i]!]!;
  return unitsToString(units, units.length);
}

interface Delimiters {
  /** PN: '^' and '=' reset to the initial sets (PS3.5 §6.1.2.5.3). */
  readonly pn: boolean;
  /** Multi-valued VRs: backslash separates values and resets. */
  readonly multi: boolean;
}

function delimitersOf(vr: VR): Delimiters {
  const kind = VR_INFO[vr].kind;
  return { pn: kind === 'personName', multi: kind === 'strings' || kind === 'personName' || kind === 'numberString' };
}

/**
 * One whole text value (LT, ST, UT, or a single-valued string). VR decides the delimiters that reset ISO 2022
 * state: PS3.5 §6.1.2.5.3 (CR, LF, TAB, FF, and for PN also '^' and '='; backslash for multi-valued VRs).
 * Never throws: undecodable bytes and unknown escape sequences become U+FFFD.
 */
export function decodeText(bytes: Uint8Array, cs: CharacterSet, vr: VR): string {
  switch (cs.scheme) {
    case 'default':
    case 'latin1':
      // PS3.5 §6.1.2.2 allows only ISO-IR 6 by default; bytes above 0x7F are read as latin1 to lose nothing.
      return latin1(bytes);
    case 'utf8':
      // Buffer's UTF-8 decoder has its own ASCII fast path, quicker than checking first (see the report).
      return toBuffer(bytes).toString('utf8');
    default:
      return isPlainAscii(bytes, cs) ? latin1(bytes) : decodeOther(bytes, cs, vr);
  }
}

function decodeOther(bytes: Uint8Array, cs: CharacterSet, vr: VR): string {
  switch (cs.scheme) {
    case 'single':
      return decodeSingle(bytes, sbcsTable(cs.g1!));
    case 'gb18030':
    case 'gbk':
      // PS3.5 Annex J: GBK is code point compatible with GB 18030, so its superset's decoder reads both.
      return decodeWith('gb18030', bytes);
    case 'jisx0201':
      // JIS X 0201 is the single-byte half of Shift_JIS; the Shift_JIS kanji some devices write are kept too.
      return decodeWith('shift_jis', bytes);
    case 'iso2022':
      return decodeIso2022(bytes, cs, delimitersOf(vr), null);
    default:
      return latin1(bytes);
  }
}

/**
 * A multi-valued string element split on the backslash delimiter, in the byte domain where it matters:
 * PS3.5 §6.1.2.3, only a character encoded as the single byte 05/12 is a delimiter (not a trail byte of
 * GBK/GB18030 or Shift_JIS, not a byte of a 94×94 set in G0). Returns decoded values, not trimmed. Never throws.
 */
export function decodeTextValues(bytes: Uint8Array, cs: CharacterSet, vr: VR): string[] {
  switch (cs.scheme) {
    case 'default':
    case 'latin1':
    case 'utf8':
    case 'single':
      // 0x5C occurs only as itself in these schemes, and no other byte decodes to U+005C.
      return splitOnBackslash(decodeText(bytes, cs, vr));
    case 'gb18030':
    case 'gbk':
      return isPlainAscii(bytes, cs) ? splitOnBackslash(latin1(bytes)) : splitMultiByte(bytes, 'gb18030', gbCharLength);
    case 'jisx0201':
      return isPlainAscii(bytes, cs) ? splitOnBackslash(latin1(bytes)) : splitMultiByte(bytes, 'shift_jis', sjisCharLength);
    case 'iso2022': {
      if (isPlainAscii(bytes, cs)) return splitOnBackslash(latin1(bytes));
      const values: string[] = [];
      decodeIso2022(bytes, cs, { ...delimitersOf(vr), multi: true }, values);
      return values;
    }
  }
}

function splitOnBackslash(s: string): string[] {
  return s.indexOf('\\') < 0 ? [s] : s.split('\\');
}

/** GB 18030: lead 0x81–0xFE, then a trail byte (0x40–0xFE, may be 0x5C) or a 4-byte form with 0x30–0x39 second. */
function gbCharLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  if (b < 0x81 || b === 0xff) return 1;
  const next = bytes[i + 1] ?? 0;
  return next >= 0x30 && next <= 0x39 ? 4 : 2;
}

/** Shift_JIS: lead 0x81–0x9F or 0xE0–0xFC, then a trail byte 0x40–0xFC that may be 0x5C. */
function sjisCharLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  return (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc) ? 2 : 1;
}

function splitMultiByte(bytes: Uint8Array, label: string, charLength: (b: Uint8Array, i: number) => number): string[] {
  const values: string[] = [];
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i] === 0x5c) {
      values.push(decodeWith(label, bytes.subarray(start, i)));
      start = ++i;
    } else {
      i += charLength(bytes, i);
    }
  }
  values.push(decodeWith(label, bytes.subarray(start, Math.min(i, bytes.length))));
  return values;
}

/**
 * PS3.5 §6.1.2.5: ISO 2022 decoding with G0 in GL and G1 in GR. Each value starts with the sets of value 1, and
 * returns to them at every control character other than ESC and at the delimiters, unless G0 holds a 94×94 set
 * (then 0x21–0x7E, '^', '=' and '\' included, are bytes of characters). With `values`, backslash ends a value.
 */
function decodeIso2022(bytes: Uint8Array, cs: CharacterSet, delims: Delimiters, values: string[] | null): string {
  const n = bytes.length;
  let g0 = cs.g0;
  let g1 = cs.g1;
  let units: number[] = [];
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b === ESC) {
      // ISO 2022 escape sequence: ESC, intermediate bytes 02/00–02/15, one final byte 03/00–07/14.
      let j = i + 1;
      while (j < n && bytes[j]! >= 0x20 && bytes[j]! <= 0x2f) j++;
      const complete = j < n && bytes[j]! >= 0x30 && bytes[j]! <= 0x7e;
      const s = complete ? ESCAPES.get(latin1(bytes.subarray(i + 1, j + 1))) : undefined;
      if (s === undefined) units.push(0xfffd);
      else if (s.element === 0) g0 = s;
      else g1 = s;
      i = complete ? j + 1 : j;
    } else if (b < 0x80) {
      // GL: G0.
      if (g0.kind === 'dbcs' && b >= 0x21 && b <= 0x7e) {
        i = decodePair(bytes, i, 0x21, 0x7e, g0, units);
        continue;
      }
      i++;
      if (b === 0x5c && values !== null) {
        values.push(unitsToString(units, units.length));
        units = [];
        g0 = cs.g0;
        g1 = cs.g1;
        continue;
      }
      if (b < 0x20 || (delims.pn && (b === 0x5e || b === 0x3d)) || (delims.multi && b === 0x5c)) {
        g0 = cs.g0;
        g1 = cs.g1;
      }
      units.push(g0.kind === 'katakana' && b >= 0x21 && b <= 0x5f ? 0xff61 + b - 0x21 : b);
    } else if (g1 === null) {
      // GR with nothing designated to G1: latin1, as for the default repertoire.
      units.push(b);
      i++;
    } else if (g1.kind === 'dbcs') {
      i = decodePair(bytes, i, 0xa1, 0xfe, g1, units);
    } else {
      units.push(g1.kind === 'sbcs' ? sbcsTable(g1)[b]! : b >= 0xa1 && b <= 0xdf ? 0xff61 + b - 0xa1 : 0xfffd);
      i++;
    }
  }
  const out = unitsToString(units, units.length);
  if (values !== null) values.push(out);
  return out;
}

/** One character of a 94×94 set at `i` (both bytes in [lo, hi]), or U+FFFD for a lone byte; the next index. */
function decodePair(bytes: Uint8Array, i: number, lo: number, hi: number, s: GraphicSet, units: number[]): number {
  const b2 = bytes[i + 1] ?? 0;
  if (b2 < lo || b2 > hi) {
    units.push(0xfffd);
    return i + 1;
  }
  const table = dbcsTable(s);
  units.push(table === null ? 0xfffd : table[((bytes[i]! & 0x7f) - 0x21) * 94 + (b2 & 0x7f) - 0x21]!);
  return i + 2;
}

// --- encoding --------------------------------------------------------------------------------------

/**
 * Our own text as bytes of the character set, written with the fewest escape sequences: ISO 2022 sets are
 * designated when first needed and value 1's sets restored before each delimiter and at the end
 * (PS3.5 §6.1.2.5.3). Padding is the caller's.
 * @throws DatasetError ERR_VALUE_INVALID naming a character the set cannot represent;
 *   ERR_UNSUPPORTED_CHARACTER_SET when this runtime lacks the converter a set needs.
 */
export function encodeText(text: string, cs: CharacterSet, vr: VR): Buffer {
  if (isAsciiText(text)) return Buffer.from(text, 'latin1');
  switch (cs.scheme) {
    case 'default':
      return encodeSingle(text, cs, null);
    case 'latin1':
    case 'single':
    case 'jisx0201':
      return encodeSingle(text, cs, cs.g1);
    case 'utf8': {
      const lone = /\p{Surrogate}/u.exec(text);
      if (lone !== null) throw unencodable(lone[0], cs);
      return Buffer.from(text, 'utf8');
    }
    case 'gb18030':
    case 'gbk':
      return encodeGb(text, cs);
    case 'iso2022':
      return encodeIso2022(text, cs, delimitersOf(vr));
  }
}

function isAsciiText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

function describeChar(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

function unencodable(ch: string, cs: CharacterSet): DatasetError {
  return new DatasetError(ErrorCode.ValueInvalid, `character '${ch}' (${describeChar(ch)}) cannot be encoded in ${cs.name}`);
}

function unsupported(cs: CharacterSet, label: string): DatasetError {
  return new DatasetError(ErrorCode.UnsupportedCharacterSet, `cannot encode ${cs.name}: this runtime has no '${label}' converter`);
}

const reverseTables = new Map<string, Map<number, number>>();

/** Code point → byte(s) of a set: the upper half of a 96-set, the JIS X 0201 katakana, or a 94×94 set's rows. */
function reverseTable(s: GraphicSet, cs: CharacterSet): Map<number, number> {
  const key = `${s.ir}`;
  let m = reverseTables.get(key);
  if (m !== undefined) return m;
  m = new Map();
  if (s.kind === 'katakana') {
    for (let b = 0xa1; b <= 0xdf; b++) m.set(0xff61 + b - 0xa1, b);
  } else if (s.kind === 'sbcs') {
    const t = sbcsTable(s);
    for (let b = 0x80; b < 0x100; b++) if (t[b] !== 0xfffd && !m.has(t[b]!)) m.set(t[b]!, b);
  } else if (s.kind === 'dbcs') {
    const t = dbcsTable(s);
    if (t === null) throw unsupported(cs, s.label);
    // JIS X 0208 ends at row 84 and has no row 13 (decoders add NEC extensions there); GB 2312 ends at row 87.
    const rows = s.ir === 87 ? 84 : s.ir === 58 ? 87 : 94;
    for (let i = 0; i < rows * 94; i++) {
      const u = t[i]!;
      if (s.ir === 87 && i >= 12 * 94 && i < 13 * 94) continue;
      // U+E000–U+F8FF: private-use mappings of user-defined rows, not characters of the set.
      if (u !== 0xfffd && (u < 0xe000 || u > 0xf8ff) && !m.has(u)) m.set(u, ((Math.floor(i / 94) + 0x21) << 8) | ((i % 94) + 0x21));
    }
  }
  reverseTables.set(key, m);
  return m;
}

/** ASCII plus, when given, one G1 set without code extensions (PS3.3 Table C.12-2). */
function encodeSingle(text: string, cs: CharacterSet, g1: GraphicSet | null): Buffer {
  const table = g1 === null ? null : reverseTable(g1, cs);
  const out = Buffer.alloc(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const b = c < 0x80 ? c : table?.get(c);
    if (b === undefined) throw unencodable(String.fromCodePoint(text.codePointAt(i)!), cs);
    out[i] = b;
  }
  return out;
}

/** GB 18030 / GBK: the 2-byte area; GB 18030 also four-byte forms (BMP from the decoder, the rest computed). */
function encodeGb(text: string, cs: CharacterSet): Buffer {
  const gb18030 = cs.scheme === 'gb18030';
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) {
      out.push(c);
      continue;
    }
    let code = gbTable(2, cs).get(c);
    if (code === undefined && gb18030) code = c >= 0x10000 ? gb18030FourByte(189000 + c - 0x10000) : gbTable(4, cs).get(c);
    if (code === undefined) throw unencodable(ch, cs);
    if (code > 0xffff) out.push(code >>> 24, (code >>> 16) & 0xff, (code >>> 8) & 0xff, code & 0xff);
    else out.push(code >>> 8, code & 0xff);
  }
  return Buffer.from(out);
}

/** GB 18030 four-byte form of a linear index: b1 0x81–0xFE, b2 0x30–0x39, b3 0x81–0xFE, b4 0x30–0x39. */
function gb18030FourByte(index: number): number {
  const b4 = 0x30 + (index % 10);
  index = Math.floor(index / 10);
  const b3 = 0x81 + (index % 126);
  index = Math.floor(index / 126);
  const b2 = 0x30 + (index % 10);
  const b1 = 0x81 + Math.floor(index / 10);
  return ((b1 << 24) >>> 0) + ((b2 << 16) | (b3 << 8) | b4);
}

/**
 * Code point → GB 18030 bytes packed in a number: the 2-byte area (lead 0x81–0xFE, trail 0x40–0xFE but 0x7F),
 * or the four-byte forms of indexes 0–50399 (0x81308130–0x8439FE39) that hold the rest of the BMP.
 * Built with one decode call; GBK shares the 2-byte area (PS3.5 Annex J).
 */
function gbTable(form: 2 | 4, cs: CharacterSet): Map<number, number> {
  const key = `gb18030/${form}`;
  let m = reverseTables.get(key);
  if (m !== undefined) return m;
  const codes: number[] = [];
  const bytes: number[] = [];
  if (form === 2) {
    for (let b1 = 0x81; b1 <= 0xfe; b1++) {
      for (let b2 = 0x40; b2 <= 0xfe; b2++) {
        if (b2 === 0x7f) continue;
        codes.push((b1 << 8) | b2);
        bytes.push(b1, b2);
      }
    }
  } else {
    for (let index = 0; index < 50400; index++) {
      const code = gb18030FourByte(index);
      codes.push(code);
      bytes.push(code >>> 24, (code >>> 16) & 0xff, (code >>> 8) & 0xff, code & 0xff);
    }
  }
  const d = decoderFor('gb18030');
  const text = d === null ? '' : d.decode(Uint8Array.from(bytes));
  if (text.length !== codes.length) throw unsupported(cs, 'gb18030');
  m = new Map();
  for (let i = 0; i < codes.length; i++) {
    const u = text.charCodeAt(i);
    if (u !== 0xfffd && !m.has(u)) m.set(u, codes[i]!);
  }
  reverseTables.set(key, m);
  return m;
}

/** PS3.5 §6.1.2.5: ASCII in G0, other characters from the first declared set holding them, designated as needed. */
function encodeIso2022(text: string, cs: CharacterSet, delims: Delimiters): Buffer {
  const out: number[] = [];
  let g0 = cs.g0;
  let g1 = cs.g1;
  const designate = (s: GraphicSet): void => {
    out.push(...s.escape);
    if (s.element === 0) g0 = s;
    else g1 = s;
  };
  // PS3.5 §6.1.2.5.3: value 1's sets are active again before delimiters and at the end of the value.
  // A G1 that value 1 leaves empty needs no escape: a reader resets it anyway, as in Examples I.2-1 and K.2-1.
  const restore = (): void => {
    if (g0 !== cs.g0) designate(cs.g0);
    if (g1 !== cs.g1) {
      if (cs.g1 !== null) designate(cs.g1);
      g1 = cs.g1;
    }
  };
  const lookup = (s: GraphicSet | null, c: number): number | undefined =>
    s === null || s.kind === 'ascii' ? undefined : reverseTable(s, cs).get(c);
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) {
      if (c < 0x20 || (delims.pn && (c === 0x5e || c === 0x3d)) || (delims.multi && c === 0x5c)) restore();
      else if (g0.kind !== 'ascii' && c !== 0x20) designate(cs.g0);
      out.push(c);
      continue;
    }
    let s: GraphicSet | null = null;
    let code = lookup(g0, c);
    if (code !== undefined) s = g0;
    else if ((code = lookup(g1, c)) !== undefined) s = g1;
    else {
      for (const candidate of cs.sets) {
        code = lookup(candidate, c);
        if (code !== undefined) {
          s = candidate;
          designate(s);
          break;
        }
      }
    }
    if (s === null || code === undefined) throw unencodable(ch, cs);
    if (s.kind !== 'dbcs') out.push(code);
    else {
      const high = s.element === 1 ? 0x80 : 0;
      out.push((code >> 8) | high, (code & 0xff) | high);
    }
  }
  restore();
  return Buffer.from(out);
}
