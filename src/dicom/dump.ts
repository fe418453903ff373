// Text dump of a dataset in the layout of dcmtk's dcmdump: tag, VR, value, length, VM, keyword;
// sequence items indented. Pure: returns lines.

import type { Dataset, Element } from './dataset.js';
import { sortedElements } from './dataset.js';
import { lookupTag } from './dictionary.js';
import { isPrivateCreator, isPrivateTag, type Tag } from './tag.js';
import { decodeStrings, decodeValue } from './values.js';
import { VR_INFO } from './vr.js';

export interface DumpOptions {
  /** Longest value text before it is cut with "..." (default 64; 0 = never cut). */
  readonly maxValueLength?: number;
}

const VALUE_COLUMN = 40;

/** Lines describing every element of `ds`, nested items indented by two spaces a level. */
export function dumpDataset(ds: Dataset, options: DumpOptions = {}, depth = 0): string[] {
  const lines: string[] = [];
  for (const el of sortedElements(ds)) dumpElement(el, ds, options, depth, lines);
  return lines;
}

function dumpElement(el: Element, ds: Dataset, options: DumpOptions, depth: number, lines: string[]): void {
  const keyword = keywordFor(el.tag);
  if (el.items) {
    // As encode.ts writes them: built sequences and items (offset -1) get undefined lengths.
    const undefinedSeq = el.undefinedLength === true || el.offset < 0;
    const form = undefinedSeq ? 'undefined' : 'explicit';
    lines.push(line(depth, el.tag, el.vr, `(Sequence with ${form} length #=${el.items.length})`, undefinedSeq ? 'u/l' : el.value.length, 1, keyword));
    for (const item of el.items) {
      const undefinedItem = item.undefinedLength === true || item.offset < 0;
      const itemForm = undefinedItem ? 'undefined' : 'explicit';
      lines.push(line(depth + 1, 0xfffee000, 'na', `(Item with ${itemForm} length #=${item.elements.size})`, undefinedItem ? 'u/l' : (item.length ?? 0), 1, 'Item'));
      lines.push(...dumpDataset(item, options, depth + 2));
      // dcmdump shows the delimiters of explicit-length items and sequences too, as it would write them.
      lines.push(line(depth + 1, 0xfffee00d, 'na', undefinedItem ? '(ItemDelimitationItem)' : '(ItemDelimitationItem for re-encoding)', 0, 0, 'ItemDelimitationItem'));
    }
    lines.push(line(depth, 0xfffee0dd, 'na', undefinedSeq ? '(SequenceDelimitationItem)' : '(SequenceDelimitationItem for re-encod.)', 0, 0, 'SequenceDelimitationItem'));
    return;
  }
  if (el.fragments) {
    lines.push(line(depth, el.tag, el.vr, `(PixelSequence #=${el.fragments.length})`, 'u/l', 1, keyword));
    for (const f of el.fragments) lines.push(line(depth + 1, 0xfffee000, 'pi', cut(hexBytes(f), options), f.length, 1, 'Item'));
    lines.push(line(depth, 0xfffee0dd, 'na', '(SequenceDelimitationItem)', 0, 0, 'SequenceDelimitationItem'));
    return;
  }
  const { text, vm } = formatValue(el, ds);
  lines.push(line(depth, el.tag, el.vr, el.value.length === 0 ? '(no value available)' : cut(text, options), el.value.length, vm, keyword));
}

/** The value as dcmdump shows it: strings in brackets, numbers and bytes bare, '\' between values. */
export function formatValue(el: Element, ds: Dataset): { text: string; vm: number } {
  const info = VR_INFO[el.vr];
  switch (info.kind) {
    case 'strings':
    case 'text':
    case 'numberString':
    case 'personName': {
      const v = decodeStrings(el, ds.characterSet);
      return { text: `[${v.join('\\')}]`, vm: v.length };
    }
    case 'bytes': {
      const words = info.wordSize === 2 && el.vr === 'OW';
      return { text: words ? hexWords(el.value, ds.littleEndian) : hexBytes(el.value), vm: 1 };
    }
    case 'tag': {
      const v = decodeValue(el, ds) as number[];
      return { text: v.map((t) => `(${hex(t >>> 16)},${hex(t & 0xffff)})`).join('\\'), vm: v.length };
    }
    default: {
      const v = decodeValue(el, ds) as (number | bigint)[];
      return { text: v.map(String).join('\\'), vm: v.length };
    }
  }
}

function keywordFor(t: Tag): string {
  const entry = lookupTag(t);
  // dcmdump's spelling of retired keywords; group lengths are 'GenericGroupLength' there.
  if (entry) return entry.retired && (t & 0xffff) !== 0 ? `RETIRED_${entry.keyword}` : entry.keyword;
  if (isPrivateCreator(t)) return 'PrivateCreator';
  return isPrivateTag(t) ? 'PrivateTag' : 'Unknown Tag & Data';
}

function line(depth: number, t: Tag, vr: string, value: string, length: number | string, vm: number, keyword: string): string {
  const indent = '  '.repeat(depth);
  const head = `${indent}(${hex(t >>> 16)},${hex(t & 0xffff)}) ${vr} ${value}`;
  const pad = Math.max(0, indent.length + 12 + 3 + VALUE_COLUMN - head.length);
  // dcmdump: "# %3s,%2u", so a VM of two digits meets the comma ("# 926,41").
  return `${head}${' '.repeat(pad)} # ${String(length).padStart(3)},${String(vm).padStart(2)} ${keyword}`;
}

function cut(text: string, options: DumpOptions): string {
  const max = options.maxValueLength ?? 64;
  return max > 0 && text.length > max ? `${text.slice(0, max)}...` : text;
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function hexBytes(b: Buffer): string {
  const n = Math.min(b.length, 64);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(b[i]!.toString(16).padStart(2, '0'));
  return parts.join('\\') + (b.length > n ? '...' : '');
}

function hexWords(b: Buffer, le: boolean): string {
  const n = Math.min(Math.floor(b.length / 2), 32);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push((le ? b.readUInt16LE(i * 2) : b.readUInt16BE(i * 2)).toString(16).padStart(4, '0'));
  return parts.join('\\') + (b.length > n * 2 ? '...' : '');
}
