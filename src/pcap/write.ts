// Classic pcap writer (LINKTYPE_ETHERNET) that wraps recorded TCP payloads in synthesised Ethernet,
// IPv4 (RFC 791) and TCP (RFC 9293) headers, with a handshake and FIN per connection, so that
// Wireshark/tshark reassemble each stream and decode it with `-d tcp.port==N,dicom`. Pure: bytes go to a sink.

import { createWriter, writeBytes, writeU16be, writeU32be, writeU32le, writeU16le, writeU8, type Writer } from '../bytes.js';
import { DicomError, ErrorCode } from '../errors.js';

/** Classic pcap magic, microsecond timestamps (written in little-endian order). */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const LINKTYPE_ETHERNET = 1;
/** Largest TCP payload per synthesised segment; bigger writes are split. */
export const MAX_SEGMENT = 65_000;
const SNAPLEN = 262_144;
const ETH_HEADER = 14;
const IPV4_HEADER = 20;
const TCP_HEADER = 20;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

const TcpFlag = { Fin: 0x01, Syn: 0x02, Rst: 0x04, Psh: 0x08, Ack: 0x10 } as const;

export interface ConnectionEndpoints {
  /** Dotted IPv4 address; 127.0.0.1 when absent. */
  readonly clientIp?: string;
  readonly clientPort: number;
  readonly serverIp?: string;
  readonly serverPort: number;
}

export type ConnectionId = number;

export interface PcapWriter {
  /** Starts a connection: writes SYN, SYN-ACK, ACK. */
  open(conn: ConnectionEndpoints, timeMs?: number): ConnectionId;
  /** Writes `bytes` as one or more segments from one side, each acknowledging the other side's data. */
  data(id: ConnectionId, fromClient: boolean, bytes: Buffer, timeMs?: number): void;
  /** Ends a connection: FIN from the client, FIN from the server, last ACK. Unknown or closed ids are ignored. */
  close(id: ConnectionId, timeMs?: number): void;
}

interface Side {
  readonly ip: Buffer;
  readonly port: number;
  readonly mac: Buffer;
  /** Next sequence number this side sends. */
  seq: number;
}

interface Connection {
  readonly client: Side;
  readonly server: Side;
}

export interface PcapWriterOptions {
  /** Clock for calls without `timeMs`; Date.now by default. */
  readonly now?: () => number;
}

/**
 * A pcap writer handing the global header and then one record per packet to `sink`.
 * @throws DicomError ERR_VALUE_INVALID from open() for a malformed address or port.
 */
export function createPcapWriter(sink: (chunk: Buffer) => void, options: PcapWriterOptions = {}): PcapWriter {
  const now = options.now ?? Date.now;
  const connections = new Map<ConnectionId, Connection>();
  let nextId = 1;
  let ipId = 1;
  let lastTime = -Infinity;
  sink(encodeGlobalHeader());

  function emit(conn: Connection, fromClient: boolean, flags: number, payload: Buffer, timeMs: number): void {
    const src = fromClient ? conn.client : conn.server;
    const dst = fromClient ? conn.server : conn.client;
    // Timestamps never go backwards, so readers keep the order the packets were written in.
    const t = Math.max(timeMs, lastTime);
    lastTime = t;
    const seq = src.seq;
    const ack = flags & TcpFlag.Ack ? dst.seq : 0;
    sink(encodePacket({ src, dst, seq, ack, flags, payload, ipId: ipId++ & 0xffff, timeMs: t }));
    src.seq = (src.seq + payload.length + (flags & (TcpFlag.Syn | TcpFlag.Fin) ? 1 : 0)) >>> 0;
  }

  return {
    open(conn, timeMs = now()) {
      const id = nextId++;
      const client: Side = { ip: parseIpv4(conn.clientIp ?? '127.0.0.1', 'clientIp'), port: checkPort(conn.clientPort, 'clientPort'), mac: mac(0x02, id), seq: initialSequence(id, 1) };
      const server: Side = { ip: parseIpv4(conn.serverIp ?? '127.0.0.1', 'serverIp'), port: checkPort(conn.serverPort, 'serverPort'), mac: mac(0x04, id), seq: initialSequence(id, 2) };
      const c: Connection = { client, server };
      connections.set(id, c);
      const empty = Buffer.alloc(0);
      emit(c, true, TcpFlag.Syn, empty, timeMs);
      emit(c, false, TcpFlag.Syn | TcpFlag.Ack, empty, timeMs);
      emit(c, true, TcpFlag.Ack, empty, timeMs);
      return id;
    },
    data(id, fromClient, bytes, timeMs = now()) {
      const c = connections.get(id);
      if (c === undefined) throw new DicomError(ErrorCode.ValueInvalid, `pcap connection ${id} is not open`, { field: 'connection id' });
      for (let off = 0; off < bytes.length; off += MAX_SEGMENT) {
        emit(c, fromClient, TcpFlag.Psh | TcpFlag.Ack, bytes.subarray(off, off + MAX_SEGMENT), timeMs);
      }
    },
    close(id, timeMs = now()) {
      const c = connections.get(id);
      if (c === undefined) return;
      connections.delete(id);
      const empty = Buffer.alloc(0);
      emit(c, true, TcpFlag.Fin | TcpFlag.Ack, empty, timeMs);
      emit(c, false, TcpFlag.Fin | TcpFlag.Ack, empty, timeMs);
      emit(c, true, TcpFlag.Ack, empty, timeMs);
    },
  };
}

/** The 24-byte file header: magic, version 2.4, zone 0, sigfigs 0, snap length, link type. */
function encodeGlobalHeader(): Buffer {
  const w = createWriter(GLOBAL_HEADER);
  writeU32le(w, PCAP_MAGIC_US);
  writeU16le(w, 2);
  writeU16le(w, 4);
  writeU32le(w, 0);
  writeU32le(w, 0);
  writeU32le(w, SNAPLEN);
  writeU32le(w, LINKTYPE_ETHERNET);
  return w.buf;
}

interface Packet {
  readonly src: Side;
  readonly dst: Side;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly payload: Buffer;
  readonly ipId: number;
  readonly timeMs: number;
}

/** One record: pcap record header, Ethernet II, IPv4 without options, TCP without options, payload. */
function encodePacket(p: Packet): Buffer {
  const frameLength = ETH_HEADER + IPV4_HEADER + TCP_HEADER + p.payload.length;
  const w = createWriter(RECORD_HEADER + frameLength);
  const seconds = Math.floor(p.timeMs / 1000);
  const micros = Math.min(999_999, Math.floor((p.timeMs - seconds * 1000) * 1000));
  writeU32le(w, seconds);
  writeU32le(w, micros);
  writeU32le(w, frameLength);
  writeU32le(w, frameLength);
  // Ethernet II
  writeBytes(w, p.dst.mac);
  writeBytes(w, p.src.mac);
  writeU16be(w, 0x0800);
  // IPv4 (RFC 791 §3.1)
  const ipStart = w.pos;
  writeU8(w, 0x45); // version 4, IHL 5
  writeU8(w, 0); // DSCP/ECN
  writeU16be(w, IPV4_HEADER + TCP_HEADER + p.payload.length);
  writeU16be(w, p.ipId);
  writeU16be(w, 0x4000); // don't fragment
  writeU8(w, 64); // TTL
  writeU8(w, 6); // TCP
  const checksumAt = w.pos;
  writeU16be(w, 0);
  writeBytes(w, p.src.ip);
  writeBytes(w, p.dst.ip);
  w.buf.writeUInt16BE(internetChecksum(w.buf, ipStart, w.pos, 0), checksumAt);
  // TCP (RFC 9293 §3.1)
  const tcpStart = w.pos;
  writeU16be(w, p.src.port);
  writeU16be(w, p.dst.port);
  writeU32be(w, p.seq);
  writeU32be(w, p.ack);
  writeU8(w, (TCP_HEADER / 4) << 4);
  writeU8(w, p.flags);
  writeU16be(w, 65535); // window
  const tcpChecksumAt = w.pos;
  writeU16be(w, 0);
  writeU16be(w, 0); // urgent pointer
  writeBytes(w, p.payload);
  const tcpLength = w.pos - tcpStart;
  // Pseudo-header: source, destination, zero, protocol, TCP length.
  const pseudo = sumWords(p.src.ip, 0, 4) + sumWords(p.dst.ip, 0, 4) + 6 + tcpLength;
  w.buf.writeUInt16BE(internetChecksum(w.buf, tcpStart, w.pos, pseudo), tcpChecksumAt);
  return w.buf;
}

/** RFC 1071: one's complement of the one's complement sum of 16-bit words (odd tail padded with zero). */
function internetChecksum(buf: Buffer, start: number, end: number, initial: number): number {
  let sum = initial + sumWords(buf, start, end);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function sumWords(buf: Buffer, start: number, end: number): number {
  let sum = 0;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

function parseIpv4(text: string, field: string): Buffer {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new DicomError(ErrorCode.ValueInvalid, `${field}: '${text}' is not a dotted IPv4 address`, { field });
  }
  return Buffer.from(parts.map(Number));
}

function checkPort(port: number, field: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DicomError(ErrorCode.ValueInvalid, `${field}: ${port} is not a TCP port`, { field });
  }
  return port;
}

/** A locally administered MAC address naming the side and connection. */
function mac(first: number, id: number): Buffer {
  const w: Writer = createWriter(6);
  writeU8(w, first);
  writeU8(w, 0);
  writeU32be(w, id);
  return w.buf;
}

/** Deterministic initial sequence numbers, distinct per connection and side, so files are reproducible. */
function initialSequence(id: number, side: number): number {
  return (Math.imul(id, 0x9e3779b1) + side * 0x10000000) >>> 0;
}
