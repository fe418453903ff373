// A fast canned Query/Retrieve SCP for the network benchmarks (bench/find.ts). It accepts any
// association (every proposed context, with its first proposed transfer syntax), answers C-ECHO, and
// answers every C-FIND-RQ with N pending C-FIND-RSPs carrying the same 11-element study identifier
// (bench/dataset.ts) plus the final success. Every response byte is built once per (context, transfer
// syntax, peer maximum length) and written in writes of about 256 KB; only the 2-byte Message ID Being
// Responded To is patched when a new request arrives. It runs in its own process (forkCannedScp), so
// the client under test shares neither its event loop nor its RSS, and it records, per association,
// when each request arrived — the same server-side clock for every client measured.
//
// Standalone: node --import tsx bench/canned-scp.ts [--port 11112] [--responses 100000]
//   then e.g. TCP_NODELAY=1 findscu -q -S -xi -aec ANY-SCP -k QueryRetrieveLevel=STUDY 127.0.0.1 11112

import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { decodeDataset, encodeDataset, EXPLICIT_LE, IMPLICIT_LE, TransferSyntaxUid } from '../src/dicom/index.js';
import { decodeCommand, encodeCommand, type DimseMessage } from '../src/net/dimse.js';
import { createFramer } from '../src/net/framer.js';
import { negotiateAsAcceptor, type AcceptedContext } from '../src/net/negotiate.js';
import { decodePdu, encodePdu } from '../src/net/pdu-codec.js';
import type { Pdu } from '../src/net/pdu.js';
import { createMessageAssembler, fragmentMessage } from '../src/net/pdv.js';
import { studyIdentifier } from './dataset.js';

/** Bytes per socket write while streaming responses. */
const WRITE_CHUNK = 256 * 1024;
/** The Maximum Length we advertise, as dcmqrscp and Orthanc do. */
const OUR_MAX_LENGTH = 16384;

// ---- IPC between the bench (parent) and the SCP process ---------------------------------------

/** Server-side timeline of one association, ms on the SCP's clock (performance.now()). */
export interface AssociationStats {
  readonly callingAeTitle: string;
  readonly maxLength: number;
  readonly transferSyntaxes: readonly string[];
  readonly associateAt: number;
  /** Arrival of each request, in order. */
  readonly requests: ReadonlyArray<{ readonly type: string; readonly at: number }>;
  /** When the last byte of the final C-FIND-RSP was handed to the kernel (the last request's). */
  readonly lastFinalFlushedAt: number | undefined;
  readonly releaseAt: number | undefined;
  readonly closedAt: number;
  readonly bytesWritten: number;
  readonly pendingSent: number;
}

type ToScp = { type: 'responses'; n: number } | { type: 'close' };
type FromScp = { type: 'listening'; port: number } | { type: 'ok' } | { type: 'association'; stats: AssociationStats };

// ---- the responses, built once ---------------------------------------------------------------

/** A pre-encoded message stream and where Message ID Being Responded To sits in it. */
interface Patchable {
  bytes: Buffer;
  readonly idOffsets: readonly number[];
  messageId: number;
}

/** Offset of the value of (0000,0120) MessageIDBeingRespondedTo in an implicit-VR-LE command set. */
function messageIdOffset(command: Buffer): number {
  for (let pos = 0; pos + 8 <= command.length;) {
    const group = command.readUInt16LE(pos);
    const element = command.readUInt16LE(pos + 2);
    const length = command.readUInt32LE(pos + 4);
    if (group === 0x0000 && element === 0x0120) return pos + 8;
    pos += 8 + length;
  }
  throw new Error('command set without (0000,0120)');
}

/** One DIMSE message as P-DATA-TF bytes, with the offset of its response id (the command is one PDV). */
function message(contextId: number, rsp: DimseMessage, dataset: Buffer | undefined, peerMaxLength: number): { bytes: Buffer; idOffset: number } {
  const command = encodeCommand(rsp);
  const bytes = fragmentMessage(contextId, command, dataset, peerMaxLength);
  // Command PDU: 6-byte PDU header + 4-byte PDV length + context id + control header, then the command.
  if (bytes[11]! & 0x02) return { bytes, idOffset: 12 + messageIdOffset(command) };
  throw new Error(`peer maximum length ${peerMaxLength} splits a ${command.length}-byte command set`);
}

function repeat(unit: { bytes: Buffer; idOffset: number }, count: number, tail?: { bytes: Buffer; idOffset: number }): Patchable {
  const bytes = Buffer.allocUnsafe(unit.bytes.length * count + (tail?.bytes.length ?? 0));
  const idOffsets: number[] = [];
  for (let i = 0; i < count; i++) {
    unit.bytes.copy(bytes, i * unit.bytes.length);
    idOffsets.push(i * unit.bytes.length + unit.idOffset);
  }
  if (tail) {
    tail.bytes.copy(bytes, unit.bytes.length * count);
    idOffsets.push(unit.bytes.length * count + tail.idOffset);
  }
  return { bytes, idOffsets, messageId: 1 };
}

interface FindStream {
  readonly perChunk: number;
  /** `perChunk` pending responses. */
  readonly chunk: Patchable;
  /** r pending responses followed by the final success, by r (1 ≤ r ≤ perChunk), built on first use. */
  readonly tails: Map<number, Patchable>;
  readonly unit: { bytes: Buffer; idOffset: number };
  readonly final: { bytes: Buffer; idOffset: number };
  readonly cancelled: Patchable;
}

const identifiers = new Map<string, Buffer>();
function identifier(ts: string): Buffer {
  let b = identifiers.get(ts);
  if (!b) {
    const implicit = studyIdentifier();
    b = ts === TransferSyntaxUid.ImplicitVrLittleEndian ? implicit : encodeDataset(decodeDataset(implicit, IMPLICIT_LE), EXPLICIT_LE);
    identifiers.set(ts, b);
  }
  return b;
}

const streams = new Map<string, FindStream>();
function findStream(ctx: AcceptedContext, peerMaxLength: number): FindStream {
  const key = `${ctx.id}|${ctx.abstractSyntax}|${ctx.transferSyntax}|${peerMaxLength}`;
  let s = streams.get(key);
  if (!s) {
    if (ctx.transferSyntax !== TransferSyntaxUid.ImplicitVrLittleEndian && ctx.transferSyntax !== TransferSyntaxUid.ExplicitVrLittleEndian) {
      throw new Error(`canned SCP answers C-FIND only in implicit or explicit VR LE, not ${ctx.transferSyntax}`);
    }
    const rsp = (status: number, hasDataset: boolean): DimseMessage => ({ type: 'C-FIND-RSP', affectedSopClassUid: ctx.abstractSyntax, messageIdBeingRespondedTo: 1, status, hasDataset });
    const unit = message(ctx.id, rsp(0xff00, true), identifier(ctx.transferSyntax), peerMaxLength);
    const final = message(ctx.id, rsp(0x0000, false), undefined, peerMaxLength);
    const perChunk = Math.max(1, Math.floor(WRITE_CHUNK / unit.bytes.length));
    s = { perChunk, chunk: repeat(unit, perChunk), tails: new Map(), unit, final, cancelled: repeat(final, 0, message(ctx.id, rsp(0xfe00, false), undefined, peerMaxLength)) };
    streams.set(key, s);
  }
  return s;
}

function tailOf(s: FindStream, r: number): Patchable {
  let t = s.tails.get(r);
  if (!t) {
    t = repeat(s.unit, r, s.final);
    s.tails.set(r, t);
  }
  return t;
}

/**
 * The bytes with Message ID Being Responded To set to `id`. Patched in a fresh copy: a write still queued
 * on this or another association may hold the old bytes (a copy per new message id, not per write).
 */
function patched(p: Patchable, id: number): Buffer {
  if (p.messageId !== id) {
    p.bytes = Buffer.from(p.bytes);
    for (const o of p.idOffsets) p.bytes.writeUInt16LE(id, o);
    p.messageId = id;
  }
  return p.bytes;
}

// ---- the server -------------------------------------------------------------------------------

export interface CannedScp {
  readonly port: number;
  setResponses(n: number): void;
  close(): Promise<void>;
}

export function startCannedScp(options: { port?: number; responses: number; onAssociation?: (stats: AssociationStats) => void }): Promise<CannedScp> {
  let responses = options.responses;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    serve(socket, () => responses, (stats) => {
      sockets.delete(socket);
      options.onAssociation?.(stats);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        setResponses: (n) => { responses = n; },
        close: () => new Promise((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
      });
    });
  });
}

function serve(socket: net.Socket, responses: () => number, onClose: (stats: AssociationStats) => void): void {
  const requests: Array<{ type: string; at: number }> = [];
  let contexts = new Map<number, AcceptedContext>();
  let peerMaxLength = 0;
  let callingAeTitle = '';
  let transferSyntaxes: string[] = [];
  let associateAt = 0;
  let releaseAt: number | undefined;
  let lastFinalFlushedAt: number | undefined;
  let pendingSent = 0;
  /** The C-FIND being streamed, if any: set `cancel` to stop it early with 0xFE00. */
  let current: { messageId: number; cancel: boolean } | undefined;
  const assembler = createMessageAssembler();

  const send = (bytes: Buffer): boolean => socket.write(bytes);

  function find(ctx: AcceptedContext, messageId: number): void {
    const s = findStream(ctx, peerMaxLength);
    let left = responses();
    const op = { messageId, cancel: false };
    current = op;
    const pump = (): void => {
      while (!socket.destroyed) {
        if (op.cancel) {
          send(patched(s.cancelled, messageId));
          break;
        }
        if (left <= s.perChunk) {
          pendingSent += left;
          const ok = send(left === 0 ? patched(repeat(s.unit, 0, s.final), messageId) : patched(tailOf(s, left), messageId));
          left = 0;
          if (ok) lastFinalFlushedAt = performance.now();
          else socket.once('drain', () => { lastFinalFlushedAt = performance.now(); });
          break;
        }
        left -= s.perChunk;
        pendingSent += s.perChunk;
        if (!send(patched(s.chunk, messageId))) {
          socket.once('drain', pump);
          return;
        }
      }
      if (current === op) current = undefined;
    };
    pump();
  }

  function onPdu(pdu: Pdu): void {
    switch (pdu.type) {
      case 'A-ASSOCIATE-RQ': {
        associateAt = performance.now();
        callingAeTitle = pdu.callingAeTitle;
        peerMaxLength = pdu.userInformation.maxLength;
        const answer = negotiateAsAcceptor(pdu, {
          aeTitle: 'ANY-SCP',
          abstractSyntaxes: (_abstractSyntax, proposed) => (proposed.length > 0 ? [proposed[0]!] : undefined),
          maxLength: OUR_MAX_LENGTH,
        });
        if (!answer.accepted) {
          send(encodePdu(answer.rj));
          socket.end();
          return;
        }
        contexts = new Map(answer.contexts.map((c) => [c.id, c]));
        transferSyntaxes = [...new Set(answer.contexts.map((c) => c.transferSyntax))];
        // Build the responses of every context now, outside the timed part of the association.
        for (const c of answer.contexts) {
          if (c.transferSyntax === TransferSyntaxUid.ImplicitVrLittleEndian || c.transferSyntax === TransferSyntaxUid.ExplicitVrLittleEndian) findStream(c, peerMaxLength);
        }
        send(encodePdu(answer.ac));
        return;
      }
      case 'P-DATA-TF':
        for (const m of assembler.push(pdu)) {
          const rq = decodeCommand(m.command);
          requests.push({ type: rq.type, at: performance.now() });
          const ctx = contexts.get(m.contextId);
          if (!ctx) throw new Error(`message on unknown context ${m.contextId}`);
          if (rq.type === 'C-FIND-RQ') find(ctx, rq.messageId);
          else if (rq.type === 'C-ECHO-RQ') {
            const rsp: DimseMessage = { type: 'C-ECHO-RSP', affectedSopClassUid: ctx.abstractSyntax, messageIdBeingRespondedTo: rq.messageId, status: 0, hasDataset: false };
            send(fragmentMessage(ctx.id, encodeCommand(rsp), undefined, peerMaxLength));
          } else if (rq.type === 'C-CANCEL-RQ') {
            if (current && current.messageId === rq.messageIdBeingRespondedTo) current.cancel = true;
          } else throw new Error(`canned SCP does not answer ${rq.type}`);
        }
        return;
      case 'A-RELEASE-RQ':
        releaseAt = performance.now();
        send(encodePdu({ type: 'A-RELEASE-RP' }));
        return;
      case 'A-ABORT':
        socket.destroy();
        return;
      default:
        throw new Error(`unexpected ${pdu.type}`);
    }
  }

  const framer = createFramer(OUR_MAX_LENGTH, (buf, offset) => onPdu(decodePdu(buf, offset)));
  socket.on('data', (chunk: Buffer) => {
    try {
      framer.push(chunk);
    } catch (e) {
      // A benchmark server: anything unexpected ends the association (A-ABORT, provider, reason 0).
      process.stderr.write(`canned SCP: ${(e as Error).message}\n`);
      if (!socket.destroyed) socket.end(encodePdu({ type: 'A-ABORT', source: 2, reason: 0 }));
    }
  });
  socket.on('error', () => { /* the close handler reports */ });
  socket.on('close', () => {
    onClose({ callingAeTitle, maxLength: peerMaxLength, transferSyntaxes, associateAt, requests, lastFinalFlushedAt, releaseAt, closedAt: performance.now(), bytesWritten: socket.bytesWritten, pendingSent });
  });
}

// ---- the bench side: run it in its own process -----------------------------------------------

export interface ForkedScp {
  readonly port: number;
  readonly pid: number;
  setResponses(n: number): Promise<void>;
  /** The stats of the next association to close (bounded by `timeoutMs`). */
  nextAssociation(timeoutMs: number): Promise<AssociationStats>;
  close(): Promise<void>;
}

/**
 * Fork the SCP. `script` is this module as plain JavaScript (bench/find.ts compiles it) or as
 * TypeScript with `execArgv: ['--import', 'tsx']`.
 */
export function forkCannedScp(options: { script: string; execArgv?: string[]; responses: number; timeoutMs?: number }): Promise<ForkedScp> {
  const child: ChildProcess = fork(options.script, ['--ipc', '--responses', String(options.responses)], {
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, DEBUG: '' },
  });
  const stats: AssociationStats[] = [];
  const statsWaiters: Array<(s: AssociationStats) => void> = [];
  let okWaiter: (() => void) | undefined;
  child.on('message', (m: FromScp) => {
    if (m.type === 'association') {
      const w = statsWaiters.shift();
      if (w) w(m.stats);
      else stats.push(m.stats);
    } else if (m.type === 'ok') {
      okWaiter?.();
      okWaiter = undefined;
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('canned SCP did not start within 20 s'));
    }, options.timeoutMs ?? 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`canned SCP exited (${code}) before listening`));
    });
    child.once('message', (m: FromScp) => {
      if (m.type !== 'listening') return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      resolve({
        port: m.port,
        pid: child.pid!,
        setResponses: (n) => new Promise<void>((r) => {
          okWaiter = r;
          child.send({ type: 'responses', n } satisfies ToScp);
        }),
        nextAssociation: (timeoutMs) => {
          const s = stats.shift();
          if (s) return Promise.resolve(s);
          return new Promise((res, rej) => {
            const t = setTimeout(() => {
              const i = statsWaiters.indexOf(waiter);
              if (i >= 0) statsWaiters.splice(i, 1);
              rej(new Error(`no association closed at the canned SCP within ${timeoutMs} ms`));
            }, timeoutMs);
            const waiter = (x: AssociationStats): void => { clearTimeout(t); res(x); };
            statsWaiters.push(waiter);
          });
        },
        close: async () => {
          if (child.exitCode === null && child.connected) child.send({ type: 'close' } satisfies ToScp);
          const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(t);
        },
      });
    });
  });
}

// ---- entry point ------------------------------------------------------------------------------

async function main(): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const responses = Number(arg('--responses') ?? 100_000);
  const port = Number(arg('--port') ?? 0);
  if (process.argv.includes('--ipc') && process.send) {
    const send = (m: FromScp): void => { process.send!(m); };
    const scp = await startCannedScp({ port, responses, onAssociation: (stats) => send({ type: 'association', stats }) });
    process.on('message', (m: ToScp) => {
      if (m.type === 'responses') {
        scp.setResponses(m.n);
        send({ type: 'ok' });
      } else if (m.type === 'close') {
        void scp.close().then(() => process.exit(0));
      }
    });
    // The bench went away: do not outlive it.
    process.on('disconnect', () => process.exit(0));
    send({ type: 'listening', port: scp.port });
    return;
  }
  const scp = await startCannedScp({
    port,
    responses,
    onAssociation: (s) => {
      const finds = s.requests.filter((r) => r.type === 'C-FIND-RQ');
      const first = finds[0]?.at;
      const ms = first !== undefined && s.releaseAt !== undefined ? s.releaseAt - first : undefined;
      console.log(`${s.callingAeTitle}: ${s.requests.length} requests, ${s.pendingSent} matches sent${ms === undefined ? '' : `, first C-FIND-RQ to A-RELEASE-RQ ${ms.toFixed(1)} ms`}`);
    },
  });
  console.log(`canned SCP on 127.0.0.1:${scp.port}, ${responses} matches per C-FIND (Ctrl-C to stop)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
