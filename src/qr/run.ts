// One run of `qrscu <qr> <store>`: echo both nodes, query, select with the rules, retrieve into the
// store node, and account for what arrived. No CLI, no database: the caller passes the nodes, the
// rules, the index of held objects and callbacks, and stores the report it gets back.

import createDebug from 'debug';
import { AssociationError, ErrorCode, isDicomError } from '../errors.js';
import { connect } from '../net/client.js';
import { createPool, type Pool } from '../net/pool.js';
import type { Server } from '../net/server.js';
import { formatStatus, statusClass } from '../net/status.js';
import { startStoreScp, type StoredObject } from '../net/store-scp.js';
import { select, studyQueryCodes, type RuleSet } from '../rules/index.js';
import type { HeldObjects, PlannedMove, SelectionOptions, SelectionResult, StudyQueryOutcome } from '../rules/model.js';
import { dateKeys } from './identifiers.js';
import { clientOptionsFor, type QrNodeConfig, type StoreNodeConfig } from './nodes.js';
import { createQuerySession } from './query.js';
import { retrieve, type MoveRecord } from './retrieve.js';

const log = createDebug('qrscu:run');

/** What the user asked for, as the CLI (or the web form) parsed it. Dates YYYY-MM-DD, times HHMM. */
export interface RunParameters {
  readonly groups: readonly string[];
  readonly dateFrom?: string;
  readonly dateUntil?: string;
  readonly singleDate?: string;
  readonly timeFrom?: string;
  readonly timeUntil?: string;
  /** No date limit at all (otherwise no date options mean yesterday to today, §9 Q16). */
  readonly allDates?: boolean;
  readonly selection: Omit<SelectionOptions, 'groups'>;
  /** Query and select only: the retrieve plan is the result. */
  readonly dryRun?: boolean;
}

export type RunStage = 'echo' | 'query' | 'select' | 'retrieve' | 'done';

export interface RunEvents {
  stage?(stage: RunStage, detail: string): void;
  warning?(message: string): void;
  find?(level: 'STUDY' | 'SERIES' | 'IMAGE', subject: string, matches: number): void;
  moveStarted?(move: PlannedMove, index: number, total: number): void;
  moveDone?(record: MoveRecord, index: number, total: number): void;
  stored?(object: StoredObject): void;
}

export interface RunContext {
  readonly qr: QrNodeConfig;
  readonly store: StoreNodeConfig;
  readonly rules: RuleSet;
  readonly held?: HeldObjects;
  readonly events?: RunEvents;
  /** The clock (tests pin it). */
  readonly now?: Date;
  /** How long to wait after the last move for objects still on their way (ms, default 10 s). */
  readonly arrivalGraceMs?: number;
}

export interface RunSummary {
  readonly studiesFound: number;
  readonly studiesKept: number;
  readonly seriesKept: number;
  readonly movesPlanned: number;
  readonly movesSucceeded: number;
  readonly movesPartial: number;
  readonly movesFailed: number;
  readonly movesSkipped: number;
  /** Instances the plan expected, where the PACS gave counts; null when some count is unknown. */
  readonly instancesExpected: number | null;
  readonly subOperationsCompleted: number;
  readonly subOperationsFailed: number;
  readonly subOperationsWarning: number;
  /** Moves whose final response carried no counts (§9 Q12). */
  readonly countsUnknown: number;
  /** Objects our store node received during the run (null: an external store node). */
  readonly arrived: number | null;
  readonly warnings: number;
}

export interface RunReport {
  readonly parameters: RunParameters;
  readonly studyDate: string;
  readonly studyTime: string;
  readonly codes: readonly string[];
  readonly outcome: StudyQueryOutcome;
  readonly selection: SelectionResult;
  readonly moves: readonly MoveRecord[];
  readonly arrived: readonly StoredObject[];
  readonly warnings: readonly string[];
  readonly timings: Readonly<Record<'echo' | 'query' | 'retrieve' | 'total', number>>;
  readonly queryCounts: { readonly study: number; readonly series: number; readonly image: number; readonly retries: number };
  readonly summary: RunSummary;
  /** true when everything requested arrived (or, dry run, when the query completed). */
  readonly complete: boolean;
}

/**
 * C-ECHO a node. @throws AssociationError saying which node and why (exit code: network).
 */
export async function echoNode(role: 'QR' | 'store', node: { id: string; aeTitle: string; host: string; port: number; callingAeTitle?: string; connectTimeoutMs?: number }): Promise<number> {
  const started = performance.now();
  try {
    const c = await connect({
      host: node.host, port: node.port, calledAeTitle: node.aeTitle, callingAeTitle: node.callingAeTitle ?? 'QRSCU',
      connectTimeoutMs: node.connectTimeoutMs ?? 10_000, dimseTimeoutMs: 30_000,
    });
    try {
      const r = await c.echo();
      if (statusClass(r.status) !== 'success') throw new AssociationError(ErrorCode.DimseStatus, `${role} node '${node.id}' answered C-ECHO with ${formatStatus(r.status, 'C-ECHO')}`);
    } finally {
      if (c.association.state() === 'Sta6') await c.release().catch(() => undefined);
    }
  } catch (e) {
    if (isDicomError(e) && !(e instanceof AssociationError && e.message.startsWith(`${role} node`))) {
      throw new AssociationError(e.code, `${role} node '${node.id}' (${node.aeTitle}@${node.host}:${node.port}) is not ready: ${e.message}`, { cause: e });
    }
    throw e;
  }
  return performance.now() - started;
}

/** Start our own store SCP for the run, unless one already listens there (then it is echoed and used). */
async function startOwnStore(store: StoreNodeConfig, onStored: (o: StoredObject) => void): Promise<Server | undefined> {
  if (!store.directory) throw new AssociationError(ErrorCode.ConfigInvalid, `store node '${store.id}' has no storage folder`);
  try {
    return await startStoreScp({
      aeTitle: store.aeTitle, host: store.host, port: store.port, directory: store.directory,
      ...(store.allowedCallingAeTitles?.length ? { allowedCallingAeTitles: store.allowedCallingAeTitles } : {}),
      onStored,
    });
  } catch (e) {
    if (!/EADDRINUSE/.test(String((e as Error)?.message) + String((e as { cause?: Error })?.cause?.message))) throw e;
    log('store port %d is taken: is a store node already running there?', store.port);
    try {
      await echoNode('store', store);
    } catch (echoError) {
      throw new AssociationError(ErrorCode.ConnectFailed, `store node '${store.id}': port ${store.port} on ${store.host} is taken by something that does not answer C-ECHO as ${store.aeTitle}; stop it or change the store node's port`, { cause: echoError });
    }
    return undefined;
  }
}

/**
 * Wait for the objects still on their way after the last C-MOVE response. When every move reported
 * its sub-operation counts, the PACS has had our C-STORE response for each completed one, so they
 * have all arrived already: nothing to wait for, and a store association the PACS keeps open for
 * reuse (Orthanc keeps them 5 s) is not waited for. Without counts (§9 Q12) the end of the PACS's
 * store associations is the only sign, bounded by `graceMs`. Returns how long closing may wait.
 */
async function waitForArrivals(server: Server, arrived: () => number, moves: readonly MoveRecord[], graceMs: number): Promise<number> {
  const counted = moves.every((m) => m.outcome === 'skipped' || m.completed !== null || m.status === null);
  const expected = moves.reduce((n, m) => n + (m.completed ?? 0), 0);
  const deadline = performance.now() + graceMs;
  while (performance.now() < deadline && (arrived() < expected || (!counted && server.associations() > 0))) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return counted ? 20 : 2000;
}

/**
 * Echo both nodes first (behaviour reference §1 step 8). With `retrieve`, our own store node is
 * started for the run when it is not running (then it needs no echo), else the store node is echoed.
 */
async function readyNodes(ctx: Pick<RunContext, 'qr' | 'store' | 'events'>, retrieve: boolean): Promise<{ server: Server | undefined; arrived: StoredObject[] }> {
  const ev = ctx.events ?? {};
  ev.stage?.('echo', `C-ECHO ${ctx.qr.aeTitle}@${ctx.qr.host}:${ctx.qr.port} and ${ctx.store.aeTitle}@${ctx.store.host}:${ctx.store.port}`);
  await echoNode('QR', ctx.qr);
  const arrived: StoredObject[] = [];
  if (!retrieve) return { server: undefined, arrived };
  const server = ctx.store.own ? await startOwnStore(ctx.store, (o) => { arrived.push(o); ev.stored?.(o); }) : undefined;
  if (server) log('store node %s listening on %s:%d', ctx.store.aeTitle, ctx.store.host, server.port);
  else await echoNode('store', ctx.store);
  return { server, arrived };
}

/** The retrieve stage: every planned move over `pool`, with the run's events. */
async function makeMoves(planned: readonly PlannedMove[], ctx: Pick<RunContext, 'qr' | 'store' | 'events'>, pool: Pool, warn: (m: string) => void): Promise<MoveRecord[]> {
  if (planned.length === 0) return [];
  const ev = ctx.events ?? {};
  ev.stage?.('retrieve', `${planned.length} C-MOVEs to ${ctx.store.aeTitle}`);
  return retrieve(planned, {
    node: ctx.qr, destination: ctx.store.aeTitle, pool,
    events: {
      warning: warn,
      moveStarted: (m, i) => ev.moveStarted?.(m, i, planned.length),
      moveDone: (r, i) => ev.moveDone?.(r, i, planned.length),
    },
  });
}

export async function runQueryRetrieve(p: RunParameters, ctx: RunContext): Promise<RunReport> {
  const ev = ctx.events ?? {};
  const now = ctx.now ?? new Date();
  const warnings: string[] = [];
  const warn = (m: string) => { warnings.push(m); ev.warning?.(m); };
  const t0 = performance.now();
  const { studyDate, studyTime } = dateKeys(p, now);
  const codes = studyQueryCodes(ctx.rules, p.groups);

  const { server, arrived } = await readyNodes(ctx, !p.dryRun);
  let closeGraceMs = 2000;
  try {
    const tEcho = performance.now();

    // Query and select.
    ev.stage?.('query', `study C-FINDs for ${codes.join(', ')}; StudyDate ${studyDate || '(any)'}${studyTime ? `, StudyTime ${studyTime}` : ''}`);
    const pool = createPool(clientOptionsFor(ctx.qr), ctx.qr.maxAssociations);
    const session = createQuerySession(ctx.qr, { warning: warn, ...(ev.find ? { find: ev.find } : {}) }, pool);
    let selection: SelectionResult;
    let outcome: StudyQueryOutcome;
    try {
      const stage = await session.studyStage(codes, { studyDate, studyTime });
      outcome = stage.outcome;
      ev.stage?.('select', `${stage.studies.length} study responses; series and image queries as the rules need`);
      selection = await select(ctx.rules, {
        studies: stage.studies, outcome,
        options: { ...p.selection, groups: p.groups },
        port: session.port,
        concurrency: ctx.qr.maxAssociations,
        ...(ctx.held && p.selection.removeDuplicates ? { held: ctx.held } : {}),
      });
      for (const w of selection.warnings) warn(w);
    } catch (e) {
      await session.close().catch(() => undefined);
      throw e;
    }
    const queryCounts = session.counts();
    const tQuery = performance.now();

    // Retrieve, reusing the query associations.
    const moves = p.dryRun ? [] : await makeMoves(selection.moves, ctx, pool, warn);
    await session.close();
    if (server) closeGraceMs = await waitForArrivals(server, () => arrived.length, moves, ctx.arrivalGraceMs ?? 10_000);
    const tEnd = performance.now();

    const summary = summarise(selection, moves, server ? arrived.length : null, warnings.length);
    const complete = p.dryRun ? true : isComplete(summary);
    ev.stage?.('done', complete ? 'complete' : 'incomplete');
    return {
      parameters: p, studyDate, studyTime, codes, outcome, selection, moves, arrived, warnings,
      timings: { echo: tEcho - t0, query: tQuery - tEcho, retrieve: tEnd - tQuery, total: tEnd - t0 },
      queryCounts: { study: queryCounts.study, series: queryCounts.series, image: queryCounts.image, retries: queryCounts.retries },
      summary, complete,
    };
  } finally {
    await server?.close(closeGraceMs);
  }
}

/** Everything requested arrived: no failed, partial or skipped move, no failed sub-operation, nothing lost on the way. */
export function isComplete(s: RunSummary): boolean {
  return s.movesFailed === 0 && s.movesPartial === 0 && s.movesSkipped === 0 && s.subOperationsFailed === 0
    && (s.arrived === null || s.arrived >= s.subOperationsCompleted);
}

export interface RetrieveReport {
  readonly moves: readonly MoveRecord[];
  readonly arrived: readonly StoredObject[];
  readonly warnings: readonly string[];
  readonly summary: RunSummary;
  readonly complete: boolean;
  readonly elapsedMs: number;
}

/**
 * The retrieve of a selection made earlier (the web page's Retrieve button, after a query-only run):
 * echo the QR node, start our store node when needed, make the planned moves, wait for arrivals.
 */
export async function retrieveSelection(selection: SelectionResult, ctx: Omit<RunContext, 'rules' | 'held'>): Promise<RetrieveReport> {
  const ev = ctx.events ?? {};
  const warnings: string[] = [];
  const warn = (m: string) => { warnings.push(m); ev.warning?.(m); };
  const t0 = performance.now();
  const { server, arrived } = await readyNodes(ctx, true);
  let closeGraceMs = 2000;
  try {
    const pool = createPool(clientOptionsFor(ctx.qr), ctx.qr.maxAssociations);
    let moves: MoveRecord[];
    try {
      moves = await makeMoves(selection.moves, ctx, pool, warn);
    } finally {
      await pool.close();
    }
    if (server) closeGraceMs = await waitForArrivals(server, () => arrived.length, moves, ctx.arrivalGraceMs ?? 10_000);
    const summary = summarise(selection, moves, server ? arrived.length : null, warnings.length);
    const complete = isComplete(summary);
    ev.stage?.('done', complete ? 'complete' : 'incomplete');
    return { moves, arrived, warnings, summary, complete, elapsedMs: performance.now() - t0 };
  } finally {
    await server?.close(closeGraceMs);
  }
}

export function summarise(selection: SelectionResult, moves: readonly MoveRecord[], arrived: number | null, warnings: number): RunSummary {
  const kept = selection.studies.filter((s) => s.kept);
  let expected: number | null = 0;
  for (const m of selection.moves) expected = expected === null || m.expectedInstances === null ? null : expected + m.expectedInstances;
  const count = (o: MoveRecord['outcome']) => moves.filter((m) => m.outcome === o).length;
  return {
    studiesFound: new Set(selection.studies.map((s) => s.response.studyInstanceUid)).size,
    studiesKept: new Set(kept.map((s) => s.response.studyInstanceUid)).size,
    seriesKept: kept.reduce((n, s) => n + s.series.filter((x) => x.kept).length, 0),
    movesPlanned: selection.moves.length,
    movesSucceeded: count('success'),
    movesPartial: count('warning'),
    movesFailed: count('failed'),
    movesSkipped: count('skipped'),
    instancesExpected: expected,
    subOperationsCompleted: moves.reduce((n, m) => n + (m.completed ?? 0), 0),
    subOperationsFailed: moves.reduce((n, m) => n + (m.failed ?? 0), 0),
    subOperationsWarning: moves.reduce((n, m) => n + (m.warning ?? 0), 0),
    countsUnknown: moves.filter((m) => (m.outcome === 'success' || m.outcome === 'warning') && m.completed === null).length,
    arrived,
    warnings,
  };
}
