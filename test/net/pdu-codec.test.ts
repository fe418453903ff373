// decodePdu / encodePdu / pduLength against golden PDUs: parse, generate and mirror (mqtt-packet), then
// every truncation, overrun and bad value with its exact code, field and offset.
//
// Captures (test/net/fixtures/pdus.ts) were taken with DCMTK 3.6.7 on loopback only:
//   unshare --net sh -c 'ip link set lo up; storescp -aet STORESCP 11112 & storescp --refuse 11113 &
//     storescp -pdu 4096 11114 & sleep 0.5; tshark -i lo -f "tcp port 11112 or tcp port 11113 or
//     tcp port 11114" -F pcap -w all.pcap & sleep 2; echoscu -aec STORESCP 127.0.0.1 11112;
//     echoscu -aec STORESCP --abort 127.0.0.1 11112; echoscu 127.0.0.1 11113;
//     storescu -aec STORESCP -usr alice -pwd secret -rsp 127.0.0.1 11112 small.dcm;
//     getscu -aec STORESCP 127.0.0.1 11112 -k 0008,0052=STUDY -k 0020,000d=1.2.3;
//     storescu -aec STORESCP -xs 127.0.0.1 11114 big.dcm; …'
// and split into PDUs from `tshark -r all.pcap -T fields -e tcp.stream -e tcp.srcport -e tcp.dstport -e tcp.payload`.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PduError } from '../../src/errors.js';
import { decodePdu, encodePDataHeaderInto, encodePdu, P_DATA_TF_HEADER_LENGTH, pduLength } from '../../src/net/pdu-codec.js';
import { describeAbort, describeContextResult, describePdu, describeReject, type AssociateRq, type Pdu } from '../../src/net/pdu.js';
import * as F from './fixtures/pdus.js';

const test = suite('net/pdu-codec');

interface Expected {
  code: string;
  field?: string;
  offset?: number;
  abortReason?: number;
}

function thrown(fn: () => unknown): PduError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PduError) return e;
    throw new Error(`expected a PduError, got ${String(e)}`);
  }
  throw new Error('expected a PduError, nothing was thrown');
}

function assertPduError(fn: () => unknown, expected: Expected): PduError {
  const e = thrown(fn);
  const got: Expected = { code: e.code };
  if (expected.field !== undefined) got.field = e.field;
  if (expected.offset !== undefined) got.offset = e.offset;
  if (expected.abortReason !== undefined) got.abortReason = e.abortReason;
  assert.equal(got, expected, e.message);
  return e;
}

/** [name, golden bytes, decoded value, bytes our encoder writes for that value]. */
const GOLDEN: ReadonlyArray<[string, Buffer, Pdu, Buffer]> = [
  ['echoscu A-ASSOCIATE-RQ', F.ECHOSCU_ASSOCIATE_RQ, F.ECHOSCU_ASSOCIATE_RQ_VALUE, F.ECHOSCU_ASSOCIATE_RQ_CANONICAL],
  ['storescp A-ASSOCIATE-AC', F.STORESCP_ASSOCIATE_AC, F.STORESCP_ASSOCIATE_AC_VALUE, F.STORESCP_ASSOCIATE_AC],
  ['C-ECHO-RQ P-DATA-TF', F.ECHO_RQ_P_DATA, F.ECHO_RQ_P_DATA_VALUE, F.ECHO_RQ_P_DATA],
  ['A-RELEASE-RQ', F.RELEASE_RQ, { type: 'A-RELEASE-RQ' }, F.RELEASE_RQ],
  ['A-RELEASE-RP', F.RELEASE_RP, { type: 'A-RELEASE-RP' }, F.RELEASE_RP],
  ['A-ABORT by the user', F.ABORT_BY_USER, F.ABORT_BY_USER_VALUE, F.ABORT_BY_USER],
  ['A-ASSOCIATE-RJ no reason', F.REJECT_BY_USER, F.REJECT_BY_USER_VALUE, F.REJECT_BY_USER],
  ['getscu A-ASSOCIATE-RQ with role selection', F.GETSCU_ASSOCIATE_RQ, F.GETSCU_ASSOCIATE_RQ_VALUE, F.GETSCU_ASSOCIATE_RQ_CANONICAL],
  ['A-ASSOCIATE-AC rejecting with a transfer syntax', F.GETSCU_ASSOCIATE_AC, F.GETSCU_ASSOCIATE_AC_VALUE, F.GETSCU_ASSOCIATE_AC],
  [
    'storescu A-ASSOCIATE-RQ with user identity',
    F.STORESCU_ASSOCIATE_RQ_USER_IDENTITY,
    F.STORESCU_ASSOCIATE_RQ_USER_IDENTITY_VALUE,
    F.STORESCU_ASSOCIATE_RQ_USER_IDENTITY_CANONICAL,
  ],
  ['A-ASSOCIATE-RQ with every sub-item', F.RQ_FULL, F.RQ_FULL_VALUE, F.RQ_FULL],
  ['lenient A-ASSOCIATE-RQ', F.RQ_LENIENT, F.RQ_FULL_VALUE, F.RQ_FULL],
  ['A-ASSOCIATE-AC with every sub-item', F.AC_FULL, F.AC_FULL_VALUE, F.AC_FULL],
  [
    'A-ASSOCIATE-AC rejecting without a transfer syntax',
    F.AC_REJECTED_WITHOUT_TRANSFER_SYNTAX,
    F.AC_REJECTED_WITHOUT_TRANSFER_SYNTAX_VALUE,
    F.AC_REJECTED_WITHOUT_TRANSFER_SYNTAX,
  ],
  ['A-ASSOCIATE-RJ called AE', F.REJECT_CALLED_AE, F.REJECT_CALLED_AE_VALUE, F.REJECT_CALLED_AE],
  ['A-ABORT by the provider', F.ABORT_BY_PROVIDER, F.ABORT_BY_PROVIDER_VALUE, F.ABORT_BY_PROVIDER],
  ['P-DATA-TF with two PDVs', F.P_DATA_TWO_PDVS, F.P_DATA_TWO_PDVS_VALUE, F.P_DATA_TWO_PDVS],
];

// ---------------------------------------------------------------------------------------------
// Parse, generate, mirror

for (const [name, bytes, value, canonical] of GOLDEN) {
  test(`parse: ${name}`, () => {
    assert.equal(decodePdu(bytes), value);
  });
  test(`generate: ${name}`, () => {
    assert.is(pduLength(value), canonical.length);
    assert.equal(encodePdu(value), canonical);
  });
  test(`mirror: ${name}`, () => {
    assert.equal(encodePdu(decodePdu(bytes)), canonical);
    assert.equal(decodePdu(encodePdu(value)), value);
  });
}

test('golden: DCMTK writes 0xFF in a reserved byte of RQ presentation context items; we write 0', () => {
  assert.is(F.ECHOSCU_ASSOCIATE_RQ[105], 0xff);
  assert.is(F.ECHOSCU_ASSOCIATE_RQ[99], 0x20);
  assert.is(F.GETSCU_ASSOCIATE_RQ[211], 0xff);
  assert.is(F.GETSCU_ASSOCIATE_RQ[205], 0x20);
});

test('parse/mirror: 128-context A-ASSOCIATE-RQ from storescu (9,636 bytes)', () => {
  const pdu = decodePdu(F.STORESCU_ASSOCIATE_RQ_FULL);
  assert.is(pdu.type, 'A-ASSOCIATE-RQ');
  const rq = pdu as AssociateRq;
  assert.is(rq.presentationContexts.length, 128);
  assert.is(rq.callingAeTitle, 'STORESCU');
  assert.equal(rq.presentationContexts[0], { id: 1, abstractSyntax: '1.2.840.10008.5.1.4.1.1.9.1.3', transferSyntaxes: ['1.2.840.10008.1.2.1'] });
  assert.equal(rq.presentationContexts[127]!.id, 255);
  assert.equal(rq.userInformation.userIdentity?.primaryField, Buffer.from('alice'));
  const again = encodePdu(rq);
  assert.is(again.length, F.STORESCU_ASSOCIATE_RQ_FULL.length);
  let diffs = 0;
  for (let i = 0; i < again.length; i++) {
    if (again[i] === F.STORESCU_ASSOCIATE_RQ_FULL[i]) continue;
    // Only the reserved byte DCMTK sets to 0xFF, 6 bytes into each 0x20 item.
    assert.is(F.STORESCU_ASSOCIATE_RQ_FULL[i], 0xff);
    assert.is(again[i], 0);
    assert.is(again[i - 6], 0x20);
    diffs++;
  }
  assert.is(diffs, 128);
});

test('parse: binary values are views into the input, not copies', () => {
  const pdata = decodePdu(F.ECHO_RQ_P_DATA);
  assert.is(pdata.type, 'P-DATA-TF');
  const data = (pdata as Extract<Pdu, { type: 'P-DATA-TF' }>).pdvs[0]!.data;
  assert.is(data.buffer, F.ECHO_RQ_P_DATA.buffer);
  assert.is(data.byteOffset, F.ECHO_RQ_P_DATA.byteOffset + 12);
  const rq = decodePdu(F.RQ_FULL) as AssociateRq;
  assert.is(rq.userInformation.extendedNegotiations[0]!.serviceClassApplicationInformation.buffer, F.RQ_FULL.buffer);
  assert.is(rq.userInformation.userIdentity!.primaryField.buffer, F.RQ_FULL.buffer);
});

test('parse: AE titles are trimmed of leading and trailing spaces (PS3.8 Table 9-11)', () => {
  const rq = decodePdu(F.RQ_LENIENT) as AssociateRq;
  assert.is(rq.calledAeTitle, 'QRSCP');
  assert.is(rq.callingAeTitle, 'QRSCU');
});

test('parse: a P-DATA-TF with no PDV decodes to an empty list', () => {
  assert.equal(decodePdu(F.hex`04 00 00000000`), { type: 'P-DATA-TF', pdvs: [] });
});

test('parse: a PDV with no data (item length 2)', () => {
  assert.equal(decodePdu(F.hex`04 00 00000006 00000002 05 02`), {
    type: 'P-DATA-TF',
    pdvs: [{ presentationContextId: 5, isCommand: false, isLast: true, data: Buffer.alloc(0) }],
  });
});

test('parse: reserved bits of the message control header are not tested', () => {
  const pdu = decodePdu(F.hex`04 00 00000008 00000004 01 fd 0102`);
  assert.equal(pdu, { type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, isCommand: true, isLast: false, data: Buffer.from([1, 2]) }] });
});

test('parse: an A-ASSOCIATE-RQ without user information or application context decodes to defaults', () => {
  const bytes = Buffer.from(F.ECHOSCU_ASSOCIATE_RQ.subarray(0, 99 + 50));
  bytes.writeUInt32BE(99 + 50 - 6, 2); // drop the user information item
  const rq = decodePdu(bytes) as AssociateRq;
  assert.equal(rq.userInformation, { maxLength: 0, implementationClassUid: '', roleSelections: [], extendedNegotiations: [] });
  // '' re-encodes without an implementation class UID sub-item.
  const again = decodePdu(encodePdu(rq)) as AssociateRq;
  assert.equal(again.userInformation, rq.userInformation);
  const noContext = F.hex`
    01 00 00000044 0001 0000
    20202020202020202020202020202020 20202020202020202020202020202020
    0000000000000000000000000000000000000000000000000000000000000000`;
  assert.equal(decodePdu(noContext), {
    type: 'A-ASSOCIATE-RQ',
    protocolVersion: 1,
    calledAeTitle: '',
    callingAeTitle: '',
    applicationContextName: '',
    presentationContexts: [],
    userInformation: { maxLength: 0, implementationClassUid: '', roleSelections: [], extendedNegotiations: [] },
  });
});

test('parse: an A-ASSOCIATE-RQ without protocol version bit 0 decodes (the acceptor answers A-ASSOCIATE-RJ)', () => {
  const bytes = F.patch(F.ECHOSCU_ASSOCIATE_RQ, { 7: 0x02 });
  assert.is((decodePdu(bytes) as AssociateRq).protocolVersion, 2);
  // PS3.8 §9.3.2: only bit 0 is tested.
  assert.is((decodePdu(F.patch(F.ECHOSCU_ASSOCIATE_RQ, { 6: 0x80, 7: 0x03 })) as AssociateRq).protocolVersion, 0x8003);
});

test('parse: a 0x59 sub-item in an RQ and a 0x58 in an AC are skipped', () => {
  const rq = decodePdu(F.patch(F.RQ_FULL, { [F.RQ_FULL.length - 15]: 0x59 })) as AssociateRq;
  assert.is(rq.userInformation.userIdentity, undefined);
  const ac = decodePdu(F.patch(F.AC_FULL, { [F.AC_FULL.length - 12]: 0x58 }));
  assert.is((ac as Extract<Pdu, { type: 'A-ASSOCIATE-AC' }>).userInformation.userIdentity, undefined);
});

test('generate: encodePDataHeaderInto writes a P-DATA-TF header the caller completes', () => {
  const data = Buffer.from('0123456789');
  const buf = Buffer.alloc(3 + P_DATA_TF_HEADER_LENGTH + data.length);
  const end = encodePDataHeaderInto(buf, 3, { presentationContextId: 7, isCommand: false, isLast: true }, data.length);
  assert.is(end, 3 + P_DATA_TF_HEADER_LENGTH);
  data.copy(buf, end);
  assert.equal(buf.subarray(3), F.hex`04 00 00000010 0000000c 07 02 30313233343536373839`);
  assert.equal(decodePdu(buf.subarray(3)), { type: 'P-DATA-TF', pdvs: [{ presentationContextId: 7, isCommand: false, isLast: true, data }] });
  assertPduError(() => encodePDataHeaderInto(Buffer.alloc(11), 0, { presentationContextId: 1, isCommand: true, isLast: true }, 0), {
    code: 'ERR_PDU_INVALID',
  });
});

test('describe: names from PS3.8 Tables 9-18, 9-21 and 9-26', () => {
  assert.is(describeReject(F.REJECT_CALLED_AE_VALUE), 'A-ASSOCIATE-RJ permanent, service-user: called-AE-title-not-recognized');
  assert.is(describeReject({ result: 2, source: 3, reason: 1 }), 'A-ASSOCIATE-RJ transient, service-provider (presentation): temporary-congestion');
  assert.is(describeReject({ result: 1, source: 2, reason: 2 }), 'A-ASSOCIATE-RJ permanent, service-provider (ACSE): protocol-version-not-supported');
  assert.is(describeReject({ result: 1, source: 1, reason: 5 }), 'A-ASSOCIATE-RJ permanent, service-user: reserved (5)');
  assert.is(describeAbort(F.ABORT_BY_PROVIDER_VALUE), 'A-ABORT service-provider: invalid-PDU-parameter-value');
  assert.is(describeAbort(F.ABORT_BY_USER_VALUE), 'A-ABORT service-user');
  assert.is(describeContextResult(3), 'abstract-syntax-not-supported');
  assert.is(describePdu(F.ECHOSCU_ASSOCIATE_RQ_VALUE), 'A-ASSOCIATE-RQ ECHOSCU -> STORESCP, 1 contexts, max 16384, 1.2.276.0.7230010.3.0.3.6.7 OFFIS_DCMTK_367');
  assert.is(describePdu(F.GETSCU_ASSOCIATE_AC_VALUE), 'A-ASSOCIATE-AC STORESCP, 1/2 contexts accepted, max 16384, 1.2.276.0.7230010.3.0.3.6.7 OFFIS_DCMTK_367');
  assert.is(describePdu(F.P_DATA_TWO_PDVS_VALUE), 'P-DATA-TF [3 command last 10] [3 dataset last 14]');
  assert.is(describePdu({ type: 'A-RELEASE-RQ' }), 'A-RELEASE-RQ');
});

// ---------------------------------------------------------------------------------------------
// Decoding errors

test('error: every truncation of every golden PDU is ERR_PDU_TRUNCATED naming the header field', () => {
  for (const [name, bytes] of GOLDEN) {
    for (let n = 0; n < bytes.length; n++) {
      const e = thrown(() => decodePdu(bytes.subarray(0, n), 1000));
      assert.is(e.code, 'ERR_PDU_TRUNCATED', `${name} cut at ${n}: ${e.message}`);
      assert.is(e.abortReason, 6);
      const field = n === 0 ? 'PDU-type' : n === 1 ? 'PDU reserved' : 'PDU-length';
      assert.is(e.field, field, `${name} cut at ${n}`);
      assert.is(e.offset, 1000 + Math.min(n, 2), `${name} cut at ${n}`);
    }
  }
});

test('error: an A-ASSOCIATE-RQ too short for its fixed fields names the field cut', () => {
  const bytes = F.hex`01 00 0000000a 0001 0000 515253435020`;
  assertPduError(() => decodePdu(bytes), { code: 'ERR_PDU_TRUNCATED', field: 'Called-AE-title', offset: 10, abortReason: 6 });
});

test('error: bytes after the PDU are ERR_PDU_INVALID on PDU-length', () => {
  const bytes = Buffer.concat([F.RELEASE_RQ, Buffer.from([0])]);
  assertPduError(() => decodePdu(bytes), { code: 'ERR_PDU_INVALID', field: 'PDU-length', offset: 2, abortReason: 6 });
});

test('error: unknown PDU types are ERR_PDU_UNKNOWN_TYPE, abort reason 1', () => {
  for (const type of [0x00, 0x08, 0x10, 0xff]) {
    assertPduError(() => decodePdu(F.patch(F.RELEASE_RQ, { 0: type }), 500), {
      code: 'ERR_PDU_UNKNOWN_TYPE',
      field: 'PDU-type',
      offset: 500,
      abortReason: 1,
    });
  }
});

test('error: fixed-size PDUs with another PDU-length are ERR_PDU_INVALID', () => {
  for (const pdu of [F.hex`03 00 00000005 0001010700`, F.hex`05 00 00000003 000000`, F.hex`07 00 00000000`]) {
    assertPduError(() => decodePdu(pdu), { code: 'ERR_PDU_INVALID', field: 'PDU-length', offset: 2, abortReason: 6 });
  }
});

test('error: a PDU-length shorter than its content makes an item overrun the PDU', () => {
  // Drop the last byte and shorten PDU-length: the user information item (at 149) now runs past the end.
  const bytes = Buffer.from(F.ECHOSCU_ASSOCIATE_RQ.subarray(0, F.ECHOSCU_ASSOCIATE_RQ.length - 1));
  bytes.writeUInt32BE(bytes.length - 6, 2);
  assertPduError(() => decodePdu(bytes), { code: 'ERR_PDU_TRUNCATED', field: 'User Information Item (0x50) Item-length', offset: 151, abortReason: 6 });
});

test('error: an item running past its PDU names the item and its length field', () => {
  const bytes = F.patch(F.ECHOSCU_ASSOCIATE_RQ, { 101: 0x00, 102: 0xff });
  assertPduError(() => decodePdu(bytes, 10), { code: 'ERR_PDU_TRUNCATED', field: 'Presentation Context Item (0x20) Item-length', offset: 111, abortReason: 6 });
});

test('error: a sub-item running past its item names the sub-item', () => {
  // Abstract syntax sub-item at 107 claims 0x30 bytes; its presentation context holds 46.
  const bytes = F.patch(F.ECHOSCU_ASSOCIATE_RQ, { 109: 0x00, 110: 0x30 });
  assertPduError(() => decodePdu(bytes), { code: 'ERR_PDU_TRUNCATED', field: 'Abstract Syntax Sub-Item (0x30) Item-length', offset: 109 });
});

test('error: an A-ASSOCIATE-AC without protocol version bit 0 is ERR_PDU_INVALID', () => {
  assertPduError(() => decodePdu(F.patch(F.STORESCP_ASSOCIATE_AC, { 7: 0x02 })), {
    code: 'ERR_PDU_INVALID',
    field: 'Protocol-version',
    offset: 6,
    abortReason: 6,
  });
});

test('error: a fixed-layout sub-item with another length is ERR_PDU_INVALID', () => {
  // Maximum length sub-item with length 6 inside a user information item grown by 2.
  const bytes = F.hex`
    02 00 00000052 0001 0000
    20202020202020202020202020202020 20202020202020202020202020202020
    0000000000000000000000000000000000000000000000000000000000000000
    50 00 000a 51 00 0006 00004000 0000`;
  assertPduError(() => decodePdu(bytes), { code: 'ERR_PDU_INVALID', field: 'Maximum Length Sub-Item (0x51)', offset: 86 });
});

test('error: role values other than 0 and 1 are ERR_PDU_INVALID', () => {
  // SCU-role of the first role selection of GETSCU_ASSOCIATE_RQ: 0x54 at 356, UID 29 bytes.
  assert.is(F.GETSCU_ASSOCIATE_RQ[356], 0x54);
  const scuRoleAt = 356 + 4 + 2 + 29;
  assertPduError(() => decodePdu(F.patch(F.GETSCU_ASSOCIATE_RQ, { [scuRoleAt]: 2 })), {
    code: 'ERR_PDU_INVALID',
    field: 'SCU-role',
    offset: scuRoleAt,
  });
});

test('error: a PDV item length under 2 or past the PDU', () => {
  assertPduError(() => decodePdu(F.hex`04 00 00000005 00000001 01`), { code: 'ERR_PDU_INVALID', field: 'PDV Item-length', offset: 6, abortReason: 6 });
  assertPduError(() => decodePdu(F.hex`04 00 00000008 00000005 01 03 0000`), { code: 'ERR_PDU_TRUNCATED', field: 'PDV Item-length', offset: 10 });
  assertPduError(() => decodePdu(F.hex`04 00 00000003 000000`), { code: 'ERR_PDU_TRUNCATED', field: 'PDV Item-length', offset: 6 });
});

test('error: a user identity field longer than its sub-item', () => {
  // Primary-field-length 5 → 0x20 in RQ_FULL (the 0x58 sub-item is the last 15 bytes).
  const at = F.RQ_FULL.length - 15 + 6;
  assertPduError(() => decodePdu(F.patch(F.RQ_FULL, { [at + 1]: 0x20 })), { code: 'ERR_PDU_TRUNCATED', field: 'Primary-field', offset: at + 2 });
});

// ---------------------------------------------------------------------------------------------
// Encoding errors

test('encode error: AE titles over 16 characters or with characters an AE cannot hold', () => {
  assertPduError(() => encodePdu({ ...F.RQ_FULL_VALUE, calledAeTitle: 'ABCDEFGHIJKLMNOPQ' }), { code: 'ERR_PDU_INVALID', field: 'Called-AE-title' });
  assertPduError(() => encodePdu({ ...F.RQ_FULL_VALUE, callingAeTitle: 'A\\B' }), { code: 'ERR_PDU_INVALID', field: 'Calling-AE-title' });
  assertPduError(() => encodePdu({ ...F.RQ_FULL_VALUE, callingAeTitle: 'Ä' }), { code: 'ERR_PDU_INVALID', field: 'Calling-AE-title' });
  const sixteen = encodePdu({ ...F.RQ_FULL_VALUE, calledAeTitle: 'ABCDEFGHIJKLMNOP' });
  assert.is((decodePdu(sixteen) as AssociateRq).calledAeTitle, 'ABCDEFGHIJKLMNOP');
});

test('encode error: values that do not fit their fields', () => {
  const ui = F.RQ_FULL_VALUE.userInformation;
  assertPduError(() => encodePdu({ ...F.RQ_FULL_VALUE, userInformation: { ...ui, maxLength: -1 } }), { code: 'ERR_PDU_INVALID', field: 'Maximum-length-received' });
  assertPduError(() => encodePdu({ ...F.RQ_FULL_VALUE, userInformation: { ...ui, implementationVersionName: 'SEVENTEEN_CHARS_X' } }), {
    code: 'ERR_PDU_INVALID',
  });
  assertPduError(() => encodePdu({ ...F.RQ_FULL_VALUE, presentationContexts: [{ id: 257, abstractSyntax: '1.2', transferSyntaxes: [] }] }), {
    code: 'ERR_PDU_INVALID',
    field: 'Presentation-context-ID',
  });
  assertPduError(() => encodePdu({ ...F.RQ_FULL_VALUE, applicationContextName: '1.2.€' }), { code: 'ERR_PDU_INVALID' });
  assertPduError(() => encodePdu({ ...F.RQ_FULL_VALUE, applicationContextName: '1'.repeat(70000) }), { code: 'ERR_PDU_INVALID' });
  assertPduError(() => encodePdu({ type: 'A-ABORT', source: 2, reason: 300 }), { code: 'ERR_PDU_INVALID', field: 'Reason/Diag.' });
  assertPduError(() => encodePdu({ type: 'P-DATA-TF', pdvs: [{ presentationContextId: -1, isCommand: true, isLast: true, data: Buffer.alloc(2) }] }), {
    code: 'ERR_PDU_INVALID',
  });
});

test.run();
