// fragmentMessage against DCMTK's own fragmentation, at several maximum lengths (odd ones give even
// fragments, 0 is unlimited), and createMessageAssembler over every grouping of PDVs into PDUs,
// streaming to a sink, and each out-of-sequence PDV with its PS3.8 Table 9-26 reason.

import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PduError } from '../../src/errors.js';
import { createFramer } from '../../src/net/framer.js';
import { decodePdu } from '../../src/net/pdu-codec.js';
import type { PDataTf, Pdv } from '../../src/net/pdu.js';
import { commandHasDataset, createMessageAssembler, fragmentMessage, UNLIMITED_SEND_LENGTH, type PDataMessage } from '../../src/net/pdv.js';
import * as F from './fixtures/pdus.js';

const test = suite('net/pdv');

function thrown(fn: () => unknown): PduError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PduError) return e;
    throw new Error(`expected a PduError, got ${String(e)}`);
  }
  throw new Error('expected a PduError, nothing was thrown');
}

/** Split the bytes of consecutive P-DATA-TF PDUs with the framer and decode each. */
function pdusOf(bytes: Buffer): PDataTf[] {
  const out: PDataTf[] = [];
  createFramer(0, (pdu) => out.push(decodePdu(pdu) as PDataTf)).push(bytes);
  return out;
}

const pdata = (bytes: Buffer): PDataTf => decodePdu(bytes) as PDataTf;

const ECHO_COMMAND = F.ECHO_RQ_P_DATA_VALUE.pdvs[0]!.data;
const STORE_COMMAND = pdata(F.STORE_RQ_COMMAND_P_DATA).pdvs[0]!.data;
const STORE_DATASET = Buffer.concat(F.STORE_RQ_DATASET_P_DATA.map((p) => pdata(p).pdvs[0]!.data));

// A command set announcing a data set: (0000,0800) = 0x0000, as in P_DATA_TWO_PDVS, padded to 20 bytes
// with (0000,0110) Message ID so that it fragments.
const FIND_COMMAND = F.hex`00001001 02000000 0700  00000008 02000000 0000`;

const pdv = (presentationContextId: number, isCommand: boolean, isLast: boolean, data: Buffer = Buffer.alloc(2)): Pdv => ({
  presentationContextId,
  isCommand,
  isLast,
  data,
});
const tf = (...pdvs: Pdv[]): PDataTf => ({ type: 'P-DATA-TF', pdvs });

// ---------------------------------------------------------------------------------------------
// fragmentMessage

test('fragmentMessage: C-ECHO-RQ at max 16384 equals the PDU echoscu sent', () => {
  assert.equal(fragmentMessage(1, ECHO_COMMAND, undefined, 16384), F.ECHO_RQ_P_DATA);
});

test('fragmentMessage: C-STORE-RQ at max 4090 equals storescu\'s four PDUs (it keeps whole PDUs within 4096)', () => {
  assert.is(createHash('sha256').update(STORE_DATASET).digest('hex'), F.STORE_RQ_DATASET_SHA256);
  assert.equal(fragmentMessage(43, STORE_COMMAND, STORE_DATASET, 4090), Buffer.concat([F.STORE_RQ_COMMAND_P_DATA, ...F.STORE_RQ_DATASET_P_DATA]));
});

test('fragmentMessage: command and data set in their own PDUs, within the maximum, even fragments', () => {
  for (const max of [8, 9, 10, 11, 16, 17, 100, 101, 4090, 4096, 4097, 16384, 16385, 131072, 0]) {
    const bytes = fragmentMessage(5, STORE_COMMAND, STORE_DATASET, max);
    const pdus = pdusOf(bytes);
    const limit = max === 0 ? UNLIMITED_SEND_LENGTH : max;
    const commands: Pdv[] = [];
    const datasets: Pdv[] = [];
    for (const pdu of pdus) {
      assert.is(pdu.pdvs.length, 1, `max ${max}`);
      const pdv = pdu.pdvs[0]!;
      // PDU-length = 4 (PDV Item-length) + 2 + data (PS3.8 D.1 bounds the variable field).
      assert.ok(6 + pdv.data.length <= limit, `max ${max}: PDV of ${pdv.data.length}`);
      assert.is(pdv.presentationContextId, 5);
      (pdv.isCommand ? commands : datasets).push(pdv);
    }
    assert.ok(pdus.findIndex((p) => !p.pdvs[0]!.isCommand) === commands.length, `max ${max}: command first`);
    for (const list of [commands, datasets]) {
      list.forEach((pdv, i) => {
        assert.is(pdv.isLast, i === list.length - 1, `max ${max}`);
        if (i < list.length - 1) {
          assert.is(pdv.data.length % 2, 0, `max ${max}: odd fragment`);
          assert.is(pdv.data.length, (limit - 6) & ~1, `max ${max}: fragments fill the PDU`);
        }
      });
    }
    assert.equal(Buffer.concat(commands.map((p) => p.data)), STORE_COMMAND);
    assert.equal(Buffer.concat(datasets.map((p) => p.data)), STORE_DATASET);
  }
});

test('fragmentMessage: 0 (no maximum) sends 1 MiB PDUs', () => {
  const dataset = Buffer.alloc(UNLIMITED_SEND_LENGTH * 2 + 10, 7);
  const pdus = pdusOf(fragmentMessage(1, ECHO_COMMAND, dataset, 0));
  assert.equal(
    pdus.map((p) => p.pdvs[0]!.data.length),
    [ECHO_COMMAND.length, UNLIMITED_SEND_LENGTH - 6, UNLIMITED_SEND_LENGTH - 6, 22],
  );
});

test('fragmentMessage: an empty data set is one empty last PDV; no data set, no data PDV', () => {
  const withEmpty = pdusOf(fragmentMessage(3, FIND_COMMAND, Buffer.alloc(0), 16384));
  assert.equal(withEmpty[1], { type: 'P-DATA-TF', pdvs: [{ presentationContextId: 3, isCommand: false, isLast: true, data: Buffer.alloc(0) }] });
  assert.is(pdusOf(fragmentMessage(3, ECHO_COMMAND, undefined, 16384)).length, 1);
});

test('fragmentMessage: a hand-checked layout at max 14 (8-byte fragments)', () => {
  assert.equal(
    fragmentMessage(9, FIND_COMMAND, F.hex`0102030405`, 14),
    F.hex`
      04 00 0000000e 0000000a 09 01 00001001 02000000   // command, 8 bytes
      04 00 0000000e 0000000a 09 01 07000000 00080200   // command, 8 bytes
      04 00 0000000a 00000006 09 03 00000000            // command, last, 4 bytes
      04 00 0000000b 00000007 09 02 0102030405          // data set, last, 5 bytes`,
  );
});

test('fragmentMessage: refuses a maximum with no room for a 2-byte PDV, and a bad context ID', () => {
  for (const max of [1, 6, 7]) assert.is(thrown(() => fragmentMessage(1, ECHO_COMMAND, undefined, max)).code, 'ERR_PDU_INVALID');
  assert.is(thrown(() => fragmentMessage(256, ECHO_COMMAND, undefined, 16384)).field, 'Presentation-context-ID');
  assert.is(thrown(() => fragmentMessage(1, ECHO_COMMAND, undefined, -1)).code, 'ERR_PDU_INVALID');
});

// ---------------------------------------------------------------------------------------------
// Reassembly

test('commandHasDataset reads Command Data Set Type (0000,0800)', () => {
  assert.is(commandHasDataset(ECHO_COMMAND), false);
  assert.is(commandHasDataset(STORE_COMMAND), true);
  assert.is(commandHasDataset(FIND_COMMAND), true);
  const absent = thrown(() => commandHasDataset(F.hex`00001001 02000000 0700`));
  assert.equal({ code: absent.code, field: absent.field }, { code: 'ERR_PDU_INVALID', field: 'CommandDataSetType' });
  assert.is(thrown(() => commandHasDataset(F.hex`00001001 ff000000 0700`)).code, 'ERR_PDU_INVALID');
  assert.is(thrown(() => commandHasDataset(F.hex`00000008 04000000 01010000`)).field, 'CommandDataSetType');
});

test('assembler: C-ECHO-RQ is a message without a data set; the command is the PDV itself', () => {
  const assembler = createMessageAssembler();
  const pdu = pdata(F.ECHO_RQ_P_DATA);
  const [message, ...rest] = assembler.push(pdu);
  assert.equal(rest, []);
  assert.equal(message, { contextId: 1, command: ECHO_COMMAND });
  assert.is(message!.command.buffer, F.ECHO_RQ_P_DATA.buffer);
  assert.is(assembler.inProgress(), false);
});

test('assembler: command and data set in one PDU', () => {
  assert.equal(createMessageAssembler().push(F.P_DATA_TWO_PDVS_VALUE), [
    { contextId: 3, command: F.P_DATA_TWO_PDVS_VALUE.pdvs[0]!.data, dataset: F.P_DATA_TWO_PDVS_VALUE.pdvs[1]!.data },
  ]);
});

test('assembler: storescu\'s C-STORE over four PDUs', () => {
  const assembler = createMessageAssembler();
  assert.equal(assembler.push(pdata(F.STORE_RQ_COMMAND_P_DATA)), []);
  assert.is(assembler.inProgress(), true);
  assert.equal(assembler.push(pdata(F.STORE_RQ_DATASET_P_DATA[0]!)), []);
  assert.equal(assembler.push(pdata(F.STORE_RQ_DATASET_P_DATA[1]!)), []);
  const [message] = assembler.push(pdata(F.STORE_RQ_DATASET_P_DATA[2]!));
  assert.is(message!.contextId, 43);
  assert.equal(message!.command, STORE_COMMAND);
  assert.is(createHash('sha256').update(message!.dataset!).digest('hex'), F.STORE_RQ_DATASET_SHA256);
  assert.is(assembler.inProgress(), false);
});

test('assembler: streaming a data set to a sink chosen per command', () => {
  const fragments: Array<[number, boolean]> = [];
  const seen: Array<[number, Buffer]> = [];
  const assembler = createMessageAssembler({
    streamDataset(contextId, command) {
      seen.push([contextId, command]);
      return (data, isLast) => fragments.push([data.length, isLast]);
    },
  });
  assembler.push(pdata(F.STORE_RQ_COMMAND_P_DATA));
  assert.equal(seen, [[43, STORE_COMMAND]]);
  const messages: PDataMessage[] = [];
  for (const pdu of F.STORE_RQ_DATASET_P_DATA) messages.push(...assembler.push(pdata(pdu)));
  assert.equal(fragments, [
    [4084, false],
    [4084, false],
    [958, true],
  ]);
  assert.equal(messages, [{ contextId: 43, command: STORE_COMMAND, datasetStreamed: true }]);
  // A sink is asked for only when a data set follows; returning undefined accumulates.
  const accumulate = createMessageAssembler({ streamDataset: () => undefined });
  assert.equal(accumulate.push(F.P_DATA_TWO_PDVS_VALUE)[0]!.dataset, F.P_DATA_TWO_PDVS_VALUE.pdvs[1]!.data);
});

test('assembler: every grouping of a message\'s PDVs into PDUs gives the same message', () => {
  const dataset = Buffer.from('0123456789abcdefghij0123456789');
  const pdvs = pdusOf(fragmentMessage(7, FIND_COMMAND, dataset, 12)).flatMap((p) => p.pdvs);
  assert.is(pdvs.length, 4 + 5);
  // Each of the 2^(n-1) ways to cut the PDV list into consecutive PDUs.
  for (let cuts = 0; cuts < 1 << (pdvs.length - 1); cuts++) {
    const assembler = createMessageAssembler();
    const messages: PDataMessage[] = [];
    let group: Pdv[] = [];
    pdvs.forEach((pdv, i) => {
      group.push(pdv);
      if (i === pdvs.length - 1 || (cuts & (1 << i)) !== 0) {
        messages.push(...assembler.push({ type: 'P-DATA-TF', pdvs: group }));
        group = [];
      }
    });
    assert.equal(messages, [{ contextId: 7, command: FIND_COMMAND, dataset }], `cuts ${cuts.toString(2)}`);
  }
});

test('assembler: several messages, on several contexts, in one PDU', () => {
  const bytes = Buffer.concat([
    fragmentMessage(1, ECHO_COMMAND, undefined, 16384),
    fragmentMessage(3, FIND_COMMAND, Buffer.from('ab'), 16384),
    fragmentMessage(5, ECHO_COMMAND, undefined, 16384),
  ]);
  const all = pdusOf(bytes).flatMap((p) => p.pdvs);
  assert.equal(createMessageAssembler().push({ type: 'P-DATA-TF', pdvs: all }), [
    { contextId: 1, command: ECHO_COMMAND },
    { contextId: 3, command: FIND_COMMAND, dataset: Buffer.from('ab') },
    { contextId: 5, command: ECHO_COMMAND },
  ]);
});

test('assembler: a custom hasDataset', () => {
  const assembler = createMessageAssembler({ hasDataset: () => false });
  const command = F.P_DATA_TWO_PDVS_VALUE.pdvs[0]!;
  assert.equal(assembler.push(tf(command)), [{ contextId: 3, command: command.data }]);
});

test('assembler errors: PDVs out of sequence are unexpected-PDU-parameter (reason 5)', () => {
  const cases: Array<[string, PDataTf, string]> = [
    ['data set before its command', tf(pdv(1, false, true)), 'Message Control Header'],
    ['another context inside a command', tf(pdv(1, true, false), pdv(3, true, true)), 'Presentation-context-ID'],
    ['a data set before the last command fragment', tf(pdv(1, true, false), pdv(1, false, true)), 'Message Control Header'],
    ['a command where its data set is expected', tf(pdv(1, true, true, FIND_COMMAND), pdv(1, true, true)), 'Message Control Header'],
    ['another context inside a data set', tf(pdv(1, true, true, FIND_COMMAND), pdv(1, false, false), pdv(3, false, true)), 'Presentation-context-ID'],
  ];
  for (const [name, pdu, field] of cases) {
    const e = thrown(() => createMessageAssembler().push(pdu));
    assert.equal({ code: e.code, field: e.field, abortReason: e.abortReason }, { code: 'ERR_PDU_INVALID', field, abortReason: 5 }, name);
  }
});

test('assembler errors: a command without (0000,0800), and a message over the cap', () => {
  assert.is(thrown(() => createMessageAssembler().push(tf(pdv(1, true, true, F.hex`00001001 02000000 0700`)))).field, 'CommandDataSetType');
  const capped = createMessageAssembler({ maxMessageLength: 10 });
  capped.push(tf(pdv(1, true, true, FIND_COMMAND.subarray(10)), pdv(1, false, false, Buffer.alloc(8))));
  const e = thrown(() => capped.push(tf(pdv(1, false, true, Buffer.alloc(4)))));
  assert.equal({ code: e.code, field: e.field }, { code: 'ERR_PDU_TOO_LARGE', field: 'data set' });
});

test('fragment then reassemble at several maximum lengths', () => {
  for (const max of [8, 9, 13, 64, 65, 4096, 16384, 0]) {
    const assembler = createMessageAssembler();
    const messages = pdusOf(fragmentMessage(11, STORE_COMMAND, STORE_DATASET, max)).flatMap((p) => assembler.push(p));
    assert.equal(messages, [{ contextId: 11, command: STORE_COMMAND, dataset: STORE_DATASET }], `max ${max}`);
  }
});

test.run();
