// Cross-check with DCMTK 3.6 (a live test: skipped with a note when dcmtk is missing, failing under CI=true).
// (a) Files we write are read by dcmdump without a warning or error, and dcmdump prints the values we
//     meant, element by element; `qrscu dump` prints what dcmdump prints. (b) Files dump2dcm writes from
//     a hand-written dump decode with ours to the values the dump states: golden bytes written by
//     another implementation.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isAscii } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDataset, sortedElements, type Dataset, type Element } from '../../src/dicom/dataset.js';
import { formatValue } from '../../src/dicom/dump.js';
import { encodeDataset } from '../../src/dicom/encode.js';
import { readPart10, writePart10 } from '../../src/dicom/part10.js';
import { runDump } from '../../src/cli/commands/dump.js';
import { formatTag, tag } from '../../src/dicom/tag.js';
import { DEFLATED_LE, EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, type TransferSyntax } from '../../src/dicom/uids.js';
import { decodeStrings, getItems, getString, getValue, setValue } from '../../src/dicom/values.js';
import { VR_INFO } from '../../src/dicom/vr.js';
import { requireProgram } from '../support/live.js';

const test = suite('dcmtk cross-check (dcmdump, dump2dcm)');
const DCMDUMP = requireProgram('dcmdump');
const DUMP2DCM = requireProgram('dump2dcm');
const live = DCMDUMP !== undefined && DUMP2DCM !== undefined ? test : test.skip;

const SAMPLES = fileURLToPath(new URL('../fixtures/dicom-samples/', import.meta.url));
const SAMPLE_FILES = readdirSync(SAMPLES).filter((f) => f.endsWith('.dcm')).sort();
let dir = '';

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'qrscu-dcmtk-'));
});

test.after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('requireProgram: the path when installed; else a skip line, or an error under CI=true', () => {
  assert.is(requireProgram('sh', { PATH: `/nonexistent:relative/dir:/bin` }), '/bin/sh');
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    assert.is(requireProgram('dcmdump', { PATH: '/nonexistent' }), undefined);
  } finally {
    process.stderr.write = write;
  }
  assert.equal(written, ['skip: dcmdump not installed (apt-get install dcmtk)\n']);
  assert.throws(() => requireProgram('dcmdump', { PATH: '/nonexistent', CI: 'true' }), /dcmdump is not installed but CI=true/);
});

// ---- running dcmdump and reading what it prints ------------------------------------------------

interface DcmdumpRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * dcmdump with UIDs unmapped (-Un), long values in full (+L) unless not `printAll`, and with `utf8`
 * text converted to UTF-8 (+U8; dcmdump then also sets (0008,0005) to ISO_IR 192, adding it when
 * absent). Without `utf8` the output holds the value bytes as they are, read here as latin1.
 */
function dcmdump(files: string[], utf8: boolean, printAll = true): DcmdumpRun {
  const args = ['-Un', ...(printAll ? ['+L'] : []), ...(utf8 ? ['+U8'] : []), ...(files.length > 1 ? ['+F'] : []), ...files];
  // Output goes through a file: megabytes through a pipe cost spawnSync twice the time dcmdump takes.
  const outFile = join(dir, 'dcmdump.out');
  const fd = openSync(outFile, 'w');
  try {
    const r = spawnSync(DCMDUMP!, args, { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    return { status: r.status, stdout: readFileSync(outFile, utf8 ? 'utf8' : 'latin1'), stderr: r.stderr };
  } finally {
    closeSync(fd);
  }
}

/** dcmtk's log lines: "W: …" warnings and "E: …" errors, wherever they were printed. */
function diagnostics(run: DcmdumpRun): string[] {
  return `${run.stderr}\n${run.stdout}`.split('\n').filter((l) => /^[WEF]: /.test(l));
}

interface Printed {
  /** (gggg,eeee) of the element and of each enclosing sequence, with item numbers: "(0040,a730)[2](0008,0100)". */
  readonly path: string;
  readonly vr: string;
  readonly value: string;
  readonly length: string;
  readonly vm: number;
}

// dcmdump prints "??" for the VR of an element its dictionaries do not know (implicit VR input).
const LINE = /^( *)\(([0-9a-f]{4}),([0-9a-f]{4})\) ([A-Za-z?]{2}) (.*?) +# *(\d+|u\/l), *(\d+) \S.*$/s;

/** The data set part of dcmdump's output as one record per element (items and delimiters fold into paths). */
function parseDcmdump(stdout: string): Printed[] {
  const body = stdout.slice(stdout.indexOf('# Dicom-Data-Set')).trimEnd();
  // Text values holding CR LF are printed raw over several lines: join them back.
  const lines: string[] = [];
  for (const l of body.split('\n').slice(2)) {
    if (/^ *\([0-9a-f]{4},[0-9a-f]{4}\) /.test(l) || lines.length === 0) lines.push(l);
    else lines[lines.length - 1] += `\n${l}`;
  }
  const out: Printed[] = [];
  // stack[d] = path prefix for elements at indentation depth d (2 spaces per level: element, item).
  const stack: string[] = [''];
  const itemCount: number[] = [];
  for (const l of lines) {
    if (l.trim() === '') continue;
    const m = LINE.exec(l);
    assert.ok(m, `dcmdump line not understood: ${JSON.stringify(l)}`);
    const depth = m![1]!.length / 2;
    const t = `(${m![2]},${m![3]})`;
    if (t === '(fffe,e000)') {
      // An item at depth d belongs to the sequence printed at depth d-1.
      itemCount[depth] = (itemCount[depth] ?? -1) + 1;
      stack[depth + 1] = `${stack[depth]}[${itemCount[depth]}]`;
      continue;
    }
    if (t === '(fffe,e00d)' || t === '(fffe,e0dd)') continue;
    const path = `${stack[depth]}${t}`;
    stack[depth + 1] = path;
    itemCount[depth + 1] = -1;
    out.push({ path, vr: m![4] === '??' ? 'UN' : m![4]!, value: m![5]!, length: m![6]!, vm: Number(m![7]) });
  }
  return out;
}

/** The same records from one of our datasets, in the order dcmdump prints them (ascending tags). */
function flatten(ds: Dataset, prefix = ''): { path: string; el: Element; ds: Dataset }[] {
  const out: { path: string; el: Element; ds: Dataset }[] = [];
  for (const el of sortedElements(ds)) {
    const path = `${prefix}${formatTag(el.tag).toLowerCase()}`;
    out.push({ path, el, ds });
    (el.items ?? []).forEach((item, i) => out.push(...flatten(item, `${path}[${i}]`)));
  }
  return out;
}

/** Numbers dcmdump prints for binary VRs: FL/OF with 8 significant digits, FD/OD with 17. */
function sameFloat(theirs: number, ours: number, single: boolean): boolean {
  if (Object.is(theirs, ours)) return true;
  return Math.abs(theirs - ours) <= Math.abs(ours) * (single ? 1e-7 : 1e-15);
}

/** The hex bytes or words dcmdump prints for OB, OW and UN, as bytes in little-endian order. */
function hexToBytes(text: string, word: boolean): Buffer {
  const parts = text.split('\\');
  const out = Buffer.alloc(parts.length * (word ? 2 : 1));
  parts.forEach((p, i) => (word ? out.writeUInt16LE(parseInt(p, 16), i * 2) : (out[i] = parseInt(p, 16))));
  return out;
}

/**
 * dcmdump's record for each element of `ds` shows the same tag, VR, length, VM and value. `utf8`: the
 * output was converted to UTF-8 (+U8), so text is compared as text; otherwise text in a character set
 * other than ASCII or Latin-1 is compared as the bytes dcmdump printed.
 */
function assertSameAsDcmdump(printed: Printed[], ds: Dataset, context: string, utf8: boolean): void {
  const ours = flatten(ds);
  assert.equal(printed.map((p) => p.path), ours.map((o) => o.path), `${context}: the same elements in the same order`);
  ours.forEach(({ path, el, ds: owner }, i) => {
    const p = printed[i]!;
    const where = `${context} ${path}`;
    assert.is(p.vr, el.items && el.vr === 'UN' ? p.vr : el.vr, `${where}: VR`);
    if (el.items) {
      assert.ok(p.value.startsWith('(Sequence with '), `${where}: a sequence`);
      assert.ok(p.value.endsWith(`#=${el.items.length})`), `${where}: ${el.items.length} items (${p.value})`);
      return;
    }
    const padded = el.value.length + (el.value.length & 1);
    const info = VR_INFO[el.vr];
    const scheme = owner.characterSet.scheme;
    // +U8 re-encodes text (and (0008,0005)) before printing: lengths of text in other sets change.
    const converted = utf8 && (el.tag === 0x00080005 || (info.usesCharacterSet && scheme !== 'utf8' && !isAscii(el.value)));
    if (!el.undefinedLength && !converted) assert.is(p.length, String(padded), `${where}: length`);
    if (utf8 && el.tag === 0x00080005) return;
    if (el.value.length === 0) {
      assert.is(p.value, '(no value available)', `${where}: empty`);
      return;
    }
    const { text, vm } = formatValue(el, owner);
    // Without +U8, text in a character set other than ASCII or Latin-1 is compared as bytes.
    const asBytes = !utf8 && info.usesCharacterSet && scheme !== 'default' && scheme !== 'latin1';
    const ourStrings = (): string[] => (asBytes ? splitRaw(el) : decodeStrings(el, owner.characterSet));
    assert.is(p.vm, vm, `${where}: VM`);
    switch (info.kind) {
      case 'strings':
      case 'numberString':
      case 'personName': {
        assert.ok(p.value.startsWith('[') && p.value.endsWith(']'), `${where}: bracketed ${p.value}`);
        // PS3.5 §6.2: leading and trailing spaces are not significant; dcmdump prints them, we trim.
        // Some writers pad with NUL where PS3.5 says space (DRGEM's LO): dcmdump prints it.
        const theirs = p.value.slice(1, -1).split('\\').map((s) => s.replace(/^ +|[ \0]+$/g, ''));
        assert.equal(theirs, ourStrings(), `${where}: values`);
        break;
      }
      case 'text':
        assert.is(p.value.slice(1, -1).replace(/ +$/, ''), ourStrings()[0], `${where}: text`);
        break;
      case 'int':
      case 'bigint':
      case 'tag':
        assert.is(p.value, text, `${where}: numbers`);
        break;
      case 'float': {
        const theirs = p.value.split('\\').map(Number);
        const ours = getValue(owner, el.tag) as number[];
        assert.is(theirs.length, ours.length, `${where}: count`);
        theirs.forEach((x, k) => assert.ok(sameFloat(x, ours[k]!, el.vr === 'FL'), `${where}: ${x} vs ${ours[k]}`));
        break;
      }
      case 'bytes':
        assertBytesPrinted(p.value, el, where);
        break;
      case 'sequence':
        break;
    }
  });
}

/** The value bytes as latin1 text, split and trimmed as dcmdump's text is above. */
function splitRaw(el: Element): string[] {
  const raw = el.value.toString('latin1').replace(/[ \0]+$/, '');
  return VR_INFO[el.vr].kind === 'text' ? [raw] : raw.split('\\').map((x) => x.replace(/^ +| +$/g, ''));
}

/** OB/OW/UN are printed as hex; OF/OD/OL/OV as the numbers they hold. */
function assertBytesPrinted(printed: string, el: Element, where: string): void {
  const v = el.value;
  const padded = v.length & 1 ? Buffer.concat([v, Buffer.alloc(1)]) : v;
  switch (el.vr) {
    case 'OB':
    case 'UN':
    case 'OW':
      assert.ok(hexToBytes(printed, el.vr === 'OW').equals(padded), `${where}: bytes ${printed}`);
      return;
    case 'OF':
    case 'OD': {
      const size = el.vr === 'OF' ? 4 : 8;
      const theirs = printed.split('\\').map(Number);
      assert.is(theirs.length, v.length / size, `${where}: count`);
      theirs.forEach((x, k) => {
        const ours = size === 4 ? v.readFloatLE(k * 4) : v.readDoubleLE(k * 8);
        assert.ok(sameFloat(x, ours, size === 4), `${where}: ${x} vs ${ours}`);
      });
      return;
    }
    case 'OL':
    case 'OV': {
      const size = el.vr === 'OL' ? 4 : 8;
      const ours = Array.from({ length: v.length / size }, (_, k) => (size === 4 ? String(v.readUInt32LE(k * 4)) : String(v.readBigUInt64LE(k * 8))));
      assert.is(printed, ours.join('\\'), `${where}: numbers`);
      return;
    }
  }
}

// ---- (a) files we write --------------------------------------------------------------------------

const PRIVATE_CREATOR = tag(0x0009, 0x0010);
const PRIVATE_UN = tag(0x0009, 0x1001);

/**
 * One element of every VR (the Selector…Value attributes of PS3.6 group 0072 name one tag per VR),
 * multi-valued where the VR allows, a nested sequence with an empty item, an empty sequence, empty
 * values, a private block, and person names in the given character set.
 */
function buildDataset(characterSet: 'ISO_IR 100' | 'ISO_IR 192'): Dataset {
  const utf8 = characterSet === 'ISO_IR 192';
  const ds = createDataset();
  setValue(ds, 'SpecificCharacterSet', characterSet);
  setValue(ds, 'SOPClassUID', '1.2.840.10008.5.1.4.1.1.7');
  setValue(ds, 'SOPInstanceUID', utf8 ? '2.25.301' : '2.25.302');
  setValue(ds, 'StudyDate', '20240131');
  setValue(ds, 'StudyTime', '235959.123456');
  setValue(ds, 'RetrieveAETitle', ['QRSCU', 'STORE_SCP']);
  setValue(ds, 'ReferencedStudySequence', []);
  setValue(ds, 'PatientName', utf8 ? { Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' } : { Alphabetic: 'Müller^Hans-Jürgen' });
  setValue(ds, 'PatientID', utf8 ? 'ID-王' : 'ID-ß');
  setValue(ds, 'PatientBirthDate', null);
  setValue(ds, 'PatientAge', '042Y');
  setValue(ds, 'PatientSize', 1.82);
  setValue(ds, PRIVATE_CREATOR, 'QRSCU TEST', 'LO');
  setValue(ds, PRIVATE_UN, Buffer.from([1, 2, 3, 0xff]), 'UN');
  setValue(ds, 'SelectorATValue', [0x00100010, 0x7fe00010]);
  setValue(ds, 'SelectorDAValue', ['20240101', '20241231']);
  setValue(ds, 'SelectorCSValue', ['ORIGINAL', 'PRIMARY', 'AXIAL']);
  setValue(ds, 'SelectorDTValue', '20240101120000.5+0100');
  setValue(ds, 'SelectorISValue', [12, -3, 0, 2147483647]);
  setValue(ds, 'SelectorOBValue', Buffer.from([0x00, 0x7f, 0x80, 0xff, 0x01]));
  setValue(ds, 'SelectorLOValue', utf8 ? ['Größe', '高さ'] : ['Größe', 'Höhe']);
  setValue(ds, 'SelectorOFValue', Buffer.from(new Float32Array([1.5, -2.25, 3.4028234663852886e38]).buffer));
  setValue(ds, 'SelectorLTValue', utf8 ? 'Zeile eins\\mit Backslash, 王' : 'Zeile eins\\mit Backslash, ü');
  setValue(ds, 'SelectorOWValue', Buffer.from([0x34, 0x12, 0xcd, 0xab]));
  setValue(ds, 'SelectorPNValue', utf8 ? ['山田^太郎=やまだ^たろう', 'Doe^John'] : ['Größer^Ödön', 'Doe^John']);
  setValue(ds, 'SelectorTMValue', ['101010', '235959.123456']);
  setValue(ds, 'SelectorSHValue', ['AB', 'CD']);
  setValue(ds, 'SelectorUNValue', Buffer.from('raw UN bytes', 'latin1'));
  setValue(ds, 'SelectorSTValue', utf8 ? 'short text ✓' : 'short text ±');
  setValue(ds, 'SelectorUCValue', ['unlimited characters '.repeat(5).trim(), 'two']);
  setValue(ds, 'SelectorUTValue', 'unlimited text\\no split, ünïcödé');
  setValue(ds, 'SelectorURValue', 'http://example.com/a?b=c');
  setValue(ds, 'SelectorDSValue', [1.5, -2000, 0.001, 6.02214076e23]);
  setValue(ds, 'SelectorODValue', Buffer.from(new Float64Array([1, -0.5, Math.PI]).buffer));
  setValue(ds, 'SelectorFDValue', [3.25, -1e300, Math.E]);
  setValue(ds, 'SelectorOLValue', Buffer.from(new Uint32Array([1, 0xffffffff]).buffer));
  setValue(ds, 'SelectorFLValue', [0.5, -8, 0.1]);
  setValue(ds, 'SelectorULValue', [0, 0xffffffff]);
  setValue(ds, 'SelectorUSValue', [0, 65535]);
  setValue(ds, 'SelectorSLValue', [-2147483648, 2147483647]);
  setValue(ds, 'SelectorSSValue', [-32768, 32767]);
  setValue(ds, 'SelectorUIValue', ['1.2.3', '4.5.6']);
  const code = createDataset({ characterSet: ds.characterSet });
  setValue(code, 'CodeValue', 'T-D1100');
  setValue(code, 'CodingSchemeDesignator', 'SRT');
  setValue(code, 'CodeMeaning', utf8 ? 'Kopf 頭' : 'Kopf ä');
  const concept = createDataset({ characterSet: ds.characterSet });
  setValue(concept, 'CodeValue', '113701');
  setValue(concept, 'ConceptNameCodeSequence', [code]);
  setValue(ds, 'SelectorCodeSequenceValue', [code, concept, createDataset()]);
  setValue(ds, 'SelectorOVValue', Buffer.from(new BigUint64Array([1n, 18446744073709551615n]).buffer));
  setValue(ds, 'SelectorSVValue', [-9223372036854775808n, 9223372036854775807n]);
  setValue(ds, 'SelectorUVValue', [0n, 18446744073709551615n]);
  return ds;
}

/** Write, run dcmdump, and demand a clean read with the same elements and values. */
function checkWritten(ds: Dataset, syntax: TransferSyntax, name: string, allowed: readonly string[] = []): Printed[] {
  const file = join(dir, name);
  writeFileSync(file, writePart10(ds, { transferSyntax: syntax }));
  const run = dcmdump([file], true);
  const unexpected = diagnostics(run).filter((l) => !allowed.includes(l));
  assert.equal(unexpected, [], `${name}: dcmdump warnings or errors`);
  assert.is(run.status, 0, `${name}: dcmdump exit status`);
  if (allowed.length === 0) assert.is(run.stderr, '', `${name}: dcmdump stderr`);
  return parseDcmdump(run.stdout);
}

for (const cs of ['ISO_IR 100', 'ISO_IR 192'] as const) {
  for (const [label, syntax] of [['explicit', EXPLICIT_LE], ['implicit', IMPLICIT_LE], ['deflated', DEFLATED_LE]] as const) {
    live(`dcmdump reads our ${label} VR file of every VR (${cs}) cleanly and prints our values`, () => {
      const ds = buildDataset(cs);
      const printed = checkWritten(ds, syntax, `built-${cs.replace(' ', '_')}-${label}.dcm`);
      assertSameAsDcmdump(printed, ds, `${cs} ${label}`, true);
    });
  }
}

live('dcmdump and we agree on a few values, as printed', () => {
  const printed = checkWritten(buildDataset('ISO_IR 192'), EXPLICIT_LE, 'few-values.dcm');
  const at = (path: string) => printed.find((p) => p.path === path)!;
  assert.is(at('(0010,0010)').value, '[Wang^XiaoDong=王^小東]');
  assert.is(at('(0072,006a)').value, '[山田^太郎=やまだ^たろう\\Doe^John]');
  assert.is(at('(0072,0064)').value, '[12\\-3\\0\\2147483647]');
  assert.is(at('(0072,0060)').value, '(0010,0010)\\(7fe0,0010)');
  assert.is(at('(0072,0082)').value, '-9223372036854775808\\9223372036854775807');
  assert.is(at('(0072,0083)').value, '0\\18446744073709551615');
  assert.is(at('(0072,0080)[1](0040,a043)[0](0008,0104)').value, '[Kopf 頭]');
  assert.is(at('(0072,0080)').value, '(Sequence with undefined length #=3)');
  const latin1 = checkWritten(buildDataset('ISO_IR 100'), IMPLICIT_LE, 'few-values-latin1.dcm');
  assert.is(latin1.find((p) => p.path === '(0010,0010)')!.value, '[Müller^Hans-Jürgen]');
});

// Two samples hold File Meta elements (0002,0010) inside sequence items. That is their content, and we
// keep it when re-encoding: dcmdump warns about it for the original and for our copy alike.
const META_IN_ITEMS = /^W: DcmItem: Invalid Element \(0002,[0-9a-f]{4}\) found in data set$/;

interface SampleRun {
  readonly originals: Map<string, Dataset>;
  /** dcmdump's output for each sample file, as we wrote it. */
  readonly sections: Map<string, string>;
  readonly run: DcmdumpRun;
}

const SYNTAXES = { explicit: EXPLICIT_LE, implicit: IMPLICIT_LE, deflated: DEFLATED_LE } as const;
const sampleRuns = new Map<string, SampleRun>();
let originals: { run: DcmdumpRun; sections: Map<string, string[]> } | undefined;

/**
 * One dcmdump run over the 40 samples as they are (dcmdump takes ~70 ms to start): its warnings, and
 * its output per file (for comparing `qrscu dump`).
 */
function dcmdumpOriginals(): { run: DcmdumpRun; sections: Map<string, string[]> } {
  if (originals) return originals;
  const run = dcmdump(SAMPLE_FILES.map((f) => join(SAMPLES, f)), false, false);
  const parts = run.stdout.split(/^# dcmdump \(\d+\/\d+\): .*\n/m).slice(1);
  assert.is(parts.length, SAMPLE_FILES.length, 'dcmdump printed every sample');
  originals = { run, sections: new Map(SAMPLE_FILES.map((f, i) => [f, parts[i]!.replace(/\n+$/, '').split('\n')])) };
  return originals;
}

/** The warnings dcmdump gives for the samples as they are. */
function diagnosticsOfOriginals(): string[] {
  return diagnostics(dcmdumpOriginals().run);
}

/** Every sample re-encoded by us in one syntax, and one dcmdump run over all of them. */
function samplesAs(label: keyof typeof SYNTAXES): SampleRun {
  const known = sampleRuns.get(label);
  if (known) return known;
  const datasets = new Map<string, Dataset>();
  const files = SAMPLE_FILES.map((f) => {
    const { dataset } = readPart10(readFileSync(join(SAMPLES, f)));
    datasets.set(f, dataset);
    const file = join(dir, `${f}.${label}.dcm`);
    writeFileSync(file, writePart10(dataset, { transferSyntax: SYNTAXES[label] }));
    return file;
  });
  const run = dcmdump(files, false);
  // With +F each file's output starts with "# dcmdump (i/n): <file>".
  const sections = new Map<string, string>();
  const parts = run.stdout.split(/^# dcmdump \(\d+\/\d+\): /m).slice(1);
  parts.forEach((part, i) => sections.set(SAMPLE_FILES[i]!, part));
  const result = { originals: datasets, sections, run };
  sampleRuns.set(label, result);
  return result;
}

for (const label of Object.keys(SYNTAXES) as (keyof typeof SYNTAXES)[]) {
  live(`dcmdump reads all ${SAMPLE_FILES.length} samples as we re-encode them (${label}) without warnings or errors`, () => {
    const { run, sections } = samplesAs(label);
    assert.is(sections.size, SAMPLE_FILES.length);
    // The only warnings are those dcmdump gives for the originals' own content (see META_IN_ITEMS).
    const expected = diagnosticsOfOriginals().filter((l) => META_IN_ITEMS.test(l)).sort();
    assert.equal(diagnostics(run).sort(), expected);
    assert.is(run.status, 0, 'dcmdump exit status');
  });
}

for (const f of SAMPLE_FILES) {
  live(`dcmdump prints the values of ${f} as we re-encode it`, () => {
    const explicit = samplesAs('explicit');
    const original = explicit.originals.get(f)!;
    const printed = parseDcmdump(explicit.sections.get(f)!);
    assertSameAsDcmdump(printed, original, `${f} explicit`, false);
    assertSameAsDcmdump(parseDcmdump(samplesAs('deflated').sections.get(f)!), original, `${f} deflated`, false);
    // Implicit VR: dcmdump takes VRs from its own dictionaries (private ones included), so compare the
    // structure only.
    const implicit = parseDcmdump(samplesAs('implicit').sections.get(f)!);
    assert.equal(implicit.map((p) => p.path), printed.map((p) => p.path), `${f}: implicit has the same elements`);
  });
}

// ---- `qrscu dump` against dcmdump ------------------------------------------------------------------

// Samples whose whole `qrscu dump` equals `dcmdump -Un` byte for byte. The others differ only where
// noted in assertDumpLikeDcmdump.
const DUMP_IDENTICAL = [
  'CT-ESR-GE_Optima.dcm', 'CT-RDSR-Philips_BigBore4DCT.dcm', 'CT-RDSR-ToshibaPixelMed.dcm', 'DX-RDSR-Canon_CXDI.dcm',
  'DX-RDSR-Carestream_DRXEvolution.dcm', 'MG-RDSR-GEPristina-2D.dcm', 'MG-RDSR-GEPristina-DBT.dcm', 'MG-RDSR-Hologic_2D.dcm', 'RF-RDSR-GE.dcm',
];

async function qrscuDump(file: string): Promise<string[]> {
  const out: string[] = [];
  const code = await runDump({ files: [file], json: false, 'max-length': 64 }, { line: (t) => void out.push(t), error: () => undefined });
  assert.is(code, 0, `qrscu dump ${file}`);
  return out;
}

const DUMP_LINE = /^( *\([0-9a-f]{4},[0-9a-f]{4}\) (?:[A-Za-z]{2}|\?\?) )(.*?) +(# *\S+,\s*\d+) (.*)$/s;

/** Lines, with text values that hold line breaks joined back into their element's line. */
function records(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines.join('\n').split('\n')) {
    if (out.length === 0 || /^ *\([0-9a-f]{4},[0-9a-f]{4}\) |^#|^$/.test(l)) out.push(l);
    else out[out.length - 1] += `\n${l}`;
  }
  return out;
}

/** Padding spaces and NULs around values: dcmdump prints them, we trim them (PS3.5 §6.2). */
function unpadded(value: string): string {
  return value.replace(/[ \0]+(?=\\|\]$)/g, '').replace(/(?<=^\[|\\) +/g, '');
}

/**
 * The same lines, where the two may differ only: FL/FD/OF/OD digits (dcmdump prints 8 or 17 significant
 * digits, we the shortest exact form), cut values (dcmdump cuts at 70 characters, we at --max-length),
 * padding (see unpadded), keywords of private elements (dcmdump names some from its private
 * dictionary, or prints "Unknown Tag & Data"; we print "PrivateTag"), and text
 * that is not ASCII (dcmdump prints its bytes, we decode them).
 */
function assertDumpLikeDcmdump(oursLines: string[], theirsLines: string[], f: string): void {
  const [ours, theirs] = [records(oursLines), records(theirsLines)];
  assert.is(ours.length, theirs.length, `${f}: line count`);
  ours.forEach((o, i) => {
    const t = theirs[i]!;
    if (o === t) return;
    const [mo, mt] = [DUMP_LINE.exec(o), DUMP_LINE.exec(t)];
    assert.ok(mo && mt, `${f}:${i + 1}: ${o} | ${t}`);
    assert.is(mo![1], mt![1], `${f}:${i + 1}: tag and VR`);
    assert.is(mo![3], mt![3], `${f}:${i + 1}: length and VM`);
    const vr = mo![1]!.trim().slice(-2);
    const free = ['FL', 'FD', 'OF', 'OD'].includes(vr) || mo![2]!.endsWith('...') || mt![2]!.endsWith('...') || !/^[\x20-\x7e]*$/.test(mt![2]! + mo![2]!);
    if (!free) assert.is(unpadded(mo![2]!), unpadded(mt![2]!), `${f}:${i + 1}: value`);
    if (mo![4] !== mt![4]) assert.is(mo![4], 'PrivateTag', `${f}:${i + 1}: keyword ${mo![4]} vs ${mt![4]}`);
  });
}

for (const f of SAMPLE_FILES.filter((x) => x !== 'MG-Im-Hologic-PropProj.dcm')) {
  live(`qrscu dump ${f} prints what dcmdump -Un prints${DUMP_IDENTICAL.includes(f) ? ', byte for byte' : ''}`, async () => {
    const ours = await qrscuDump(join(SAMPLES, f));
    const theirs = dcmdumpOriginals().sections.get(f)!;
    if (DUMP_IDENTICAL.includes(f)) assert.equal(ours, theirs);
    else assertDumpLikeDcmdump(ours, theirs, f);
  });
}

live('the Hologic object dcmdump cannot read as sent is readable after our strict re-encode', () => {
  const f = join(SAMPLES, 'MG-Im-Hologic-PropProj.dcm');
  const before = dcmdump([f], false);
  assert.is.not(before.status, 0, 'dcmdump fails on the original');
  assert.ok(diagnostics(before).some((l) => l.startsWith('E: ')), 'with an error');
  const { dataset } = readPart10(readFileSync(f));
  const printed = checkWritten(dataset, EXPLICIT_LE, 'hologic-strict.dcm');
  // (0040,0260) came as UN holding explicit VR items; PS3.6 says SQ, and it is written so.
  const seq = printed.find((p) => p.path === '(0040,0260)')!;
  assert.is(seq.vr, 'SQ');
  assert.is(printed.find((p) => p.path === '(0040,0260)[0](0008,0100)')!.value, `[${getString(getItems(dataset, 0x00400260)[0]!, 'CodeValue')}]`);
  // (0040,0253) had an odd length: one padding space now.
  assert.is(printed.find((p) => p.path === '(0040,0253)')!.length, String(dataset.elements.get(0x00400253)!.value.length + 1));
});

// ---- (b) files dump2dcm writes ---------------------------------------------------------------------

/**
 * [tag, VR, value as dump2dcm reads it, the value our decoder must return]. The dump text is made from
 * the first three columns, so each expected value sits next to what dump2dcm was told.
 */
const DUMP_ELEMENTS: readonly (readonly [string, string, string, unknown])[] = [
  ['(0008,0005)', 'CS', '[ISO_IR 192]', ['ISO_IR 192']],
  ['(0008,0016)', 'UI', '[1.2.840.10008.5.1.4.1.1.7]', ['1.2.840.10008.5.1.4.1.1.7']],
  ['(0008,0018)', 'UI', '[2.25.4711]', ['2.25.4711']],
  ['(0008,0054)', 'AE', '[QRSCU\\STORE_SCP]', ['QRSCU', 'STORE_SCP']],
  ['(0010,0010)', 'PN', '[Wang^XiaoDong=王^小東]', [{ Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' }]],
  ['(0010,1010)', 'AS', '[042Y]', ['042Y']],
  ['(0072,0060)', 'AT', '(0010,0010)\\(7fe0,0010)', [0x00100010, 0x7fe00010]],
  ['(0072,0061)', 'DA', '[20240101\\20241231]', ['20240101', '20241231']],
  ['(0072,0062)', 'CS', '[ORIGINAL\\PRIMARY\\AXIAL]', ['ORIGINAL', 'PRIMARY', 'AXIAL']],
  ['(0072,0063)', 'DT', '[20240101120000.5+0100]', ['20240101120000.5+0100']],
  ['(0072,0064)', 'IS', '[12\\-3\\0\\2147483647]', [12, -3, 0, 2147483647]],
  ['(0072,0065)', 'OB', '01\\02\\03\\ff', Buffer.from([1, 2, 3, 0xff])],
  ['(0072,0066)', 'LO', '[Größe\\高さ]', ['Größe', '高さ']],
  ['(0072,0067)', 'OF', '1.5\\-2.25\\1024.125', Buffer.from(new Float32Array([1.5, -2.25, 1024.125]).buffer)],
  ['(0072,0068)', 'LT', '[line one\\with backslash, ü]', ['line one\\with backslash, ü']],
  ['(0072,0069)', 'OW', '1234\\abcd', Buffer.from([0x34, 0x12, 0xcd, 0xab])],
  ['(0072,006a)', 'PN', '[山田^太郎=やまだ^たろう\\Doe^John]', [{ Alphabetic: '山田^太郎', Ideographic: 'やまだ^たろう' }, { Alphabetic: 'Doe^John' }]],
  ['(0072,006b)', 'TM', '[101010\\235959.123456]', ['101010', '235959.123456']],
  ['(0072,006c)', 'SH', '[AB\\CD]', ['AB', 'CD']],
  ['(0072,006d)', 'UN', '01\\02\\03\\04', Buffer.from([1, 2, 3, 4])],
  ['(0072,006e)', 'ST', '[short text ✓]', ['short text ✓']],
  ['(0072,006f)', 'UC', '[unlimited one\\two]', ['unlimited one', 'two']],
  ['(0072,0070)', 'UT', '[unlimited text\\kept whole]', ['unlimited text\\kept whole']],
  ['(0072,0071)', 'UR', '[http://example.com/a?b=c]', ['http://example.com/a?b=c']],
  ['(0072,0072)', 'DS', '[1.5\\-2e3\\0.001]', [1.5, -2000, 0.001]],
  ['(0072,0073)', 'OD', '1\\-0.5\\0.25', Buffer.from(new Float64Array([1, -0.5, 0.25]).buffer)],
  ['(0072,0074)', 'FD', '3.25\\-1024.5', [3.25, -1024.5]],
  ['(0072,0075)', 'OL', '1\\4294967295', Buffer.from(new Uint32Array([1, 0xffffffff]).buffer)],
  ['(0072,0076)', 'FL', '0.5\\-8', [0.5, -8]],
  ['(0072,0078)', 'UL', '0\\4294967295', [0, 4294967295]],
  ['(0072,007a)', 'US', '0\\65535', [0, 65535]],
  ['(0072,007c)', 'SL', '-2147483648\\2147483647', [-2147483648, 2147483647]],
  ['(0072,007e)', 'SS', '-32768\\32767', [-32768, 32767]],
  ['(0072,007f)', 'UI', '[1.2.3\\4.5.6]', ['1.2.3', '4.5.6']],
  ['(0072,0081)', 'OV', '1\\18446744073709551615', Buffer.from(new BigUint64Array([1n, 18446744073709551615n]).buffer)],
  ['(0072,0082)', 'SV', '-9223372036854775808\\9223372036854775807', [-9223372036854775808n, 9223372036854775807n]],
  ['(0072,0083)', 'UV', '0\\18446744073709551615', [0n, 18446744073709551615n]],
];

/** (0072,0080) SelectorCodeSequenceValue: two items, the second with a nested sequence; then an empty item. */
const DUMP_SEQUENCE = `
(0072,0080) SQ (Sequence with explicit length #=3)
  (fffe,e000) na (Item with explicit length #=2)
    (0008,0100) SH [T-D1100]
    (0008,0102) SH [SRT]
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
  (fffe,e000) na (Item with explicit length #=2)
    (0008,0100) SH [113701]
    (0040,a043) SQ (Sequence with explicit length #=1)
      (fffe,e000) na (Item with explicit length #=1)
        (0008,0104) LO [Kopf 頭]
      (fffe,e00d) na (ItemDelimitationItem for re-encoding)
    (fffe,e0dd) na (SequenceDelimitationItem for re-encod.)
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
  (fffe,e000) na (Item with explicit length #=0)
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
(fffe,e0dd) na (SequenceDelimitationItem for re-encod.)
(0072,0085) SQ (Sequence with explicit length #=0)
(fffe,e0dd) na (SequenceDelimitationItem for re-encod.)
`;

const DUMP_TEXT = `${DUMP_ELEMENTS.map(([t, vr, v]) => `${t} ${vr} ${v}`).join('\n')}\n${DUMP_SEQUENCE}`;

/** Big-endian words: Explicit VR Big Endian datasets keep their binary values as read (Dataset.littleEndian). */
function swapWords(b: Buffer, vr: string): Buffer {
  const size = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 }[vr] ?? 1;
  const out = Buffer.from(b);
  if (size === 2) out.swap16(); else if (size === 4) out.swap32(); else if (size === 8) out.swap64();
  return out;
}

function assertDumpValues(ds: Dataset, context: string): void {
  for (const [t, vr, , value] of DUMP_ELEMENTS) {
    const expected = Buffer.isBuffer(value) && !ds.littleEndian ? swapWords(value, vr) : value;
    const key = parseInt(t.slice(1, 5), 16) * 0x10000 + parseInt(t.slice(6, 10), 16);
    const el = ds.elements.get(key);
    assert.ok(el, `${context}: ${t} present`);
    // In implicit VR our dictionary gives the VR; (0072,006D) SelectorUNValue is UN by definition.
    assert.is(el!.vr, vr, `${context}: ${t} VR`);
    const v = getValue(ds, key);
    if (Buffer.isBuffer(expected)) assert.ok(Buffer.isBuffer(v) && v.equals(expected), `${context}: ${t} bytes ${String(v && (v as Buffer).toString('hex'))}`);
    else assert.equal(v, expected, `${context}: ${t} value`);
  }
  const items = getItems(ds, 'SelectorCodeSequenceValue');
  assert.is(items.length, 3, `${context}: items`);
  assert.is(getString(items[0]!, 'CodeValue'), 'T-D1100');
  assert.is(getString(items[0]!, 'CodingSchemeDesignator'), 'SRT');
  assert.is(getString(items[1]!, 'CodeValue'), '113701');
  assert.is(getString(getItems(items[1]!, 'ConceptNameCodeSequence')[0]!, 'CodeMeaning'), 'Kopf 頭');
  assert.is(items[2]!.elements.size, 0, `${context}: empty item`);
  assert.equal(getItems(ds, tag(0x0072, 0x0085)), [], `${context}: empty sequence`);
}

function dump2dcm(options: string[], name: string): Buffer {
  const dumpFile = join(dir, 'golden.dump');
  writeFileSync(dumpFile, DUMP_TEXT, 'utf8');
  const out = join(dir, name);
  const r = spawnSync(DUMP2DCM!, [...options, dumpFile, out], { encoding: 'utf8' });
  assert.is(r.status, 0, `dump2dcm ${options.join(' ')}: ${r.stderr}`);
  assert.equal(diagnostics({ status: r.status, stdout: r.stdout, stderr: r.stderr }), [], 'dump2dcm warnings');
  return readFileSync(out);
}

for (const [options, syntax, label] of [
  [['+te'], EXPLICIT_LE, 'explicit VR LE, explicit lengths'],
  [['+te', '-e'], EXPLICIT_LE, 'explicit VR LE, undefined lengths'],
  [['+ti'], IMPLICIT_LE, 'implicit VR LE'],
  [['+ti', '-e'], IMPLICIT_LE, 'implicit VR LE, undefined lengths'],
  [['+tb'], EXPLICIT_BE, 'explicit VR big endian'],
  [['+td'], DEFLATED_LE, 'deflated explicit VR LE'],
] as const) {
  live(`dump2dcm's ${label} file decodes to the values of the dump`, () => {
    const file = readPart10(dump2dcm([...options], `dump2dcm-${options.join('')}.dcm`));
    assert.is(file.transferSyntax.uid, syntax.uid);
    assert.equal(file.warnings, [], 'no warnings');
    assertDumpValues(file.dataset, label);
    const undefinedLengths = (options as readonly string[]).includes('-e');
    const seq = file.dataset.elements.get(tag(0x0072, 0x0080))!;
    assert.is(seq.undefinedLength === true, undefinedLengths, 'sequence length form as written');
    assert.is(seq.items![0]!.undefinedLength === true, undefinedLengths, 'item length form as written');
    if (syntax === EXPLICIT_LE && !undefinedLengths) {
      // Golden bytes from another implementation: decoding and re-encoding changes nothing.
      const buf = readFileSync(join(dir, `dump2dcm-${options.join('')}.dcm`));
      assert.ok(encodeDataset(file.dataset, EXPLICIT_LE).equals(buf.subarray(file.datasetOffset)), 'byte-identical re-encode');
    }
  });
}

test.run();
