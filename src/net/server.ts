// DIMSE service provider (SCP): accepts associations on 127.0.0.1 (or a given host) and answers
// C-ECHO, C-FIND, C-MOVE and C-STORE through handlers (PS3.4 Annexes A, B, C; PS3.7 §9.1).

import net from 'node:net';
import createDebug from 'debug';
import { createDataset, decodeDataset, encodeDataset, setValue, type Dataset } from '../dicom/index.js';
import { transferSyntaxOf } from '../dicom/uids.js';
import { ErrorCode, isDicomError, DimseError, type DicomError } from '../errors.js';
import { acceptAssociation, type Association, type TimerOptions } from './association.js';
import type { SubOperations } from './client.js';
import { decodeCommand, describeMessage, encodeCommand, type DimseMessage } from './dimse.js';
import type { AcceptorPolicy } from './negotiate.js';
import type { PDataMessage } from './pdv.js';
import { Status } from './status.js';

const log = createDebug('qrscu:dimse');

export interface RequestContext {
  readonly association: Association;
  readonly callingAeTitle: string;
  readonly sopClassUid: string;
  readonly messageId: number;
  /** True once the peer sent C-CANCEL-RQ for this request. */
  isCancelled(): boolean;
}

export interface StoreInfo extends RequestContext {
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly moveOriginatorAeTitle?: string;
  readonly moveOriginatorMessageId?: number;
}

/** Receives one object's data set bytes as they arrive; `end` resolves to the C-STORE status. */
export interface StoreSink {
  write(chunk: Buffer): void;
  end(): Promise<number>;
  /** The association ended mid-object: discard what was written. */
  abort(): void;
}

export interface MoveAnswer {
  readonly status: number;
  readonly subOperations: SubOperations;
  readonly failedSopInstanceUids?: readonly string[];
  readonly errorComment?: string;
}

/** Thrown by a handler to answer with a given status (otherwise a failure answers 0xC000). */
export class DimseStatusError extends DimseError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(ErrorCode.DimseStatus, message);
    this.status = status;
  }
}

export interface ServerHandlers {
  echo?(req: RequestContext): number | Promise<number>;
  find?(identifier: Dataset, req: RequestContext): AsyncIterable<Dataset> | Iterable<Dataset>;
  move?(identifier: Dataset, req: RequestContext & { readonly destination: string; progress(s: SubOperations): void }): Promise<MoveAnswer>;
  store?(info: StoreInfo): StoreSink;
  /** An association was accepted, rejected or ended (for logs and tests). */
  onAssociation?(event: { readonly type: 'accepted' | 'rejected' | 'ended'; readonly callingAeTitle?: string; readonly error?: DicomError; readonly association?: Association }): void;
}

export interface ServerOptions extends TimerOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly policy: AcceptorPolicy;
}

export interface Server {
  readonly port: number;
  /** Associations open now. */
  associations(): number;
  /** Stop listening; abort open associations after `graceMs` (default 2 s) if they do not end. */
  close(graceMs?: number): Promise<void>;
}

/** Start listening. @throws Error (EADDRINUSE…) from the socket layer as a DicomError ERR_IO. */
export function listen(options: ServerOptions, handlers: ServerHandlers): Promise<Server> {
  const open = new Set<Association>();
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serve(socket, options, handlers, open).catch(() => undefined);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new DimseError(ErrorCode.Io, `cannot listen on ${options.host ?? '127.0.0.1'}:${options.port}: ${err.code ?? err.message}`, { cause: err }));
    });
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      const addr = server.address() as net.AddressInfo;
      resolve({
        port: addr.port,
        associations: () => open.size,
        close: async (graceMs = 2000) => {
          await new Promise<void>((r) => {
            server.close(() => r());
            const t = setTimeout(() => {
              for (const a of open) a.abort();
              for (const s of sockets) s.destroy();
            }, graceMs);
            t.unref();
          });
        },
      });
    });
  });
}

async function serve(socket: net.Socket, options: ServerOptions, handlers: ServerHandlers, open: Set<Association>): Promise<void> {
  const cancelled = new Set<number>();
  const sinks = new Map<number, StoreSink>();
  // Requests are answered in order; a request whose answer is asynchronous holds the next ones.
  let chain: Promise<void> = Promise.resolve();
  let association: Association;
  try {
    association = await acceptAssociation(socket, options, {
      streamDataset: (contextId, command) => {
        if (!handlers.store) return undefined;
        const rq = safeDecode(command);
        if (!rq || rq.type !== 'C-STORE-RQ') return undefined;
        const ts = association.contexts.find((c) => c.id === contextId)?.transferSyntax ?? '1.2.840.10008.1.2';
        const sink = handlers.store({
          association, callingAeTitle: association.callingAeTitle, sopClassUid: rq.affectedSopClassUid, messageId: rq.messageId,
          isCancelled: () => cancelled.has(rq.messageId), sopInstanceUid: rq.affectedSopInstanceUid, transferSyntaxUid: ts,
          ...(rq.moveOriginatorApplicationEntityTitle ? { moveOriginatorAeTitle: rq.moveOriginatorApplicationEntityTitle } : {}),
          ...(rq.moveOriginatorMessageId !== undefined ? { moveOriginatorMessageId: rq.moveOriginatorMessageId } : {}),
        });
        sinks.set(rq.messageId, sink);
        return (data: Buffer) => sink.write(data);
      },
      onMessage: (m) => {
        const rq = safeDecode(m.command);
        if (!rq) {
          association.abort(new DimseError(ErrorCode.DimseInvalid, 'undecodable command set'));
          return;
        }
        if (rq.type === 'C-CANCEL-RQ') {
          cancelled.add(rq.messageIdBeingRespondedTo);
          if (log.enabled) log('%s: recv %s', association.callingAeTitle, describeMessage(rq));
          return;
        }
        if (log.enabled) log('%s: recv %s ctx=%d', association.callingAeTitle, describeMessage(rq), m.contextId);
        chain = chain.then(() => answer(association, m, rq, handlers, cancelled, sinks)).catch((e: unknown) => {
          association.abort(isDicomError(e) ? e : new DimseError(ErrorCode.DimseInvalid, `handler failed: ${String(e)}`));
        });
      },
      onEnd: (end) => {
        for (const s of sinks.values()) s.abort();
        sinks.clear();
        open.delete(association);
        handlers.onAssociation?.({ type: 'ended', callingAeTitle: association.callingAeTitle, ...(end.error ? { error: end.error } : {}), association });
      },
    });
  } catch (e) {
    handlers.onAssociation?.({ type: 'rejected', ...(isDicomError(e) ? { error: e } : {}) });
    return;
  }
  open.add(association);
  handlers.onAssociation?.({ type: 'accepted', callingAeTitle: association.callingAeTitle, association });
}

function safeDecode(command: Buffer): DimseMessage | undefined {
  try {
    return decodeCommand(command);
  } catch {
    return undefined;
  }
}

function reply(a: Association, contextId: number, rsp: DimseMessage, dataset?: Dataset, ts?: string): void {
  if (log.enabled) log('%s: send %s', a.callingAeTitle, describeMessage(rsp));
  a.send(contextId, encodeCommand(rsp), dataset && ts ? encodeDataset(dataset, transferSyntaxOf(ts)) : undefined);
}

function statusOf(e: unknown): { status: number; errorComment: string } {
  if (e instanceof DimseStatusError) return { status: e.status, errorComment: e.message.slice(0, 64) };
  return { status: Status.UnableToProcess, errorComment: (isDicomError(e) ? e.message : String(e)).slice(0, 64) };
}

async function answer(a: Association, m: PDataMessage, rq: DimseMessage, h: ServerHandlers, cancelled: Set<number>, sinks: Map<number, StoreSink>): Promise<void> {
  const ts = a.contexts.find((c) => c.id === m.contextId)?.transferSyntax ?? '1.2.840.10008.1.2';
  if (a.state() !== 'Sta6') return;
  switch (rq.type) {
    case 'C-ECHO-RQ': {
      const status = h.echo ? await h.echo({ association: a, callingAeTitle: a.callingAeTitle, sopClassUid: rq.affectedSopClassUid, messageId: rq.messageId, isCancelled: () => false }) : Status.Success;
      reply(a, m.contextId, { type: 'C-ECHO-RSP', messageIdBeingRespondedTo: rq.messageId, affectedSopClassUid: rq.affectedSopClassUid, status, hasDataset: false });
      return;
    }
    case 'C-FIND-RQ': {
      const base = { type: 'C-FIND-RSP' as const, messageIdBeingRespondedTo: rq.messageId, affectedSopClassUid: rq.affectedSopClassUid };
      if (!h.find || !m.dataset) {
        reply(a, m.contextId, { ...base, status: Status.SopClassNotSupported, hasDataset: false });
        return;
      }
      const isCancelled = (): boolean => cancelled.has(rq.messageId);
      try {
        const identifier = decodeDataset(m.dataset, transferSyntaxOf(ts));
        for await (const match of h.find(identifier, { association: a, callingAeTitle: a.callingAeTitle, sopClassUid: rq.affectedSopClassUid, messageId: rq.messageId, isCancelled })) {
          if (isCancelled() || a.state() !== 'Sta6') break;
          reply(a, m.contextId, { ...base, status: Status.Pending, hasDataset: true }, match, ts);
        }
        if (a.state() !== 'Sta6') return;
        reply(a, m.contextId, { ...base, status: isCancelled() ? Status.Cancel : Status.Success, hasDataset: false });
      } catch (e) {
        if (a.state() !== 'Sta6') return;
        reply(a, m.contextId, { ...base, ...statusOf(e), hasDataset: false });
      } finally {
        cancelled.delete(rq.messageId);
      }
      return;
    }
    case 'C-MOVE-RQ': {
      const base = { type: 'C-MOVE-RSP' as const, messageIdBeingRespondedTo: rq.messageId, affectedSopClassUid: rq.affectedSopClassUid };
      if (!h.move || !m.dataset) {
        reply(a, m.contextId, { ...base, status: Status.SopClassNotSupported, hasDataset: false });
        return;
      }
      try {
        const identifier = decodeDataset(m.dataset, transferSyntaxOf(ts));
        const result = await h.move(identifier, {
          association: a, callingAeTitle: a.callingAeTitle, sopClassUid: rq.affectedSopClassUid, messageId: rq.messageId,
          isCancelled: () => cancelled.has(rq.messageId), destination: rq.moveDestination,
          progress: (s) => {
            if (a.state() === 'Sta6') reply(a, m.contextId, { ...base, status: Status.Pending, hasDataset: false, ...counts(s) });
          },
        });
        if (a.state() !== 'Sta6') return;
        let failedList: Dataset | undefined;
        if (result.failedSopInstanceUids && result.failedSopInstanceUids.length > 0) {
          failedList = createDataset();
          setValue(failedList, 'FailedSOPInstanceUIDList', [...result.failedSopInstanceUids]);
        }
        reply(a, m.contextId, { ...base, status: result.status, hasDataset: failedList !== undefined, ...counts(result.subOperations), ...(result.errorComment ? { errorComment: result.errorComment.slice(0, 64) } : {}) }, failedList, ts);
      } catch (e) {
        if (a.state() !== 'Sta6') return;
        reply(a, m.contextId, { ...base, ...statusOf(e), hasDataset: false });
      } finally {
        cancelled.delete(rq.messageId);
      }
      return;
    }
    case 'C-STORE-RQ': {
      const base = { type: 'C-STORE-RSP' as const, messageIdBeingRespondedTo: rq.messageId, affectedSopClassUid: rq.affectedSopClassUid, affectedSopInstanceUid: rq.affectedSopInstanceUid, hasDataset: false };
      const sink = sinks.get(rq.messageId);
      sinks.delete(rq.messageId);
      if (!sink) {
        reply(a, m.contextId, { ...base, status: Status.SopClassNotSupported });
        return;
      }
      let status: number;
      try {
        status = await sink.end();
      } catch (e) {
        status = statusOf(e).status === Status.UnableToProcess ? Status.OutOfResources : statusOf(e).status;
      }
      if (a.state() === 'Sta6') reply(a, m.contextId, { ...base, status });
      return;
    }
    default:
      log('%s: %s not supported: A-ABORT', a.callingAeTitle, rq.type);
      a.abort(new DimseError(ErrorCode.DimseInvalid, `${rq.type} is not supported`));
  }
}

function counts(s: SubOperations): Partial<Record<'numberOfRemainingSuboperations' | 'numberOfCompletedSuboperations' | 'numberOfFailedSuboperations' | 'numberOfWarningSuboperations', number>> {
  const out: Partial<Record<'numberOfRemainingSuboperations' | 'numberOfCompletedSuboperations' | 'numberOfFailedSuboperations' | 'numberOfWarningSuboperations', number>> = {};
  if (s.remaining !== undefined) out.numberOfRemainingSuboperations = s.remaining;
  if (s.completed !== undefined) out.numberOfCompletedSuboperations = s.completed;
  if (s.failed !== undefined) out.numberOfFailedSuboperations = s.failed;
  if (s.warning !== undefined) out.numberOfWarningSuboperations = s.warning;
  return out;
}
