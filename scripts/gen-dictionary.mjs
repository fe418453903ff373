#!/usr/bin/env node
// Generates src/dicom/dictionary-data.ts from DCMTK's data dictionary (dicom.dic, the PS3.6 and
// PS3.7 data elements as DCMTK ships them). Plain Node, no dependencies; the output is deterministic.
// Usage: npm run gen:dictionary [-- SOURCE [OUTPUT]]
//   SOURCE defaults to /usr/share/libdcmtk17/dicom.dic (Debian package libdcmtk17, DCMTK 3.6.7);
//   OUTPUT defaults to src/dicom/dictionary-data.ts.
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DEFAULT_SOURCE = '/usr/share/libdcmtk17/dicom.dic';
const DEFAULT_OUTPUT = fileURLToPath(new URL('../src/dicom/dictionary-data.ts', import.meta.url));

// PS3.5 Table 6.2-1, plus DCMTK's pseudo-VRs for elements that allow several (dcvr.h):
// xs = US or SS, ox = OB or OW, px = OB or OW (Pixel Data), lt = US, SS or OW (LUT data),
// up = UL used as a file offset. src/dicom/dictionary.ts resolves them.
const VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
  'xs', 'ox', 'px', 'lt', 'up',
]);
// The version column: which standard defines the element. Anything else (PRIVATE, GENERIC, ILLEGAL)
// is left out; dictionary.ts derives group lengths and private creators itself.
const STATUS = { DICOM: 'D', 'DICOM/retired': 'R', 'DICOM/DICONDE': 'N', 'DICOM/DICOS': 'S' };
const SKIPPED_STATUS = new Set(['PRIVATE', 'GENERIC', 'ILLEGAL']);

/** One tag part, "gggg", "gggg-hhhh" (even only, DCMTK's default) or "gggg-o-hhhh" (o/e/u). */
function parseTagPart(s, where) {
  const m = /^([0-9A-F]{4})(?:-(?:([eou])-)?([0-9A-F]{4}))?$/i.exec(s);
  if (!m) throw new Error(`${where}: bad tag part "${s}"`);
  const lo = parseInt(m[1], 16);
  if (m[3] === undefined) return { lo, hi: lo, restrict: 'u' };
  const hi = parseInt(m[3], 16);
  if (hi < lo) throw new Error(`${where}: empty range "${s}"`);
  return { lo, hi, restrict: (m[2] ?? 'e').toLowerCase() };
}

const hex4 = (n) => n.toString(16).toUpperCase().padStart(4, '0');
const formatPart = (p) => (p.lo === p.hi ? hex4(p.lo) : `${hex4(p.lo)}-${p.restrict}-${hex4(p.hi)}`);

/** Parses dicom.dic into { version, entries }; throws on anything it does not understand. */
export function parseDictionary(text) {
  const version = [];
  const supplements = [];
  const entries = [];
  const lines = text.split(/\r?\n/);
  let inSupplements = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const where = `line ${i + 1}`;
    if (line.startsWith('#')) {
      const c = line.replace(/^#\s?/, '');
      if (/^Generated automatically from /.test(c) || /^File created on /.test(c)) version.push(c);
      else if (/^In addition, the data dictionary entries/.test(c)) inSupplements = true;
      else if (inSupplements && /^- /.test(c)) supplements.push(c.slice(2).trim());
      else if (inSupplements && c.trim() === '') inSupplements = false;
      continue;
    }
    if (line.trim() === '') continue;
    const f = line.split('\t');
    if (f.length !== 5) throw new Error(`${where}: expected 5 tab-separated fields, got ${f.length}`);
    const [tagField, vr, name, vm, status] = f;
    if (SKIPPED_STATUS.has(status)) continue;
    if (!(status in STATUS)) throw new Error(`${where}: unknown version "${status}"`);
    // PS3.5 §7.5: items and delimiters have no VR (DCMTK writes "na"); they are not data elements.
    if (vr === 'na') continue;
    if (!VRS.has(vr)) throw new Error(`${where}: unknown VR "${vr}"`);
    const m = /^\(([^,]+),([^,]+)\)$/.exec(tagField);
    if (!m) throw new Error(`${where}: bad tag "${tagField}" (private-creator tags are not expected here)`);
    const group = parseTagPart(m[1], where);
    const element = parseTagPart(m[2], where);
    if (!/^\d+(-(\d+n?|n))?$/.test(vm)) throw new Error(`${where}: bad VM "${vm}"`);
    // DCMTK prefixes retired keywords with RETIRED_; the PS3.6 keyword has no prefix.
    const retired = status === 'DICOM/retired';
    const keyword = retired ? name.replace(/^RETIRED_/, '') : name;
    if (retired !== name.startsWith('RETIRED_')) throw new Error(`${where}: RETIRED_ prefix does not match "${status}"`);
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(keyword)) throw new Error(`${where}: bad keyword "${name}"`);
    entries.push({
      base: ((group.lo << 16) | element.lo) >>> 0,
      tag: group.lo === group.hi && element.lo === element.hi ? hex4(group.lo) + hex4(element.lo) : `${formatPart(group)},${formatPart(element)}`,
      vr,
      vm,
      keyword,
      status: STATUS[status],
    });
  }
  // "Entries may override existing entries" (dicom.dic header): the last definition of a tag wins.
  const byTag = new Map();
  for (const e of entries) byTag.set(e.tag, e);
  const kept = [...byTag.values()].sort((a, b) => a.base - b.base || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  const seen = new Map();
  for (const e of kept) {
    if (seen.has(e.keyword)) throw new Error(`keyword ${e.keyword} names both ${seen.get(e.keyword)} and ${e.tag}`);
    seen.set(e.keyword, e.tag);
  }
  if (version.length === 0) throw new Error('no version line ("Generated automatically from ...") in the header');
  if (supplements.length > 0) version.push(`Supplements and CPs incorporated: ${supplements.join(', ')}`);
  return { version, entries: kept };
}

function quote(text) {
  if (/['\\\n]/.test(text)) throw new Error(`cannot quote "${text}"`);
  return `'${text}'`;
}

/** The text of src/dicom/dictionary-data.ts. */
export function renderModule(sourceName, { version, entries }) {
  const out = [
    '// GENERATED FILE, do not edit. Regenerate with: npm run gen:dictionary',
    `// Source: DCMTK data dictionary ${sourceName}`,
    ...version.map((v) => `//   ${v}`),
    `// ${entries.length} entries: the DICOM, DICONDE and DICOS data elements including retired ones;`,
    '// items/delimiters (FFFE,E0xx) and the PRIVATE/GENERIC/ILLEGAL catch-alls are left out.',
    '//',
    '// One line per entry, sorted by tag, fields separated by one space: TAG VR VM KEYWORD STATUS',
    '//   TAG     "ggggeeee", or a range "gggg-r-hhhh,eeee" / "gggg,eeee-r-ffff" where r is',
    '//           e (even values only), o (odd only) or u (every value) in the range',
    '//   VR      a PS3.5 VR, or a DCMTK pseudo-VR: xs (US or SS), ox and px (OB or OW),',
    '//           lt (US, SS or OW), up (UL, a file offset)',
    '//   STATUS  D DICOM, R DICOM retired, N DICONDE, S DICOS',
    '',
    `export const DICTIONARY_SOURCE = ${quote(`${sourceName}: ${version[0]}`)};`,
    '',
    `export const DICTIONARY_COUNT = ${entries.length};`,
    '',
    'export const DICTIONARY_LINES = `',
  ];
  for (const e of entries) {
    const line = `${e.tag} ${e.vr} ${e.vm} ${e.keyword} ${e.status}`;
    if (/[`\\$]/.test(line)) throw new Error(`cannot place "${line}" in a template string`);
    out.push(line);
  }
  out.push('`;', '');
  return out.join('\n');
}

function main(argv) {
  const source = argv[2] ?? DEFAULT_SOURCE;
  const output = argv[3] ?? DEFAULT_OUTPUT;
  const parsed = parseDictionary(readFileSync(source, 'latin1'));
  writeFileSync(output, renderModule(source, parsed));
  process.stderr.write(`gen-dictionary: ${parsed.entries.length} entries from ${source} -> ${output}\n`);
}

// Run only when executed, not when imported.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  try {
    main(process.argv);
  } catch (e) {
    process.stderr.write(`gen-dictionary: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
