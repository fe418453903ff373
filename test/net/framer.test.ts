// createFramer: a stream of golden PDUs through every two-way split and 1-byte chunking (pg-protocol),
// views vs one exact copy, oversize and unknown types refused at the header, and a seeded fuzz run of
// random and mutated bytes through the framer and decodePdu where only PduError may come out (undici).

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PduError } from '../../src/errors.js';
import { createFramer, MAX_ASSOCIATE_PDU_LENGTH, UNLIMITED_P_DATA_CAP } from '../../src/net/framer.js';
import { decodePdu, encodePdu } from '../../src/net/pdu-codec.js';
import * as F from './fixtures/pdus.js';
import { createRandomInt as createRandom } from '../support/random.js';

const test = suite('net/framer');

function thrown(fn: () => unknown): PduError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PduError) return e;
    throw new Error(`expected a PduError, got ${String(e)}`);
  }
  throw new Error('expected a PduError, nothing was thrown');
}

/** Push `chunks` through a fresh framer; return the PDUs with their offsets. */
function frame(chunks: readonly Buffer[], maxPduLength = 16384): { pdus: Buffer[]; offsets: number[]; buffered: number } {
  const pdus: Buffer[] = [];
  const offsets: number[] = [];
  const framer = createFramer(maxPduLength, (pdu, offset) => {
    pdus.push(pdu);
    offsets.push(offset);
  });
  for (const chunk of chunks) framer.push(chunk);
  return { pdus, offsets, buffered: framer.buffered() };
}


const STREAM_PDUS: readonly Buffer[] = [
  F.ECHOSCU_ASSOCIATE_RQ,
  F.STORESCP_ASSOCIATE_AC,
  F.ECHO_RQ_P_DATA,
  F.ECHO_RSP_P_DATA,
  F.P_DATA_TWO_PDVS,
  F.RELEASE_RQ,
  F.RELEASE_RP,
  F.ABORT_BY_USER,
];
const STREAM = Buffer.concat(STREAM_PDUS);
const STREAM_OFFSETS = STREAM_PDUS.map((_, i) => STREAM_PDUS.slice(0, i).reduce((n, p) => n + p.length, 0));

test('one chunk holding several PDUs: each is a view into the chunk', () => {
  const { pdus, offsets, buffered } = frame([STREAM]);
  assert.equal(pdus, [...STREAM_PDUS]);
  assert.equal(offsets, STREAM_OFFSETS);
  assert.is(buffered, 0);
  for (const pdu of pdus) assert.is(pdu.buffer, STREAM.buffer);
});

test('every two-way split of the stream', () => {
  for (let i = 0; i <= STREAM.length; i++) {
    const { pdus, offsets, buffered } = frame([STREAM.subarray(0, i), STREAM.subarray(i)]);
    assert.equal(pdus, [...STREAM_PDUS], `split at ${i}`);
    assert.equal(offsets, STREAM_OFFSETS, `split at ${i}`);
    assert.is(buffered, 0);
  }
});

test('1-byte chunks: each PDU handed over once, complete, in order', () => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < STREAM.length; i++) chunks.push(STREAM.subarray(i, i + 1));
  const pdus: Buffer[] = [];
  const framer = createFramer(16384, (pdu) => pdus.push(pdu));
  let fed = 0;
  for (const chunk of chunks) {
    framer.push(chunk);
    fed++;
    const done = pdus.reduce((n, p) => n + p.length, 0);
    assert.is(framer.buffered(), fed - done);
  }
  assert.equal(pdus, [...STREAM_PDUS]);
});

test('1-byte chunks of a 9,636-byte A-ASSOCIATE-RQ and three 4 KB P-DATA-TF PDUs', () => {
  const big = Buffer.concat([F.STORESCU_ASSOCIATE_RQ_FULL, F.STORE_RQ_COMMAND_P_DATA, ...F.STORE_RQ_DATASET_P_DATA]);
  const chunks: Buffer[] = [];
  for (let i = 0; i < big.length; i++) chunks.push(big.subarray(i, i + 1));
  const { pdus } = frame(chunks, 4096);
  assert.equal(pdus, [F.STORESCU_ASSOCIATE_RQ_FULL, F.STORE_RQ_COMMAND_P_DATA, ...F.STORE_RQ_DATASET_P_DATA]);
});

test('random chunkings (seeded)', () => {
  const random = createRandom(42);
  const big = Buffer.concat([STREAM, F.STORESCU_ASSOCIATE_RQ_FULL, ...F.STORE_RQ_DATASET_P_DATA, STREAM]);
  const expected = [...STREAM_PDUS, F.STORESCU_ASSOCIATE_RQ_FULL, ...F.STORE_RQ_DATASET_P_DATA, ...STREAM_PDUS];
  for (let run = 0; run < 200; run++) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < big.length; ) {
      const n = 1 + random(run % 2 === 0 ? 20 : 3000);
      chunks.push(big.subarray(i, i + n));
      i += n;
    }
    assert.equal(frame(chunks, 4096).pdus, expected, `run ${run}`);
  }
});

test('a PDU spanning chunks is copied once into a buffer of its exact size', () => {
  const { pdus } = frame([F.ECHO_RQ_P_DATA.subarray(0, 30), F.ECHO_RQ_P_DATA.subarray(30)]);
  assert.is(pdus.length, 1);
  assert.is(pdus[0]!.length, F.ECHO_RQ_P_DATA.length);
  assert.is.not(pdus[0]!.buffer, F.ECHO_RQ_P_DATA.buffer);
  assert.equal(pdus[0], F.ECHO_RQ_P_DATA);
});

test('empty chunks are ignored; buffered counts a partial PDU', () => {
  const pdus: Buffer[] = [];
  const framer = createFramer(16384, (pdu) => pdus.push(pdu));
  framer.push(Buffer.alloc(0));
  framer.push(F.ECHOSCU_ASSOCIATE_RQ.subarray(0, 100));
  assert.is(framer.buffered(), 100);
  framer.push(Buffer.alloc(0));
  framer.push(F.ECHOSCU_ASSOCIATE_RQ.subarray(100));
  assert.is(framer.buffered(), 0);
  assert.equal(pdus, [F.ECHOSCU_ASSOCIATE_RQ]);
});

test('a handler that throws leaves the framer consistent', () => {
  const pdus: Buffer[] = [];
  let calls = 0;
  const framer = createFramer(16384, (pdu) => {
    calls++;
    if (calls === 1) throw new Error('handler');
    pdus.push(pdu);
  });
  assert.throws(() => framer.push(Buffer.concat([F.RELEASE_RQ, F.RELEASE_RP])), /handler/);
  framer.push(Buffer.alloc(0));
  framer.push(F.ABORT_BY_USER);
  assert.equal(pdus, [F.RELEASE_RP, F.ABORT_BY_USER]);
});

// ---------------------------------------------------------------------------------------------
// Refusals

test('oversize P-DATA-TF refused from its header alone, before its body is buffered', () => {
  const pdus: Buffer[] = [];
  const framer = createFramer(4096, (pdu) => pdus.push(pdu));
  framer.push(F.RELEASE_RQ);
  const e = thrown(() => framer.push(F.hex`04 00 00001001`));
  assert.equal(
    { code: e.code, field: e.field, offset: e.offset, abortReason: e.abortReason },
    { code: 'ERR_PDU_TOO_LARGE', field: 'PDU-length', offset: F.RELEASE_RQ.length + 2, abortReason: 6 },
  );
  assert.equal(pdus, [F.RELEASE_RQ]);
  // The framer stays failed.
  assert.is(thrown(() => framer.push(F.RELEASE_RQ)), e);
});

test('P-DATA-TF PDU-length exactly the maximum is accepted (PS3.8 D.1: the variable field)', () => {
  const data = Buffer.alloc(4096 - 6, 0x41);
  const pdu = encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, isCommand: false, isLast: true, data }] });
  assert.is(pdu.length, 4096 + 6);
  assert.equal(frame([pdu], 4096).pdus, [pdu]);
});

test('association PDUs are bounded by the 1 MiB cap, not the P-DATA maximum', () => {
  assert.equal(frame([F.STORESCU_ASSOCIATE_RQ_FULL], 4096).pdus, [F.STORESCU_ASSOCIATE_RQ_FULL]);
  const e = thrown(() => frame([F.hex`01 00 00100001`], 4096));
  assert.is(e.code, 'ERR_PDU_TOO_LARGE');
  assert.is(e.offset, 2);
  const small = thrown(() => {
    const framer = createFramer(4096, () => undefined, { maxAssociatePduLength: 1000 });
    framer.push(F.STORESCU_ASSOCIATE_RQ_FULL.subarray(0, 6));
  });
  assert.is(small.code, 'ERR_PDU_TOO_LARGE');
  assert.is(MAX_ASSOCIATE_PDU_LENGTH, 1 << 20);
});

test('maxPduLength 0 (no maximum declared) caps P-DATA-TF at 64 MiB', () => {
  const header = Buffer.alloc(6);
  header[0] = 0x04;
  header.writeUInt32BE(UNLIMITED_P_DATA_CAP, 2);
  const framer = createFramer(0, () => undefined);
  framer.push(header);
  assert.is(framer.buffered(), 6);
  header.writeUInt32BE(UNLIMITED_P_DATA_CAP + 1, 2);
  assert.is(thrown(() => frame([header], 0)).code, 'ERR_PDU_TOO_LARGE');
});

test('a header split across chunks is checked once whole', () => {
  const e = thrown(() => frame([F.hex`04 00 00`, F.hex`00`, F.hex`20 01`], 4096));
  assert.is(e.code, 'ERR_PDU_TOO_LARGE');
  assert.is(e.offset, 2);
});

test('unknown PDU type refused on its first byte, without waiting for a header', () => {
  const pdus: Buffer[] = [];
  const framer = createFramer(16384, (pdu) => pdus.push(pdu));
  const e = thrown(() => framer.push(Buffer.concat([F.RELEASE_RQ, F.hex`08`])));
  assert.equal(
    { code: e.code, field: e.field, offset: e.offset, abortReason: e.abortReason },
    { code: 'ERR_PDU_UNKNOWN_TYPE', field: 'PDU-type', offset: 10, abortReason: 1 },
  );
  // The PDU before the fault was handed over first.
  assert.equal(pdus, [F.RELEASE_RQ]);
  for (const type of [0x00, 0x08, 0x7f, 0xff]) {
    assert.is(thrown(() => frame([Buffer.from([type])])).code, 'ERR_PDU_UNKNOWN_TYPE');
  }
});

// ---------------------------------------------------------------------------------------------
// Fuzz: only PduError, bounded time

const GOLDEN_INPUTS: readonly Buffer[] = [
  F.ECHOSCU_ASSOCIATE_RQ,
  F.STORESCP_ASSOCIATE_AC,
  F.ECHO_RQ_P_DATA,
  F.ECHO_RSP_P_DATA,
  F.RELEASE_RQ,
  F.ABORT_BY_USER,
  F.REJECT_BY_USER,
  F.GETSCU_ASSOCIATE_RQ,
  F.GETSCU_ASSOCIATE_AC,
  F.STORESCU_ASSOCIATE_RQ_USER_IDENTITY,
  F.RQ_FULL,
  F.RQ_LENIENT,
  F.AC_FULL,
  F.AC_REJECTED_WITHOUT_TRANSFER_SYNTAX,
  F.P_DATA_TWO_PDVS,
  F.STORE_RQ_COMMAND_P_DATA,
];

function mutate(random: (n: number) => number, input: Buffer): Buffer {
  const out = Buffer.from(input);
  const kind = random(5);
  if (kind === 0) {
    for (let i = 1 + random(4); i > 0; i--) out[random(out.length)] = random(256);
    return out;
  }
  if (kind === 1) return out.subarray(0, random(out.length + 1));
  if (kind === 2) {
    // A length-looking field (PDU-length, Item-length, PDV Item-length) set to an interesting value.
    const at = random(Math.max(1, out.length - 1));
    const values = [0, 1, 2, 3, 4, 0xff, 0xffff, out.length - at, out.length - at - 4];
    out.writeUInt16BE(values[random(values.length)]! & 0xffff, Math.min(at, out.length - 2));
    return out;
  }
  if (kind === 3) {
    const at = random(out.length);
    const extra = Buffer.alloc(1 + random(8));
    for (let i = 0; i < extra.length; i++) extra[i] = random(256);
    return Buffer.concat([out.subarray(0, at), extra, out.subarray(at)]);
  }
  const random1 = Buffer.alloc(random(64));
  for (let i = 0; i < random1.length; i++) random1[i] = random(256);
  if (random1.length > 0 && random(2) === 0) random1[0] = 1 + random(7);
  return random1;
}

/** Decode; when that works, the value must re-encode (or refuse with PduError) and decode to itself. */
function decodeChecked(pdu: Buffer): 'ok' | 'error' {
  let value;
  try {
    value = decodePdu(pdu);
  } catch (e) {
    if (!(e instanceof PduError)) throw e;
    return 'error';
  }
  let again: Buffer;
  try {
    again = encodePdu(value);
  } catch (e) {
    if (!(e instanceof PduError)) throw e;
    return 'ok';
  }
  assert.equal(decodePdu(again), value);
  return 'ok';
}

test('fuzz (seeded): random and mutated PDUs into decodePdu and the framer throw only PduError', () => {
  const random = createRandom(0x51c0de);
  const started = Date.now();
  const counts = { ok: 0, error: 0, framed: 0, frameErrors: 0 };
  for (let i = 0; i < 20000; i++) {
    const input = mutate(random, GOLDEN_INPUTS[random(GOLDEN_INPUTS.length)]!);
    counts[decodeChecked(input)]++;
    const stream = Buffer.concat([input, GOLDEN_INPUTS[random(GOLDEN_INPUTS.length)]!]);
    const framer = createFramer(1 + random(20000), (pdu, offset) => {
      counts.framed++;
      try {
        decodePdu(pdu, offset);
      } catch (e) {
        if (!(e instanceof PduError)) throw e;
      }
    });
    try {
      for (let at = 0; at < stream.length; ) {
        const n = 1 + random(64);
        framer.push(stream.subarray(at, at + n));
        at += n;
      }
    } catch (e) {
      if (!(e instanceof PduError)) throw e;
      counts.frameErrors++;
    }
  }
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 20000, `fuzz took ${elapsed} ms`);
  assert.ok(counts.ok > 1000 && counts.error > 1000, JSON.stringify(counts));
  assert.ok(counts.framed > 10000 && counts.frameErrors > 1000, JSON.stringify(counts));
});

test.run();
