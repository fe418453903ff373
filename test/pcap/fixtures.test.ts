// pcap-fixtures/: captures of real PACS (dcmqrscp, Orthanc, PixelMed) recorded by scripts/capture-fixtures.mjs.
// For every file: our reader reads it without warnings; every PDU decodes and re-encodes byte-identical
// (except the reserved byte DCMTK sets to 0xFF in each presentation-context item of an A-ASSOCIATE-RQ);
// every P-DATA-TF reassembles into DIMSE messages whose command decodes; the exchange the file is named
// for is on the wire (reject, abort, cancel, result limit, unknown destination, store sub-operations);
// and, where tshark is installed, its DICOM dissector shows, for every DIMSE message of every file, the
// same command set and data set (identifiers and C-STORE objects) as our decoder: every element's tag,
// VR and value, in order (values normalised: padding trimmed, tshark's UID names dropped, numbers as
// decimals, binary as hex). tshark runs with its default PDV reassembly; no message is excluded.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeDataset, getString, transferSyntaxOf, type Dataset, type Element } from '../../src/dicom/index.js';
import { CommandField, decodeCommand, type DimseMessage } from '../../src/net/dimse.js';
import { createFramer } from '../../src/net/framer.js';
import { decodePdu, encodePdu } from '../../src/net/pdu-codec.js';
import type { Pdu } from '../../src/net/pdu.js';
import { createMessageAssembler } from '../../src/net/pdv.js';
import { readCapture } from '../../src/pcap/index.js';
import { requireProgram } from '../support/live.js';

const IMPLICIT_LE = '1.2.840.10008.1.2';
const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../pcap-fixtures');
const files = readdirSync(dir).filter((f) => f.endsWith('.pcap')).sort();

/** One DIMSE message as both decoders can show it: direction key, command field, message id, status. */
interface Cmd {
  readonly dir: string;
  readonly field: number;
  readonly id: number;
  readonly status?: number;
}

/** A DIMSE message's data set as both decoders can show it: StudyInstanceUID and the top-level element count. */
interface Ident {
  readonly dir: string;
  readonly studyUid: string | undefined;
  readonly elements: number;
}

interface Decoded {
  readonly pdus: { dir: string; pdu: Pdu }[];
  /** `datasetPdus`: how many P-DATA-TF PDUs carried fragments of the message's data set. */
  readonly messages: (Cmd & { msg: DimseMessage; datasetPdus: number; ident?: Ident })[];
  readonly serverPorts: number[];
  /** Command set and data set of every message, per direction in order, elements as tsharkParts shows them. */
  readonly parts: Part[];
}

const FIELD_OF: Readonly<Record<DimseMessage['type'], number>> = {
  'C-STORE-RQ': CommandField.CStoreRq, 'C-STORE-RSP': CommandField.CStoreRsp,
  'C-GET-RQ': CommandField.CGetRq, 'C-GET-RSP': CommandField.CGetRsp,
  'C-FIND-RQ': CommandField.CFindRq, 'C-FIND-RSP': CommandField.CFindRsp,
  'C-MOVE-RQ': CommandField.CMoveRq, 'C-MOVE-RSP': CommandField.CMoveRsp,
  'C-ECHO-RQ': CommandField.CEchoRq, 'C-ECHO-RSP': CommandField.CEchoRsp,
  'C-CANCEL-RQ': CommandField.CCancelRq,
};

/** Byte-identical, or differing only in DCMTK's 0xFF reserved byte 6 bytes into a 0x20 item of an RQ. */
function assertSameBytes(original: Buffer, again: Buffer, what: string): void {
  assert.is(again.length, original.length, `${what}: length`);
  if (again.equals(original)) return;
  assert.is(original[0], 0x01, `${what}: only an A-ASSOCIATE-RQ may differ`);
  for (let i = 0; i < again.length; i++) {
    if (again[i] === original[i]) continue;
    assert.is(original[i], 0xff, `${what}: byte ${i}`);
    assert.is(again[i], 0, `${what}: byte ${i} re-encoded`);
    assert.is(original[i - 6], 0x20, `${what}: byte ${i} is not the reserved byte of a presentation-context item`);
  }
}

function decodeFixture(file: string): Decoded {
  const capture = readCapture(readFileSync(path.join(dir, file)));
  assert.equal(capture.warnings, [], `${file}: reader warnings`);
  assert.ok(capture.streams.length > 0, `${file}: no TCP stream`);
  const pdus: Decoded['pdus'] = [];
  const messages: Decoded['messages'] = [];
  const serverPorts = new Set<number>();
  const parts: Part[] = [];
  for (const stream of capture.streams) {
    serverPorts.add(stream.server.port);
    const syntaxOf = new Map<number, string>();
    const pending: { msg: Decoded['messages'][number]; contextId: number; dataset: Buffer; part: { elements: string[] } }[] = [];
    const sides = [true, false].map((fromClient) => {
      const key = fromClient
        ? `${stream.client.port}->${stream.server.port}`
        : `${stream.server.port}->${stream.client.port}`;
      const assembler = createMessageAssembler();
      let datasetPdus = 0;
      const framer = createFramer(0, (bytes) => {
        const copy = Buffer.from(bytes);
        const pdu = decodePdu(copy);
        assertSameBytes(copy, encodePdu(pdu), `${file} ${key} ${pdu.type}`);
        pdus.push({ dir: key, pdu });
        if (pdu.type === 'A-ASSOCIATE-AC') {
          for (const pc of pdu.presentationContexts) if (pc.transferSyntax !== undefined) syntaxOf.set(pc.id, pc.transferSyntax);
        }
        if (pdu.type !== 'P-DATA-TF') return;
        if (pdu.pdvs.some((v) => !v.isCommand)) datasetPdus++;
        for (const m of assembler.push(pdu)) {
          const msg = decodeCommand(m.command);
          const id = 'messageId' in msg ? msg.messageId : msg.messageIdBeingRespondedTo;
          const entry = { dir: key, field: FIELD_OF[msg.type], id, ...('status' in msg ? { status: msg.status } : {}), msg, datasetPdus: m.dataset === undefined ? 0 : datasetPdus };
          messages.push(entry);
          parts.push({ dir: key, kind: 'command', elements: ourElements(decodeDataset(m.command, transferSyntaxOf(IMPLICIT_LE))) });
          if (m.dataset !== undefined) {
            const part = { dir: key, kind: 'data' as const, elements: [] as string[] };
            parts.push(part);
            pending.push({ msg: entry, contextId: m.contextId, dataset: m.dataset, part });
            datasetPdus = 0;
          }
        }
      });
      return { fromClient, framer, assembler, key };
    });
    for (const chunk of stream.chunks) sides.find((s) => s.fromClient === chunk.fromClient)!.framer.push(chunk.data);
    for (const s of sides) {
      assert.is(s.framer.buffered(), 0, `${file} ${s.key}: bytes left after the last PDU`);
      assert.not.ok(s.assembler.inProgress(), `${file} ${s.key}: a DIMSE message left incomplete`);
    }
    // Data sets (identifiers and C-STORE objects): decoded in the transfer syntax accepted for their context.
    for (const p of pending) {
      const uid = syntaxOf.get(p.contextId);
      assert.ok(uid !== undefined, `${file}: no accepted transfer syntax for context ${p.contextId}`);
      const ds = decodeDataset(p.dataset, transferSyntaxOf(uid!));
      p.part.elements = ourElements(ds);
      if (p.msg.msg.type === 'C-STORE-RQ') continue;
      p.msg.ident = { dir: p.msg.dir, studyUid: getString(ds, 'StudyInstanceUID'), elements: ds.elements.size };
    }
  }
  return { pdus, messages, serverPorts: [...serverPorts], parts };
}

type TsharkFrame = { _source: { layers: Record<string, unknown> } };

/** tshark's JSON tree of a fixture, every listed port decoded as DICOM. */
function tsharkFrames(tshark: string, file: string, ports: readonly number[], options: readonly string[] = []): TsharkFrame[] {
  const r = spawnSync(tshark, [
    '-r', path.join(dir, file), '-o', 'dicom.tag_tree:TRUE', ...options, ...ports.flatMap((p) => ['-d', `tcp.port==${p},dicom`]),
    '-Y', 'dicom', '-T', 'json', '--no-duplicate-keys',
  ], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
  assert.is(r.status, 0, `tshark on ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as TsharkFrame[];
}

/** The first value of a tshark JSON field. */
function one(v: unknown): string | undefined {
  return Array.isArray(v) ? String(v[0]) : v === undefined ? undefined : String(v);
}

/** One DIMSE message part (command set or data set) as a list of `tag vr value` lines, values normalised. */
interface Part {
  readonly dir: string;
  readonly kind: 'command' | 'data';
  readonly elements: string[];
}

const hexTag = (t: number): string => t.toString(16).padStart(8, '0');

/**
 * tshark's formatting of a value, normalised: text with leading/trailing spaces and NULs removed, US/SS
 * and UL/SL as decimals, binary as colon-separated hex; SQ as its item count (tshark shows items nested).
 */
function ourValue(el: Element, littleEndian: boolean): string {
  const v = el.value;
  switch (el.vr) {
    case 'US':
      return v.length >= 2 ? String(littleEndian ? v.readUInt16LE(0) : v.readUInt16BE(0)) : '';
    case 'SS':
      return v.length >= 2 ? String(littleEndian ? v.readInt16LE(0) : v.readInt16BE(0)) : '';
    case 'UL':
      return v.length >= 4 ? String(littleEndian ? v.readUInt32LE(0) : v.readUInt32BE(0)) : '';
    case 'SL':
      return v.length >= 4 ? String(littleEndian ? v.readInt32LE(0) : v.readInt32BE(0)) : '';
    case 'SQ':
      return `${el.items?.length ?? 0} items`;
    case 'OB': case 'OW': case 'OF': case 'OD': case 'OL': case 'OV': case 'UN':
      return [...v].map((b) => b.toString(16).padStart(2, '0')).join(':');
    default:
      return v.toString('latin1').replace(/^[\0 ]+|[\0 ]+$/g, '');
  }
}

function ourElements(ds: Dataset): string[] {
  return [...ds.elements.values()].map((el) => `${hexTag(el.tag)} ${el.vr} ${ourValue(el, ds.littleEndian)}`);
}

/** The elements of a tshark PDV node (tag_tree on): direct children that carry `dicom.tag`. */
function theirElements(node: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const v of Object.values(node)) {
    for (const e of Array.isArray(v) ? v : [v]) {
      if (e === null || typeof e !== 'object') continue;
      const t = e as Record<string, unknown>;
      const tag = one(t['dicom.tag']);
      if (tag === undefined) continue;
      const vr = one(t['dicom.tag.vr']) ?? '';
      let value: string;
      if (vr === 'SQ') {
        value = `${Object.values(t).flat().filter((x) => x !== null && typeof x === 'object').length} items`;
      } else {
        value = one(t['dicom.tag.value.str']) ?? one(t['dicom.tag.value.16u']) ?? one(t['dicom.tag.value.32u']) ?? one(t['dicom.tag.value.byte']) ?? '';
        if (t['dicom.tag.value.str'] !== undefined) value = value.replace(/^[\0 ]+|[\0 ]+$/g, '');
        // tshark names a well-known UID after its value: "1.2.840.10008.1.1 (Verification SOP Class)".
        if (vr === 'UI') value = value.replace(/ \(.*\)$/, '');
      }
      out.push(`${hexTag(Number(tag))} ${vr} ${value}`);
    }
  }
  return out;
}

/**
 * Every DIMSE message part tshark's DICOM dissector shows in full: the last PDV of each command set and
 * data set (tshark shows a reassembled message on its last fragment), with every element.
 */
function tsharkParts(tshark: string, file: string, ports: readonly number[], options: readonly string[] = []): Part[] {
  const frames = tsharkFrames(tshark, file, ports, options);
  const out: Part[] = [];
  const walk = (node: unknown, key: string): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, key);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const flags = one(o['dicom.pdv.flags']);
    if (flags !== undefined) {
      if ((Number(flags) & 2) === 0) return; // fragments before the last
      out.push({ dir: key, kind: (Number(flags) & 1) === 1 ? 'command' : 'data', elements: theirElements(o) });
      return;
    }
    for (const v of Object.values(o)) walk(v, key);
  };
  for (const frame of frames) {
    const tcp = frame._source.layers.tcp as Record<string, unknown>;
    walk(frame._source.layers.dicom, `${one(tcp['tcp.srcport'])}->${one(tcp['tcp.dstport'])}`);
  }
  return out;
}

const partsByDirection = (parts: readonly Part[]): Record<string, string[][]> => {
  const out: Record<string, string[][]> = {};
  for (const p of parts) (out[p.dir] ??= []).push([p.kind, ...p.elements]);
  return out;
};

/** The first place where tshark's parts and ours differ, described; undefined when they are equal. */
function firstDifference(theirs: readonly Part[], ours: readonly Part[]): string | undefined {
  const t = partsByDirection(theirs);
  const o = partsByDirection(ours);
  for (const dir of [...new Set([...Object.keys(t), ...Object.keys(o)])].sort()) {
    const a = t[dir] ?? [];
    const b = o[dir] ?? [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const x = a[i];
      const y = b[i];
      if (x === undefined || y === undefined) return `${dir} part ${i + 1}: tshark ${x === undefined ? 'has no more parts' : x.join(' | ')}; ours ${y === undefined ? 'has no more parts' : y.join(' | ')}`;
      for (let k = 0; k < Math.max(x.length, y.length); k++) {
        if (x[k] !== y[k]) return `${dir} part ${i + 1} (${y[0]}) line ${k}: tshark ${JSON.stringify(x[k])}, ours ${JSON.stringify(y[k])}`;
      }
    }
  }
  return undefined;
}

/** What the exchange in each file must show, by the name the script gives it. */
function checkExchange(file: string, d: Decoded): void {
  const types = new Set(d.pdus.map((p) => p.pdu.type));
  const msgs = d.messages.map((m) => m.msg);
  const last = (type: DimseMessage['type']): DimseMessage | undefined => msgs.filter((m) => m.type === type).at(-1);
  const statusOf = (m: DimseMessage | undefined): number | undefined => (m !== undefined && 'status' in m ? m.status : undefined);
  const pendings = (type: DimseMessage['type']): number => msgs.filter((m) => m.type === type && (statusOf(m)! & 0xff00) === 0xff00).length;
  const pixelmed = file.startsWith('pixelmed-');
  if (/-echo-/.test(file)) {
    assert.is(statusOf(last('C-ECHO-RSP')), 0, `${file}: C-ECHO-RSP success`);
  } else if (/-find-(study|series|image)-/.test(file)) {
    const expected = /-find-study-/.test(file) ? 3 : 2;
    assert.is(pendings('C-FIND-RSP'), expected, `${file}: pending C-FIND responses`);
    assert.is(statusOf(last('C-FIND-RSP')), 0, `${file}: final status`);
  } else if (/-find-multipdu-/.test(file)) {
    assert.is(pendings('C-FIND-RSP'), 3, `${file}: pending C-FIND responses`);
    assert.is(statusOf(last('C-FIND-RSP')), 0, `${file}: final status`);
    const split = d.messages.filter((m) => m.msg.type === 'C-FIND-RSP' && m.datasetPdus >= 2);
    assert.ok(split.length >= 1, `${file}: a response identifier spread over 2 or more P-DATA-TF PDUs`);
    for (const m of split) assert.ok(m.ident?.studyUid?.startsWith('2.25.'), `${file}: the split identifier reassembles (StudyInstanceUID)`);
  } else if (/-move-image-/.test(file)) {
    assert.is(msgs.filter((m) => m.type === 'C-STORE-RQ').length, 1, `${file}: C-STORE sub-operations`);
    // PixelMed sends N−1 pending C-MOVE responses for N sub-operations: none for one image.
    if (pixelmed) assert.is(pendings('C-MOVE-RSP'), 0, `${file}: pending C-MOVE responses (N−1)`);
    assert.ok(msgs.filter((m) => m.type === 'C-STORE-RSP').every((m) => statusOf(m) === 0), `${file}: stores succeeded`);
    assert.is(statusOf(last('C-MOVE-RSP')), 0, `${file}: final C-MOVE status`);
    assert.ok(d.serverPorts.length >= 2, `${file}: the store sub-association is in the capture`);
    const rq = d.messages.find((m) => m.msg.type === 'C-MOVE-RQ');
    assert.ok(rq?.ident?.studyUid?.startsWith('2.25.'), `${file}: the C-MOVE identifier names the study`);
  } else if (/-move-series-/.test(file)) {
    assert.is(msgs.filter((m) => m.type === 'C-STORE-RQ').length, 2, `${file}: C-STORE sub-operations`);
    if (pixelmed) assert.is(pendings('C-MOVE-RSP'), 1, `${file}: pending C-MOVE responses (N−1)`);
    assert.ok(msgs.filter((m) => m.type === 'C-STORE-RSP').every((m) => statusOf(m) === 0), `${file}: stores succeeded`);
    assert.is(statusOf(last('C-MOVE-RSP')), 0, `${file}: final C-MOVE status`);
    assert.ok(d.serverPorts.length >= 2, `${file}: the store sub-association is in the capture`);
  } else if (/-cancel-/.test(file)) {
    assert.ok(msgs.some((m) => m.type === 'C-CANCEL-RQ'), `${file}: a C-CANCEL-RQ`);
    assert.ok([0, 0xfe00].includes(statusOf(last('C-FIND-RSP'))!), `${file}: final status`);
    if (pixelmed) {
      // PixelMed reads the C-CANCEL-RQ only once the C-FIND is done: every one of the 20 matches, then
      // success; reading it then, it closes the connection without answering the client's A-RELEASE-RQ
      // (no A-RELEASE-RP, no A-ABORT). Whether the C-CANCEL-RQ reached it before the last match depends
      // on timing: qrscu's did (its socket ACKs at once), so matches follow it there.
      const cancelAt = msgs.findIndex((m) => m.type === 'C-CANCEL-RQ');
      const finalAt = msgs.findIndex((m) => m.type === 'C-FIND-RSP' && statusOf(m) === 0);
      if (file.endsWith('-qrscu.pcap')) assert.ok(cancelAt < finalAt, `${file}: the C-CANCEL-RQ went out before the final response`);
      if (cancelAt < finalAt) {
        assert.ok(msgs.slice(cancelAt + 1, finalAt).some((m) => m.type === 'C-FIND-RSP' && statusOf(m) === 0xff00), `${file}: matches after the C-CANCEL-RQ (ignored)`);
      }
      assert.is(pendings('C-FIND-RSP'), 20, `${file}: every match despite the C-CANCEL-RQ`);
      assert.is(statusOf(last('C-FIND-RSP')), 0, `${file}: final status success`);
      assert.ok(types.has('A-RELEASE-RQ'), `${file}: the client asks to release`);
      assert.not.ok(types.has('A-RELEASE-RP') || types.has('A-ABORT'), `${file}: no A-RELEASE-RP or A-ABORT from the server`);
    }
  } else if (/-move-unknown-dest-/.test(file)) {
    assert.is(statusOf(last('C-MOVE-RSP')), file.startsWith('orthanc') ? 0xc000 : 0xa801, `${file}: final C-MOVE status`);
    assert.not.ok(msgs.some((m) => m.type === 'C-STORE-RQ'), `${file}: no C-STORE sub-operation`);
  } else if (/-reject-/.test(file)) {
    const rj = d.pdus.find((p) => p.pdu.type === 'A-ASSOCIATE-RJ')?.pdu;
    assert.ok(rj?.type === 'A-ASSOCIATE-RJ', `${file}: an A-ASSOCIATE-RJ`);
    if (rj?.type === 'A-ASSOCIATE-RJ') assert.equal([rj.result, rj.source, rj.reason], [1, 1, 7]);
  } else if (/-abort-/.test(file)) {
    assert.ok(msgs.some((m) => m.type === 'C-FIND-RQ'), `${file}: the C-FIND-RQ`);
    assert.ok(types.has('A-ABORT'), `${file}: an A-ABORT`);
    assert.not.ok(msgs.some((m) => m.type === 'C-FIND-RSP'), `${file}: no C-FIND-RSP before the abort`);
  } else if (/-find-limit-/.test(file)) {
    assert.is(pendings('C-FIND-RSP'), 2, `${file}: pending responses up to the limit`);
    assert.is(statusOf(last('C-FIND-RSP')), 0xfe00, `${file}: ended with 0xFE00`);
  } else {
    assert.unreachable(`${file}: no expectation for this fixture name`);
  }
}

const tshark = requireProgram('tshark');
/** What the tshark comparison covered, reported (and checked) by the last test. */
const compared = { files: 0, messages: 0, parts: 0, elements: 0 };
const Fixtures = suite('pcap-fixtures');

Fixtures('the fixtures are there: every server, both clients, kilobytes each', () => {
  assert.ok(files.length >= 58, `${files.length} fixtures`);
  for (const server of ['dcmqrscp', 'orthanc', 'pixelmed']) {
    for (const client of ['dcmtk', 'qrscu']) {
      assert.ok(files.some((f) => f.startsWith(`${server}-`) && f.endsWith(`-${client}.pcap`)), `${server} with ${client}`);
    }
    // PixelMed: no find-multipdu capture (it ignores a 128-byte max PDU; see pcap-fixtures/README.md).
    const named = ['echo', 'find-study', 'find-series', 'find-image', 'move-series', 'move-image', 'cancel', 'move-unknown-dest'];
    if (server !== 'orthanc') named.push('reject');
    for (const f of [...named.flatMap((w) => [`${server}-${w}-dcmtk.pcap`, `${server}-${w}-qrscu.pcap`]), ...(server === 'pixelmed' ? [] : [`${server}-find-multipdu-qrscu.pcap`])]) {
      assert.ok(files.includes(f), `${f} is there`);
    }
  }
  const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
  for (const f of files) {
    assert.ok(readme.includes(`\`${f}\``), `README row for ${f}`);
    assert.ok(readFileSync(path.join(dir, f)).length < 64 * 1024, `${f} is small`);
  }
});

for (const file of files) {
  Fixtures(`${file}: reads, PDUs re-encode byte-identical, commands decode, the exchange is there${tshark ? ', tshark agrees' : ''}`, () => {
    const d = decodeFixture(file);
    assert.ok(d.pdus.length > 0, `${file}: no PDU`);
    checkExchange(file, d);
    if (tshark === undefined) return;
    // Every command set and data set of every message (C-STORE objects included), element by element,
    // with tshark's default reassembly (dicom.pdv_reassemble on): no message is excluded.
    const theirs = tsharkParts(tshark, file, d.serverPorts);
    const diff = firstDifference(theirs, d.parts);
    assert.is(diff, undefined, `${file}: tshark's elements: ${diff}`);
    assert.is(theirs.length, d.parts.length);
    compared.files++;
    compared.messages += d.messages.length;
    compared.parts += theirs.length;
    compared.elements += theirs.reduce((n, p) => n + p.elements.length, 0);
  });
}

Fixtures('tshark compared every message of every fixture', () => {
  if (tshark === undefined) return;
  assert.is(compared.files, files.length, 'fixtures compared with tshark');
  assert.ok(compared.elements > 0);
  console.log(`  tshark agrees on ${compared.files} fixtures: ${compared.messages} DIMSE messages, ${compared.parts} command/data sets, ${compared.elements} elements`);
});

Fixtures.run();
