// Seeded fuzzing of the dataset codec: random bytes and mutated golden and sample buffers (flipped
// bytes, cuts, huge lengths spliced in) through every decoder, and every element of what decodes
// through decodeValue, JSON, dump and the encoder. Whatever is thrown must be a DicomError; no case may
// take more than 200 ms. A failure names the seed and case, so it can be replayed.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { DicomError } from '../../src/errors.js';
import type { Dataset } from '../../src/dicom/dataset.js';
import { decodeDataset, decodeDatasetPartial } from '../../src/dicom/decode.js';
import { dumpDataset } from '../../src/dicom/dump.js';
import { encodeDataset } from '../../src/dicom/encode.js';
import { datasetFromJson, datasetToJson } from '../../src/dicom/json.js';
import { readPart10 } from '../../src/dicom/part10.js';
import { DEFLATED_LE, EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, type TransferSyntax } from '../../src/dicom/uids.js';
import { decodeValue, getNumber, getString, getStrings } from '../../src/dicom/values.js';
import { hex } from '../support/hex.js';
import { BINARY_VRS_EXPLICIT, IDENTIFIER_EXPLICIT, IDENTIFIER_IMPLICIT, SEQUENCES_EXPLICIT } from '../fixtures/datasets.js';
import { createRandom } from '../support/random.js';

const test = suite('fuzz: the dataset codec throws only DicomError');

const SEED = 0x5eed_d1c0;
const CASES = 3000;
const CASE_LIMIT_MS = 200;
const TOTAL_LIMIT_MS = 3000;


/** Explicit VR big endian, by hand: CS, US, OW and an SQ of defined length with one item. */
const BIG_ENDIAN = hex(`
  00 08 00 60 'CS' 00 02 'CT'
  00 08 11 40 'SQ' 00 00 00 00 00 12          # (0008,1140) SQ length 18
    ff fe e0 00 00 00 00 0a                   #   item length 10
      00 08 11 50 'UI' 00 02 '1' 00
  00 28 00 10 'US' 00 02 02 00
  00 66 00 16 'OW' 00 00 00 00 00 04 12 34 ab cd
`);

/** Text in code extensions and multi-byte sets: ISO 2022 IR 87 (PS3.5 Example H.3-1), UTF-8, GB18030. */
const CHARSETS = [
  hex(`
    08 00 05 00 'CS' 10 00 '\\ISO 2022 IR 87 '
    10 00 10 00 'PN' 3c 00 'Yamada^Tarou=' 1b 24 42 3b 33 45 44 1b 28 42 '^' 1b 24 42 42 40 4f 3a 1b 28 42
      '=' 1b 24 42 24 64 24 5e 24 40 1b 28 42 '^' 1b 24 42 24 3f 24 6d 24 26 1b 28 42   # H.3-1, 60 bytes
  `),
  hex(`
    08 00 05 00 'CS' 0a 00 'ISO_IR 192'
    10 00 10 00 'PN' 18 00 'Wang^XiaoDong=' e7 8e 8b '^' e5 b0 8f e6 9d b1            # 王^小東
    10 00 20 00 'LO' 04 00 e2 9c 93 20                                                # ✓
  `),
  hex(`
    08 00 05 00 'CS' 08 00 'GB18030 '
    10 00 10 00 'PN' 08 00 cd f5 5e d0 a1 96 7c 20                                    # 王^小東
  `),
];

const SAMPLES = fileURLToPath(new URL('../fixtures/dicom-samples/', import.meta.url));
// The smaller samples (up to 10 KB: 10 files, implicit and explicit VR) and the Hologic object (odd
// lengths, explicit items in a UN sequence): real structure, and cheap enough for thousands of cases.
const SAMPLE_FILES = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.dcm') && (statSync(SAMPLES + f).size <= 10_240 || f === 'MG-Im-Hologic-PropProj.dcm'))
  .sort()
  .map((f) => readFileSync(SAMPLES + f));

interface Seed {
  readonly name: string;
  readonly bytes: Buffer;
  /** Bare datasets are decoded in these syntaxes; Part-10 files through readPart10. */
  readonly syntaxes: readonly TransferSyntax[];
  readonly part10: boolean;
}

const SEEDS: readonly Seed[] = [
  { name: 'identifier (explicit)', bytes: IDENTIFIER_EXPLICIT, syntaxes: [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE], part10: false },
  { name: 'identifier (implicit)', bytes: IDENTIFIER_IMPLICIT, syntaxes: [IMPLICIT_LE, EXPLICIT_LE], part10: false },
  { name: 'binary VRs', bytes: BINARY_VRS_EXPLICIT, syntaxes: [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE], part10: false },
  { name: 'sequences', bytes: SEQUENCES_EXPLICIT, syntaxes: [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE], part10: false },
  { name: 'big endian', bytes: BIG_ENDIAN, syntaxes: [EXPLICIT_BE, EXPLICIT_LE], part10: false },
  ...CHARSETS.map((bytes, i) => ({ name: `character set ${i}`, bytes, syntaxes: [EXPLICIT_LE], part10: false })),
  { name: 'deflated identifier', bytes: deflateRawSync(SEQUENCES_EXPLICIT), syntaxes: [DEFLATED_LE], part10: false },
  ...SAMPLE_FILES.map((bytes, i) => ({ name: `sample ${i}`, bytes, syntaxes: [], part10: true })),
];

// Lengths that have broken decoders: undefined length, just below it, 2 GiB, and 16-bit maxima.
const HUGE_U32 = [0xfffffff0, 0xffffffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0x00010000];
const HUGE_U16 = [0xffff, 0xfffe, 0x8000];

function mutate(src: Buffer, rnd: () => number): Buffer {
  const int = (n: number) => Math.floor(rnd() * n);
  const b = Buffer.from(src);
  const kind = int(7);
  switch (kind) {
    case 0: {
      // Flip a few bytes.
      for (let i = 0, n = 1 + int(8); i < n && b.length > 0; i++) b[int(b.length)] = int(256);
      return b;
    }
    case 1:
      // Cut anywhere.
      return b.subarray(0, int(b.length + 1));
    case 2: {
      // A huge 32-bit length at a 2-aligned offset (where lengths live).
      if (b.length < 4) return b;
      const at = int(b.length - 3) & ~1;
      b.writeUInt32LE(HUGE_U32[int(HUGE_U32.length)]!, at);
      return b;
    }
    case 3: {
      // A huge 16-bit length (explicit VR short form), or a big-endian huge 32-bit one.
      if (b.length < 4) return b;
      const at = int(b.length - 3);
      if (rnd() < 0.5) b.writeUInt16LE(HUGE_U16[int(HUGE_U16.length)]!, at);
      else b.writeUInt32BE(HUGE_U32[int(HUGE_U32.length)]!, at);
      return b;
    }
    case 4: {
      // Item and delimiter tags where they do not belong.
      if (b.length < 8) return b;
      const at = int(b.length - 7) & ~1;
      b.writeUInt32LE([0xe000fffe, 0xe00dfffe, 0xe0ddfffe][int(3)]!, at);
      b.writeUInt32LE(rnd() < 0.5 ? 0xffffffff : int(64), at + 4);
      return b;
    }
    case 5: {
      // Duplicate or drop a slice (shifts everything after it).
      const from = int(b.length + 1);
      const to = Math.min(b.length, from + int(64));
      return rnd() < 0.5 ? Buffer.concat([b.subarray(0, to), b.subarray(from, to), b.subarray(to)]) : Buffer.concat([b.subarray(0, from), b.subarray(to)]);
    }
    default: {
      // A VR code that is no VR, or one with the other header form.
      if (b.length < 6) return b;
      const at = int(b.length - 1);
      b.write(['XX', 'OB', 'SQ', 'UN', 'US', 'UT', '\0\0'][int(7)]!, at, 'latin1');
      return b;
    }
  }
}

/** Read everything the decoder produced: every value, nested items, JSON, dump, and a re-encode. */
function readEverything(ds: Dataset): void {
  for (const el of ds.elements.values()) {
    decodeValue(el, ds);
    getString(ds, el.tag);
    getStrings(ds, el.tag);
    getNumber(ds, el.tag);
    for (const item of el.items ?? []) readEverything(item);
  }
}

function exercise(bytes: Buffer, seed: Seed): void {
  const use = (ds: Dataset) => {
    readEverything(ds);
    datasetToJson(ds);
    // The dump costs most; over the samples it is exercised with the bare datasets' worst values anyway.
    if (!seed.part10) dumpDataset(ds);
    encodeDataset(ds, EXPLICIT_LE);
  };
  const attempt = (f: () => void) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof DicomError)) throw e;
    }
  };
  if (seed.part10) {
    // The strict read decodes what the partial read does, and stops at the first fault: decoding is enough.
    attempt(() => void readPart10(bytes));
    attempt(() => {
      const f = readPart10(bytes, { partial: true });
      use(f.dataset);
      readEverything(f.meta);
    });
    return;
  }
  for (const syntax of seed.syntaxes) {
    attempt(() => use(decodeDataset(bytes, syntax, { warnings: [] })));
    attempt(() => readEverything(decodeDatasetPartial(bytes, syntax).dataset));
  }
  // Random bytes and mutated files are bare datasets too, to the decoder.
  if (seed.syntaxes.length === 0) attempt(() => readEverything(decodeDatasetPartial(bytes, IMPLICIT_LE).dataset));
}

const BARE = SEEDS.filter((x) => !x.part10);
const FILES = SEEDS.filter((x) => x.part10);

/** Half the cases start from a bare golden dataset, half from a sample file (which cost more). */
function pickSeed(i: number): Seed {
  return i % 2 === 0 ? BARE[(i / 2) % BARE.length]! : FILES[((i - 1) / 2) % FILES.length]!;
}

test('the seeds themselves decode cleanly (so mutations start from valid input)', () => {
  for (const seed of SEEDS) {
    if (seed.part10) readPart10(seed.bytes);
    else for (const syntax of seed.syntaxes.slice(0, 1)) readEverything(decodeDataset(seed.bytes, syntax));
  }
  const names = CHARSETS.map((b) => getString(decodeDataset(b, EXPLICIT_LE), 'PatientName'));
  assert.equal(names, ['Yamada^Tarou=山田^太郎=やまだ^たろう', 'Wang^XiaoDong=王^小東', '王^小東']);
});

/** CPU time of this process in ms: unlike the wall clock, not stretched by other processes on a busy machine. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

test(`${CASES} cases in under ${TOTAL_LIMIT_MS} ms: only DicomError is thrown, no case over ${CASE_LIMIT_MS} ms`, () => {
  const rnd = createRandom(SEED);
  const started = cpuMs();
  const wallStarted = performance.now();
  let slowest = { ms: 0, index: -1 };
  for (let i = 0; i < CASES; i++) {
    const seed = pickSeed(i);
    // One case in eight is plain random bytes (sometimes behind a valid preamble and "DICM").
    let bytes: Buffer;
    if (i % 8 === 7) {
      bytes = Buffer.from(Array.from({ length: Math.floor(rnd() * 512) }, () => Math.floor(rnd() * 256)));
      if (rnd() < 0.3) bytes = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), bytes]);
    } else {
      bytes = mutate(seed.bytes, rnd);
      if (rnd() < 0.2) bytes = mutate(bytes, rnd);
    }
    const t0 = cpuMs();
    try {
      exercise(bytes, seed);
    } catch (e) {
      assert.unreachable(`case ${i} (seed ${SEED.toString(16)}, from ${seed.name}) threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\ninput: ${bytes.subarray(0, 256).toString('hex')}`);
    }
    const ms = cpuMs() - t0;
    if (ms > slowest.ms) slowest = { ms, index: i };
    assert.ok(ms < CASE_LIMIT_MS, `case ${i} (from ${seed.name}) took ${ms.toFixed(1)} ms of CPU`);
  }
  const total = cpuMs() - started;
  const wall = performance.now() - wallStarted;
  if (process.env.FUZZ_REPORT) process.stderr.write(`fuzz: ${total.toFixed(0)} ms CPU, ${wall.toFixed(0)} ms wall, slowest ${slowest.ms.toFixed(1)} ms\n`);
  assert.ok(total < TOTAL_LIMIT_MS, `${CASES} cases took ${total.toFixed(0)} ms of CPU, ${wall.toFixed(0)} ms wall (slowest: case ${slowest.index}, ${slowest.ms.toFixed(1)} ms)`);
});

test('the mutations reach the error paths: truncation, invalid input and unknown VRs all occur', () => {
  const rnd = createRandom(SEED + 1);
  const codes = new Set<string>();
  for (let i = 0; i < 600; i++) {
    const seed = pickSeed(i);
    const bytes = mutate(seed.bytes, rnd);
    try {
      if (seed.part10) readPart10(bytes);
      else decodeDataset(bytes, seed.syntaxes[0]!);
    } catch (e) {
      if (e instanceof DicomError) codes.add(e.code);
    }
  }
  for (const code of ['ERR_DATASET_TRUNCATED', 'ERR_DATASET_INVALID']) assert.ok(codes.has(code), `${code} among ${[...codes].join(', ')}`);
});

// Values that have broken JSON readers: wrong types, out-of-range numbers, separators, huge strings.
const JSON_VALUES: readonly unknown[] = [
  null, true, 0, -1, 1.5, 2 ** 31, 2 ** 64, -(2 ** 63) - 4096, 1e308, -0, '', 'x', '\\', '=', 'Ω', '王', '00100010',
  '9223372036854775808', '-1', 'AQI=', '!!', [], [null], {}, { vr: 'SQ' }, { vr: 'XX' }, { Alphabetic: 5 }, 'A'.repeat(70_000),
];

/** A copy of `json` with one node (anywhere in the tree) replaced by a value of JSON_VALUES. */
function mutateJson(json: unknown, rnd: () => number): unknown {
  const copy = JSON.parse(JSON.stringify(json)) as unknown;
  const slots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach((v, i) => (slots.push({ parent: node, key: i }), walk(v)));
    else if (node !== null && typeof node === 'object') for (const [k, v] of Object.entries(node)) slots.push({ parent: node as Record<string, unknown>, key: k }), walk(v);
  };
  walk(copy);
  const slot = slots[Math.floor(rnd() * slots.length)];
  if (slot) (slot.parent as Record<string | number, unknown>)[slot.key] = JSON_VALUES[Math.floor(rnd() * JSON_VALUES.length)];
  return copy;
}

test('datasetFromJson: 1,000 mutated JSON documents throw only DicomError', () => {
  const rnd = createRandom(SEED + 2);
  const seeds = [...BARE, ...FILES.slice(0, 3)].map((x) => datasetToJson(x.part10 ? readPart10(x.bytes).dataset : decodeDataset(x.bytes, x.syntaxes[0]!)));
  for (let i = 0; i < 1000; i++) {
    const json = mutateJson(seeds[i % seeds.length], rnd);
    try {
      encodeDataset(datasetFromJson(json), EXPLICIT_LE);
    } catch (e) {
      if (!(e instanceof DicomError)) assert.unreachable(`case ${i} threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n${JSON.stringify(json).slice(0, 400)}`);
    }
  }
});

test('huge lengths are refused before any allocation, with the offset of the element', () => {
  for (const length of HUGE_U32.filter((x) => x !== 0x00010000)) {
    const buf = hex(`08 00 60 00 'UT' 00 00`);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(length);
    const bytes = Buffer.concat([hex(`10 00 20 00 'LO' 02 00 'ID'`), buf, len, Buffer.from('xx')]);
    try {
      decodeDataset(bytes, EXPLICIT_LE);
      assert.unreachable(`length ${length.toString(16)} accepted`);
    } catch (e) {
      if (!(e instanceof DicomError)) throw e;
      assert.ok(['ERR_DATASET_TRUNCATED', 'ERR_DATASET_INVALID'].includes(e.code), e.message);
      assert.is(e.offset, 10, e.message);
    }
  }
});

test.run();
