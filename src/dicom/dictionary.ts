// The data dictionary of PS3.6 (data elements) and PS3.7 Annex E (command elements): keyword ↔ tag ↔ VR ↔ VM.
// The table is dictionary-data.ts, generated from DCMTK's dicom.dic; it is parsed once, on first use.

import { DICTIONARY_LINES } from './dictionary-data.js';
import { isPrivateCreator, type Tag } from './tag.js';
import { VRS, type VR } from './vr.js';

export interface DictionaryEntry {
  /** For repeating-group entries the base tag from the source (e.g. 0x60003000). */
  readonly tag: Tag;
  /** The PS3.6 keyword, e.g. 'PatientName'. */
  readonly keyword: string;
  /** The VR to use when only one can be chosen (implicit VR decode). */
  readonly vr: VR;
  /** Every VR the standard allows, e.g. ['US', 'SS']. */
  readonly vrs: readonly VR[];
  /** '1', '1-n', '2-2n', … */
  readonly vm: string;
  readonly retired: boolean;
}

interface VrChoice {
  readonly vr: VR;
  readonly vrs: readonly VR[];
}

// DCMTK's pseudo-VRs, for elements to which PS3.6 gives several VRs, and the one VR to use when the
// transfer syntax does not say. PS3.5 Annex A.1: in Implicit VR Little Endian, Pixel Data and Overlay
// Data are OW; the other OB-or-OW elements (waveform, curve, audio) and LUT Data (US, SS or OW) get OW
// here too, where DCMTK would pick OB for ox. US or SS depends on Pixel Representation (0028,0103), which
// the dictionary cannot see: US. up is a UL holding a file offset in a DICOMDIR (PS3.3 Annex F).
const PSEUDO_VRS: Readonly<Record<string, VrChoice>> = {
  xs: { vr: 'US', vrs: ['US', 'SS'] },
  ox: { vr: 'OW', vrs: ['OB', 'OW'] },
  px: { vr: 'OW', vrs: ['OB', 'OW'] },
  lt: { vr: 'OW', vrs: ['US', 'SS', 'OW'] },
  up: { vr: 'UL', vrs: ['UL'] },
};

// Every VR code the generated table may hold, indexed so that a table value can name one in 6 bits.
const VR_CODES: readonly string[] = [...VRS, ...Object.keys(PSEUDO_VRS)];
const CHOICES: readonly VrChoice[] = VR_CODES.map((c) => PSEUDO_VRS[c] ?? { vr: c as VR, vrs: [c as VR] });
const UN_INDEX = VR_CODES.indexOf('UN');

/** An entry whose tag covers a range of groups and/or elements (50xx, 60xx, 7Fxx, (0020,31xx)). */
interface RangeEntry {
  readonly groupLo: number;
  readonly groupHi: number;
  readonly groupParity: Parity;
  readonly elementLo: number;
  readonly elementHi: number;
  readonly elementParity: Parity;
  readonly entry: DictionaryEntry;
}

/** 0 every value in the range, 1 odd values only, 2 even values only. */
type Parity = 0 | 1 | 2;

interface Table {
  /** Plain tag → offset of its line in DICTIONARY_LINES × 64 + index of its VR in VR_CODES. */
  readonly byTag: ReadonlyMap<Tag, number>;
  /** Range entries of a single element (all but SourceImageIDs), by element: a miss costs one get. */
  readonly rangesByElement: ReadonlyMap<number, readonly RangeEntry[]>;
  /** Range entries whose element is a range. */
  readonly elementRanges: readonly RangeEntry[];
}

let table: Table | undefined;
/** Entries made so far, by tag. */
const entries = new Map<Tag, DictionaryEntry>();
/** Keywords found so far: dataset.ts asks for the same few keywords on every message. */
const tagsOfKeywords = new Map<string, Tag>();

// Start-up cost matters (every CLI run decodes a command set), so the load reads only the tag and the
// VR code of each line and keeps its offset; entries are made when first asked for.
function loadTable(): Table {
  const s = DICTIONARY_LINES;
  const codeIndex = new Int8Array(0x4000).fill(-1);
  VR_CODES.forEach((c, i) => (codeIndex[(c.charCodeAt(0) << 7) | c.charCodeAt(1)] = i));
  const byTag = new Map<Tag, number>();
  const rangesByElement = new Map<number, RangeEntry[]>();
  const elementRanges: RangeEntry[] = [];
  for (let pos = s.indexOf('\n') + 1; pos < s.length; ) {
    let end = s.indexOf('\n', pos);
    if (end === -1) end = s.length;
    if (s.charCodeAt(pos + 8) === 0x20) {
      // "ggggeeee VR ...": the VR code is at columns 9-10.
      const t = parseInt(s.slice(pos, pos + 8), 16);
      const vrIndex = codeIndex[(s.charCodeAt(pos + 9) << 7) | s.charCodeAt(pos + 10)] ?? -1;
      byTag.set(t, pos * 64 + (vrIndex === -1 ? UN_INDEX : vrIndex));
    } else {
      const r = parseRange(s.slice(pos, end));
      if (r.elementLo !== r.elementHi) elementRanges.push(r);
      else {
        const list = rangesByElement.get(r.elementLo);
        if (list === undefined) rangesByElement.set(r.elementLo, [r]);
        else list.push(r);
      }
    }
    pos = end + 1;
  }
  return { byTag, rangesByElement, elementRanges };
}

function getTable(): Table {
  return (table ??= loadTable());
}

function makeEntry(t: Tag, line: string, choice: VrChoice): DictionaryEntry {
  const [, , vm, keyword, status] = line.split(' ') as [string, string, string, string, string];
  return { tag: t, keyword, vr: choice.vr, vrs: choice.vrs, vm, retired: status === 'R' };
}

/** The entry of a line found in byTag, made once. */
function plainEntry(t: Tag, value: number): DictionaryEntry {
  let e = entries.get(t);
  if (e === undefined) {
    const pos = value >>> 6;
    e = makeEntry(t, DICTIONARY_LINES.slice(pos, DICTIONARY_LINES.indexOf('\n', pos)), CHOICES[value & 63]);
    entries.set(t, e);
  }
  return e;
}

// "gggg[-r-hhhh],eeee[-r-ffff] VR VM KEYWORD STATUS" (see the header of dictionary-data.ts).
function parseRange(line: string): RangeEntry {
  const [g, e, vrCode] = line.split(/[, ]/, 3) as [string, string, string];
  const [groupLo, groupHi, groupParity] = parsePart(g);
  const [elementLo, elementHi, elementParity] = parsePart(e);
  const i = VR_CODES.indexOf(vrCode);
  const entry = makeEntry(((groupLo << 16) | elementLo) >>> 0, line, CHOICES[i === -1 ? UN_INDEX : i]);
  return { groupLo, groupHi, groupParity, elementLo, elementHi, elementParity, entry };
}

function parsePart(s: string): [number, number, Parity] {
  const lo = parseInt(s.slice(0, 4), 16);
  if (s.length === 4) return [lo, lo, 0];
  const r = s[5];
  return [lo, parseInt(s.slice(7, 11), 16), r === 'o' ? 1 : r === 'e' ? 2 : 0];
}

function inRange(v: number, lo: number, hi: number, parity: Parity): boolean {
  return v >= lo && v <= hi && (parity === 0 || (v & 1) === (parity & 1));
}

function lookupRange(t: Tag): DictionaryEntry | undefined {
  const g = t >>> 16;
  const e = t & 0xffff;
  const { rangesByElement, elementRanges } = getTable();
  for (const r of rangesByElement.get(e) ?? NO_RANGES) if (inRange(g, r.groupLo, r.groupHi, r.groupParity)) return r.entry;
  for (const r of elementRanges) {
    if (inRange(g, r.groupLo, r.groupHi, r.groupParity) && inRange(e, r.elementLo, r.elementHi, r.elementParity)) return r.entry;
  }
  return undefined;
}

const NO_RANGES: readonly RangeEntry[] = [];

/**
 * The offset of the line whose keyword field is `keyword`, or -1. A search of the text is cheaper than
 * building a keyword map when, as in a CLI run, only a few keywords are ever asked for.
 */
function findKeywordLine(keyword: string): number {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(keyword)) return -1;
  const s = DICTIONARY_LINES;
  const needle = ` ${keyword} `;
  for (let i = s.indexOf(needle); i !== -1; i = s.indexOf(needle, i + 1)) {
    // The keyword is the fourth field: one status character and the end of the line follow it.
    if (s.charCodeAt(i + needle.length + 1) === 0x0a) return s.lastIndexOf('\n', i) + 1;
  }
  return -1;
}

/** The tag of the line at `pos`; for a range "gggg[-r-hhhh],eeee[-r-ffff]" its base tag. */
function tagOfLine(pos: number): Tag {
  const s = DICTIONARY_LINES;
  if (s.charCodeAt(pos + 8) === 0x20) return parseInt(s.slice(pos, pos + 8), 16);
  const comma = s.indexOf(',', pos);
  return parseInt(s.slice(pos, pos + 4) + s.slice(comma + 1, comma + 5), 16);
}

const UL_ONLY: readonly VR[] = ['UL'];
const LO_ONLY: readonly VR[] = ['LO'];

/**
 * The dictionary entry of a tag: exact, then repeating groups and element ranges, then group length
 * (gggg,0000), then private creator (gggg,0010-00FF); undefined for other private and unknown tags.
 */
export function lookupTag(t: Tag): DictionaryEntry | undefined {
  const value = getTable().byTag.get(t);
  if (value !== undefined) return plainEntry(t, value);
  const repeating = lookupRange(t);
  if (repeating !== undefined) return repeating;
  // PS3.5 §7.2: group length elements were implicitly defined for every group as UL, VM 1, and are retired.
  if ((t & 0xffff) === 0) return { tag: t, keyword: 'GenericGroupLength', vr: 'UL', vrs: UL_ONLY, vm: '1', retired: true };
  // PS3.5 §7.8.1: (gggg,0010-00FF) of a private group reserve blocks; the VR is LO.
  if (isPrivateCreator(t)) return { tag: t, keyword: 'PrivateCreator', vr: 'LO', vrs: LO_ONLY, vm: '1', retired: false };
  return undefined;
}

/**
 * The tag of a PS3.6 keyword; for a repeating group the base tag (OverlayData → (6000,3000)).
 * DCMTK's spelling of retired keywords ('RETIRED_' + keyword, as dcmdump prints them) is accepted too.
 */
export function tagOfKeyword(keyword: string): Tag | undefined {
  const known = tagsOfKeywords.get(keyword);
  if (known !== undefined) return known;
  let pos = findKeywordLine(keyword);
  if (pos === -1 && keyword.startsWith('RETIRED_')) {
    pos = findKeywordLine(keyword.slice(8));
    // Status R: "KEYWORD R\n" ends the line.
    if (pos !== -1 && DICTIONARY_LINES.charCodeAt(DICTIONARY_LINES.indexOf('\n', pos) - 1) !== 0x52) pos = -1;
  }
  if (pos === -1) return undefined;
  const t = tagOfLine(pos);
  tagsOfKeywords.set(keyword, t);
  return t;
}

/** The VR to decode a tag with when the transfer syntax does not say (implicit VR); 'UN' when unknown. */
export function vrOfTag(t: Tag): VR {
  const value = getTable().byTag.get(t);
  if (value !== undefined) return CHOICES[value & 63].vr;
  const repeating = lookupRange(t);
  if (repeating !== undefined) return repeating.vr;
  if ((t & 0xffff) === 0) return 'UL';
  if (isPrivateCreator(t)) return 'LO';
  return 'UN';
}

/** The keyword of a tag, as lookupTag finds it. */
export function keywordOfTag(t: Tag): string | undefined {
  return lookupTag(t)?.keyword;
}
