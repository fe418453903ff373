// Datasets and elements (PS3.5 §7). A decoded element keeps a view of its value bytes; values are
// decoded only when read, so a C-FIND response costs nothing for elements nobody reads.

import { DatasetError, ErrorCode } from '../errors.js';
import { DEFAULT_CHARACTER_SET, type CharacterSet } from './charset.js';
import { tagOfKeyword } from './dictionary.js';
import { formatTag, type Tag } from './tag.js';
import type { VR } from './vr.js';

export interface Element {
  readonly tag: Tag;
  readonly vr: VR;
  /**
   * The value bytes as on the wire, a view into the decoded buffer: for SQ (and UN parsed as a
   * sequence) the bytes of the items; for undefined length, everything up to the delimiter.
   */
  readonly value: Buffer;
  /** Items of an SQ, or of a UN element of undefined length parsed as implicit VR LE (PS3.5 §6.2.2). */
  readonly items?: readonly Dataset[];
  /** Encapsulated pixel data fragments (views), including the basic offset table as the first. */
  readonly fragments?: readonly Buffer[];
  /** The element was read with undefined length (SQ, UN sequence, encapsulated pixel data). */
  readonly undefinedLength?: boolean;
  /** Absolute offset of the element's header in the decoded stream; -1 for elements built in memory. */
  readonly offset: number;
}

export interface Dataset {
  /** Elements by tag, in wire order when decoded. */
  readonly elements: Map<Tag, Element>;
  /** Byte order of the binary values held in `elements` (true except for Explicit VR Big Endian input). */
  readonly littleEndian: boolean;
  /** The Specific Character Set in force: this dataset's own (0008,0005) or the parent's. */
  characterSet: CharacterSet;
  /** For items: read with undefined length. */
  readonly undefinedLength?: boolean;
  /** For items read with a defined length: that length (dump shows it as dcmdump does). */
  readonly length?: number;
  /** Absolute offset of the first element (or the item header for items); -1 when built. */
  readonly offset: number;
}

/** A tolerated fault in the input: the raw value is kept. */
export interface DatasetWarning {
  readonly code: 'WARN_ODD_LENGTH' | 'WARN_TAG_ORDER' | 'WARN_VALUE' | 'WARN_CHARACTER_SET' | 'WARN_TRAILING_BYTES';
  readonly message: string;
  readonly tag?: string;
  readonly offset?: number;
}

export interface PersonName {
  readonly Alphabetic?: string;
  readonly Ideographic?: string;
  readonly Phonetic?: string;
}

/** A decoded value: by VR kind (see vr.ts). */
export type Value = string[] | number[] | bigint[] | PersonName[] | Buffer | Dataset[];

/** Tags or DICOM keywords ('PatientName'), wherever an element is named. */
export type ElementKey = Tag | string;

export function createDataset(options: { characterSet?: CharacterSet; littleEndian?: boolean } = {}): Dataset {
  return {
    elements: new Map(),
    littleEndian: options.littleEndian ?? true,
    characterSet: options.characterSet ?? DEFAULT_CHARACTER_SET,
    offset: -1,
  };
}

/**
 * The tag for a keyword or tag.
 * @throws DatasetError ERR_UNKNOWN_KEYWORD
 */
export function resolveTag(key: ElementKey): Tag {
  if (typeof key === 'number') return key;
  const t = tagOfKeyword(key);
  if (t === undefined) throw new DatasetError(ErrorCode.UnknownKeyword, `unknown DICOM keyword '${key}'`);
  return t;
}

export function getElement(ds: Dataset, key: ElementKey): Element | undefined {
  return ds.elements.get(resolveTag(key));
}

export function hasElement(ds: Dataset, key: ElementKey): boolean {
  return ds.elements.has(resolveTag(key));
}

/** Elements in ascending tag order (PS3.5 §7.1), sorting only when the input was out of order. */
export function sortedElements(ds: Dataset): Element[] {
  const list = [...ds.elements.values()];
  for (let i = 1; i < list.length; i++) {
    if (list[i - 1]!.tag > list[i]!.tag) return list.sort((a, b) => a.tag - b.tag);
  }
  return list;
}

export function describeElement(el: Element): string {
  return `${formatTag(el.tag)} ${el.vr}`;
}
