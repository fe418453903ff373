// DIMSE service user (SCU) on an association: C-ECHO, C-FIND, C-MOVE, C-STORE (PS3.7 §9.1, PS3.4
// Annexes A, B, C). Responses are matched to requests by Message ID Being Responded To.

import createDebug from 'debug';
import { decodeDataset, dumpDataset, encodeDataset, type Dataset } from '../dicom/index.js';
import { parseSpecificCharacterSet } from '../dicom/charset.js';
import { SopClassUid, transferSyntaxOf } from '../dicom/uids.js';
import { DimseError, ErrorCode, isDicomError, type DicomError } from '../errors.js';
import { openAssociation, type Association, type OpenOptions } from './association.js';
import { decodeCommand, describeMessage, encodeCommand, getFailedSopInstanceUidList, type DimseMessage } from './dimse.js';
import type { ProposedContext } from './negotiate.js';
import type { PDataMessage } from './pdv.js';
import { formatStatus, statusClass } from './status.js';

const log = createDebug('qrscu:dimse');
const logDataset = createDebug('qrscu:dataset');

/** The identifier as dcmdump prints it, for the qrscu:dataset trace. */
function traceDataset(direction: string, peer: string, ds: Dataset): void {
  if (logDataset.enabled) logDataset('%s %s identifier:\n%s', direction, peer, dumpDataset(ds).map((l) => `  ${l}`).join('\n'));
}

export type QueryModel = 'study' | 'patient';

export const FIND_SOP_CLASS: Readonly<Record<QueryModel, string>> = {
  study: SopClassUid.StudyRootQueryRetrieveFind,
  patient: SopClassUid.PatientRootQueryRetrieveFind,
};
export const MOVE_SOP_CLASS: Readonly<Record<QueryModel, string>> = {
  study: SopClassUid.StudyRootQueryRetrieveMove,
  patient: SopClassUid.PatientRootQueryRetrieveMove,
};

/** The contexts a Q/R client proposes: Verification, and FIND and MOVE of both information models. */
export const QUERY_RETRIEVE_CONTEXTS: readonly ProposedContext[] = [
  { abstractSyntax: SopClassUid.Verification },
  { abstractSyntax: SopClassUid.StudyRootQueryRetrieveFind },
  { abstractSyntax: SopClassUid.StudyRootQueryRetrieveMove },
  { abstractSyntax: SopClassUid.PatientRootQueryRetrieveFind },
  { abstractSyntax: SopClassUid.PatientRootQueryRetrieveMove },
];

export interface ClientOptions extends Omit<OpenOptions, 'contexts' | 'callingAeTitle' | 'calledAeTitle'> {
  readonly callingAeTitle?: string;
  readonly calledAeTitle?: string;
  readonly contexts?: readonly ProposedContext[];
  /** How long to wait for each response (restarted by every pending response), ms. Default 60 s. */
  readonly dimseTimeoutMs?: number;
  /** How long a C-CANCEL waits for the final response before A-ABORT, ms. Default 5 s. */
  readonly cancelTimeoutMs?: number;
  /**
   * Specific Character Set assumed for C-FIND matches that name none (a PACS that sends Latin-1
   * without saying so), e.g. "ISO_IR 100". Default: the default repertoire.
   */
  readonly fallbackCharacterSet?: string;
}

/** The final response of a request. */
export interface FinalStatus {
  readonly status: number;
  readonly errorComment?: string;
  readonly offendingElement?: readonly number[];
  /** For failure statuses: the status as an error, to throw or report. */
  readonly error?: DimseError;
}

export interface SubOperations {
  readonly remaining?: number;
  readonly completed?: number;
  readonly failed?: number;
  readonly warning?: number;
}

export interface MoveResult extends FinalStatus {
  readonly subOperations: SubOperations;
  /** Failed SOP Instance UID List (0008,0058) of the final response's identifier. */
  readonly failedSopInstanceUids: readonly string[];
  readonly pendingResponses: number;
  readonly elapsedMs: number;
}

/** A C-FIND in progress: iterate the matches as they arrive; `final` is set when the iteration ends. */
export interface FindOperation extends AsyncIterable<Dataset> {
  readonly messageId: number;
  final: FinalStatus | undefined;
  /** C-CANCEL: the remaining matches are dropped; waits (bounded) for the final response. */
  cancel(): Promise<void>;
}

interface Pending {
  readonly messageId: number;
  readonly type: string;
  onResponse(rsp: DimseMessage, dataset: Buffer | undefined, transferSyntax: string): void;
  onError(error: DicomError): void;
  timer: NodeJS.Timeout | undefined;
}

export interface Client {
  readonly association: Association;
  echo(): Promise<FinalStatus & { elapsedMs: number }>;
  find(identifier: Dataset, options?: { model?: QueryModel; priority?: number }): FindOperation;
  move(identifier: Dataset, options: { destination: string; model?: QueryModel; priority?: number; onPending?: (s: SubOperations) => void }): Promise<MoveResult>;
  /**
   * C-STORE one object: `dataset` is its encoded data set in `transferSyntax`, which must be the
   * syntax accepted for its SOP class (see `association.contexts`). Resolves with the final status.
   */
  store(object: { sopClassUid: string; sopInstanceUid: string; dataset: Buffer; transferSyntax?: string; moveOriginatorAeTitle?: string; moveOriginatorMessageId?: number; priority?: number }): Promise<FinalStatus & { elapsedMs: number }>;
  /** A-RELEASE (waits for outstanding requests first is the caller's job). */
  release(): Promise<void>;
  abort(): void;
}

/**
 * Open an association to a Q/R SCP.
 * @throws AssociationError (connect, reject, abort, timeouts)
 */
export async function connect(options: ClientOptions): Promise<Client> {
  const pending = new Map<number, Pending>();
  const dimseTimeoutMs = options.dimseTimeoutMs ?? 60_000;
  const cancelTimeoutMs = options.cancelTimeoutMs ?? 5_000;
  const decodeOptions = options.fallbackCharacterSet ? { characterSet: parseSpecificCharacterSet(options.fallbackCharacterSet.split('\\')) } : {};
  let nextMessageId = 1;
  let association: Association;

  const failAll = (error: DicomError): void => {
    for (const p of pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.onError(error);
    }
    pending.clear();
  };

  const onMessage = (m: PDataMessage, a: Association): void => {
    const rsp = decodeCommand(m.command);
    const id = 'messageIdBeingRespondedTo' in rsp ? rsp.messageIdBeingRespondedTo : undefined;
    const p = id === undefined ? undefined : pending.get(id);
    if (!p) {
      log('%s: %s for no outstanding request: ignored', a.calledAeTitle, describeMessage(rsp));
      return;
    }
    const ts = a.contexts.find((c) => c.id === m.contextId)?.transferSyntax ?? '1.2.840.10008.1.2';
    p.onResponse(rsp, m.dataset, ts);
  };

  association = await openAssociation(
    {
      ...options,
      callingAeTitle: options.callingAeTitle ?? 'QRSCU',
      calledAeTitle: options.calledAeTitle ?? 'ANY-SCP',
      contexts: options.contexts ?? QUERY_RETRIEVE_CONTEXTS,
    },
    {
      onMessage,
      onEnd: (end) => failAll(end.error ?? new DimseError(ErrorCode.AssocClosed, 'association released with requests outstanding')),
    },
  );

  const contextFor = (abstractSyntax: string): { id: number; transferSyntax: string } => {
    const c = association.contexts.find((x) => x.abstractSyntax === abstractSyntax);
    if (!c) throw new DimseError(ErrorCode.NoPresentationContext, `${association.calledAeTitle} accepted no presentation context for ${abstractSyntax}`);
    return c;
  };

  function armTimer(p: Pending): void {
    if (p.timer) {
      p.timer.refresh();
      return;
    }
    p.timer = setTimeout(() => {
      pending.delete(p.messageId);
      const error = new DimseError(ErrorCode.DimseTimeout, `no response to ${p.type} (message ${p.messageId}) within ${dimseTimeoutMs} ms`);
      p.onError(error);
      association.abort(error);
    }, dimseTimeoutMs);
  }

  function register(p: Omit<Pending, 'timer'>): Pending {
    const entry: Pending = { ...p, timer: undefined };
    pending.set(p.messageId, entry);
    armTimer(entry);
    return entry;
  }

  function settle(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    pending.delete(p.messageId);
  }

  function finalOf(rsp: DimseMessage): FinalStatus {
    const status = 'status' in rsp ? rsp.status : 0xffff;
    const cls = statusClass(status);
    const errorComment = 'errorComment' in rsp ? rsp.errorComment : undefined;
    const offendingElement = 'offendingElement' in rsp ? rsp.offendingElement : undefined;
    const out: { status: number; errorComment?: string; offendingElement?: readonly number[]; error?: DimseError } = { status };
    if (errorComment) out.errorComment = errorComment;
    if (offendingElement) out.offendingElement = offendingElement;
    if (cls === 'failure') {
      out.error = new DimseError(ErrorCode.DimseStatus, `${rsp.type} ${formatStatus(status)}${errorComment ? `: ${errorComment}` : ''}${offendingElement?.length ? ` (offending ${offendingElement.map((t) => t.toString(16).padStart(8, '0')).join(', ')})` : ''}`);
    }
    return out;
  }

  const client: Client = {
    association,

    echo() {
      const ctx = contextFor(SopClassUid.Verification);
      const messageId = nextMessageId++;
      const started = performance.now();
      return new Promise((resolve, reject) => {
        const p = register({
          messageId, type: 'C-ECHO-RQ',
          onResponse: (rsp) => {
            settle(p);
            if (log.enabled) log('%s: recv %s (%s ms)', association.calledAeTitle, describeMessage(rsp), (performance.now() - started).toFixed(2));
            resolve({ ...finalOf(rsp), elapsedMs: performance.now() - started });
          },
          onError: reject,
        });
        const rq: DimseMessage = { type: 'C-ECHO-RQ', messageId, affectedSopClassUid: SopClassUid.Verification, hasDataset: false };
        if (log.enabled) log('%s: send %s ctx=%d', association.calledAeTitle, describeMessage(rq), ctx.id);
        association.send(ctx.id, encodeCommand(rq));
      });
    },

    find(identifier, options = {}) {
      const sopClass = FIND_SOP_CLASS[options.model ?? 'study'];
      const ctx = contextFor(sopClass);
      const messageId = nextMessageId++;
      const started = performance.now();
      // Matches wait here, still encoded, until the consumer takes them (decoded in next(), so a
      // burst of responses costs its bytes only); past HIGH_WATER the socket is paused.
      const queue: Buffer[] = [];
      const syntax = transferSyntaxOf(ctx.transferSyntax);
      const HIGH_WATER = 256;
      let paused = false;
      let done = false;
      let failure: DicomError | undefined;
      // Everyone waiting for the next event: the iterator's next() and a concurrent cancel() may both wait.
      const waiters: Array<() => void> = [];
      let cancelled = false;
      let responses = 0;
      const notify = (): void => {
        for (const w of waiters.splice(0)) w();
      };
      const op: FindOperation = {
        messageId,
        final: undefined,
        async cancel() {
          // The consumer wants no more matches, even those that arrived before the final response.
          queue.length = 0;
          if (done || cancelled) return;
          cancelled = true;
          if (paused) { paused = false; association.resumeReading(); }
          const rq: DimseMessage = { type: 'C-CANCEL-RQ', messageIdBeingRespondedTo: messageId };
          if (log.enabled) log('%s: send %s', association.calledAeTitle, describeMessage(rq));
          association.send(ctx.id, encodeCommand(rq));
          const bounded = setTimeout(() => {
            if (!done) association.abort(new DimseError(ErrorCode.DimseTimeout, `no final C-FIND-RSP within ${cancelTimeoutMs} ms of C-CANCEL`));
          }, cancelTimeoutMs);
          while (!done) await new Promise<void>((r) => { waiters.push(r); });
          clearTimeout(bounded);
        },
        [Symbol.asyncIterator]() {
          return {
            async next(): Promise<IteratorResult<Dataset>> {
              for (;;) {
                const bytes = queue.shift();
                if (bytes) {
                  if (paused && queue.length < HIGH_WATER / 2) { paused = false; association.resumeReading(); }
                  let match: Dataset;
                  try {
                    match = decodeDataset(bytes, syntax, decodeOptions);
                  } catch (e) {
                    // A match we cannot decode ends the query: the association state is unknown.
                    failure = isDicomError(e) ? e : new DimseError(ErrorCode.DimseInvalid, String(e));
                    queue.length = 0;
                    if (!done) { settle(p); done = true; association.abort(failure); }
                    throw failure;
                  }
                  traceDataset('recv', association.calledAeTitle, match);
                  return { value: match, done: false };
                }
                if (failure) throw failure;
                if (done) return { value: undefined, done: true };
                await new Promise<void>((r) => { waiters.push(r); });
              }
            },
            async return(): Promise<IteratorResult<Dataset>> {
              if (!done) await op.cancel();
              return { value: undefined, done: true };
            },
          };
        },
      };
      const p = register({
        messageId, type: 'C-FIND-RQ',
        onResponse: (rsp, dataset) => {
          const status = 'status' in rsp ? rsp.status : 0xffff;
          if (statusClass(status) === 'pending') {
            responses++;
            armTimer(p);
            if (log.enabled) log('%s: recv %s', association.calledAeTitle, describeMessage(rsp));
            if (cancelled || !dataset) return;
            queue.push(dataset);
            if (!paused && queue.length >= HIGH_WATER) { paused = true; association.pauseReading(); }
            notify();
            return;
          }
          settle(p);
          op.final = finalOf(rsp);
          if (log.enabled) log('%s: recv %s after %d matches, %s ms', association.calledAeTitle, describeMessage(rsp), responses, (performance.now() - started).toFixed(1));
          done = true;
          if (paused) { paused = false; association.resumeReading(); }
          notify();
        },
        onError: (error) => {
          failure = error;
          done = true;
          notify();
        },
      });
      const rq: DimseMessage = { type: 'C-FIND-RQ', messageId, affectedSopClassUid: sopClass, priority: options.priority ?? 0, hasDataset: true };
      if (log.enabled) log('%s: send %s ctx=%d', association.calledAeTitle, describeMessage(rq), ctx.id);
      traceDataset('send', association.calledAeTitle, identifier);
      association.send(ctx.id, encodeCommand(rq), encodeDataset(identifier, transferSyntaxOf(ctx.transferSyntax)));
      return op;
    },

    move(identifier, options) {
      const sopClass = MOVE_SOP_CLASS[options.model ?? 'study'];
      const ctx = contextFor(sopClass);
      const messageId = nextMessageId++;
      const started = performance.now();
      let pendingResponses = 0;
      let last: SubOperations = {};
      return new Promise((resolve, reject) => {
        const p = register({
          messageId, type: 'C-MOVE-RQ',
          onResponse: (rsp, dataset, ts) => {
            if (rsp.type !== 'C-MOVE-RSP') return;
            last = subOperationsOf(rsp);
            if (log.enabled) log('%s: recv %s', association.calledAeTitle, describeMessage(rsp));
            if (statusClass(rsp.status) === 'pending') {
              pendingResponses++;
              armTimer(p);
              options.onPending?.(last);
              return;
            }
            settle(p);
            let failedSopInstanceUids: string[] = [];
            if (dataset && dataset.length > 0) {
              try {
                failedSopInstanceUids = getFailedSopInstanceUidList(decodeDataset(dataset, transferSyntaxOf(ts)));
              } catch {
                failedSopInstanceUids = [];
              }
            }
            resolve({ ...finalOf(rsp), subOperations: last, failedSopInstanceUids, pendingResponses, elapsedMs: performance.now() - started });
          },
          onError: reject,
        });
        const rq: DimseMessage = { type: 'C-MOVE-RQ', messageId, affectedSopClassUid: sopClass, priority: options.priority ?? 0, moveDestination: options.destination, hasDataset: true };
        if (log.enabled) log('%s: send %s ctx=%d', association.calledAeTitle, describeMessage(rq), ctx.id);
        traceDataset('send', association.calledAeTitle, identifier);
        association.send(ctx.id, encodeCommand(rq), encodeDataset(identifier, transferSyntaxOf(ctx.transferSyntax)));
      });
    },

    store(object) {
      const c = association.contexts.find((x) => x.abstractSyntax === object.sopClassUid && (object.transferSyntax === undefined || x.transferSyntax === object.transferSyntax));
      if (!c) {
        return Promise.reject(new DimseError(ErrorCode.NoPresentationContext, `${association.calledAeTitle} accepted no context for ${object.sopClassUid}${object.transferSyntax ? ` in ${object.transferSyntax}` : ''}`));
      }
      const messageId = nextMessageId++;
      const started = performance.now();
      return new Promise((resolve, reject) => {
        const p = register({
          messageId, type: 'C-STORE-RQ',
          onResponse: (rsp) => {
            settle(p);
            if (log.enabled) log('%s: recv %s', association.calledAeTitle, describeMessage(rsp));
            resolve({ ...finalOf(rsp), elapsedMs: performance.now() - started });
          },
          onError: reject,
        });
        const rq: DimseMessage = {
          type: 'C-STORE-RQ', messageId, affectedSopClassUid: object.sopClassUid, affectedSopInstanceUid: object.sopInstanceUid,
          priority: object.priority ?? 0, hasDataset: true,
          ...(object.moveOriginatorAeTitle ? { moveOriginatorApplicationEntityTitle: object.moveOriginatorAeTitle } : {}),
          ...(object.moveOriginatorMessageId !== undefined ? { moveOriginatorMessageId: object.moveOriginatorMessageId } : {}),
        };
        if (log.enabled) log('%s: send %s ctx=%d (%d bytes)', association.calledAeTitle, describeMessage(rq), c.id, object.dataset.length);
        association.send(c.id, encodeCommand(rq), object.dataset);
      });
    },

    async release() {
      const end = await association.release();
      if (end.how !== 'released' && end.error) throw end.error;
    },

    abort() {
      association.abort();
    },
  };
  return client;
}

function subOperationsOf(rsp: Extract<DimseMessage, { type: 'C-MOVE-RSP' }>): SubOperations {
  const s: { remaining?: number; completed?: number; failed?: number; warning?: number } = {};
  if (rsp.numberOfRemainingSuboperations !== undefined) s.remaining = rsp.numberOfRemainingSuboperations;
  if (rsp.numberOfCompletedSuboperations !== undefined) s.completed = rsp.numberOfCompletedSuboperations;
  if (rsp.numberOfFailedSuboperations !== undefined) s.failed = rsp.numberOfFailedSuboperations;
  if (rsp.numberOfWarningSuboperations !== undefined) s.warning = rsp.numberOfWarningSuboperations;
  return s;
}

