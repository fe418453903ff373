// The DICOM JSON model (PS3.18 Annex F): dataset → JSON object and JSON object → dataset.

import { DatasetError, ErrorCode } from '../errors.js';
import { createDataset, sortedElements, type Dataset, type PersonName } from './dataset.js';
import { parseTag } from './tag.js';
import { buildElement, decodeStrings, decodeValue, type ValueInput } from './values.js';
import { isVr, VR_INFO, type VR } from './vr.js';
import type { CharacterSet } from './charset.js';
import { parseSpecificCharacterSet } from './charset.js';

export type JsonValue = string | number | null | PersonName | DicomJson;
export interface DicomJsonAttribute {
  vr: VR;
  Value?: JsonValue[];
  InlineBinary?: string;
  BulkDataURI?: string;
}
export type DicomJson = { [tag: string]: DicomJsonAttribute };

/** A dataset as the DICOM JSON model. Tags are 8 upper-case hex digits; empty values are null (PS3.18 F.2.5). */
export function datasetToJson(ds: Dataset): DicomJson {
  const out: DicomJson = {};
  for (const el of sortedElements(ds)) {
    // PS3.18 F.2.2: Group Length (gggg,0000) attributes shall not be included.
    if ((el.tag & 0xffff) === 0) continue;
    const key = el.tag.toString(16).toUpperCase().padStart(8, '0');
    const info = VR_INFO[el.vr];
    const attr: DicomJsonAttribute = { vr: el.vr };
    if (el.items) {
      if (el.items.length > 0) attr.Value = el.items.map(datasetToJson);
      if (el.vr === 'UN') attr.vr = 'SQ';
    } else if (info.kind === 'bytes') {
      if (el.value.length > 0) attr.InlineBinary = littleEndianBytes(el.value, info.wordSize, ds.littleEndian).toString('base64');
    } else if (info.kind === 'strings' || info.kind === 'text') {
      const v = decodeStrings(el, ds.characterSet);
      if (v.length > 0) attr.Value = v.map((s) => (s === '' ? null : s));
    } else if (info.kind === 'numberString') {
      const v = decodeStrings(el, ds.characterSet);
      // PS3.18 F.2.3: a string keeps a value that is not a valid number for its VR (a peer's IS "161.3").
      if (v.length > 0) attr.Value = v.map((s) => (s === '' ? null : isNumberFor(el.vr, Number(s)) ? Number(s) : s));
    } else if (info.kind === 'personName') {
      const v = decodeValue(el, ds) as PersonName[];
      if (v.length > 0) attr.Value = v.map((pn) => (Object.keys(pn).length === 0 ? null : pn));
    } else if (info.kind === 'tag') {
      const v = decodeValue(el, ds) as number[];
      if (v.length > 0) attr.Value = v.map((t) => t.toString(16).toUpperCase().padStart(8, '0'));
    } else if (info.kind === 'bigint') {
      const v = decodeValue(el, ds) as bigint[];
      if (v.length > 0) attr.Value = v.map((b) => (b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b.toString()));
    } else {
      const v = decodeValue(el, ds) as number[];
      if (v.length > 0) attr.Value = v;
    }
    out[key] = attr;
  }
  return out;
}

function isNumberFor(vr: VR, n: number): boolean {
  return Number.isFinite(n) && (vr !== 'IS' || Number.isInteger(n));
}

/** Binary words in little-endian order (the JSON model has no transfer syntax); a copy only for big-endian input. */
function littleEndianBytes(b: Buffer, wordSize: number, littleEndian: boolean): Buffer {
  if (littleEndian || wordSize === 1 || b.length % wordSize !== 0) return b;
  const out = Buffer.from(b);
  if (wordSize === 2) out.swap16();
  else if (wordSize === 4) out.swap32();
  else out.swap64();
  return out;
}

// PS3.18 F.2.2: InlineBinary encodes the Value Field of OB, OD, OF, OL, OV, OW or UN.
const INLINE_BINARY_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PN_GROUPS: ReadonlySet<string> = new Set(['Alphabetic', 'Ideographic', 'Phonetic']);

/**
 * A dataset from the DICOM JSON model, values encoded strictly as our own except that values longer
 * than their VR allows are kept (JSON made from what a peer sent round-trips, as the decoder keeps them).
 * @throws DatasetError ERR_JSON_INVALID with the JSON pointer of the fault, ERR_VALUE_INVALID
 */
export function datasetFromJson(json: unknown, characterSet?: CharacterSet, pointer = ''): Dataset {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw jsonError('a dataset must be a JSON object', pointer);
  const ds = createDataset(characterSet ? { characterSet } : {});
  const obj = json as Record<string, unknown>;
  // (0008,0005) first: it decides how every other string is encoded.
  const keys = Object.keys(obj).sort((a, b) => (a.toUpperCase() === '00080005' ? -1 : b.toUpperCase() === '00080005' ? 1 : 0));
  for (const key of keys) {
    // RFC 6901: '~' and '/' in a member name are escaped in a JSON pointer.
    const p = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const t = /^[0-9A-Fa-f]{8}$/.test(key) ? parseTag(key) : undefined;
    if (t === undefined) throw jsonError(`'${key}' is not a tag of 8 hex digits`, p);
    const attr = obj[key];
    if (typeof attr !== 'object' || attr === null) throw jsonError('an attribute must be an object with "vr"', p);
    const { vr, Value, InlineBinary, BulkDataURI } = attr as Record<string, unknown>;
    if (typeof vr !== 'string' || !isVr(vr)) throw jsonError(`unknown vr '${String(vr)}'`, `${p}/vr`);
    // PS3.18 F.2.2: at most one of Value, BulkDataURI and InlineBinary.
    if ([Value, InlineBinary, BulkDataURI].filter((x) => x !== undefined).length > 1) {
      throw jsonError('an attribute has at most one of Value, InlineBinary and BulkDataURI', p);
    }
    let input: ValueInput = null;
    if (InlineBinary !== undefined) {
      if (!INLINE_BINARY_VRS.has(vr)) throw jsonError(`InlineBinary is not allowed for VR ${vr}`, `${p}/InlineBinary`);
      if (typeof InlineBinary !== 'string' || !BASE64.test(InlineBinary)) throw jsonError('InlineBinary must be a base64 string', `${p}/InlineBinary`);
      input = Buffer.from(InlineBinary, 'base64');
    } else if (Value !== undefined) {
      if (!Array.isArray(Value)) throw jsonError('Value must be an array', `${p}/Value`);
      input = jsonValues(vr, Value, ds.characterSet, `${p}/Value`);
    }
    try {
      ds.elements.set(t, buildElement(t, vr, input, ds.characterSet, false));
    } catch (e) {
      if (e instanceof DatasetError) throw new DatasetError(e.code, e.message, { pointer: p, cause: e });
      throw e;
    }
    if (t === 0x00080005 && Array.isArray(Value)) ds.characterSet = parseSpecificCharacterSet(Value.map((v) => String(v ?? '')));
  }
  return ds;
}

function jsonValues(vr: VR, values: unknown[], cs: CharacterSet, pointer: string): ValueInput {
  const kind = VR_INFO[vr].kind;
  if (kind === 'sequence') return values.map((v, i) => datasetFromJson(v, cs, `${pointer}/${i}`));
  if (kind === 'personName') {
    return values.map((v, i) => {
      if (v === null) return {};
      if (typeof v !== 'object' || Array.isArray(v)) throw jsonError('a PN value must be an object', `${pointer}/${i}`);
      for (const [group, text] of Object.entries(v)) {
        const at = `${pointer}/${i}/${group.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (!PN_GROUPS.has(group)) throw jsonError(`'${group}' is not a PN component group (Alphabetic, Ideographic, Phonetic)`, at);
        // PS3.5 §6.2.1.2: '=' separates the groups and '\\' the values, so neither can be inside one.
        if (typeof text !== 'string' || /[=\\]/.test(text)) throw jsonError(`a PN component group must be a string without '=' or '\\'`, at);
      }
      return v as PersonName;
    });
  }
  if (kind === 'tag') {
    return values.map((v, i) => {
      const t = typeof v === 'string' ? parseTag(v) : undefined;
      if (t === undefined) throw jsonError('an AT value must be 8 hex digits', `${pointer}/${i}`);
      return t;
    });
  }
  if (kind === 'int' || kind === 'float') {
    return values.map((v, i) => {
      if (typeof v !== 'number') throw jsonError(`a ${vr} value must be a number`, `${pointer}/${i}`);
      return v;
    });
  }
  if (kind === 'bigint') {
    return values.map((v, i) => {
      if ((typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))) return BigInt(v);
      throw jsonError(`a ${vr} value must be an integer`, `${pointer}/${i}`);
    });
  }
  // Numbers stay numbers: buildElement writes each as a decimal string short enough for IS or DS.
  return values.map((v, i) => {
    if (v === null) return '';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && kind === 'numberString') return v;
    throw jsonError(`a ${vr} value must be a string${kind === 'numberString' ? ' or number' : ''}`, `${pointer}/${i}`);
  }) as readonly string[];
}

function jsonError(message: string, pointer: string): DatasetError {
  return new DatasetError(ErrorCode.JsonInvalid, message, { pointer });
}
