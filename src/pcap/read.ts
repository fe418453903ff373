// Packet-capture reader: classic pcap and pcapng files → link layer → IPv4/IPv6 → TCP → one ordered,
// reassembled payload stream per connection (RFC 9293 sequence numbers). Pure: takes the file's bytes.
// Formats: pcap (tcpdump.org pcap(5)), pcapng (IETF draft-ietf-opsawg-pcapng), link types per tcpdump.org.

import { createCursor, need, remaining, skip, u16be, u16le, u32be, u32le, u8, type Cursor, type ErrorFactory } from '../bytes.js';
import { DicomError, ErrorCode } from '../errors.js';

export interface TcpEndpoint {
  /** Dotted IPv4 or RFC 5952 IPv6 text. */
  readonly ip: string;
  readonly port: number;
}

export interface TcpChunk {
  readonly fromClient: boolean;
  /** A view into the capture buffer. */
  readonly data: Buffer;
  /** Capture time of the segment, milliseconds since the epoch. */
  readonly timeMs: number;
}

export interface TcpStream {
  readonly client: TcpEndpoint;
  readonly server: TcpEndpoint;
  readonly chunks: TcpChunk[];
}

export interface Capture {
  readonly streams: TcpStream[];
  readonly warnings: string[];
}

/** Largest packet we accept (Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD). */
export const MAX_PACKET = 262_144;
/** Out-of-order segments held per direction before the oldest gap is given up on. */
const MAX_PENDING = 4096;
const MAX_WARNINGS = 1000;

const Link = { Null: 0, Ethernet: 1, RawIp: 101, Loop: 108, LinuxSll: 113, RawIpv4: 228, RawIpv6: 229, LinuxSll2: 276 } as const;
const EtherType = { Ipv4: 0x0800, Ipv6: 0x86dd, Vlan: 0x8100, QinQ: 0x88a8, Vlan9100: 0x9100 } as const;
const IP_PROTO_TCP = 6;
const TcpFlag = { Fin: 0x01, Syn: 0x02, Rst: 0x04, Ack: 0x10 } as const;

const truncated: ErrorFactory = (message, field, offset) => new DicomError(ErrorCode.PcapTruncated, message, { field, offset });

function invalid(message: string, field: string, offset: number): DicomError {
  return new DicomError(ErrorCode.PcapInvalid, message, { field, offset });
}

/**
 * Every TCP connection in a pcap or pcapng file, reassembled in sequence order.
 * @throws DicomError ERR_PCAP_INVALID (bad magic, bad block or record length) or ERR_PCAP_TRUNCATED (a length past the end), with the byte offset.
 */
export function readCapture(buf: Buffer): Capture {
  const warnings: string[] = [];
  const warn = (w: string): void => {
    if (warnings.length < MAX_WARNINGS) warnings.push(w);
    else if (warnings.length === MAX_WARNINGS) warnings.push('further warnings suppressed');
  };
  const tracker = createTracker(warn);
  const onPacket = (p: RawPacket): void => {
    const seg = decodeFrame(p, warn);
    if (seg !== undefined) tracker.add(seg);
  };
  const c = createCursor(buf, 0, buf.length, 0, truncated);
  if (buf.length >= 4 && buf.readUInt32BE(0) === PCAPNG_SHB) readPcapng(c, onPacket, warn);
  else readPcap(c, onPacket, warn);
  return { streams: tracker.finish(), warnings };
}

/** One captured frame: link type, bytes captured and where it started in the file. */
interface RawPacket {
  readonly linkType: number;
  readonly data: Buffer;
  readonly timeMs: number;
  readonly offset: number;
  /** File offset of `data`, for the offsets in warnings. */
  readonly dataOffset: number;
}

// ---- classic pcap ---------------------------------------------------------------------------------

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;

function readPcap(c: Cursor, onPacket: (p: RawPacket) => void, warn: (w: string) => void): void {
  need(c, 24, 'pcap file header');
  const magicBe = c.buf.readUInt32BE(0);
  const magicLe = c.buf.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS) {
    le = true;
    nano = magicLe === PCAP_MAGIC_NS;
  } else if (magicBe === PCAP_MAGIC_US || magicBe === PCAP_MAGIC_NS) {
    le = false;
    nano = magicBe === PCAP_MAGIC_NS;
  } else {
    throw invalid(`magic: 0x${magicBe.toString(16).padStart(8, '0')} is neither pcap nor pcapng`, 'magic', 0);
  }
  const r32 = le ? u32le : u32be;
  const r16 = le ? u16le : u16be;
  skip(c, 4, 'magic');
  const major = r16(c, 'version major');
  r16(c, 'version minor');
  if (major !== 2) throw invalid(`version major: ${major}, expected 2`, 'version major', 4);
  skip(c, 8, 'thiszone and sigfigs');
  // As in libpcap, the header's snap length is only advice: each record's length is checked below.
  const snapLen = r32(c, 'snaplen');
  if (snapLen > MAX_PACKET) warn(`pcap header: snap length ${snapLen} is larger than ${MAX_PACKET}; records are checked one by one`);
  // pcap(5): the upper bits of the link-type field may carry FCS information.
  const linkType = r32(c, 'linktype') & 0x0fffffff;
  const unitsPerMs = nano ? 1e6 : 1e3;
  while (remaining(c) > 0) {
    const offset = c.pos;
    const sec = r32(c, 'record ts_sec');
    const frac = r32(c, 'record ts_frac');
    const inclLen = r32(c, 'record incl_len');
    r32(c, 'record orig_len');
    if (inclLen > MAX_PACKET) throw invalid(`incl_len: ${inclLen} is larger than ${MAX_PACKET}`, 'record incl_len', offset + 8);
    const dataOffset = c.pos;
    const data = c.buf.subarray(c.pos, c.pos + inclLen);
    skip(c, inclLen, 'record data');
    onPacket({ linkType, data, timeMs: sec * 1000 + frac / unitsPerMs, offset, dataOffset });
  }
}

// ---- pcapng ---------------------------------------------------------------------------------------

const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const Block = { Idb: 1, Spb: 3, Epb: 6 } as const;

interface Interface {
  readonly linkType: number;
  readonly snapLen: number;
  /** Timestamp units per millisecond (if_tsresol, default microseconds). */
  readonly unitsPerMs: number;
}

function readPcapng(c: Cursor, onPacket: (p: RawPacket) => void, warn: (w: string) => void): void {
  let le = true;
  let interfaces: Interface[] = [];
  while (remaining(c) > 0) {
    const offset = c.pos;
    need(c, 12, 'block header');
    const type = c.buf.readUInt32BE(c.pos) === PCAPNG_SHB ? PCAPNG_SHB : le ? c.buf.readUInt32LE(c.pos) : c.buf.readUInt32BE(c.pos);
    if (type === PCAPNG_SHB) {
      // The byte-order magic after the length decides how this section is read, its length included.
      need(c, 12, 'section header block');
      const bom = c.buf.readUInt32LE(c.pos + 8);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (c.buf.readUInt32BE(c.pos + 8) === BYTE_ORDER_MAGIC) le = false;
      else throw invalid(`byte-order magic: 0x${bom.toString(16)} is not 0x1a2b3c4d`, 'byte-order magic', offset + 8);
      interfaces = [];
    }
    const r32 = le ? u32le : u32be;
    const r16 = le ? u16le : u16be;
    skip(c, 4, 'block type');
    const totalLength = r32(c, 'block total length');
    if (totalLength < 12 || totalLength % 4 !== 0) {
      throw invalid(`block total length: ${totalLength} (must be a multiple of 4, at least 12)`, 'block total length', offset + 4);
    }
    // No block is copied, so a large one (name resolution, decryption secrets) only has to fit in the file;
    // packet lengths are held to MAX_PACKET below.
    if (totalLength > remaining(c) + 8) {
      throw truncated(`block total length: ${totalLength} but ${remaining(c) + 8} bytes remain`, 'block total length', offset + 4);
    }
    const end = offset + totalLength;
    const trailer = le ? c.buf.readUInt32LE(end - 4) : c.buf.readUInt32BE(end - 4);
    if (trailer !== totalLength) {
      throw invalid(`block total length: ${totalLength} at the start, ${trailer} at the end`, 'block total length', end - 4);
    }
    const body = createCursor(c.buf, c.pos, end - 4, 0, truncated);
    c.pos = end;
    if (type === PCAPNG_SHB) {
      skip(body, 4, 'byte-order magic');
      const major = r16(body, 'major version');
      if (major !== 1) throw invalid(`major version: ${major}, expected 1`, 'major version', offset + 12);
    } else if (type === Block.Idb) {
      const linkType = r16(body, 'LinkType');
      skip(body, 2, 'reserved');
      const snapLen = r32(body, 'SnapLen');
      interfaces.push({ linkType, snapLen, unitsPerMs: readTsResolution(body, le) });
    } else if (type === Block.Epb) {
      const interfaceId = r32(body, 'Interface ID');
      const high = r32(body, 'Timestamp (High)');
      const low = r32(body, 'Timestamp (Low)');
      const capLen = r32(body, 'Captured Packet Length');
      r32(body, 'Original Packet Length');
      const iface = interfaces[interfaceId];
      if (iface === undefined) throw invalid(`Interface ID: ${interfaceId} but ${interfaces.length} interfaces are described`, 'Interface ID', offset + 8);
      if (capLen > MAX_PACKET) throw invalid(`Captured Packet Length: ${capLen} is larger than ${MAX_PACKET}`, 'Captured Packet Length', offset + 20);
      need(body, capLen, 'Packet Data');
      const data = c.buf.subarray(body.pos, body.pos + capLen);
      onPacket({ linkType: iface.linkType, data, timeMs: (high * 4294967296 + low) / iface.unitsPerMs, offset, dataOffset: body.pos });
    } else if (type === Block.Spb) {
      const origLen = r32(body, 'Original Packet Length');
      const iface = interfaces[0];
      if (iface === undefined) throw invalid('simple packet block before any interface description block', 'block type', offset);
      let capLen = Math.min(origLen, remaining(body));
      if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
      const data = c.buf.subarray(body.pos, body.pos + capLen);
      // An SPB has no timestamp.
      onPacket({ linkType: iface.linkType, data, timeMs: 0, offset, dataOffset: body.pos });
    } else if (type !== 0x00000005 && type !== 0x00000004 && type !== 0x0000000a && type !== 0x00000bad && type !== 0x40000bad) {
      // Known but irrelevant here: interface statistics (5), name resolution (4), decryption secrets (10), custom.
      warn(`pcapng: skipped block of unknown type 0x${type.toString(16)} at offset ${offset}`);
    }
  }
}

/** if_tsresol (option 9) in the IDB options: units per millisecond. */
function readTsResolution(body: Cursor, le: boolean): number {
  const r16 = le ? u16le : u16be;
  let unitsPerMs = 1e3;
  while (remaining(body) >= 4) {
    const code = r16(body, 'option code');
    const length = r16(body, 'option length');
    if (code === 0) break;
    const padded = (length + 3) & ~3;
    if (code === 9 && length >= 1 && remaining(body) >= 1) {
      const v = body.buf[body.pos]!;
      const exp = v & 0x7f;
      // Bit 7 set: a negative power of 2; clear: a negative power of 10.
      const perSecond = v & 0x80 ? 2 ** exp : 10 ** exp;
      unitsPerMs = perSecond / 1000;
    }
    if (padded > remaining(body)) break;
    skip(body, padded, 'option value');
  }
  return unitsPerMs;
}

// ---- link, network and transport layers ------------------------------------------------------------

interface Segment {
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly payload: Buffer;
  readonly timeMs: number;
  readonly offset: number;
}

/** The TCP segment inside a frame, or undefined (with a warning when something was lost) for anything else. */
function decodeFrame(p: RawPacket, warn: (w: string) => void): Segment | undefined {
  // Headers of a frame are read with a cursor whose errors are caught here: a short frame is a
  // capture artefact (snap length), not a malformed file.
  const c = createCursor(p.data, 0, p.data.length, p.dataOffset, truncated);
  try {
    const net = linkPayload(c, p.linkType, p, warn);
    if (net === undefined) return undefined;
    if (net === 4) return ipv4(c, p, warn);
    return ipv6(c, p, warn);
  } catch (e) {
    if (e instanceof DicomError) {
      warn(`packet at offset ${p.offset}: ${e.message}`);
      return undefined;
    }
    throw e;
  }
}

/** Moves the cursor to the network header; returns 4, 6 or undefined for a non-IP frame. */
function linkPayload(c: Cursor, linkType: number, p: RawPacket, warn: (w: string) => void): 4 | 6 | undefined {
  switch (linkType) {
    case Link.Null: {
      // DLT_NULL: the address family in the capturing host's byte order.
      need(c, 4, 'null family');
      const le = c.buf.readUInt32LE(c.pos);
      const family = le <= 0xffff ? le : c.buf.readUInt32BE(c.pos);
      skip(c, 4, 'null family');
      return addressFamily(family);
    }
    case Link.Loop:
      return addressFamily(u32be(c, 'loop family'));
    case Link.Ethernet: {
      skip(c, 12, 'Ethernet addresses');
      let type = u16be(c, 'EtherType');
      // IEEE 802.1Q / 802.1ad tags: TCI, then the next EtherType.
      for (let tags = 0; (type === EtherType.Vlan || type === EtherType.QinQ || type === EtherType.Vlan9100) && tags < 8; tags++) {
        skip(c, 2, 'VLAN TCI');
        type = u16be(c, 'EtherType');
      }
      return etherType(type);
    }
    case Link.LinuxSll: {
      skip(c, 14, 'SLL header');
      return etherType(u16be(c, 'SLL protocol'));
    }
    case Link.LinuxSll2: {
      const protocol = u16be(c, 'SLL2 protocol');
      skip(c, 18, 'SLL2 header');
      return etherType(protocol);
    }
    case Link.RawIp:
    case Link.RawIpv4:
    case Link.RawIpv6:
    case 12:
    case 14: {
      need(c, 1, 'IP version');
      const version = c.buf[c.pos]! >> 4;
      return version === 4 || version === 6 ? version : undefined;
    }
    default:
      warn(`packet at offset ${p.offset}: link type ${linkType} is not supported`);
      return undefined;
  }
}

function addressFamily(family: number): 4 | 6 | undefined {
  if (family === 2) return 4;
  // AF_INET6 differs by OS: 10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS.
  if (family === 10 || family === 24 || family === 28 || family === 30) return 6;
  return undefined;
}

function etherType(type: number): 4 | 6 | undefined {
  if (type === EtherType.Ipv4) return 4;
  if (type === EtherType.Ipv6) return 6;
  return undefined;
}

/** RFC 791 §3.1. */
function ipv4(c: Cursor, p: RawPacket, warn: (w: string) => void): Segment | undefined {
  const start = c.pos;
  const vihl = u8(c, 'IPv4 version/IHL');
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4 || ihl < 20) {
    warn(`packet at offset ${p.offset}: bad IPv4 header (version/IHL 0x${vihl.toString(16)})`);
    return undefined;
  }
  skip(c, 1, 'IPv4 type of service');
  const totalLength = u16be(c, 'IPv4 total length');
  skip(c, 2, 'IPv4 identification');
  const fragment = u16be(c, 'IPv4 flags/fragment offset');
  skip(c, 1, 'IPv4 TTL');
  const protocol = u8(c, 'IPv4 protocol');
  skip(c, 2, 'IPv4 header checksum');
  const src = ipv4Text(c);
  const dst = ipv4Text(c);
  skip(c, ihl - 20, 'IPv4 options');
  if (protocol !== IP_PROTO_TCP) return undefined;
  if ((fragment & 0x2000) !== 0 || (fragment & 0x1fff) !== 0) {
    warn(`packet at offset ${p.offset}: IPv4 fragment from ${src} skipped`);
    return undefined;
  }
  // A total length of 0 is what TCP segmentation offload leaves in captures: use what is there.
  const end = totalLength === 0 ? c.end : start + totalLength;
  if (totalLength !== 0 && totalLength < ihl) {
    warn(`packet at offset ${p.offset}: IPv4 total length ${totalLength} is shorter than its header`);
    return undefined;
  }
  return tcp(c, end, src, dst, p, warn);
}

/** RFC 8200 §3-4; extension headers we know are walked over, a fragment is skipped with a warning. */
function ipv6(c: Cursor, p: RawPacket, warn: (w: string) => void): Segment | undefined {
  const vtf = u32be(c, 'IPv6 version/class/flow');
  if (vtf >>> 28 !== 6) {
    warn(`packet at offset ${p.offset}: bad IPv6 version ${vtf >>> 28}`);
    return undefined;
  }
  const payloadLength = u16be(c, 'IPv6 payload length');
  let next = u8(c, 'IPv6 next header');
  skip(c, 1, 'IPv6 hop limit');
  const src = ipv6Text(c);
  const dst = ipv6Text(c);
  // Payload length 0 with a jumbo option, or offload: use what is there.
  const end = payloadLength === 0 ? c.end : c.pos + payloadLength;
  for (let hops = 0; next !== IP_PROTO_TCP; hops++) {
    if (hops > 16) return undefined;
    if (next === 44) {
      warn(`packet at offset ${p.offset}: IPv6 fragment from ${src} skipped`);
      return undefined;
    }
    if (next === 51) {
      // Authentication header: length in 4-octet units, minus 2 (RFC 4302).
      next = u8(c, 'AH next header');
      const len = u8(c, 'AH length');
      skip(c, (len + 2) * 4 - 2, 'AH');
    } else if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140 || next === 253 || next === 254) {
      // RFC 6564 uniform format: next header, length in 8-octet units not counting the first 8.
      next = u8(c, 'extension next header');
      const len = u8(c, 'extension length');
      skip(c, len * 8 + 6, 'extension header');
    } else {
      return undefined; // not TCP (or an extension header we do not know)
    }
  }
  return tcp(c, end, src, dst, p, warn);
}

/** RFC 9293 §3.1: the TCP header and payload between the cursor and `ipEnd`. */
function tcp(c: Cursor, ipEnd: number, srcIp: string, dstIp: string, p: RawPacket, warn: (w: string) => void): Segment | undefined {
  const srcPort = u16be(c, 'TCP source port');
  const dstPort = u16be(c, 'TCP destination port');
  const seq = u32be(c, 'TCP sequence number');
  const ack = u32be(c, 'TCP acknowledgment number');
  const offsetByte = u8(c, 'TCP data offset');
  const flags = u8(c, 'TCP flags');
  const headerLength = (offsetByte >> 4) * 4;
  if (headerLength < 20) {
    warn(`packet at offset ${p.offset}: TCP data offset ${headerLength} is below 20`);
    return undefined;
  }
  skip(c, headerLength - 14, 'TCP window, checksum, urgent pointer and options');
  let end = ipEnd;
  if (end > c.end) {
    warn(`packet at offset ${p.offset}: ${end - c.end} bytes of TCP payload from ${srcIp}:${srcPort} not captured (snap length)`);
    end = c.end;
  }
  if (end < c.pos) {
    warn(`packet at offset ${p.offset}: IP length ends inside the TCP header`);
    return undefined;
  }
  return { srcIp, dstIp, srcPort, dstPort, seq, ack, flags, payload: c.buf.subarray(c.pos, end), timeMs: p.timeMs, offset: p.offset };
}

function ipv4Text(c: Cursor): string {
  need(c, 4, 'IPv4 address');
  const b = c.buf;
  const s = `${b[c.pos]}.${b[c.pos + 1]}.${b[c.pos + 2]}.${b[c.pos + 3]}`;
  c.pos += 4;
  return s;
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run of two or more zero groups as '::'. */
function ipv6Text(c: Cursor): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(u16be(c, 'IPv6 address'));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

// ---- TCP reassembly --------------------------------------------------------------------------------

interface Direction {
  readonly ip: string;
  readonly port: number;
  /** Next sequence number expected; undefined until the first segment (or the peer's ACK) says. */
  next: number | undefined;
  /** Sequence number of this side's FIN, once seen. */
  fin: number | undefined;
  /** Segments ahead of `next`, sorted by sequence number (one per sequence number, the longest). */
  readonly pending: Segment[];
  sentSyn: boolean;
  sentSynAck: boolean;
}

interface Stream {
  readonly a: Direction;
  readonly b: Direction;
  readonly order: number;
  /** Chunks in capture order, tagged by direction ('a' or 'b'); client chosen at the end. */
  readonly chunks: Array<{ fromA: boolean; data: Buffer; timeMs: number }>;
  firstSender: 'a' | 'b' | undefined;
  closed: boolean;
}

/** Signed distance a - b in 32-bit sequence space (RFC 9293 §3.4 comparisons). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

function createTracker(warn: (w: string) => void): { add(s: Segment): void; finish(): TcpStream[] } {
  const open = new Map<string, Stream>();
  const all: Stream[] = [];

  function describe(d: Direction): string {
    return `${d.ip}:${d.port}`;
  }

  function newStream(key: string, s: Segment): Stream {
    const mk = (ip: string, port: number): Direction => ({ ip, port, next: undefined, fin: undefined, pending: [], sentSyn: false, sentSynAck: false });
    const stream: Stream = { a: mk(s.srcIp, s.srcPort), b: mk(s.dstIp, s.dstPort), order: all.length, chunks: [], firstSender: undefined, closed: false };
    open.set(key, stream);
    all.push(stream);
    return stream;
  }

  function append(stream: Stream, fromA: boolean, d: Direction, s: Segment, data: Buffer): void {
    if (data.length === 0) return;
    stream.chunks.push({ fromA, data, timeMs: s.timeMs });
    if (stream.firstSender === undefined) stream.firstSender = fromA ? 'a' : 'b';
    d.next = ((d.next ?? s.seq) + data.length) >>> 0;
  }

  /** Append whatever pending segments have become contiguous. */
  function drain(stream: Stream, fromA: boolean, d: Direction): void {
    while (d.pending.length > 0 && d.next !== undefined) {
      const seg = d.pending[0]!;
      const diff = seqDiff(seg.seq, d.next);
      if (diff > 0) return;
      d.pending.shift();
      if (-diff < seg.payload.length) append(stream, fromA, d, seg, seg.payload.subarray(-diff));
    }
  }

  /** Hold a segment that is ahead of `next`; a second copy of a sequence number keeps the longer one. */
  function hold(d: Direction, seg: Segment): void {
    const p = d.pending;
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqDiff(p[mid]!.seq, seg.seq) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < p.length && p[lo]!.seq === seg.seq) {
      if (p[lo]!.payload.length < seg.payload.length) p[lo] = seg;
    } else {
      p.splice(lo, 0, seg);
    }
  }

  /** Give up on the bytes before the earliest pending segment, or (with `upTo`) on every byte before `upTo`, with a warning per gap. */
  function skipGap(stream: Stream, fromA: boolean, d: Direction, upTo?: number): void {
    for (;;) {
      if (d.next === undefined) return;
      const earliest = d.pending[0]?.seq;
      const target = upTo === undefined || (earliest !== undefined && seqDiff(earliest, upTo) < 0) ? earliest : upTo;
      if (target === undefined || seqDiff(target, d.next) <= 0) return;
      warn(`gap: ${seqDiff(target, d.next)} bytes from ${describe(d)} to ${describe(fromA ? stream.b : stream.a)} missing from the capture`);
      d.next = target;
      drain(stream, fromA, d);
      if (upTo === undefined) return;
    }
  }

  function add(s: Segment): void {
    const key = s.srcIp < s.dstIp || (s.srcIp === s.dstIp && s.srcPort <= s.dstPort)
      ? `${s.srcIp}|${s.srcPort}|${s.dstIp}|${s.dstPort}`
      : `${s.dstIp}|${s.dstPort}|${s.srcIp}|${s.srcPort}`;
    const isSyn = (s.flags & TcpFlag.Syn) !== 0;
    const isAck = (s.flags & TcpFlag.Ack) !== 0;
    let stream = open.get(key);
    if (stream !== undefined && isSyn && !isAck) {
      // A new SYN on a used 4-tuple starts a new connection unless it retransmits this one's SYN.
      const d = stream.a.ip === s.srcIp && stream.a.port === s.srcPort ? stream.a : stream.b;
      const retransmitted = d.sentSyn && d.next !== undefined && seqDiff(s.seq + 1, d.next) === 0;
      if (!retransmitted && (stream.closed || stream.chunks.length > 0 || d.sentSyn)) stream = undefined;
    }
    if (stream === undefined) stream = newStream(key, s);
    const fromA = stream.a.ip === s.srcIp && stream.a.port === s.srcPort;
    const d = fromA ? stream.a : stream.b;
    const peer = fromA ? stream.b : stream.a;
    if (isSyn) {
      if (isAck) d.sentSynAck = true;
      else d.sentSyn = true;
      if (d.next === undefined || stream.chunks.length === 0) d.next = (s.seq + 1) >>> 0;
    }
    // The peer acknowledged bytes of this side that the capture never showed in order: a gap.
    if (isAck && peer.next !== undefined) {
      let acked = s.ack;
      if (peer.fin !== undefined && seqDiff(acked, peer.fin) > 0) acked = peer.fin;
      if (seqDiff(acked, peer.next) > 0 && seqDiff(acked, peer.next) < 0x40000000) skipGap(stream, !fromA, peer, acked);
    } else if (isAck && peer.next === undefined && !isSyn) {
      peer.next = s.ack;
    }
    if (s.payload.length > 0) {
      const seq = isSyn ? (s.seq + 1) >>> 0 : s.seq;
      if (d.next === undefined) d.next = seq;
      const diff = seqDiff(seq, d.next);
      if (diff + s.payload.length <= 0) {
        // Entirely before `next`: a retransmission or keep-alive.
      } else if (diff <= 0) {
        append(stream, fromA, d, s, s.payload.subarray(-diff));
        drain(stream, fromA, d);
      } else {
        hold(d, isSyn ? { ...s, seq } : s);
        if (d.pending.length > MAX_PENDING) skipGap(stream, fromA, d);
      }
    }
    if ((s.flags & TcpFlag.Fin) !== 0) d.fin = (s.seq + s.payload.length + (isSyn ? 1 : 0)) >>> 0;
    if ((s.flags & TcpFlag.Rst) !== 0 || (stream.a.fin !== undefined && stream.b.fin !== undefined)) stream.closed = true;
  }

  function finish(): TcpStream[] {
    return all.map((stream) => {
      for (const [fromA, d] of [[true, stream.a], [false, stream.b]] as const) {
        while (d.pending.length > 0) {
          const before = d.pending.length;
          skipGap(stream, fromA, d);
          if (d.pending.length === before) d.pending.length = 0;
        }
      }
      const aIsClient = clientIsA(stream);
      return {
        client: aIsClient ? { ip: stream.a.ip, port: stream.a.port } : { ip: stream.b.ip, port: stream.b.port },
        server: aIsClient ? { ip: stream.b.ip, port: stream.b.port } : { ip: stream.a.ip, port: stream.a.port },
        chunks: stream.chunks.map((ch) => ({ fromClient: ch.fromA === aIsClient, data: ch.data, timeMs: ch.timeMs })),
      };
    });
  }

  return { add, finish };
}

/** The client: the side that sent the SYN, else the side that did not send the SYN-ACK, else the first to send data, else the higher port. */
function clientIsA(s: Stream): boolean {
  if (s.a.sentSyn !== s.b.sentSyn) return s.a.sentSyn;
  if (s.a.sentSynAck !== s.b.sentSynAck) return s.b.sentSynAck;
  if (s.firstSender !== undefined) return s.firstSender === 'a';
  return s.a.port >= s.b.port;
}
