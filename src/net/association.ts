// One DICOM association on a TCP socket: PDUs in → PS3.8 Table 9-10 events → actions (send, ARTIM,
// close). The state machine's actions are written here with the standard's ids; fsm.ts holds the table.

import net from 'node:net';
import createDebug from 'debug';
import { AssociationError, ErrorCode, PduError, isDicomError, type DicomError } from '../errors.js';
import { actionFor, eventForPdu, formatStep, type ActionId, type EventId, type StateId } from './fsm.js';
import { createFramer, type Framer } from './framer.js';
import { acceptedContexts, buildAssociateRq, negotiateAsAcceptor, DEFAULT_MAX_LENGTH, type AcceptedContext, type AcceptorPolicy, type Negotiation, type RequestOptions } from './negotiate.js';
import { decodePdu, encodePdu } from './pdu-codec.js';
import { AbortReason, AbortSource, describeAbort, describePdu, describeReject, type AssociateAc, type AssociateRq, type Pdu } from './pdu.js';
import { createMessageAssembler, fragmentMessage, type AssemblerOptions, type PDataMessage } from './pdv.js';
import { enableQuickAck } from './quickack.js';
import { captureSocket } from './capture.js';

const logFsm = createDebug('qrscu:fsm');
const logPdu = createDebug('qrscu:pdu');
const logBytes = createDebug('qrscu:bytes');

export type Role = 'requestor' | 'acceptor';

/** How an association ended. */
export interface AssociationEnd {
  readonly how: 'released' | 'aborted' | 'rejected' | 'closed';
  /** Set for every end but an orderly release. */
  readonly error?: DicomError;
}

export interface TimerOptions {
  /** Transport connect (requestor), ms. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** ARTIM: waiting for the A-ASSOCIATE-RQ/AC/RJ and for the A-RELEASE-RP or the peer's close, ms. Default 30 s. */
  readonly artimTimeoutMs?: number;
  /** No PDU received for this long while established: A-ABORT. 0 = none (default). */
  readonly idleTimeoutMs?: number;
}

export interface AssociationHandlers extends AssemblerOptions {
  /** A whole DIMSE message (command and data set) arrived. */
  readonly onMessage?: (message: PDataMessage, association: Association) => void;
  /** The association ended (after it was established). */
  readonly onEnd?: (end: AssociationEnd) => void;
}

export interface Association {
  readonly role: Role;
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  readonly contexts: readonly AcceptedContext[];
  /** The peer's maximum P-DATA-TF length (0 = unlimited). */
  readonly peerMaxLength: number;
  readonly peerImplementation: { readonly classUid: string; readonly versionName?: string };
  readonly remoteAddress: string;
  state(): StateId;
  /**
   * Send one DIMSE message (command, then data set) in one socket write.
   * @throws AssociationError ERR_ASSOC_CLOSED when the association is not established.
   */
  send(contextId: number, command: Buffer, dataset?: Buffer): void;
  /** A-RELEASE; resolves when released (or the association ended otherwise). */
  release(): Promise<AssociationEnd>;
  /** A-ABORT (service-user) now. */
  abort(error?: DicomError): void;
  /** Resolves when the transport is closed. */
  readonly ended: Promise<AssociationEnd>;
  /** Set the message handlers (when the association was opened before they were known). */
  setHandlers(handlers: AssociationHandlers): void;
  /** Stop reading from the socket (back-pressure from a slow consumer); TCP flow control does the rest. */
  pauseReading(): void;
  resumeReading(): void;
}

interface Event {
  readonly id: EventId;
  readonly pdu?: Pdu;
  readonly error?: DicomError;
  readonly abortReason?: number;
}

interface Ctx {
  readonly role: Role;
  readonly label: string;
  state: StateId;
  socket: net.Socket | undefined;
  /** Records what we send when a capture tap is installed (`--pcap`). */
  recordSend: ((bytes: Buffer) => void) | undefined;
  framer: Framer | undefined;
  assembler: ReturnType<typeof createMessageAssembler>;
  artim: NodeJS.Timeout | undefined;
  readonly timers: Required<TimerOptions>;
  readonly ourMaxLength: number;
  handlers: AssociationHandlers;
  rq: AssociateRq | undefined;
  ac: AssociateAc | undefined;
  contexts: AcceptedContext[];
  policy: AcceptorPolicy | undefined;
  negotiation: Negotiation | undefined;
  rejectWhy: string | undefined;
  end: AssociationEnd | undefined;
  finish: (end: AssociationEnd) => void;
  /** Settles the open/accept promise. */
  onEstablished: ((error?: DicomError) => void) | undefined;
  releaseWaiters: Array<(end: AssociationEnd) => void>;
  association: Association | undefined;
  /** The error that ends the association, when it is not an orderly release. */
  pendingError: DicomError | undefined;
}

const DEFAULT_TIMERS: Required<TimerOptions> = { connectTimeoutMs: 10_000, artimTimeoutMs: 30_000, idleTimeoutMs: 0 };

// ---- the actions of PS3.8 Tables 9-6 to 9-9 ---------------------------------------------------

type ActionFn = (ctx: Ctx, ev: Event) => StateId;

const ACTIONS: Record<ActionId, ActionFn> = {
  // AE-1: issue TRANSPORT CONNECT request primitive to local transport service.
  'AE-1': () => 'Sta4',
  // AE-2: send A-ASSOCIATE-RQ-PDU.
  'AE-2': (ctx) => {
    sendPdu(ctx, ctx.rq!);
    startArtim(ctx); // waiting for the AC/RJ is bounded like ARTIM (PS3.8 leaves this to the implementation)
    return 'Sta5';
  },
  // AE-3: issue A-ASSOCIATE confirmation (accept) primitive.
  'AE-3': (ctx, ev) => {
    stopArtim(ctx);
    ctx.ac = ev.pdu as AssociateAc;
    ctx.contexts = acceptedContexts(ctx.rq!, ctx.ac);
    ctx.onEstablished?.();
    return 'Sta6';
  },
  // AE-4: issue A-ASSOCIATE confirmation (reject) primitive and close transport connection.
  'AE-4': (ctx, ev) => {
    stopArtim(ctx);
    const rj = ev.pdu!;
    const error = new AssociationError(ErrorCode.AssocRejected, `association rejected by ${ctx.label}: ${rj.type === 'A-ASSOCIATE-RJ' ? describeReject(rj) : rj.type}`);
    ctx.pendingError = error;
    ctx.onEstablished?.(error);
    closeTransport(ctx);
    return 'Sta1';
  },
  // AE-5: issue transport connection response primitive; start ARTIM timer.
  'AE-5': (ctx) => {
    startArtim(ctx);
    return 'Sta2';
  },
  // AE-6: stop ARTIM; if the A-ASSOCIATE-RQ is acceptable by the service-provider, issue A-ASSOCIATE
  // indication (Sta3); otherwise send A-ASSOCIATE-RJ-PDU, start ARTIM (Sta13).
  'AE-6': (ctx, ev) => {
    stopArtim(ctx);
    ctx.rq = ev.pdu as AssociateRq;
    const answer = negotiateAsAcceptor(ctx.rq, ctx.policy!);
    ctx.negotiation = answer;
    if (!answer.accepted && answer.rj.source !== 1) {
      sendPdu(ctx, answer.rj);
      ctx.rejectWhy = answer.why;
      startArtim(ctx);
      settleAccept(ctx, new AssociationError(ErrorCode.AssocRejected, `rejected A-ASSOCIATE-RQ from ${ctx.rq.callingAeTitle}: ${answer.why}`));
      return 'Sta13';
    }
    // The A-ASSOCIATE indication: the service user (this module, on the policy) answers at once.
    queueMicrotask(() => fire(ctx, answer.accepted ? { id: 'Evt7' } : { id: 'Evt8' }));
    return 'Sta3';
  },
  // AE-7: send A-ASSOCIATE-AC PDU.
  'AE-7': (ctx) => {
    const answer = ctx.negotiation!;
    if (!answer.accepted) throw new Error('AE-7 on a rejected negotiation');
    ctx.ac = answer.ac;
    ctx.contexts = answer.contexts;
    sendPdu(ctx, answer.ac);
    ctx.onEstablished?.();
    return 'Sta6';
  },
  // AE-8: send A-ASSOCIATE-RJ PDU and start ARTIM timer.
  'AE-8': (ctx) => {
    const answer = ctx.negotiation!;
    if (answer.accepted) throw new Error('AE-8 on an accepted negotiation');
    sendPdu(ctx, answer.rj);
    ctx.rejectWhy = answer.why;
    startArtim(ctx);
    settleAccept(ctx, new AssociationError(ErrorCode.AssocRejected, `rejected A-ASSOCIATE-RQ from ${ctx.rq!.callingAeTitle}: ${answer.why}`));
    return 'Sta13';
  },
  // DT-1: send P-DATA-TF PDU.
  'DT-1': () => 'Sta6',
  // DT-2: send P-DATA indication primitive.
  'DT-2': (ctx, ev) => {
    deliver(ctx, ev);
    return 'Sta6';
  },
  // AR-1: send A-RELEASE-RQ PDU.
  'AR-1': (ctx) => {
    sendPdu(ctx, { type: 'A-RELEASE-RQ' });
    startArtim(ctx);
    return 'Sta7';
  },
  // AR-2: issue A-RELEASE indication primitive; our service user always agrees.
  'AR-2': (ctx) => {
    queueMicrotask(() => fire(ctx, { id: 'Evt14' }));
    return 'Sta8';
  },
  // AR-3: issue A-RELEASE confirmation primitive, and close transport connection.
  'AR-3': (ctx) => {
    stopArtim(ctx);
    closeTransport(ctx);
    return 'Sta1';
  },
  // AR-4: issue A-RELEASE-RP PDU and start ARTIM timer.
  'AR-4': (ctx) => {
    sendPdu(ctx, { type: 'A-RELEASE-RP' });
    startArtim(ctx);
    return 'Sta13';
  },
  // AR-5: stop ARTIM timer.
  'AR-5': (ctx) => {
    stopArtim(ctx);
    return 'Sta1';
  },
  // AR-6: issue P-DATA indication.
  'AR-6': (ctx, ev) => {
    deliver(ctx, ev);
    return 'Sta7';
  },
  // AR-7: issue P-DATA-TF PDU.
  'AR-7': () => 'Sta8',
  // AR-8: issue A-RELEASE indication (release collision): requestor → Sta9, acceptor → Sta10.
  'AR-8': (ctx) => {
    if (ctx.role === 'requestor') {
      queueMicrotask(() => fire(ctx, { id: 'Evt14' }));
      return 'Sta9';
    }
    return 'Sta10';
  },
  // AR-9: send A-RELEASE-RP PDU.
  'AR-9': (ctx) => {
    sendPdu(ctx, { type: 'A-RELEASE-RP' });
    return 'Sta11';
  },
  // AR-10: issue A-RELEASE confirmation primitive; the acceptor then answers the peer's request.
  'AR-10': (ctx) => {
    queueMicrotask(() => fire(ctx, { id: 'Evt14' }));
    return 'Sta12';
  },
  // AA-1: send A-ABORT PDU (service-user source) and start (or restart if already started) ARTIM timer.
  'AA-1': (ctx, ev) => {
    sendPdu(ctx, { type: 'A-ABORT', source: ev.id === 'Evt15' ? AbortSource.ServiceUser : AbortSource.ServiceProvider, reason: ev.abortReason ?? 0 });
    ctx.pendingError ??= ev.error ?? new AssociationError(ErrorCode.AssocAborted, `association with ${ctx.label} aborted`);
    settleAccept(ctx, ctx.pendingError);
    ctx.socket?.end();
    startArtim(ctx);
    return 'Sta13';
  },
  // AA-2: stop ARTIM if running; close transport connection.
  'AA-2': (ctx, ev) => {
    stopArtim(ctx);
    if (ev.id === 'Evt18' && ctx.pendingError === undefined && ctx.end === undefined && ctx.rejectWhy === undefined && ctx.state === 'Sta2') {
      ctx.pendingError = new AssociationError(ErrorCode.ArtimTimeout, `no A-ASSOCIATE-RQ from ${ctx.label} within ${ctx.timers.artimTimeoutMs} ms`);
    }
    closeTransport(ctx);
    return 'Sta1';
  },
  // AA-3: if service-user initiated abort, issue A-ABORT indication and close transport connection;
  // otherwise (service-provider initiated abort) issue A-P-ABORT indication and close transport.
  'AA-3': (ctx, ev) => {
    const pdu = ev.pdu;
    const what = pdu && pdu.type === 'A-ABORT' ? describeAbort(pdu) : 'A-ABORT';
    ctx.pendingError ??= new AssociationError(ErrorCode.AssocAborted, `association aborted by ${ctx.label}: ${what}`);
    settleAccept(ctx, ctx.pendingError);
    closeTransport(ctx);
    return 'Sta1';
  },
  // AA-4: issue A-P-ABORT indication primitive.
  'AA-4': (ctx) => {
    ctx.pendingError ??= new AssociationError(ErrorCode.AssocClosed, `${ctx.label} closed the connection without releasing the association`);
    settleAccept(ctx, ctx.pendingError);
    closeTransport(ctx);
    return 'Sta1';
  },
  // AA-5: stop ARTIM timer.
  'AA-5': (ctx) => {
    stopArtim(ctx);
    closeTransport(ctx);
    return 'Sta1';
  },
  // AA-6: ignore PDU.
  'AA-6': () => 'Sta13',
  // AA-7: send A-ABORT PDU.
  'AA-7': (ctx) => {
    sendPdu(ctx, { type: 'A-ABORT', source: AbortSource.ServiceProvider, reason: AbortReason.UnexpectedPdu });
    return 'Sta13';
  },
  // AA-8: send A-ABORT PDU (service-provider source), issue an A-P-ABORT indication, and start ARTIM timer.
  'AA-8': (ctx, ev) => {
    const reason = ev.abortReason ?? (ev.id === 'Evt19' ? AbortReason.UnrecognizedPdu : AbortReason.UnexpectedPdu);
    sendPdu(ctx, { type: 'A-ABORT', source: AbortSource.ServiceProvider, reason });
    ctx.pendingError ??= ev.error ?? new AssociationError(ErrorCode.AssocAborted, `unexpected ${ev.pdu?.type ?? ev.id} from ${ctx.label} in ${ctx.state}: A-ABORT sent`);
    settleAccept(ctx, ctx.pendingError);
    ctx.socket?.end();
    startArtim(ctx);
    return 'Sta13';
  },
};

// ---- the machine ------------------------------------------------------------------------------

function fire(ctx: Ctx, ev: Event): void {
  const from = ctx.state;
  const action = actionFor(from, ev.id);
  if (action === undefined) {
    // Table 9-10 has no entry: a local request in the wrong state, or a PDU with no connection.
    if (logFsm.enabled) logFsm('%s: %s', ctx.label, formatStep(from, ev.id, undefined, from));
    if (ev.id === 'Evt17' && from === 'Sta1') return;
    if (ev.id === 'Evt9' || ev.id === 'Evt11' || ev.id === 'Evt15') {
      throw new AssociationError(ErrorCode.AssocClosed, `association with ${ctx.label} is not established (${from})`);
    }
    return;
  }
  const next = ACTIONS[action](ctx, ev);
  ctx.state = next;
  if (logFsm.enabled) logFsm('%s: %s', ctx.label, formatStep(from, ev.id, action, next));
  if (next === 'Sta1') finish(ctx);
}

function deliver(ctx: Ctx, ev: Event): void {
  const pdu = ev.pdu;
  if (!pdu || pdu.type !== 'P-DATA-TF') return;
  const messages = ctx.assembler.push(pdu);
  for (const m of messages) ctx.handlers.onMessage?.(m, ctx.association!);
}

function sendPdu(ctx: Ctx, pdu: Pdu): void {
  const bytes = encodePdu(pdu);
  if (logPdu.enabled) logPdu('%s: send %s', ctx.label, describePdu(pdu));
  if (logBytes.enabled) logBytes('%s: send %d bytes\n%s', ctx.label, bytes.length, hexDump(bytes));
  write(ctx, bytes);
}

function write(ctx: Ctx, bytes: Buffer): void {
  const s = ctx.socket;
  if (!s || s.destroyed || !s.writable) return;
  ctx.recordSend?.(bytes);
  s.write(bytes);
}

function startArtim(ctx: Ctx): void {
  stopArtim(ctx);
  ctx.artim = setTimeout(() => {
    ctx.artim = undefined;
    if (ctx.state === 'Sta5' || ctx.state === 'Sta7') {
      // No AC/RJ or no RP in time: abort (Table 9-10 has no Evt18 in these states).
      const what = ctx.state === 'Sta5' ? 'A-ASSOCIATE-AC/RJ' : 'A-RELEASE-RP';
      fire(ctx, { id: 'Evt15', error: new AssociationError(ErrorCode.ArtimTimeout, `no ${what} from ${ctx.label} within ${ctx.timers.artimTimeoutMs} ms`) });
      return;
    }
    fire(ctx, { id: 'Evt18' });
  }, ctx.timers.artimTimeoutMs);
  ctx.artim.unref?.();
}

function stopArtim(ctx: Ctx): void {
  if (ctx.artim) clearTimeout(ctx.artim);
  ctx.artim = undefined;
}

function closeTransport(ctx: Ctx): void {
  const s = ctx.socket;
  if (s && !s.destroyed) s.destroy();
}

function settleAccept(ctx: Ctx, error?: DicomError): void {
  const cb = ctx.onEstablished;
  ctx.onEstablished = undefined;
  cb?.(error);
}

function finish(ctx: Ctx): void {
  if (ctx.end) return;
  stopArtim(ctx);
  closeTransport(ctx);
  const error = ctx.pendingError;
  const end: AssociationEnd = error === undefined
    ? { how: 'released' }
    : { how: error.code === ErrorCode.AssocRejected ? 'rejected' : error.code === ErrorCode.AssocClosed ? 'closed' : 'aborted', error };
  ctx.end = end;
  // Built only when someone still waits for the establishment: an Error's stack costs ~10 µs, and
  // nearly every association ends after it was established.
  if (ctx.onEstablished) settleAccept(ctx, error ?? new AssociationError(ErrorCode.AssocClosed, `association with ${ctx.label} ended before it was established`));
  for (const w of ctx.releaseWaiters.splice(0)) w(end);
  ctx.handlers.onEnd?.(end);
  ctx.finish(end);
}

function attachSocket(ctx: Ctx, socket: net.Socket): void {
  ctx.socket = socket;
  socket.setNoDelay(true);
  ctx.recordSend = captureSocket(socket, ctx.role === 'requestor');
  ctx.framer = createFramer(ctx.ourMaxLength, (buf, offset) => {
    if (ctx.state === 'Sta1') return;
    let pdu: Pdu;
    try {
      pdu = decodePdu(buf, offset);
    } catch (e) {
      if (!(e instanceof PduError)) throw e;
      logPdu('%s: invalid PDU at offset %d: %s', ctx.label, offset, e.message);
      fire(ctx, { id: 'Evt19', error: new AssociationError(ErrorCode.AssocAborted, `invalid PDU from ${ctx.label}: ${e.message}`, { cause: e }), abortReason: e.abortReason });
      return;
    }
    if (logPdu.enabled) logPdu('%s: recv %s', ctx.label, describePdu(pdu));
    if (logBytes.enabled) logBytes('%s: recv %d bytes\n%s', ctx.label, buf.length, hexDump(buf));
    try {
      fire(ctx, { id: eventForPdu(pdu.type), pdu });
    } catch (e) {
      // A P-DATA that breaks the message structure (PS3.8 Annex E) is an invalid PDU: Evt19.
      if (!(e instanceof PduError)) throw e;
      fire(ctx, { id: 'Evt19', error: new AssociationError(ErrorCode.AssocAborted, `invalid P-DATA from ${ctx.label}: ${e.message}`, { cause: e }), abortReason: e.abortReason });
    }
  });
  socket.on('data', function onData(chunk: Buffer) {
    if (ctx.state === 'Sta1' || ctx.state === 'Sta13' && ctx.end) return;
    try {
      ctx.framer!.push(chunk);
    } catch (e) {
      if (e instanceof PduError) {
        fire(ctx, { id: 'Evt19', error: new AssociationError(ErrorCode.AssocAborted, `bad PDU stream from ${ctx.label}: ${e.message}`, { cause: e }), abortReason: e.abortReason });
        return;
      }
      // An exception from a message handler is a bug in the user of this association: abort, report it.
      const error = isDicomError(e) ? e : new AssociationError(ErrorCode.AssocAborted, `message handler failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      if (ctx.state === 'Sta6') fire(ctx, { id: 'Evt15', error });
    }
  });
  enableQuickAck(socket); // after the 'data' listener above: re-arms TCP_QUICKACK after each chunk is processed
  socket.on('error', function onError(err: Error) {
    ctx.pendingError ??= new AssociationError(ErrorCode.AssocClosed, `connection to ${ctx.label} failed: ${err.message}`, { cause: err });
  });
  socket.on('close', function onClose() {
    fire(ctx, { id: 'Evt17' });
    if (ctx.state !== 'Sta1') {
      ctx.state = 'Sta1';
      finish(ctx);
    }
  });
  if (ctx.timers.idleTimeoutMs > 0) {
    socket.setTimeout(ctx.timers.idleTimeoutMs, function onIdle() {
      if (ctx.state === 'Sta6') fire(ctx, { id: 'Evt15', error: new AssociationError(ErrorCode.IdleTimeout, `no PDU from ${ctx.label} for ${ctx.timers.idleTimeoutMs} ms`) });
    });
  }
}

function createCtx(role: Role, label: string, timers: TimerOptions, maxLength: number, handlers: AssociationHandlers): { ctx: Ctx; ended: Promise<AssociationEnd> } {
  let resolveEnd!: (end: AssociationEnd) => void;
  const ended = new Promise<AssociationEnd>((r) => { resolveEnd = r; });
  const ctx: Ctx = {
    role, label, state: 'Sta1', socket: undefined, recordSend: undefined, framer: undefined,
    assembler: createMessageAssembler({ streamDataset: (id, c) => ctx.handlers.streamDataset?.(id, c) }),
    artim: undefined, timers: { ...DEFAULT_TIMERS, ...timers }, ourMaxLength: maxLength, handlers,
    rq: undefined, ac: undefined, contexts: [], policy: undefined, negotiation: undefined, rejectWhy: undefined, end: undefined,
    finish: resolveEnd, onEstablished: undefined, releaseWaiters: [], association: undefined, pendingError: undefined,
  };
  return { ctx, ended };
}

function makeAssociation(ctx: Ctx, ended: Promise<AssociationEnd>): Association {
  const a: Association = {
    role: ctx.role,
    get callingAeTitle() { return ctx.rq?.callingAeTitle ?? ''; },
    get calledAeTitle() { return ctx.rq?.calledAeTitle ?? ''; },
    get contexts() { return ctx.contexts; },
    get peerMaxLength() { return (ctx.role === 'requestor' ? ctx.ac : ctx.rq)?.userInformation.maxLength ?? 0; },
    get peerImplementation() {
      const ui = (ctx.role === 'requestor' ? ctx.ac : ctx.rq)?.userInformation;
      return { classUid: ui?.implementationClassUid ?? '', ...(ui?.implementationVersionName ? { versionName: ui.implementationVersionName } : {}) };
    },
    get remoteAddress() { return `${ctx.socket?.remoteAddress ?? '?'}:${ctx.socket?.remotePort ?? '?'}`; },
    state: () => ctx.state,
    send(contextId, command, dataset) {
      if (ctx.state !== 'Sta6' && ctx.state !== 'Sta8') {
        throw new AssociationError(ErrorCode.AssocClosed, `cannot send: association with ${ctx.label} is not established (${ctx.state})`);
      }
      const bytes = fragmentMessage(contextId, command, dataset, a.peerMaxLength);
      fire(ctx, { id: 'Evt9' });
      if (logPdu.enabled) logPdu('%s: send P-DATA-TF message on context %d: command %d bytes, data set %d bytes, %d bytes on the wire', ctx.label, contextId, command.length, dataset?.length ?? 0, bytes.length);
      if (logBytes.enabled) logBytes('%s: send %d bytes\n%s', ctx.label, bytes.length, hexDump(bytes));
      write(ctx, bytes);
    },
    release() {
      if (ctx.end) return Promise.resolve(ctx.end);
      const p = new Promise<AssociationEnd>((r) => ctx.releaseWaiters.push(r));
      if (ctx.state === 'Sta6') fire(ctx, { id: 'Evt11' });
      return p;
    },
    abort(error) {
      if (ctx.end || ctx.state === 'Sta1' || ctx.state === 'Sta13') return;
      fire(ctx, { id: 'Evt15', ...(error ? { error } : {}) });
    },
    ended,
    setHandlers(handlers) {
      ctx.handlers = handlers;
    },
    pauseReading: () => void ctx.socket?.pause(),
    resumeReading: () => void ctx.socket?.resume(),
  };
  ctx.association = a;
  return a;
}

export interface OpenOptions extends RequestOptions, TimerOptions {
  readonly host: string;
  readonly port: number;
}

/**
 * Open an association as requestor: TCP connect, A-ASSOCIATE-RQ, wait for the AC.
 * @throws AssociationError ERR_CONNECT_FAILED, ERR_CONNECT_TIMEOUT, ERR_ASSOC_REJECTED, ERR_ARTIM_TIMEOUT, ERR_ASSOC_ABORTED
 */
export function openAssociation(options: OpenOptions, handlers: AssociationHandlers = {}): Promise<Association> {
  const label = `${options.calledAeTitle}@${options.host}:${options.port}`;
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  const { ctx, ended } = createCtx('requestor', label, options, maxLength, handlers);
  ctx.rq = buildAssociateRq(options);
  const association = makeAssociation(ctx, ended);
  return new Promise<Association>((resolve, reject) => {
    ctx.onEstablished = (error) => (error ? reject(error) : resolve(association));
    fire(ctx, { id: 'Evt1' });
    const socket = net.connect({ host: options.host, port: options.port, noDelay: true });
    const connectTimer = setTimeout(() => {
      ctx.pendingError = new AssociationError(ErrorCode.ConnectTimeout, `no TCP connection to ${options.host}:${options.port} within ${ctx.timers.connectTimeoutMs} ms`);
      socket.destroy();
    }, ctx.timers.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      fire(ctx, { id: 'Evt2' });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (ctx.state === 'Sta4') {
        ctx.pendingError ??= new AssociationError(ErrorCode.ConnectFailed, `cannot connect to ${options.host}:${options.port}: ${err.code ?? err.message}`, { cause: err });
      }
    });
    socket.once('close', () => clearTimeout(connectTimer));
    attachSocket(ctx, socket);
  });
}

export interface AcceptOptions extends TimerOptions {
  readonly policy: AcceptorPolicy;
}

/**
 * Run the acceptor side on an accepted TCP socket. Resolves with the association once the
 * A-ASSOCIATE-AC is sent; rejects when the request is rejected or the peer goes away first.
 */
export function acceptAssociation(socket: net.Socket, options: AcceptOptions, handlers: AssociationHandlers = {}): Promise<Association> {
  const label = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  const { ctx, ended } = createCtx('acceptor', label, options, options.policy.maxLength ?? DEFAULT_MAX_LENGTH, handlers);
  ctx.policy = options.policy;
  const association = makeAssociation(ctx, ended);
  return new Promise<Association>((resolve, reject) => {
    ctx.onEstablished = (error) => (error ? reject(error) : resolve(association));
    attachSocket(ctx, socket);
    fire(ctx, { id: 'Evt5' });
  });
}

function hexDump(b: Buffer): string {
  const lines: string[] = [];
  const n = Math.min(b.length, 4096);
  for (let i = 0; i < n; i += 16) {
    const row = b.subarray(i, Math.min(i + 16, n));
    const hexPart = [...row].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
    lines.push(`  ${i.toString(16).padStart(6, '0')}  ${hexPart.padEnd(47)}  ${text}`);
  }
  if (b.length > n) lines.push(`  … ${b.length - n} more bytes`);
  return lines.join('\n');
}
