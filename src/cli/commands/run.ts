// `qrscu <qr_id> <store_id> -ct -mg …`: the cron job. Nodes and history from the database of the
// qrscu home, rules from rules/ (and --rules), the run itself in src/qr; this module wires them,
// prints progress and the summary, writes the log and picks the exit code.

import { appendFileSync } from 'node:fs';
import path from 'node:path';
import type { Database, MoveRecord as DbMoveRecord, QrNode, StoreNode } from '../../db/index.js';
import { ConfigError, ErrorCode, isDicomError } from '../../errors.js';
import type { QrNodeConfig, StoreNodeConfig } from '../../qr/nodes.js';
import type { MoveRecord } from '../../qr/retrieve.js';
import type { RunReport } from '../../qr/run.js';
import type { RuleSet } from '../../rules/index.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { createProgress, type ProgressSink } from '../progress.js';
import { runParameters, type RunArgs } from '../run-args.js';
import { summaryLines } from '../summary.js';

export interface RunCommandArgs extends RunArgs {
  home?: string;
  rules?: string;
  json?: boolean;
  explain?: boolean;
}

export function qrConfig(n: QrNode): QrNodeConfig {
  return {
    id: n.id, aeTitle: n.aeTitle, host: n.host, port: n.port, callingAeTitle: n.callingAeTitle, useModalityTag: n.useModalityTag,
    maxAssociations: n.maxAssociations, connectTimeoutMs: n.connectTimeoutMs, dimseTimeoutMs: n.dimseTimeoutMs, maxPduLength: n.maxPduLength,
  };
}

export function storeConfig(n: StoreNode): StoreNodeConfig {
  return { id: n.id, aeTitle: n.aeTitle, host: n.host, port: n.port, own: n.own, directory: n.directory, allowedCallingAeTitles: n.allowedCallingAeTitles };
}

/** The log file of a home (OpenREM's openrem_qr.log): one line per event, no patient names or IDs. */
export function createRunLog(home: string, queryId: string): { info(m: string): void; warn(m: string): void } {
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

/** Rules: --rules DIR, else <home>/rules when it exists, over the built-in files. */
export async function loadRules(home: string, rulesDir: string | undefined): Promise<RuleSet> {
  const { existsSync } = await import('node:fs');
  const { loadRuleSet } = await import('../../rules/index.js');
  const siteDir = path.join(home, 'rules');
  const dir = rulesDir ?? (existsSync(siteDir) ? siteDir : undefined);
  return loadRuleSet(dir ? { rulesDir: dir } : {});
}

function dbMove(r: MoveRecord, arrived: number | undefined): DbMoveRecord {
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

export async function runRun(a: RunCommandArgs, argv: readonly string[], out: Output, sink: ProgressSink): Promise<ExitCode> {
  const params = runParameters(a);
  const { openDatabase, resolveHome } = await import('../../db/index.js');
  const { groupSelectionProblem } = await import('../../rules/index.js');
  const home = resolveHome(a.home);
  const rules = await loadRules(home, a.rules);
  const problem = groupSelectionProblem(rules, params.groups);
  if (problem) throw new ConfigError(ErrorCode.Usage, problem);

  const db: Database = await openDatabase({ home, command: ['qrscu', ...argv].join(' ').slice(0, 200), onWarning: (m) => out.error(`qrscu: ${m}`) });
  let queryId: string | undefined;
  const stop = async (signal: string) => {
    if (queryId) db.finishQuery(queryId, 'interrupted', { errors: [{ at: new Date().toISOString(), stage: 'run', message: `stopped by ${signal}` }] });
    await db.close().catch(() => undefined);
    process.exit(130);
  };
  const onSignal = (s: NodeJS.Signals) => void stop(s);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const qr = db.qrNode(a.qr_id);
    const store = db.storeNode(a.store_id);
    const q = db.createQuery({
      parameters: {
        qrNodeId: qr.id, storeNodeId: store.id, argv: [...argv], ...(params.dryRun ? { dryRun: true } : {}),
        options: JSON.parse(JSON.stringify({ ...params, selection: params.selection })) as Record<string, never>,
      },
    });
    queryId = q.id;
    const log = createRunLog(home, q.id);
    log.info(`qrscu ${argv.join(' ')}`);
    log.info(`QR node ${qr.id} ${qr.aeTitle}@${qr.host}:${qr.port} (calling ${qr.callingAeTitle}); store node ${store.id} ${store.aeTitle}@${store.host}:${store.port}${store.own ? ` (own, ${store.directory})` : ''}`);
    log.info(`groups ${params.groups.join(', ')}; include ${params.selection.descriptionInclude.join('|') || '-'}; exclude ${params.selection.descriptionExclude.join('|') || '-'}; station include ${params.selection.stationInclude.join('|') || '-'}; station exclude ${params.selection.stationExclude.join('|') || '-'}; flags ${Object.entries(params.selection.flags).filter(([, v]) => v).map(([k]) => k).join(',') || '-'}; duplicates ${params.selection.removeDuplicates ? 'removed' : 'retrieved again'}`);

    const progress = createProgress(a.json ? { isTTY: false, write: () => undefined } : sink);
    const arrivedBySeries = new Map<string, number>();
    const { runQueryRetrieve } = await import('../../qr/run.js');
    let unindexed = 0;
    const report = await runQueryRetrieve(params, {
      qr: qrConfig(qr), store: storeConfig(store), rules, held: db,
      events: {
        ...progress,
        stage: (s, d) => { log.info(`${s}: ${d}`); progress.stage?.(s, d); },
        warning: (m) => { log.warn(m); progress.warning?.(m); },
        moveDone: (r, i, n) => {
          log.info(`move ${i + 1}/${n} ${r.move.level} ${r.move.level === 'IMAGE' ? r.move.sopInstanceUid : r.move.seriesInstanceUid}: ${r.statusText}; completed ${r.completed ?? '?'}, failed ${r.failed ?? '?'}, warning ${r.warning ?? '?'}${r.attempts > 1 ? ' (retried)' : ''}`);
          progress.moveDone?.(r, i, n);
        },
        stored: (o) => {
          progress.stored?.(o);
          if (!o.studyInstanceUid || !o.seriesInstanceUid) { unindexed++; return; }
          arrivedBySeries.set(o.seriesInstanceUid, (arrivedBySeries.get(o.seriesInstanceUid) ?? 0) + 1);
          db.addHeld([{ studyInstanceUid: o.studyInstanceUid, seriesInstanceUid: o.seriesInstanceUid, sopInstanceUid: o.sopInstanceUid, sopClassUid: o.sopClassUid, file: o.path, queryId: q.id }]);
        },
      },
    });
    progress.end();
    const lines = summaryLines(report, { qr: qr.id, store: store.id, queryId: q.id.slice(0, 8) });
    if (unindexed) lines.splice(lines.length - 1, 0, `  ${unindexed} arrived objects could not be indexed (UIDs not found at the head of the object)`);
    db.finishQuery(q.id, report.complete ? 'complete' : 'failed', {
      selection: report.selection,
      moves: report.moves.map((m) => dbMove(m, m.move.level === 'SERIES' ? arrivedBySeries.get(m.move.seriesInstanceUid) : undefined)),
      summary: summaryRecord(report),
      stages: [
        { stage: 'echo', startedAt: q.startedAt, durationMs: Math.round(report.timings.echo) },
        { stage: 'query', startedAt: q.startedAt, durationMs: Math.round(report.timings.query), count: report.selection.studies.length },
        { stage: 'retrieve', startedAt: q.startedAt, durationMs: Math.round(report.timings.retrieve), count: report.moves.length },
      ],
      errors: report.warnings.map((m) => ({ at: new Date().toISOString(), stage: 'run', message: m })),
    });
    for (const l of lines) log.info(l.trim());
    if (a.json) {
      out.line(JSON.stringify({ queryId: q.id, complete: report.complete, summary: report.summary, studyDate: report.studyDate, codes: report.codes, moves: report.selection.moves, results: report.moves, warnings: report.warnings, selection: report.selection }));
    } else {
      for (const l of lines) out.line(l);
      if (a.explain || params.dryRun) {
        const { explainLines } = await import('../../rules/index.js');
        for (const l of explainLines(report.selection)) out.line(l);
      }
    }
    return report.complete ? ExitCode.Ok : ExitCode.PartialRetrieve;
  } catch (e) {
    if (queryId) {
      db.finishQuery(queryId, 'failed', { errors: [{ at: new Date().toISOString(), stage: 'run', message: (e as Error).message, ...(isDicomError(e) ? { code: e.code } : {}) }] });
      createRunLog(home, queryId).warn(`run failed: ${(e as Error).message}`);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await db.close();
  }
}
