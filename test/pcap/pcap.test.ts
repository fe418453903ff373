// src/pcap: the writer's bytes (golden header, checksums), writer → reader round trips, tshark decoding
// our files as DICOM, tshark's own loopback captures (pcapng, pcap, Linux "any" = SLL2) of dcmtk's
// echoscu → storescp read back into PDUs our decoder re-encodes byte-identical, hand-made packets for
// every link type (annotated bytes), TCP reassembly (out of order, retransmitted, overlapping, gaps,
// missing handshake, sequence wrap), malformed files with their codes and offsets, and a seeded fuzz run.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DicomError } from '../../src/errors.js';
import { encodeCommand } from '../../src/net/dimse.js';
import { buildAssociateRq } from '../../src/net/negotiate.js';
import { decodePdu, encodePdu } from '../../src/net/pdu-codec.js';
import type { Pdu } from '../../src/net/pdu.js';
import { readCapture, type TcpStream } from '../../src/pcap/read.js';
import { createPcapWriter, MAX_SEGMENT } from '../../src/pcap/write.js';
import { hex } from '../support/hex.js';
import { requireProgram } from '../support/live.js';
import { freePorts, runTool, waitForTcp, waitUntil } from '../support/pacs.js';
import { createRandom } from '../support/random.js';

const test = suite('pcap');

const VERIFICATION = '1.2.840.10008.1.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const T0 = 1_700_000_000_000;

function thrown(fn: () => unknown): DicomError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DicomError) return e;
    throw new Error(`expected a DicomError, got ${String(e)}`);
  }
  throw new Error('expected a DicomError, nothing was thrown');
}

/** Everything one side sent, in order. */
function sent(stream: TcpStream, fromClient: boolean): Buffer {
  return Buffer.concat(stream.chunks.filter((c) => c.fromClient === fromClient).map((c) => c.data));
}

/** Split a byte stream into whole PDUs by their 6-byte headers. */
function splitPdus(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos + 6 <= buf.length) {
    const n = 6 + buf.readUInt32BE(pos + 2);
    out.push(buf.subarray(pos, pos + n));
    pos += n;
  }
  assert.is(pos, buf.length, 'the stream ends at a PDU boundary');
  return out;
}

function writeCapture(fn: (w: ReturnType<typeof createPcapWriter>) => void): Buffer {
  const chunks: Buffer[] = [];
  let clock = T0;
  const w = createPcapWriter((c) => chunks.push(c), { now: () => (clock += 1) });
  fn(w);
  return Buffer.concat(chunks);
}

// ---- an association's PDUs -----------------------------------------------------------------------

const associateRq: Pdu = buildAssociateRq({ callingAeTitle: 'QRSCU', calledAeTitle: 'PACS', contexts: [{ abstractSyntax: VERIFICATION }] });
const associateAc: Pdu = {
  type: 'A-ASSOCIATE-AC',
  protocolVersion: 1,
  calledAeTitle: 'PACS',
  callingAeTitle: 'QRSCU',
  applicationContextName: '1.2.840.10008.3.1.1.1',
  presentationContexts: [{ id: 1, result: 0, transferSyntax: IMPLICIT_LE }],
  userInformation: { maxLength: 16384, implementationClassUid: '1.2.3.4', roleSelections: [], extendedNegotiations: [] },
} as unknown as Pdu;
const echoRq: Pdu = {
  type: 'P-DATA-TF',
  pdvs: [{ presentationContextId: 1, isCommand: true, isLast: true, data: encodeCommand({ type: 'C-ECHO-RQ', affectedSopClassUid: VERIFICATION, messageId: 7, hasDataset: false }) }],
};
const echoRsp: Pdu = {
  type: 'P-DATA-TF',
  pdvs: [{
    presentationContextId: 1, isCommand: true, isLast: true,
    data: encodeCommand({ type: 'C-ECHO-RSP', affectedSopClassUid: VERIFICATION, messageIdBeingRespondedTo: 7, status: 0 } as never),
  }],
};
/** A P-DATA-TF larger than two segments, so the writer must split it. */
const bigPData: Pdu = { type: 'P-DATA-TF', pdvs: [{ presentationContextId: 1, isCommand: false, isLast: true, data: Buffer.alloc(150_000, 0x20) }] };
const releaseRq: Pdu = { type: 'A-RELEASE-RQ' };
const releaseRp: Pdu = { type: 'A-RELEASE-RP' };

// ---- writer --------------------------------------------------------------------------------------

test('writer: the global header and the first SYN are the bytes pcap(5), RFC 791 and RFC 9293 define', () => {
  const file = writeCapture((w) => w.open({ clientIp: '10.0.0.1', clientPort: 40000, serverIp: '10.0.0.2', serverPort: 104 }, 1000.5));
  const expectedHead = hex(`
    d4 c3 b2 a1   # magic 0xa1b2c3d4, little-endian, microseconds
    02 00 04 00   # version 2.4
    00 00 00 00   # thiszone
    00 00 00 00   # sigfigs
    00 00 04 00   # snaplen 262144
    01 00 00 00   # LINKTYPE_ETHERNET
    01 00 00 00   # ts_sec 1
    f4 01 00 00   # ts_usec 500
    36 00 00 00   # incl_len 54
    36 00 00 00   # orig_len 54`);
  assert.equal(file.subarray(0, 40), expectedHead);
  const frame = file.subarray(40, 40 + 54);
  assert.equal(frame.subarray(12, 14), hex('08 00 # EtherType IPv4'));
  assert.equal(frame.subarray(14, 24), hex('45 00 00 28 # IPv4, IHL 5, total 40', '00 01 40 00 # id 1, DF', '40 06 # TTL 64, TCP'));
  assert.equal(frame.subarray(26, 34), hex('0a 00 00 01  0a 00 00 02 # 10.0.0.1 → 10.0.0.2'));
  assert.equal(frame.subarray(34, 38), hex('9c 40 00 68 # ports 40000 → 104'));
  assert.equal(frame.subarray(46, 48), hex('50 02 # data offset 5, SYN'));
  // RFC 1071: the one's complement sum over a header with a correct checksum is 0xffff.
  assert.is(onesComplementSum(frame.subarray(14, 34)), 0xffff, 'IPv4 header checksum');
  const pseudo = Buffer.concat([frame.subarray(26, 34), hex('00 06 00 14 # zero, TCP, TCP length 20')]);
  assert.is(onesComplementSum(Buffer.concat([pseudo, frame.subarray(34)])), 0xffff, 'TCP checksum');
});

function onesComplementSum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

test('writer: bad addresses, ports and ids are typed errors', () => {
  const w = createPcapWriter(() => {});
  assert.is(thrown(() => w.open({ clientIp: '300.1.1.1', clientPort: 1, serverPort: 2 })).code, 'ERR_VALUE_INVALID');
  assert.is(thrown(() => w.open({ clientPort: 0, serverPort: 2 })).code, 'ERR_VALUE_INVALID');
  assert.is(thrown(() => w.data(99, true, Buffer.from('x'))).code, 'ERR_VALUE_INVALID');
  w.close(99); // unknown ids are ignored
});

test('round trip: interleaved connections, both directions, payloads over 65,000 bytes split', () => {
  const big = Buffer.alloc(200_001);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  const file = writeCapture((w) => {
    const a = w.open({ clientPort: 50001, serverPort: 11112 });
    const b = w.open({ clientIp: '192.168.1.5', clientPort: 50002, serverIp: '192.168.1.9', serverPort: 104 });
    w.data(a, true, Buffer.from('hello'));
    w.data(b, true, big);
    w.data(a, false, Buffer.from('world'));
    w.data(b, false, big.subarray(0, 70_000));
    w.data(a, true, Buffer.alloc(0));
    w.close(a);
    const c = w.open({ clientPort: 50001, serverPort: 11112 }); // the same 4-tuple again: a new connection
    w.data(c, false, Buffer.from('server first'));
    w.close(b);
    w.close(c);
  });
  const { streams, warnings } = readCapture(file);
  assert.equal(warnings, []);
  assert.is(streams.length, 3);
  const [a, b, c] = streams as [TcpStream, TcpStream, TcpStream];
  assert.equal(a.client, { ip: '127.0.0.1', port: 50001 });
  assert.equal(a.server, { ip: '127.0.0.1', port: 11112 });
  assert.equal(a.chunks.map((ch) => [ch.fromClient, ch.data.toString()]), [[true, 'hello'], [false, 'world']]);
  assert.equal(b.client, { ip: '192.168.1.5', port: 50002 });
  assert.equal(b.server, { ip: '192.168.1.9', port: 104 });
  assert.equal(b.chunks.map((ch) => ch.data.length), [MAX_SEGMENT, MAX_SEGMENT, MAX_SEGMENT, 5_001, MAX_SEGMENT, 5_000]);
  assert.ok(sent(b, true).equals(big));
  assert.ok(sent(b, false).equals(big.subarray(0, 70_000)));
  assert.equal(c.chunks.map((ch) => [ch.fromClient, ch.data.toString()]), [[false, 'server first']]);
  assert.ok(a.chunks[0]!.timeMs > T0 && a.chunks[0]!.timeMs < T0 + 100, 'timestamps in ms');
});

// ---- tshark decodes what we write ----------------------------------------------------------------

const tshark = requireProgram('tshark');
const withTshark = tshark !== undefined ? test : test.skip;

function runTshark(args: string[]): string {
  const r = spawnSync(tshark!, args, { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, `tshark ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

withTshark('tshark: a written association decodes as DICOM (PDU types, AE titles, C-ECHO, checksums good)', () => {
  const exchange: Array<[Pdu, boolean]> = [
    [associateRq, true], [associateAc, false], [echoRq, true], [echoRsp, false], [bigPData, true], [releaseRq, true], [releaseRp, false],
  ];
  const file = writeCapture((w) => {
    const id = w.open({ clientPort: 40123, serverPort: 11112 });
    for (const [pdu, fromClient] of exchange) w.data(id, fromClient, encodePdu(pdu));
    w.close(id);
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qrscu-pcap-'));
  try {
    const f = path.join(dir, 'written.pcap');
    writeFileSync(f, file);
    const fields = runTshark(['-r', f, '-d', 'tcp.port==11112,dicom', '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
      '-T', 'fields', '-E', 'separator=|', '-e', 'ip.checksum.status', '-e', 'tcp.checksum.status', '-e', 'dicom.pdu.type', '-e', 'dicom.assoc.ae.calling', '-e', '_ws.col.Info']);
    const rows = fields.trim().split('\n').map((l) => l.split('|'));
    assert.ok(rows.every((r) => r[0] === '1' && r[1] === '1'), 'every IPv4 and TCP checksum is good');
    const types = rows.map((r) => r[2]).filter((t) => t !== '').join(',');
    assert.is(types, '0x01,0x02,0x04,0x04,0x04,0x05,0x06');
    assert.ok(rows.some((r) => r[3]!.trim() === 'QRSCU'), 'calling AE title');
    const info = rows.map((r) => r[4]).join('\n');
    assert.match(info, /A-ASSOCIATE request QRSCU --> PACS/);
    assert.match(info, /C-ECHO-RQ ID=7/);
    assert.match(info, /C-ECHO-RSP ID=7/);
    assert.match(info, /A-RELEASE response/);
    // tshark's reassembly and ours agree on every byte the client sent.
    const ours = readCapture(file).streams[0]!;
    const rowsPayload = runTshark(['-r', f, '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tcp.payload']).trim().split('\n');
    const theirs = rowsPayload.filter((r) => r.startsWith('40123\t')).map((r) => r.split('\t')[1] ?? '').join('').replace(/:/g, '');
    assert.is(sent(ours, true).toString('hex'), theirs);
    assert.equal(splitPdus(sent(ours, false)).map((b) => decodePdu(b).type), ['A-ASSOCIATE-AC', 'P-DATA-TF', 'A-RELEASE-RP']);
    const analysis = runTshark(['-r', f, '-Y', 'tcp.analysis.flags', '-T', 'fields', '-e', 'frame.number']);
    assert.is(analysis.trim(), '', 'no TCP analysis warnings (lost segments, retransmissions…)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * encodePdu(decodePdu(b)) is b, except for the reserved byte DCMTK sets to 0xFF six bytes into each
 * RQ presentation context item (PS3.8 Table 9-14: not tested on receipt; we write 0).
 */
function assertReencodes(b: Buffer): void {
  const again = encodePdu(decodePdu(b));
  assert.is(again.length, b.length);
  for (let i = 0; i < b.length; i++) {
    if (again[i] === b[i]) continue;
    assert.ok(b[i] === 0xff && again[i] === 0 && b[0] === 0x01 && b[i - 6] === 0x20, `byte ${i} of a ${decodePdu(b).type} re-encodes differently`);
  }
}

// ---- tshark's own loopback captures, read back ----------------------------------------------------

const storescp = requireProgram('storescp');
const echoscu = requireProgram('echoscu');
const live = tshark !== undefined && storescp !== undefined && echoscu !== undefined ? test : test.skip;

interface Capturer {
  readonly child: ChildProcess;
  readonly file: string;
  stderr: string;
  exited: boolean;
}

function startCapture(args: string[], file: string): Capturer {
  const child = spawn(tshark!, [...args, '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const cap: Capturer = { child, file, stderr: '', exited: false };
  child.stderr!.on('data', (d: Buffer) => { cap.stderr += d.toString(); });
  child.once('exit', () => { cap.exited = true; });
  return cap;
}

/** Streams in a capture file tshark is still writing (0 while it is empty or cut mid-record). */
function capturedStreams(file: string): number {
  try {
    return readCapture(readFileSync(file)).streams.length;
  } catch {
    return 0;
  }
}

/** True once a capture file tshark is still writing holds a server's A-RELEASE-RP (PDU type 6). */
function capturedRelease(file: string): boolean {
  try {
    return readCapture(readFileSync(file)).streams.some((s) => s.chunks.some((ch) => !ch.fromClient && ch.data[0] === 0x06));
  } catch {
    return false;
  }
}

async function stopCapture(cap: Capturer): Promise<void> {
  if (!cap.exited) cap.child.kill('SIGINT');
  try {
    await waitUntil(() => cap.exited, 10_000, 'tshark to write its file and exit');
  } finally {
    if (!cap.exited) cap.child.kill('SIGKILL');
  }
}

live('live: tshark captures (lo as pcapng and pcap, "any" as SLL and SLL2) of echoscu → storescp read back into PDUs that re-encode byte-identical', async () => {
  const [port] = await freePorts(1);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qrscu-pcap-live-'));
  const scp = spawn(storescp!, ['--aetitle', 'STORESCP', '--output-directory', dir, String(port)], { stdio: 'ignore' });
  const captures: Capturer[] = [];
  try {
    const filter = ['-f', `tcp port ${port}`];
    captures.push(startCapture(['-i', 'lo', ...filter], path.join(dir, 'lo.pcapng')));
    captures.push(startCapture(['-i', 'lo', ...filter, '-F', 'pcap'], path.join(dir, 'lo.pcap')));
    captures.push(startCapture(['-i', 'any', ...filter], path.join(dir, 'any-sll.pcapng')));
    captures.push(startCapture(['-i', 'any', '-y', 'LINUX_SLL2', ...filter, '-F', 'pcap'], path.join(dir, 'any-sll2.pcap')));
    await waitUntil(() => captures.every((c) => /Capturing on/.test(c.stderr) || c.exited), 15_000, 'tshark to start capturing');
    assert.ok(captures.every((c) => !c.exited), `tshark exited early: ${captures.map((c) => c.stderr).join('\n')}`);
    // "Capturing on" can come before the filter is live: probe connections (no data) until every file shows one.
    const deadline = Date.now() + 15_000;
    while (!captures.every((c) => capturedStreams(c.file) > 0)) {
      assert.ok(Date.now() < deadline, 'tshark did not record a probe connection within 15 s');
      await waitForTcp(port!, 5_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    const run = await runTool(echoscu!, ['-aec', 'STORESCP', '127.0.0.1', String(port)], 15_000);
    assert.is(run.code, 0, run.output);
    await waitUntil(() => captures.every((c) => capturedRelease(c.file)), 15_000, 'every capture to hold the A-RELEASE-RP');
    for (const c of captures) await stopCapture(c);

    const linkTypes: Record<string, number> = {};
    for (const c of captures) {
      const buf = readFileSync(c.file);
      // Classic pcap: the header's link type; pcapng: the first IDB's (it follows the SHB).
      linkTypes[path.basename(c.file)] = buf.readUInt32BE(0) === 0x0a0d0d0a ? buf.readUInt16LE(buf.readUInt32LE(4) + 8) : buf.readUInt32LE(20);
      const { streams, warnings } = readCapture(buf);
      const echo = streams.filter((s) => s.chunks.length > 0);
      assert.is(echo.length, 1, `${c.file}: one association (warnings: ${warnings.join('; ')})`);
      const s = echo[0]!;
      assert.is(s.server.port, port);
      assert.ok(s.client.port !== port);
      const clientPdus = splitPdus(sent(s, true));
      const serverPdus = splitPdus(sent(s, false));
      assert.equal(clientPdus.map((b) => decodePdu(b).type), ['A-ASSOCIATE-RQ', 'P-DATA-TF', 'A-RELEASE-RQ'], c.file);
      assert.equal(serverPdus.map((b) => decodePdu(b).type), ['A-ASSOCIATE-AC', 'P-DATA-TF', 'A-RELEASE-RP'], c.file);
      for (const b of [...clientPdus, ...serverPdus]) assertReencodes(b);
      // tshark's own view of the payload per direction is the same bytes.
      const rows = runTshark(['-r', c.file, '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tcp.payload']).trim().split('\n');
      const fromClient = rows.filter((r) => r.startsWith(`${s.client.port}\t`)).map((r) => r.split('\t')[1] ?? '').join('');
      assert.is(sent(s, true).toString('hex'), fromClient.replace(/:/g, ''));
    }
    assert.is(linkTypes['lo.pcap'], 1, 'lo is Ethernet');
    assert.is(linkTypes['lo.pcapng'], 1);
    assert.is(linkTypes['any-sll.pcapng'], 113, 'the "any" device is Linux SLL');
    assert.is(linkTypes['any-sll2.pcap'], 276, 'the "any" device with -y LINUX_SLL2');
  } finally {
    for (const c of captures) if (!c.exited) c.child.kill('SIGKILL');
    scp.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- hand-made packets ---------------------------------------------------------------------------

/** 10.0.0.1:40000 → 10.0.0.2:104, seq 0x100, ack 0x200, PSH|ACK, payload 'hello'. IPv4 with a 4-byte option. */
const IPV4_TCP = hex(`
  46 00 00 31   # IPv4, IHL 6 (24 bytes); total length 49 = 24 + 20 + 5
  00 01 40 00   # id 1; DF
  40 06 00 00   # TTL 64; protocol 6 TCP; checksum (not checked)
  0a 00 00 01   # 10.0.0.1
  0a 00 00 02   # 10.0.0.2
  01 01 01 00   # options: NOP NOP NOP EOL
  9c 40 00 68   # ports 40000 → 104
  00 00 01 00   # seq 0x100
  00 00 02 00   # ack 0x200
  50 18 ff ff   # data offset 5; PSH|ACK; window
  00 00 00 00   # checksum; urgent pointer
  'hello'
  00 00 00      # Ethernet-style trailing padding, beyond the IP total length`);

/** [::1]:40001 → [2001:db8::2]:104 with a hop-by-hop header; payload 'hi'. */
const IPV6_TCP = hex(`
  60 00 00 00   # version 6, class 0, flow 0
  00 1e 00 40   # payload length 30 = 8 + 20 + 2; next header 0 (hop-by-hop); hop limit 64
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01   # ::1
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02   # 2001:db8::2
  06 00 01 04 00 00 00 00   # hop-by-hop: next TCP, length 0; PadN(4)
  9c 41 00 68   # ports 40001 → 104
  00 00 00 10   # seq 16
  00 00 00 20   # ack 32
  50 18 ff ff 00 00 00 00
  'hi'`);

const LINK_HEADERS: Record<string, { linkType: number; v4: Buffer; v6: Buffer }> = {
  'null (host order LE)': { linkType: 0, v4: hex('02 00 00 00 # AF_INET, little-endian'), v6: hex('1e 00 00 00 # AF_INET6 (macOS 30)') },
  'null (host order BE)': { linkType: 0, v4: hex('00 00 00 02 # AF_INET, big-endian'), v6: hex('00 00 00 0a # AF_INET6 (Linux 10)') },
  loop: { linkType: 108, v4: hex('00 00 00 02 # AF_INET, network order'), v6: hex('00 00 00 18 # AF_INET6 (OpenBSD 24)') },
  'ethernet + 802.1Q': {
    linkType: 1,
    v4: hex('02 00 00 00 00 02  02 00 00 00 00 01 # dst, src MAC', '81 00 00 64 # 802.1Q, VLAN 100', '08 00 # IPv4'),
    v6: hex('02 00 00 00 00 02  02 00 00 00 00 01 # dst, src MAC', '86 dd # IPv6'),
  },
  'linux SLL': {
    linkType: 113,
    v4: hex('00 00 # to us', '03 04 # ARPHRD_LOOPBACK', '00 06 # address length', '00 00 00 00 00 00 00 00 # address', '08 00 # IPv4'),
    v6: hex('00 04 # sent by us', '00 01 # ARPHRD_ETHER', '00 06', '02 00 00 00 00 01 00 00', '86 dd # IPv6'),
  },
  'linux SLL2': {
    linkType: 276,
    v4: hex('08 00 # IPv4', '00 00 # reserved', '00 00 00 01 # ifindex', '03 04 # ARPHRD_LOOPBACK', '00 # to us', '06 # address length', '00 00 00 00 00 00 00 00'),
    v6: hex('86 dd # IPv6', '00 00', '00 00 00 02', '00 01', '04', '06', '02 00 00 00 00 01 00 00'),
  },
  'raw IP': { linkType: 101, v4: hex(''), v6: hex('') },
};

/** A classic pcap file: hand-written header fields around frames. */
function classicPcap(linkType: number, frames: Buffer[], order: 'le' | 'be' = 'le', nano = false): Buffer {
  const u32 = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    if (order === 'le') b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  };
  const u16 = (v: number): Buffer => {
    const b = Buffer.alloc(2);
    if (order === 'le') b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  };
  const parts = [u32(nano ? 0xa1b23c4d : 0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(65535), u32(linkType)];
  frames.forEach((f, i) => parts.push(u32(100 + i), u32(nano ? 500_000_000 : 500_000), u32(f.length), u32(f.length), f));
  return Buffer.concat(parts);
}

for (const [name, link] of Object.entries(LINK_HEADERS)) {
  test(`hand-made: ${name} (link type ${link.linkType}) carrying IPv4 (with options) and IPv6 (with an extension header)`, () => {
    const file = classicPcap(link.linkType, [Buffer.concat([link.v4, IPV4_TCP]), Buffer.concat([link.v6, IPV6_TCP])]);
    const { streams, warnings } = readCapture(file);
    assert.equal(warnings, []);
    assert.is(streams.length, 2);
    assert.equal(streams[0]!.client, { ip: '10.0.0.1', port: 40000 });
    assert.equal(streams[0]!.server, { ip: '10.0.0.2', port: 104 });
    assert.equal(streams[0]!.chunks.map((c) => [c.fromClient, c.data.toString('latin1'), c.timeMs]), [[true, 'hello', 100_500]]);
    assert.equal(streams[1]!.client, { ip: '::1', port: 40001 });
    assert.equal(streams[1]!.server, { ip: '2001:db8::2', port: 104 });
    assert.equal(streams[1]!.chunks.map((c) => c.data.toString('latin1')), ['hi']);
  });
}

test('hand-made: classic pcap big-endian with nanosecond timestamps', () => {
  const { streams, warnings } = readCapture(classicPcap(101, [IPV4_TCP], 'be', true));
  assert.equal(warnings, []);
  assert.is(streams[0]!.chunks[0]!.timeMs, 100_500);
});

test('hand-made: IPv4 fragments and unsupported link types are skipped with a warning; UDP silently', () => {
  const fragment = Buffer.from(IPV4_TCP);
  fragment[6] = 0x20; // MF
  const udp = Buffer.from(IPV4_TCP);
  udp[9] = 17;
  let r = readCapture(classicPcap(101, [fragment, udp]));
  assert.equal(r.streams, []);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /IPv4 fragment from 10\.0\.0\.1 skipped/);
  r = readCapture(classicPcap(147, [IPV4_TCP]));
  assert.match(r.warnings[0]!, /link type 147 is not supported/);
  r = readCapture(classicPcap(101, [IPV4_TCP.subarray(0, 30)]));
  assert.equal(r.warnings, ['packet at offset 24: TCP sequence number: needs 4 bytes, 2 remain (TCP sequence number, offset 68)'], 'a frame cut inside its headers is a warning');
});

test('hand-made: IPv6 fragments are skipped with a warning, other next headers silently; warnings are capped', () => {
  const fragment = Buffer.concat([hex('60 00 00 00  00 1e 2c 40 # next header 44 (fragment)'), IPV6_TCP.subarray(8)]);
  const udp = Buffer.concat([hex('60 00 00 00  00 1e 11 40 # next header 17 (UDP)'), IPV6_TCP.subarray(8)]);
  const r = readCapture(classicPcap(101, [fragment, udp]));
  assert.equal(r.streams, []);
  assert.equal(r.warnings, ['packet at offset 24: IPv6 fragment from ::1 skipped']);
  const many = readCapture(classicPcap(101, Array.from({ length: 1500 }, () => fragment)));
  assert.is(many.warnings.length, 1001);
  assert.is(many.warnings[1000], 'further warnings suppressed');
});

/** pcapng, little-endian: SHB, IDB (raw IP, nanosecond resolution), EPB, an unknown block, SPB. */
const PCAPNG_LE = hex(`
  0a 0d 0d 0a   # Section Header Block
  1c 00 00 00   # total length 28
  4d 3c 2b 1a   # byte-order magic, little-endian
  01 00 00 00   # version 1.0
  ff ff ff ff ff ff ff ff   # section length unknown
  1c 00 00 00   # total length

  01 00 00 00   # Interface Description Block
  20 00 00 00   # total length 32
  65 00 00 00   # LinkType 101 raw IP; reserved
  00 00 04 00   # SnapLen 262144
  09 00 01 00 09 00 00 00   # if_tsresol = 9: nanoseconds (1 byte, padded)
  00 00 00 00   # opt_endofopt
  20 00 00 00   # total length

  06 00 00 00   # Enhanced Packet Block
  54 00 00 00   # total length 84 = 32 + 52 (49 padded)
  00 00 00 00   # interface 0
  00 00 00 00   # timestamp high
  00 ca 9a 3b   # timestamp low: 1,000,000,000 ns = 1000 ms
  34 00 00 00   # captured length 52 (49 bytes of IP + 3 of trailer)
  34 00 00 00   # original length 52`,
  IPV4_TCP.toString('hex'), `
  54 00 00 00   # total length

  99 00 00 00   # a block type we do not know: skipped with a warning
  10 00 00 00   # total length 16
  ff ff ff ff
  10 00 00 00

  03 00 00 00   # Simple Packet Block (IPv4 'hello' again: a retransmission)
  44 00 00 00   # total length 68 = 16 + 52
  34 00 00 00   # original length 52`,
  IPV4_TCP.toString('hex'), `
  44 00 00 00   # total length`);

/** pcapng, big-endian: SHB with an option, IDB (SLL2, default microseconds), EPB with an option. */
const PCAPNG_BE = hex(`
  0a 0d 0d 0a   # Section Header Block
  00 00 00 24   # total length 36
  1a 2b 3c 4d   # byte-order magic, big-endian
  00 01 00 00   # version 1.0
  ff ff ff ff ff ff ff ff
  00 03 00 04 'test'   # shb_userappl "test"
  00 00 00 24

  00 00 00 01   # IDB
  00 00 00 14   # total length 20
  01 14 00 00   # LinkType 276 SLL2
  00 00 ff ff   # SnapLen 65535
  00 00 00 14

  00 00 00 06   # EPB
  00 00 00 84   # total length 132 = 28 + 92 (20 + 70 + 2 padding) + 8 option + 4`,
  '00 00 00 00 # interface 0', '00 00 00 00 00 0f 42 40 # 1,000,000 µs = 1000 ms', '00 00 00 5a 00 00 00 5a # 90 bytes',
  LINK_HEADERS['linux SLL2']!.v6.toString('hex'), IPV6_TCP.toString('hex'), `00 00 # padding
  00 01 00 02 'ok' 00 00   # opt_comment "ok"
  00 00 00 84`);

test('hand-made pcapng: both byte orders, IDB resolution, EPB, SPB, unknown blocks', () => {
  const le = readCapture(PCAPNG_LE);
  assert.is(le.warnings.length, 1);
  assert.match(le.warnings[0]!, /unknown type 0x99 at offset 144/);
  assert.is(le.streams.length, 1);
  assert.equal(le.streams[0]!.chunks.map((c) => [c.data.toString('latin1'), c.timeMs]), [['hello', 1000]]);
  const be = readCapture(PCAPNG_BE);
  assert.equal(be.warnings, []);
  assert.equal(be.streams[0]!.client, { ip: '::1', port: 40001 });
  assert.equal(be.streams[0]!.chunks.map((c) => [c.data.toString('latin1'), c.timeMs]), [['hi', 1000]]);
  // Two sections in one file: the second redefines its interfaces.
  assert.is(readCapture(Buffer.concat([PCAPNG_LE, PCAPNG_BE])).streams.length, 2);
});

// ---- TCP reassembly ------------------------------------------------------------------------------

const Flag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** A raw-IPv4 TCP segment between 10.0.0.1:port and 10.0.0.2:104 (client = 10.0.0.1). */
function seg(fromClient: boolean, seq: number, ack: number, flags: number, payload = '', clientPort = 40000): Buffer {
  const body = Buffer.from(payload, 'latin1');
  const b = Buffer.alloc(40 + body.length);
  b.set([0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0]);
  b.writeUInt16BE(40 + body.length, 2);
  b.set(fromClient ? [10, 0, 0, 1, 10, 0, 0, 2] : [10, 0, 0, 2, 10, 0, 0, 1], 12);
  b.writeUInt16BE(fromClient ? clientPort : 104, 20);
  b.writeUInt16BE(fromClient ? 104 : clientPort, 22);
  b.writeUInt32BE(seq >>> 0, 24);
  b.writeUInt32BE(ack >>> 0, 28);
  b[32] = 0x50;
  b[33] = flags;
  b.set(body, 40);
  return b;
}

function reassemble(frames: Buffer[]): { texts: string[]; warnings: string[]; streams: TcpStream[] } {
  const { streams, warnings } = readCapture(classicPcap(101, frames));
  const texts = streams.map((s) => s.chunks.map((c) => `${c.fromClient ? 'C' : 'S'}:${c.data.toString('latin1')}`).join(' '));
  return { texts, warnings, streams };
}

const C = 1000; // client ISN
const S = 5000; // server ISN
const handshake = [seg(true, C, 0, Flag.SYN), seg(false, S, C + 1, Flag.SYN | Flag.ACK), seg(true, C + 1, S + 1, Flag.ACK)];

test('reassembly: out-of-order, retransmitted, overlapping and keep-alive segments', () => {
  const r = reassemble([
    ...handshake,
    seg(true, C + 1, S + 1, Flag.ACK, 'ab'),
    seg(true, C + 5, S + 1, Flag.ACK, 'ef'), // ahead of 'cd'
    seg(true, C + 3, S + 1, Flag.ACK, 'cd'),
    seg(true, C + 1, S + 1, Flag.ACK, 'ab'), // retransmission
    seg(true, C + 3, S + 1, Flag.ACK, 'cdefgh'), // overlaps, adds 'gh'
    seg(false, S + 1, C + 9, Flag.ACK, 'OK'),
    seg(false, S + 2, C + 9, Flag.ACK, 'K'), // keep-alive style one byte before next
    seg(true, C + 8, S + 3, Flag.ACK, 'h'), // keep-alive
    seg(true, C + 9, S + 3, Flag.FIN | Flag.ACK),
    seg(false, S + 3, C + 10, Flag.FIN | Flag.ACK),
    seg(true, C + 10, S + 4, Flag.ACK),
  ]);
  assert.equal(r.warnings, []);
  assert.equal(r.texts, ['C:ab C:cd C:ef C:gh S:OK']);
});

test('reassembly: a missing handshake; client is the first sender, else the higher port', () => {
  let r = reassemble([seg(false, S + 1, C + 1, Flag.ACK, 'server speaks'), seg(true, C + 1, S + 14, Flag.ACK, 'client')]);
  assert.equal(r.warnings, []);
  assert.is(r.streams[0]!.client.ip, '10.0.0.2', 'the side that sent first');
  r = reassemble([seg(false, S + 1, C + 1, Flag.ACK), seg(true, C + 1, S + 1, Flag.ACK)]);
  assert.equal(r.streams[0]!.client, { ip: '10.0.0.1', port: 40000 }, 'no data, no handshake: the higher port');
  assert.equal(r.streams[0]!.chunks, []);
  // The first captured data segment is out of order, but the peer's ACK tells where the stream is.
  r = reassemble([seg(false, S + 1, C + 1, Flag.ACK), seg(true, C + 4, S + 1, Flag.ACK, 'def'), seg(true, C + 1, S + 1, Flag.ACK, 'abc')]);
  assert.equal(r.warnings, []);
  assert.equal(r.texts, ['C:abc C:def']);
});

test('reassembly: gaps are reported and the data after them kept', () => {
  let r = reassemble([...handshake, seg(true, C + 1, S + 1, Flag.ACK, 'ab'), seg(true, C + 5, S + 1, Flag.ACK, 'ef')]);
  assert.equal(r.texts, ['C:ab C:ef']);
  assert.equal(r.warnings, ['gap: 2 bytes from 10.0.0.1:40000 to 10.0.0.2:104 missing from the capture']);
  // The server acknowledging bytes never seen closes the gap at once, so the order across directions holds.
  r = reassemble([...handshake, seg(true, C + 3, S + 1, Flag.ACK, 'cd'), seg(false, S + 1, C + 5, Flag.ACK, 'OK'), seg(true, C + 5, S + 3, Flag.ACK, 'ef')]);
  assert.equal(r.texts, ['C:cd S:OK C:ef']);
  assert.is(r.warnings.length, 1);
});

test('reassembly: sequence numbers wrap around 2^32; a new SYN on a closed 4-tuple starts a new stream', () => {
  const isn = 0xfffffffd;
  const r = reassemble([
    seg(true, isn, 0, Flag.SYN), seg(false, S, isn + 1, Flag.SYN | Flag.ACK), seg(true, isn + 1, S + 1, Flag.ACK),
    seg(true, isn + 5, S + 1, Flag.ACK, 'world'),
    seg(true, isn + 1, S + 1, Flag.ACK, 'hell'),
    seg(true, isn + 5, S + 1, Flag.ACK, 'w'),
    seg(true, isn + 10, S + 1, Flag.RST | Flag.ACK),
    seg(true, 77, 0, Flag.SYN), seg(false, 99, 78, Flag.SYN | Flag.ACK), seg(true, 78, 100, Flag.ACK, 'again'),
  ]);
  assert.equal(r.warnings, []);
  assert.equal(r.texts, ['C:hell C:world', 'C:again']);
});

test('reassembly: 3,000 segments in reverse order, then a shuffle with duplicates, come out in sequence order', () => {
  const n = 3000;
  const expected = Array.from({ length: n }, (_, i) => String.fromCharCode(0x41 + (i % 26))).join('');
  const segs = Array.from({ length: n }, (_, i) => seg(true, C + 1 + i, S + 1, Flag.ACK, expected[i]!));
  let r = reassemble([...handshake, ...segs.slice().reverse()]);
  assert.equal(r.warnings, []);
  assert.is(sent(r.streams[0]!, true).toString('latin1'), expected);
  const random = createRandom(42);
  const shuffled = [...segs, ...segs.slice(0, 500)];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  r = reassemble([...handshake, ...shuffled]);
  assert.equal(r.warnings, []);
  assert.is(sent(r.streams[0]!, true).toString('latin1'), expected);
});

// ---- malformed files -----------------------------------------------------------------------------

function expectError(buf: Buffer, code: string, offset: number, message?: RegExp): void {
  const e = thrown(() => readCapture(buf));
  assert.is(e.code, code, e.message);
  assert.is(e.offset, offset, e.message);
  if (message) assert.match(e.message, message);
}

test('malformed: bad magic, short headers, record and block lengths past the end or too large', () => {
  const good = classicPcap(101, [IPV4_TCP, IPV4_TCP]);
  expectError(Buffer.alloc(0), 'ERR_PCAP_TRUNCATED', 0);
  expectError(hex("'not a capture file at all'"), 'ERR_PCAP_INVALID', 0, /magic: 0x6e6f7420 is neither pcap nor pcapng/);
  expectError(good.subarray(0, 20), 'ERR_PCAP_TRUNCATED', 0, /pcap file header/);
  expectError(good.subarray(0, 30), 'ERR_PCAP_TRUNCATED', 28, /record ts_frac: needs 4 bytes, 2 remain/);
  expectError(good.subarray(0, good.length - 1), 'ERR_PCAP_TRUNCATED', 24 + 16 + 52 + 16, /record data: needs 52 bytes, 51 remain/);
  const version = Buffer.from(good);
  version.writeUInt16LE(3, 4);
  expectError(version, 'ERR_PCAP_INVALID', 4, /version major: 3/);
  const huge = Buffer.from(good);
  huge.writeUInt32LE(0xffffffff, 24 + 8);
  expectError(huge, 'ERR_PCAP_INVALID', 32, /incl_len: 4294967295 is larger than 262144/);
  const hugeSnap = Buffer.from(good);
  hugeSnap.writeUInt32LE(0xffffffff, 16); // the header's snap length alone is advice: still readable
  const advice = readCapture(hugeSnap);
  assert.is(advice.streams.length, 1);
  assert.equal(advice.warnings, ['pcap header: snap length 4294967295 is larger than 262144; records are checked one by one']);

  expectError(PCAPNG_LE.subarray(0, 10), 'ERR_PCAP_TRUNCATED', 0, /block header/);
  const short = Buffer.from(PCAPNG_LE);
  short.writeUInt32LE(8, 28 + 4);
  expectError(short, 'ERR_PCAP_INVALID', 32, /block total length: 8 \(must be a multiple of 4, at least 12\)/);
  const odd = Buffer.from(PCAPNG_LE);
  odd.writeUInt32LE(33, 28 + 4);
  expectError(odd, 'ERR_PCAP_INVALID', 32);
  const past = Buffer.from(PCAPNG_LE);
  past.writeUInt32LE(0x10000, 28 + 4);
  expectError(past, 'ERR_PCAP_TRUNCATED', 32, /block total length: 65536 but/);
  const hugeBlock = Buffer.from(PCAPNG_LE);
  hugeBlock.writeUInt32LE(0xfffffffc, 28 + 4);
  expectError(hugeBlock, 'ERR_PCAP_TRUNCATED', 32, /block total length: 4294967292 but \d+ bytes remain/);
  const trailer = Buffer.from(PCAPNG_LE);
  trailer.writeUInt32LE(36, 28 + 28);
  expectError(trailer, 'ERR_PCAP_INVALID', 56, /32 at the start, 36 at the end/);
  const bom = Buffer.from(PCAPNG_LE);
  bom.writeUInt32LE(0x12345678, 8);
  expectError(bom, 'ERR_PCAP_INVALID', 8, /byte-order magic/);
  const iface = Buffer.from(PCAPNG_LE);
  iface.writeUInt32LE(3, 60 + 8);
  expectError(iface, 'ERR_PCAP_INVALID', 68, /Interface ID: 3 but 1 interfaces/);
  const capLen = Buffer.from(PCAPNG_LE);
  capLen.writeUInt32LE(200, 60 + 20);
  expectError(capLen, 'ERR_PCAP_TRUNCATED', 60 + 28, /Packet Data: needs 200 bytes, 52 remain/);
  const hugeCap = Buffer.from(PCAPNG_LE);
  hugeCap.writeUInt32LE(0x7fffffff, 60 + 20);
  expectError(hugeCap, 'ERR_PCAP_INVALID', 80, /Captured Packet Length: 2147483647 is larger/);
});

// ---- fuzz ----------------------------------------------------------------------------------------


test('fuzz: truncations and seeded mutations give a capture or a DicomError, each in under 200 ms CPU', () => {
  const written = writeCapture((w) => {
    const id = w.open({ clientPort: 40123, serverPort: 11112 });
    for (const p of [associateRq, associateAc, echoRq, echoRsp, releaseRq, releaseRp]) w.data(id, p !== associateAc && p !== echoRsp && p !== releaseRp, encodePdu(p));
    w.close(id);
  });
  const seeds = [written, PCAPNG_LE, PCAPNG_BE, ...Object.values(LINK_HEADERS).map((l) => classicPcap(l.linkType, [Buffer.concat([l.v4, IPV4_TCP]), Buffer.concat([l.v6, IPV6_TCP])], 'be', true))];
  let cases = 0;
  let errors = 0;
  const attempt = (buf: Buffer, what: string): void => {
    const before = process.cpuUsage();
    try {
      readCapture(buf);
    } catch (e) {
      if (!(e instanceof DicomError)) throw new Error(`${what}: not a DicomError: ${String((e as Error).stack)}`);
      assert.ok(e.code === 'ERR_PCAP_INVALID' || e.code === 'ERR_PCAP_TRUNCATED', `${what}: ${e.code}`);
      assert.type(e.offset, 'number', what);
      errors++;
    }
    const used = process.cpuUsage(before);
    assert.ok((used.user + used.system) / 1000 < 200, `${what}: ${(used.user + used.system) / 1000} ms CPU`);
    cases++;
  };
  seeds.forEach((s, i) => {
    for (let n = 0; n < s.length; n += s.length > 2000 ? 7 : 1) attempt(s.subarray(0, n), `seed ${i} truncated to ${n}`);
  });
  const random = createRandom(0x5eed);
  for (let k = 0; k < 3000; k++) {
    const i = Math.floor(random() * seeds.length);
    const b = Buffer.from(seeds[i]!);
    const flips = 1 + Math.floor(random() * 8);
    for (let f = 0; f < flips; f++) {
      const at = Math.floor(random() * b.length);
      b[at] = random() < 0.3 ? 0xff : Math.floor(random() * 256);
    }
    attempt(b, `mutation ${k} of seed ${i}`);
  }
  for (let k = 0; k < 200; k++) {
    const b = Buffer.alloc(4 + Math.floor(random() * 512));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(random() * 256);
    if (k % 2 === 0) b.writeUInt32LE(0xa1b2c3d4, 0);
    else b.writeUInt32BE(0x0a0d0d0a, 0);
    attempt(b, `random ${k}`);
  }
  assert.ok(cases > 3000 && errors > 100, `${cases} cases, ${errors} errors`);
});

test.run();
