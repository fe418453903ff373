// pcap-fixtures/: captures of real PACS (dcmqrscp, Orthanc) recorded by scripts/capture-fixtures.mjs.
// For every file: our reader reads it without warnings; every PDU decodes and re-encodes byte-identical
// (except the reserved byte DCMTK sets to 0xFF in each presentation-context item of an A-ASSOCIATE-RQ);
// every P-DATA-TF reassembles into DIMSE messages whose command decodes; the exchange the file is named
// for is on the wire (reject, abort, cancel, result limit, unknown destination, store sub-operations);
// and, where tshark is installed, its DICOM dissector shows the same command fields as our decoder and,
// for C-FIND captures, the same identifiers (StudyInstanceUID and element count of each data set).

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeDataset, getString, transferSyntaxOf } from '../../src/dicom/index.js';
import { CommandField, decodeCommand, type DimseMessage } from '../../src/net/dimse.js';
import { createFramer } from '../../src/net/framer.js';
import { decodePdu, encodePdu } from '../../src/net/pdu-codec.js';
import type { Pdu } from '../../src/net/pdu.js';
import { createMessageAssembler } from '../../src/net/pdv.js';
import { readCapture } from '../../src/pcap/index.js';
import { requireProgram } from '../support/live.js';

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
  for (const stream of capture.streams) {
    serverPorts.add(stream.server.port);
    const syntaxOf = new Map<number, string>();
    const pending: { msg: Decoded['messages'][number]; contextId: number; dataset: Buffer }[] = [];
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
          if (m.dataset !== undefined) {
            pending.push({ msg: entry, contextId: m.contextId, dataset: m.dataset });
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
    // Identifiers (not C-STORE data sets): decoded in the transfer syntax accepted for their context.
    for (const p of pending) {
      if (p.msg.msg.type === 'C-STORE-RQ') continue;
      const uid = syntaxOf.get(p.contextId);
      assert.ok(uid !== undefined, `${file}: no accepted transfer syntax for context ${p.contextId}`);
      const ds = decodeDataset(p.dataset, transferSyntaxOf(uid!));
      p.msg.ident = { dir: p.msg.dir, studyUid: getString(ds, 'StudyInstanceUID'), elements: ds.elements.size };
    }
  }
  return { pdus, messages, serverPorts: [...serverPorts] };
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

/** The commands tshark's DICOM dissector shows, from its JSON tree (tag_tree on). */
function tsharkCommands(tshark: string, file: string, ports: readonly number[], options: readonly string[] = []): Cmd[] {
  const frames = tsharkFrames(tshark, file, ports, options);
  const out: Cmd[] = [];
  const walk = (node: unknown, key: string): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, key);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const flags = one(o['dicom.pdv.flags']);
    if (flags !== undefined && (Number(flags) & 1) === 1) {
      const tags = new Map<number, string>();
      for (const v of Object.values(o)) {
        const vs = Array.isArray(v) ? v : [v];
        for (const e of vs) {
          if (e === null || typeof e !== 'object') continue;
          const t = e as Record<string, unknown>;
          const tag = one(t['dicom.tag']);
          const value = one(t['dicom.tag.value.16u']);
          if (tag !== undefined && value !== undefined) tags.set(Number(tag), value);
        }
      }
      const field = tags.get(0x0100);
      if (field !== undefined) {
        const id = tags.get(0x0110) ?? tags.get(0x0120);
        const status = tags.get(0x0900);
        out.push({ dir: key, field: Number(field), id: Number(id), ...(status !== undefined ? { status: Number(status) } : {}) });
      }
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

/**
 * The identifiers tshark's DICOM dissector shows (last data-set PDV of each message, reassembled by
 * tshark): StudyInstanceUID (trailing padding removed; '' when the element is empty) and the number of
 * top-level elements.
 */
function tsharkIdentifiers(tshark: string, file: string, ports: readonly number[]): Ident[] {
  const frames = tsharkFrames(tshark, file, ports);
  const out: Ident[] = [];
  const walk = (node: unknown, key: string): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, key);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const flags = one(o['dicom.pdv.flags']);
    if (flags !== undefined) {
      if ((Number(flags) & 3) !== 2) return; // commands, and data-set fragments before the last
      let studyUid: string | undefined;
      let elements = 0;
      for (const v of Object.values(o)) {
        for (const e of Array.isArray(v) ? v : [v]) {
          if (e === null || typeof e !== 'object') continue;
          const t = e as Record<string, unknown>;
          const tag = one(t['dicom.tag']);
          if (tag === undefined) continue;
          elements++;
          if (Number(tag) === 0x0020000d) studyUid = (one(t['dicom.tag.value.str']) ?? '').replace(/[\0 ]+$/, '');
        }
      }
      out.push({ dir: key, studyUid, elements });
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

const identsByDirection = (idents: readonly Ident[]): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const i of idents) (out[i.dir] ??= []).push(`${i.studyUid ?? '(no StudyInstanceUID)'} ${i.elements} elements`);
  return out;
};

const byDirection = (cmds: readonly Cmd[]): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const c of cmds) {
    (out[c.dir] ??= []).push(`0x${c.field.toString(16)} id=${c.id}${c.status !== undefined ? ` status=0x${c.status.toString(16)}` : ''}`);
  }
  return out;
};

/** What the exchange in each file must show, by the name the script gives it. */
function checkExchange(file: string, d: Decoded): void {
  const types = new Set(d.pdus.map((p) => p.pdu.type));
  const msgs = d.messages.map((m) => m.msg);
  const last = (type: DimseMessage['type']): DimseMessage | undefined => msgs.filter((m) => m.type === type).at(-1);
  const statusOf = (m: DimseMessage | undefined): number | undefined => (m !== undefined && 'status' in m ? m.status : undefined);
  const pendings = (type: DimseMessage['type']): number => msgs.filter((m) => m.type === type && (statusOf(m)! & 0xff00) === 0xff00).length;
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
    assert.ok(msgs.filter((m) => m.type === 'C-STORE-RSP').every((m) => statusOf(m) === 0), `${file}: stores succeeded`);
    assert.is(statusOf(last('C-MOVE-RSP')), 0, `${file}: final C-MOVE status`);
    assert.ok(d.serverPorts.length >= 2, `${file}: the store sub-association is in the capture`);
    const rq = d.messages.find((m) => m.msg.type === 'C-MOVE-RQ');
    assert.ok(rq?.ident?.studyUid?.startsWith('2.25.'), `${file}: the C-MOVE identifier names the study`);
  } else if (/-move-series-/.test(file)) {
    assert.is(msgs.filter((m) => m.type === 'C-STORE-RQ').length, 2, `${file}: C-STORE sub-operations`);
    assert.ok(msgs.filter((m) => m.type === 'C-STORE-RSP').every((m) => statusOf(m) === 0), `${file}: stores succeeded`);
    assert.is(statusOf(last('C-MOVE-RSP')), 0, `${file}: final C-MOVE status`);
    assert.ok(d.serverPorts.length >= 2, `${file}: the store sub-association is in the capture`);
  } else if (/-cancel-/.test(file)) {
    assert.ok(msgs.some((m) => m.type === 'C-CANCEL-RQ'), `${file}: a C-CANCEL-RQ`);
    assert.ok([0, 0xfe00].includes(statusOf(last('C-FIND-RSP'))!), `${file}: final status`);
  } else if (/-move-unknown-dest-/.test(file)) {
    assert.is(statusOf(last('C-MOVE-RSP')), file.startsWith('orthanc') ? 0xc000 : 0xa801, `${file}: final C-MOVE status`);
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
const Fixtures = suite('pcap-fixtures');

Fixtures('the fixtures are there: both servers, both clients, kilobytes each', () => {
  assert.ok(files.length >= 40, `${files.length} fixtures`);
  for (const server of ['dcmqrscp', 'orthanc']) {
    for (const client of ['dcmtk', 'qrscu']) {
      assert.ok(files.some((f) => f.startsWith(`${server}-`) && f.endsWith(`-${client}.pcap`)), `${server} with ${client}`);
    }
    for (const f of [`${server}-move-image-dcmtk.pcap`, `${server}-move-image-qrscu.pcap`, `${server}-find-multipdu-qrscu.pcap`]) {
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
    // tshark's PDV reassembly loses its place in Orthanc's many small TCP segments of 128-byte PDUs (it
    // shows the first response only); without it tshark shows every command (a command fits one PDV),
    // but then no whole identifier: the multi-PDU identifiers are compared only where tshark's reassembling
    // view has every command (dcmqrscp's capture), and checked by checkExchange in every case.
    const multiPdu = /-find-multipdu-/.test(file);
    const theirs = tsharkCommands(tshark, file, d.serverPorts, multiPdu ? ['-o', 'dicom.pdv_reassemble:FALSE'] : []);
    assert.equal(byDirection(theirs), byDirection(d.messages), `${file}: tshark's commands`);
    const reassembled = !multiPdu || JSON.stringify(byDirection(tsharkCommands(tshark, file, d.serverPorts))) === JSON.stringify(byDirection(d.messages));
    if (file === 'dcmqrscp-find-multipdu-qrscu.pcap') assert.ok(reassembled, `${file}: tshark reassembles every response`);
    if (/-find-/.test(file) && reassembled) {
      const ours = d.messages.flatMap((m) => (m.ident === undefined ? [] : [m.ident]));
      assert.ok(ours.length > 0, `${file}: identifiers`);
      assert.equal(identsByDirection(tsharkIdentifiers(tshark, file, d.serverPorts)), identsByDirection(ours), `${file}: tshark's identifiers`);
    }
  });
}

Fixtures.run();
