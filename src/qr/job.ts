// A query job and a retrieve job against the database of a qrscu home: the query record, the log
// file, the held index and the node settings around src/qr/run.ts. The CLI's run (`qrscu <qr>
// <store>`) and the web page's jobs (`qrscu serve`) both run through here.

import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Database, MoveRecord as DbMoveRecord, QrNode, QueryView, StoreNode } from '../db/index.js';
import { ConfigError, ErrorCode, isDicomError } from '../errors.js';
import type { PlannedMove, RuleSet, SelectionResult } from '../rules/index.js';
import type { StoredObject } from '../net/store-scp.js';
import type { QrNodeConfig, StoreNodeConfig } from './nodes.js';
import type { MoveRecord } from './retrieve.js';
import { retrieveSelection, runQueryRetrieve, type RetrieveReport, type RunEvents, type RunParameters, type RunReport, type RunSummary } from './run.js';

export function qrConfig(n: QrNode): QrNodeConfig {
  return {
    id: n.id, aeTitle: n.aeTitle, host: n.host, port: n.port, callingAeTitle: n.callingAeTitle, useModalityTag: n.useModalityTag,
    maxAssociations: n.maxAssociations, connectTimeoutMs: n.connectTimeoutMs, dimseTimeoutMs: n.dimseTimeoutMs, maxPduLength: n.maxPduLength,
  };
}

export function storeConfig(n: StoreNode): StoreNodeConfig {
  return { id: n.id, aeTitle: n.aeTitle, host: n.host, port: n.port, own: n.own, directory: n.directory, allowedCallingAeTitles: n.allowedCallingAeTitles };
}

export interface RunLog {
  info(message: string): void;
  warn(message: string): void;
}

/** The log file of a home (OpenREM's openrem_qr.log): one line per event, no patient names or IDs. */
export function createRunLog(home: string, queryId: string): RunLog {
  const file = path.join(home, 'qrscu.log');
  const tag = queryId.slice(0, 8);
  const write = (level: string, m: string) => {
    try {
      appendFileSync(file, `${new Date().toISOString()} ${level} [${tag}] ${m}\n`);
    } catch {
      // A log that cannot be written must not stop a retrieve.
    }
  };
  return { info: (m) => write('INFO', m), warn: (m) => write('WARNING', m) };
}

/** Rules: rulesDir (--rules), else <home>/rules when it exists, over the built-in files. */
export async function loadRules(home: string, rulesDir: string | undefined): Promise<RuleSet> {
  const { loadRuleSet } = await import('../rules/index.js');
  const siteDir = path.join(home, 'rules');
  const dir = rulesDir ?? (existsSync(siteDir) ? siteDir : undefined);
  return loadRuleSet(dir ? { rulesDir: dir } : {});
}

export function dbMove(r: MoveRecord, arrived: number | undefined): DbMoveRecord {
  const m = r.move;
  return {
    studyInstanceUid: m.studyInstanceUid, seriesInstanceUid: m.seriesInstanceUid, level: m.level,
    ...(m.sopInstanceUid ? { sopInstanceUid: m.sopInstanceUid } : {}),
    expectedInstances: m.expectedInstances,
    status: r.outcome === 'skipped' ? 'pending' : r.outcome,
    ...(r.status !== null ? { dimseStatus: r.status } : {}),
    completed: r.completed, failed: r.failed, warning: r.warning,
    ...(arrived !== undefined ? { arrived } : {}),
    ...(r.failedSopInstanceUids.length ? { failedSopInstanceUids: r.failedSopInstanceUids } : {}),
    attempts: r.attempts,
    ...(r.error ? { error: r.error } : {}),
  };
}

function summaryRecord(r: RunReport): Record<string, number | null> {
  const s = r.summary;
  return { ...s, studyQueries: r.queryCounts.study, seriesQueries: r.queryCounts.series, imageQueries: r.queryCounts.image, retries: r.queryCounts.retries };
}

/** Objects that arrive go into the held index (with the query that brought them) and are counted per series. */
function heldRecorder(db: Database, queryId: string) {
  const arrivedBySeries = new Map<string, number>();
  let unindexed = 0;
  return {
    arrivedBySeries,
    get unindexed() {
      return unindexed;
    },
    stored(o: StoredObject): void {
      if (!o.studyInstanceUid || !o.seriesInstanceUid) {
        unindexed++;
        return;
      }
      arrivedBySeries.set(o.seriesInstanceUid, (arrivedBySeries.get(o.seriesInstanceUid) ?? 0) + 1);
      db.addHeld([{ studyInstanceUid: o.studyInstanceUid, seriesInstanceUid: o.seriesInstanceUid, sopInstanceUid: o.sopInstanceUid, sopClassUid: o.sopClassUid, file: o.path, queryId }]);
    },
  };
}

function errorEntry(e: unknown) {
  return { at: new Date().toISOString(), stage: 'run', message: (e as Error)?.message ?? String(e), ...(isDicomError(e) ? { code: e.code } : {}) };
}

export interface QueryJobOptions {
  readonly db: Database;
  readonly home: string;
  readonly rules: RuleSet;
  readonly qrId: string;
  readonly storeId: string;
  readonly params: RunParameters;
  /** The command line, for the record and the log (the web page passes a description of the form). */
  readonly argv: readonly string[];
  readonly events?: RunEvents;
  /** Called once the query record exists (the CLI's signal handler, the web page's job table). */
  readonly onCreated?: (queryId: string) => void;
  readonly now?: Date;
  readonly arrivalGraceMs?: number;
}

export interface QueryJobResult {
  readonly queryId: string;
  readonly report: RunReport;
  /** Objects that arrived but whose UIDs could not be read for the held index. */
  readonly unindexed: number;
}

/**
 * One run (`qrscu <qr> <store>`, or the web form's query) recorded in the database: a query record
 * (running → complete / failed), the log, the held index. A thrown error is recorded, then rethrown.
 */
export async function runQueryJob(o: QueryJobOptions): Promise<QueryJobResult> {
  const { db, params } = o;
  const qr = db.qrNode(o.qrId);
  const store = db.storeNode(o.storeId);
  const q = db.createQuery({
    parameters: {
      qrNodeId: qr.id, storeNodeId: store.id, argv: [...o.argv], ...(params.dryRun ? { dryRun: true } : {}),
      options: JSON.parse(JSON.stringify({ ...params, selection: params.selection })) as Record<string, never>,
    },
  });
  o.onCreated?.(q.id);
  const log = createRunLog(o.home, q.id);
  try {
    log.info(`qrscu ${o.argv.join(' ')}`);
    log.info(`QR node ${qr.id} ${qr.aeTitle}@${qr.host}:${qr.port} (calling ${qr.callingAeTitle}); store node ${store.id} ${store.aeTitle}@${store.host}:${store.port}${store.own ? ` (own, ${store.directory})` : ''}`);
    log.info(`groups ${params.groups.join(', ')}; include ${params.selection.descriptionInclude.join('|') || '-'}; exclude ${params.selection.descriptionExclude.join('|') || '-'}; station include ${params.selection.stationInclude.join('|') || '-'}; station exclude ${params.selection.stationExclude.join('|') || '-'}; flags ${Object.entries(params.selection.flags).filter(([, v]) => v).map(([k]) => k).join(',') || '-'}; duplicates ${params.selection.removeDuplicates ? 'removed' : 'retrieved again'}`);
    const ev = o.events ?? {};
    const held = heldRecorder(db, q.id);
    const report = await runQueryRetrieve(params, {
      qr: qrConfig(qr), store: storeConfig(store), rules: o.rules, held: db,
      ...(o.now ? { now: o.now } : {}),
      ...(o.arrivalGraceMs !== undefined ? { arrivalGraceMs: o.arrivalGraceMs } : {}),
      events: jobEvents(ev, log, held),
    });
    db.finishQuery(q.id, report.complete ? 'complete' : 'failed', {
      selection: report.selection,
      moves: report.moves.map((m) => dbMove(m, m.move.level === 'SERIES' ? held.arrivedBySeries.get(m.move.seriesInstanceUid) : undefined)),
      summary: summaryRecord(report),
      stages: [
        { stage: 'echo', startedAt: q.startedAt, durationMs: Math.round(report.timings.echo) },
        { stage: 'query', startedAt: q.startedAt, durationMs: Math.round(report.timings.query), count: report.selection.studies.length },
        ...(params.dryRun ? [] : [{ stage: 'retrieve', startedAt: q.startedAt, durationMs: Math.round(report.timings.retrieve), count: report.moves.length }]),
      ],
      errors: report.warnings.map((m) => ({ at: new Date().toISOString(), stage: 'run', message: m })),
    });
    return { queryId: q.id, report, unindexed: held.unindexed };
  } catch (e) {
    db.finishQuery(q.id, 'failed', { errors: [errorEntry(e)] });
    log.warn(`run failed: ${(e as Error).message}`);
    throw e;
  }
}

/** The caller's events, with every stage, warning and move also logged and every arrival indexed. */
function jobEvents(ev: RunEvents, log: RunLog, held: ReturnType<typeof heldRecorder>): RunEvents {
  return {
    ...ev,
    stage: (s, d) => { log.info(`${s}: ${d}`); ev.stage?.(s, d); },
    warning: (m) => { log.warn(m); ev.warning?.(m); },
    moveDone: (r, i, n) => { logMove(log, r, i, n); ev.moveDone?.(r, i, n); },
    stored: (obj) => { ev.stored?.(obj); held.stored(obj); },
  };
}

function logMove(log: RunLog, r: MoveRecord, i: number, n: number): void {
  log.info(`move ${i + 1}/${n} ${r.move.level} ${r.move.level === 'IMAGE' ? r.move.sopInstanceUid : r.move.seriesInstanceUid}: ${r.statusText}; completed ${r.completed ?? '?'}, failed ${r.failed ?? '?'}, warning ${r.warning ?? '?'}${r.attempts > 1 ? ' (retried)' : ''}`);
}

/** The planned moves whose objects are not all in the held index yet (what a resumed retrieve fetches). */
export function missingMoves(db: Pick<Database, 'heldStudy'>, moves: readonly PlannedMove[]): PlannedMove[] {
  return moves.filter((m) => {
    const series = db.heldStudy(m.studyInstanceUid)?.[m.seriesInstanceUid];
    if (!series) return true;
    if (m.level === 'IMAGE') return m.sopInstanceUid === undefined || !Object.hasOwn(series, m.sopInstanceUid);
    const held = Object.keys(series).length;
    return m.expectedInstances === null ? held === 0 : held < m.expectedInstances;
  });
}

export interface RetrieveJobOptions {
  readonly db: Database;
  readonly home: string;
  readonly queryId: string;
  /** Resume: move only what the held index does not hold yet. */
  readonly missingOnly?: boolean;
  readonly events?: RunEvents;
  readonly arrivalGraceMs?: number;
}

export interface RetrieveJobResult {
  readonly report: RetrieveReport;
  /** Planned moves left out because their objects are held already (resume). */
  readonly skippedHeld: number;
}

/** Whether a record's retrieve has been made (a retrieve stage is recorded). */
export function wasRetrieved(q: Pick<QueryView, 'stages'>): boolean {
  return q.stages.some((s) => s.stage === 'retrieve');
}

/**
 * The retrieve of a query made earlier (the web page's Retrieve button, and the resume of an
 * interrupted retrieve): the record's planned moves (minus held objects with `missingOnly`) to the
 * store node chosen when the query was submitted. The record goes running, then complete or failed.
 */
export async function runRetrieveJob(o: RetrieveJobOptions): Promise<RetrieveJobResult> {
  const { db } = o;
  const q = db.getQuery(o.queryId);
  if (!q) throw new ConfigError(ErrorCode.ConfigInvalid, `no query ${JSON.stringify(o.queryId)}`);
  if (!q.selection) throw new ConfigError(ErrorCode.Usage, `query ${q.id.slice(0, 8)} has no selection to retrieve (its query did not finish)`);
  if (q.status === 'running') throw new ConfigError(ErrorCode.Usage, `query ${q.id.slice(0, 8)} is running`);
  const qr = db.qrNode(q.parameters.qrNodeId);
  const store = db.storeNode(q.parameters.storeNodeId);
  const planned = o.missingOnly ? missingMoves(db, q.selection.moves) : [...q.selection.moves];
  const selection: SelectionResult = { ...q.selection, moves: planned };
  const log = createRunLog(o.home, q.id);
  const startedAt = new Date().toISOString();
  const errors = q.errors;
  db.updateQuery(q.id, { status: 'running' });
  await db.write();
  try {
    log.info(`retrieve${o.missingOnly ? ' (resume: only what is not held)' : ''}: ${planned.length} of ${q.selection.moves.length} planned moves to store node ${store.id} ${store.aeTitle}@${store.host}:${store.port}`);
    const ev = o.events ?? {};
    const held = heldRecorder(db, q.id);
    const report = await retrieveSelection(selection, {
      qr: qrConfig(qr), store: storeConfig(store),
      ...(o.arrivalGraceMs !== undefined ? { arrivalGraceMs: o.arrivalGraceMs } : {}),
      events: jobEvents(ev, log, held),
    });
    const summary: RunSummary = report.summary;
    db.finishQuery(q.id, report.complete ? 'complete' : 'failed', {
      moves: report.moves.map((m) => dbMove(m, m.move.level === 'SERIES' ? held.arrivedBySeries.get(m.move.seriesInstanceUid) : undefined)),
      summary: { ...q.summary, ...summary, movesPlanned: q.selection.moves.length, skippedHeld: q.selection.moves.length - planned.length },
      stages: [...q.stages, { stage: 'retrieve', startedAt, durationMs: Math.round(report.elapsedMs), count: report.moves.length }],
      errors: [...errors, ...report.warnings.map((m) => ({ at: new Date().toISOString(), stage: 'retrieve', message: m }))],
    });
    log.info(`retrieve ${report.complete ? 'complete' : 'incomplete'}: ${summary.subOperationsCompleted} completed, ${summary.subOperationsFailed} failed, ${summary.arrived ?? '?'} arrived`);
    return { report, skippedHeld: q.selection.moves.length - planned.length };
  } catch (e) {
    db.finishQuery(q.id, 'failed', { errors: [...errors, { ...errorEntry(e), stage: 'retrieve' }] });
    log.warn(`retrieve failed: ${(e as Error).message}`);
    throw e;
  }
}
