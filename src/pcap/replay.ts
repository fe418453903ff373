// Replay of recorded DICOM associations (PS3.8 upper layer, PS3.7 DIMSE): plays the SCP side of each
// recorded association to a live client, comparing every client PDU with the recorded one, and plays
// the recorded store SCU side of a C-MOVE towards the client's store SCP.

import net from 'node:net';
import createDebug from 'debug';
import { datasetToJson, decodeDataset, transferSyntaxOf, type DicomJson } from '../dicom/index.js';
import { DicomError, ErrorCode } from '../errors.js';
import { decodeCommand, describeMessage, encodeCommand, type DimseMessage } from '../net/dimse.js';
import { createFramer } from '../net/framer.js';
import { decodePdu, encodePdu } from '../net/pdu-codec.js';
import { AbortReason, AbortSource, describePdu, type Pdu } from '../net/pdu.js';
import { createMessageAssembler, type PDataMessage } from '../net/pdv.js';
import type { TcpStream } from './read.js';

const log = createDebug('qrscu:replay');

/** A recorded PDU: its bytes, its direction and when its last byte was captured. */
interface RecordedPdu {
  readonly fromClient: boolean;
  readonly bytes: Buffer;
  readonly pdu: Pdu;
  readonly timeMs: number;
}

/** One client PDU of the recording and the server PDUs that answered it (up to the next client PDU). */
interface Step {
  readonly request: RecordedPdu;
  readonly answers: readonly RecordedPdu[];
}

/** One recorded association, cut into the client's PDUs and the answers to each. */
export interface RecordedAssociation {
  readonly index: number;
  readonly stream: TcpStream;
  readonly steps: readonly Step[];
  /** Server PDUs before any client PDU (none from a conforming SCP). */
  readonly greeting: readonly RecordedPdu[];
  readonly startMs: number;
  readonly endMs: number;
}

/** Where the client diverged from the recording, with both sides decoded. */
export interface Divergence {
  /** 'scp': an association played as the SCP; 'store': the store SCU side towards the client's store SCP. */
  readonly side: 'scp' | 'store';
  /** 1-based association number in the order played. */
  readonly association: number;
  /** 1-based number of the client PDU (scp) or of the answer (store) in that association. */
  readonly pdu: number;
  readonly reason: string;
  /** The recorded PDU, decoded: describePdu, describeMessage and the identifier as DICOM JSON where present. */
  readonly expected: string;
  /** The PDU actually received, decoded the same way (or what happened instead). */
  readonly actual: string;
}

export interface ReplayReport {
  /** SCP associations in the capture / played to their end. */
  readonly associations: number;
  readonly played: number;
  /** Store sub-associations in the capture / played to their end. */
  readonly storeAssociations: number;
  readonly storePlayed: number;
  readonly divergences: readonly Divergence[];
}

export interface ReplayOptions {
  readonly capture: readonly TcpStream[];
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: '127.0.0.1';
  /** The client's store SCP, for the recorded store sub-associations of a C-MOVE; without it they are skipped. */
  readonly storeTarget?: { readonly host: string; readonly port: number };
  /** Longest wait for any one PDU, in milliseconds; default 10 000. */
  readonly pduTimeoutMs?: number;
  /** Called as each association ends (the CLI prints it). */
  readonly onAssociation?: (e: { side: 'scp' | 'store'; association: number; ok: boolean; pdus: number }) => void;
  readonly onDivergence?: (d: Divergence) => void;
}

export interface Replay {
  readonly port: number;
  /** SCP associations and store sub-associations found in the capture. */
  readonly associations: number;
  readonly storeAssociations: number;
  /** Streams of the capture that were skipped, and why. */
  readonly warnings: readonly string[];
  divergences(): Divergence[];
  /** Resolves when every recorded association has been played, or at the first divergence. */
  done(): Promise<ReplayReport>;
  close(): Promise<void>;
}

/** Most PDUs we read from one recorded stream (a bound on hostile captures). */
const MAX_PDUS_PER_STREAM = 100_000;

// ---------------------------------------------------------------------------------------------
// Reading the recording

function invalid(message: string, cause?: unknown): DicomError {
  return new DicomError(ErrorCode.PcapInvalid, message, cause === undefined ? {} : { cause });
}

/** The PDUs of a stream in capture order, each direction framed on its own. */
function recordedPdus(stream: TcpStream, index: number): RecordedPdu[] {
  const pdus: RecordedPdu[] = [];
  let time = 0;
  const framers = [false, true].map((fromClient) =>
    createFramer(0, (buf) => {
      if (pdus.length >= MAX_PDUS_PER_STREAM) throw invalid(`stream ${index + 1}: more than ${MAX_PDUS_PER_STREAM} PDUs`);
      pdus.push({ fromClient, bytes: Buffer.from(buf), pdu: decodePdu(buf), timeMs: time });
    }),
  );
  try {
    for (const c of stream.chunks) {
      time = c.timeMs;
      framers[c.fromClient ? 1 : 0]!.push(c.data);
    }
  } catch (e) {
    throw invalid(`stream ${index + 1} (${stream.client.ip}:${stream.client.port} -> ${stream.server.ip}:${stream.server.port}): ${(e as Error).message}`, e);
  }
  return pdus;
}

function toAssociation(stream: TcpStream, index: number): RecordedAssociation {
  const pdus = recordedPdus(stream, index);
  const greeting: RecordedPdu[] = [];
  const steps: { request: RecordedPdu; answers: RecordedPdu[] }[] = [];
  for (const p of pdus) {
    if (p.fromClient) steps.push({ request: p, answers: [] });
    else (steps.at(-1)?.answers ?? greeting).push(p);
  }
  if (steps.length === 0 || steps[0]!.request.pdu.type !== 'A-ASSOCIATE-RQ') {
    throw invalid(`stream ${index + 1}: does not start with an A-ASSOCIATE-RQ from the client`);
  }
  let startMs = Number.POSITIVE_INFINITY;
  let endMs = Number.NEGATIVE_INFINITY;
  for (const c of stream.chunks) {
    startMs = Math.min(startMs, c.timeMs);
    endMs = Math.max(endMs, c.timeMs);
  }
  return { index, stream, steps, greeting, startMs, endMs };
}

/**
 * Split a capture into the associations of the recorded SCP (the server of the first association) and
 * the store sub-associations it opened towards another port, both in capture order. Streams that are not
 * a whole DICOM association (no A-ASSOCIATE-RQ first, PDUs that do not decode) are skipped with a warning.
 * @throws DicomError ERR_PCAP_INVALID when no stream is a decodable DICOM association.
 */
export function planReplay(capture: readonly TcpStream[]): { scp: RecordedAssociation[]; store: RecordedAssociation[]; warnings: string[] } {
  const streams = capture.filter((s) => s.chunks.length > 0);
  if (streams.length === 0) throw invalid('the capture holds no TCP stream with data');
  const all: RecordedAssociation[] = [];
  const errors: DicomError[] = [];
  streams.forEach((s, i) => {
    try {
      all.push(toAssociation(s, i));
    } catch (e) {
      errors.push(e instanceof DicomError ? e : invalid(`stream ${i + 1}: ${(e as Error).message}`, e));
    }
  });
  if (all.length === 0) throw errors[0]!;
  all.sort((a, b) => a.startMs - b.startMs || a.index - b.index);
  const scpPort = all[0]!.stream.server.port;
  return {
    scp: all.filter((a) => a.stream.server.port === scpPort),
    store: all.filter((a) => a.stream.server.port !== scpPort),
    warnings: errors.map((e) => `skipped: ${e.message}`),
  };
}

// ---------------------------------------------------------------------------------------------
// Decoding for comparison and reports

/** Accepted transfer syntax per presentation context, from an A-ASSOCIATE-AC. */
type Syntaxes = Map<number, string>;

function syntaxesOf(pdus: readonly RecordedPdu[]): Syntaxes {
  const m: Syntaxes = new Map();
  for (const p of pdus) {
    if (p.pdu.type !== 'A-ASSOCIATE-AC') continue;
    for (const pc of p.pdu.presentationContexts) if (pc.result === 0 && pc.transferSyntax) m.set(pc.id, pc.transferSyntax);
  }
  return m;
}

interface DecodedMessage {
  readonly command: DimseMessage;
  readonly identifier?: DicomJson;
  readonly text: string;
}

function decodeMessage(m: PDataMessage, syntaxes: Syntaxes): DecodedMessage {
  const command = decodeCommand(m.command);
  let identifier: DicomJson | undefined;
  let text = describeMessage(command, { contextId: m.contextId });
  if (m.dataset) {
    const ts = syntaxes.get(m.contextId);
    try {
      identifier = datasetToJson(decodeDataset(m.dataset, transferSyntaxOf(ts ?? '1.2.840.10008.1.2')));
      text += ` ${JSON.stringify(identifier)}`;
    } catch (e) {
      text += ` (data set of ${m.dataset.length} bytes does not decode: ${(e as Error).message})`;
    }
  }
  return identifier === undefined ? { command, text } : { command, identifier, text };
}

function describeWithMessages(pdu: Pdu, messages: readonly DecodedMessage[]): string {
  return [describePdu(pdu), ...messages.map((m) => m.text)].join('; ');
}

/** Stable JSON (keys sorted) so that element order does not matter. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );
}

/** Why two A-ASSOCIATE-RQs differ, or undefined: AE titles and implementation UID/version may differ. */
function compareAssociateRq(expected: Pdu, actual: Pdu): string | undefined {
  if (expected.type !== 'A-ASSOCIATE-RQ' || actual.type !== 'A-ASSOCIATE-RQ') return undefined;
  const e = expected.presentationContexts.map((pc) => pc.abstractSyntax).join(',');
  const a = actual.presentationContexts.map((pc) => pc.abstractSyntax).join(',');
  return e === a ? undefined : `presentation contexts differ: recorded [${e}], received [${a}]`;
}

/** Why two DIMSE requests differ, or undefined: the Message ID may differ. */
function compareMessages(expected: DecodedMessage, actual: DecodedMessage): string | undefined {
  const strip = (m: DimseMessage): Record<string, unknown> => {
    const { messageId: _a, messageIdBeingRespondedTo: _b, ...rest } = m as DimseMessage & { messageId?: number; messageIdBeingRespondedTo?: number };
    return rest;
  };
  if (expected.command.type !== actual.command.type) return `DIMSE command differs: recorded ${expected.command.type}, received ${actual.command.type}`;
  if (canonical(strip(expected.command)) !== canonical(strip(actual.command))) return `${actual.command.type} command fields differ`;
  if (canonical(expected.identifier) !== canonical(actual.identifier)) {
    const e = expected.identifier ?? {};
    const a = actual.identifier ?? {};
    const keys = [...new Set([...Object.keys(e), ...Object.keys(a)])].sort();
    const differing = keys.filter((k) => canonical(e[k]) !== canonical(a[k])).slice(0, 8);
    const show = (v: unknown): string => (v === undefined ? 'absent' : JSON.stringify(v));
    return `${actual.command.type} identifier keys or values differ: ${differing.map((k) => `${k} recorded ${show(e[k])}, received ${show(a[k])}`).join('; ')}`;
  }
  return undefined;
}

/**
 * A recorded PDU with the recorded request Message IDs replaced by the live ones (recorded id → live id):
 * Message ID Being Responded To in responses, Move Originator Message ID in the C-STORE-RQs of a
 * C-MOVE's sub-operations. Only commands carried whole in one PDV are rewritten; others go out as recorded.
 */
function rewriteMessageIds(bytes: Buffer, pdu: Pdu, ids: ReadonlyMap<number, number>): Buffer {
  if (pdu.type !== 'P-DATA-TF' || ids.size === 0) return bytes;
  let changed = false;
  const pdvs = pdu.pdvs.map((v) => {
    if (!v.isCommand || !v.isLast) return v;
    let msg: DimseMessage;
    try {
      msg = decodeCommand(v.data);
    } catch {
      return v; // a fragment of a larger command set
    }
    let rewritten: DimseMessage | undefined;
    if ('messageIdBeingRespondedTo' in msg) {
      const live = ids.get(msg.messageIdBeingRespondedTo);
      if (live !== undefined && live !== msg.messageIdBeingRespondedTo) rewritten = { ...msg, messageIdBeingRespondedTo: live } as DimseMessage;
    } else if (msg.type === 'C-STORE-RQ' && msg.moveOriginatorMessageId !== undefined) {
      const live = ids.get(msg.moveOriginatorMessageId);
      if (live !== undefined && live !== msg.moveOriginatorMessageId) rewritten = { ...msg, moveOriginatorMessageId: live };
    }
    if (rewritten === undefined) return v;
    changed = true;
    return { ...v, data: encodeCommand(rewritten) };
  });
  return changed ? encodePdu({ type: 'P-DATA-TF', pdvs }) : bytes;
}

/** Why a store SCP's answer differs from the recorded one, or undefined: PDU type, DIMSE type and status must match. */
function compareStoreAnswer(expected: Pdu, actual: Pdu): string | undefined {
  if (actual.type !== expected.type) return `the store SCP answered ${actual.type}, recorded ${expected.type}`;
  if (actual.type !== 'P-DATA-TF' || expected.type !== 'P-DATA-TF') return undefined;
  const summary = (p: typeof actual): string =>
    p.pdvs
      .filter((v) => v.isCommand && v.isLast)
      .map((v) => {
        try {
          const m = decodeCommand(v.data);
          return `${m.type}${'status' in m ? ` 0x${m.status.toString(16).padStart(4, '0')}` : ''}`;
        } catch {
          return '(fragment)';
        }
      })
      .join(',');
  const e = summary(expected);
  const a = summary(actual);
  return e === a ? undefined : `the store SCP answered ${a || '(no command)'}, recorded ${e || '(no command)'}`;
}

// ---------------------------------------------------------------------------------------------
// Sockets

/** Reads whole PDUs from a socket, one at a time, each with a timeout. */
function createPduReader(socket: net.Socket, timeoutMs: number) {
  const queue: Buffer[] = [];
  let waiter: ((r: Buffer | Error) => void) | undefined;
  let failure: Error | undefined;
  const framer = createFramer(0, (buf) => {
    const copy = Buffer.from(buf);
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(copy);
    } else queue.push(copy);
  });
  function fail(e: Error): void {
    failure ??= e;
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(e);
    }
  }
  socket.on('data', function onData(chunk: Buffer) {
    try {
      framer.push(chunk);
    } catch (e) {
      fail(e as Error);
    }
  });
  socket.on('end', () => fail(new Error('the peer closed the connection')));
  socket.on('close', () => fail(new Error('the connection closed')));
  socket.on('error', (e) => fail(e));
  return {
    next(): Promise<Buffer> {
      const ready = queue.shift();
      if (ready) return Promise.resolve(ready);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`no PDU within ${timeoutMs} ms`));
        }, timeoutMs);
        waiter = (r) => {
          clearTimeout(timer);
          if (r instanceof Error) reject(r);
          else resolve(r);
        };
      });
    },
  };
}

const ABORT = encodePdu({ type: 'A-ABORT', source: AbortSource.ServiceUser, reason: AbortReason.NotSpecified });

function write(socket: net.Socket, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.write(bytes, () => resolve());
  });
}

/**
 * Play the SCP side of the recorded associations on 127.0.0.1: one incoming connection per recorded
 * association, in capture order.
 * @throws DicomError ERR_PCAP_INVALID when the capture holds no decodable association; ERR_CONNECT_FAILED when the port cannot be bound.
 */
export async function startReplay(options: ReplayOptions): Promise<Replay> {
  const plan = planReplay(options.capture);
  const timeoutMs = options.pduTimeoutMs ?? 10_000;
  const host = options.host ?? '127.0.0.1';
  const divergences: Divergence[] = [];
  const sockets = new Set<net.Socket>();
  let played = 0;
  let storePlayed = 0;
  let next = 0; // associations handed to a connection
  let ended = 0; // associations whose connection is over
  let finished = false;
  let resolveDone!: (r: ReplayReport) => void;
  const donePromise = new Promise<ReplayReport>((r) => (resolveDone = r));
  const storeQueue = [...plan.store];

  function report(): ReplayReport {
    return { associations: plan.scp.length, played, storeAssociations: plan.store.length, storePlayed, divergences: [...divergences] };
  }
  function finish(): void {
    if (finished) return;
    finished = true;
    resolveDone(report());
  }
  function diverge(d: Divergence): void {
    divergences.push(d);
    log('divergence %o', d);
    options.onDivergence?.(d);
  }

  /** Play the store sub-associations recorded between `fromMs` and `toMs`, one after the other. */
  async function playStore(fromMs: number, toMs: number, ids: ReadonlyMap<number, number>): Promise<void> {
    while (storeQueue.length > 0 && storeQueue[0]!.startMs >= fromMs && storeQueue[0]!.startMs <= toMs) {
      const a = storeQueue.shift()!;
      if (!options.storeTarget) {
        log('store sub-association %d skipped: no store target', a.index + 1);
        continue;
      }
      const ok = await playStoreAssociation(a, options.storeTarget, ids);
      if (ok) storePlayed++;
      options.onAssociation?.({ side: 'store', association: plan.store.indexOf(a) + 1, ok, pdus: a.steps.length });
    }
  }

  async function playStoreAssociation(a: RecordedAssociation, target: { host: string; port: number }, ids: ReadonlyMap<number, number>): Promise<boolean> {
    const n = plan.store.indexOf(a) + 1;
    const socket = net.connect({ host: target.host, port: target.port });
    sockets.add(socket);
    const reader = createPduReader(socket, timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      let answer = 0;
      for (const step of a.steps) {
        await write(socket, rewriteMessageIds(step.request.bytes, step.request.pdu, ids));
        for (const expected of step.answers) {
          answer++;
          const bytes = await reader.next();
          const actual = decodePdu(bytes);
          const reason = compareStoreAnswer(expected.pdu, actual);
          if (reason !== undefined) {
            diverge({ side: 'store', association: n, pdu: answer, reason, expected: describePdu(expected.pdu), actual: describePdu(actual) });
            await write(socket, ABORT);
            return false;
          }
        }
      }
      return true;
    } catch (e) {
      diverge({ side: 'store', association: n, pdu: 0, reason: `store sub-association failed: ${(e as Error).message}`, expected: `${a.steps.length} recorded client PDUs to ${a.stream.server.ip}:${a.stream.server.port}`, actual: `${target.host}:${target.port}: ${(e as Error).message}` });
      return false;
    } finally {
      socket.end();
      sockets.delete(socket);
    }
  }

  async function playScp(socket: net.Socket, a: RecordedAssociation, n: number): Promise<boolean> {
    const reader = createPduReader(socket, timeoutMs);
    const syntaxes = syntaxesOf(a.steps.flatMap((s) => s.answers));
    const recordedAssembler = createMessageAssembler();
    const liveAssembler = createMessageAssembler();
    const ids = new Map<number, number>();
    for (const g of a.greeting) await write(socket, g.bytes);
    for (let i = 0; i < a.steps.length; i++) {
      const step = a.steps[i]!;
      const expected = step.request;
      let bytes: Buffer;
      let actual: Pdu;
      try {
        bytes = await reader.next();
        actual = decodePdu(bytes);
      } catch (e) {
        diverge({ side: 'scp', association: n, pdu: i + 1, reason: `expected ${expected.pdu.type}: ${(e as Error).message}`, expected: describePdu(expected.pdu), actual: '(nothing)' });
        await write(socket, ABORT);
        return false;
      }
      let reason: string | undefined;
      let expectedMessages: DecodedMessage[] = [];
      let actualMessages: DecodedMessage[] = [];
      if (actual.type !== expected.pdu.type) reason = `PDU type differs: recorded ${expected.pdu.type}, received ${actual.type}`;
      else if (actual.type === 'A-ASSOCIATE-RQ') reason = compareAssociateRq(expected.pdu, actual);
      else if (actual.type === 'P-DATA-TF' && expected.pdu.type === 'P-DATA-TF') {
        try {
          expectedMessages = recordedAssembler.push(expected.pdu).map((m) => decodeMessage(m, syntaxes));
          actualMessages = liveAssembler.push(actual).map((m) => decodeMessage(m, syntaxes));
        } catch (e) {
          reason = `P-DATA-TF does not decode: ${(e as Error).message}`;
        }
        if (reason === undefined && expectedMessages.length !== actualMessages.length) {
          reason = `message boundaries differ: ${expectedMessages.length} recorded message(s) end in this PDU, ${actualMessages.length} received`;
        }
        for (let k = 0; reason === undefined && k < expectedMessages.length; k++) {
          const e = expectedMessages[k]!;
          const l = actualMessages[k]!;
          reason = compareMessages(e, l);
          if (reason === undefined && 'messageId' in e.command && 'messageId' in l.command) ids.set(e.command.messageId, l.command.messageId);
          // C-CANCEL-RQ names the request it cancels.
          if (reason === undefined && e.command.type === 'C-CANCEL-RQ' && l.command.type === 'C-CANCEL-RQ' && ids.get(e.command.messageIdBeingRespondedTo) !== l.command.messageIdBeingRespondedTo) {
            reason = 'C-CANCEL-RQ names another request';
          }
        }
      }
      if (reason !== undefined) {
        diverge({ side: 'scp', association: n, pdu: i + 1, reason, expected: describeWithMessages(expected.pdu, expectedMessages), actual: describeWithMessages(actual, actualMessages) });
        await write(socket, ABORT);
        return false;
      }
      log('association %d PDU %d matches: %s', n, i + 1, describePdu(actual));
      const storeBefore = expectedMessages.some((m) => m.command.type === 'C-MOVE-RQ');
      for (let k = 0; k < step.answers.length; k++) {
        const answer = step.answers[k]!;
        // The store sub-associations recorded before this answer are played first (a C-MOVE's
        // sub-operations come before its final response).
        if (storeBefore) await playStore(expected.timeMs, k === step.answers.length - 1 ? Number.POSITIVE_INFINITY : answer.timeMs, ids);
        await write(socket, rewriteMessageIds(answer.bytes, answer.pdu, ids));
      }
      if (storeBefore && step.answers.length === 0) await playStore(expected.timeMs, Number.POSITIVE_INFINITY, ids);
    }
    socket.end();
    return true;
  }

  const server = net.createServer(function onConnection(socket) {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (finished || next >= plan.scp.length) {
      socket.end(ABORT);
      return;
    }
    const a = plan.scp[next++]!;
    const n = next;
    log('association %d: connection from %s:%d', n, socket.remoteAddress, socket.remotePort);
    void (async () => {
      let ok: boolean;
      try {
        ok = await playScp(socket, a, n);
      } catch (e) {
        // A recorded answer that cannot be re-encoded, or another fault of ours: end this association.
        diverge({ side: 'scp', association: n, pdu: 0, reason: `replay failed: ${(e as Error).message}`, expected: '', actual: '' });
        socket.destroy();
        ok = false;
      }
      if (ok) played++;
      options.onAssociation?.({ side: 'scp', association: n, ok, pdus: a.steps.length });
      ended++;
      if (!ok || ended >= plan.scp.length) finish();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new DicomError(ErrorCode.ConnectFailed, `replay: cannot listen on ${host}:${options.port}: ${e.message}`, { cause: e })));
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  log('replaying %d association(s) and %d store sub-association(s) on %s:%d', plan.scp.length, plan.store.length, host, port);
  if (plan.scp.length === 0) finish();

  return {
    port,
    associations: plan.scp.length,
    storeAssociations: plan.store.length,
    warnings: plan.warnings,
    divergences: () => [...divergences],
    done: () => donePromise,
    async close() {
      finish();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
