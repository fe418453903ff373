// `qrscu <qr_id> <store_id> -ct -mg …`: the cron job. Nodes and history from the database of the
// qrscu home, rules from rules/ (and --rules), the run itself in src/qr; this module wires them,
// prints progress and the summary, writes the log and picks the exit code.

import type { Database } from '../../db/index.js';
import { ConfigError, ErrorCode } from '../../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { createProgress, type ProgressSink } from '../progress.js';
import { runParameters, type RunArgs } from '../run-args.js';
import { summaryLines } from '../summary.js';

// The record, log and held-index wiring lives in src/qr/job.ts (shared with the web page).
export { createRunLog, loadRules, qrConfig, storeConfig } from '../../qr/job.js';

export interface RunCommandArgs extends RunArgs {
  home?: string;
  rules?: string;
  json?: boolean;
  explain?: boolean;
}

export async function runRun(a: RunCommandArgs, argv: readonly string[], out: Output, sink: ProgressSink): Promise<ExitCode> {
  const params = runParameters(a);
  const { openDatabase, resolveHome } = await import('../../db/index.js');
  const { groupSelectionProblem } = await import('../../rules/index.js');
  const home = resolveHome(a.home);
  const { createRunLog, loadRules, runQueryJob } = await import('../../qr/job.js');
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
    const progress = createProgress(a.json ? { isTTY: false, write: () => undefined } : sink);
    const { queryId: id, report, unindexed } = await runQueryJob({
      db, home, rules, qrId: a.qr_id, storeId: a.store_id, params, argv,
      onCreated: (created) => { queryId = created; },
      events: progress,
    });
    progress.end();
    const lines = summaryLines(report, { qr: a.qr_id, store: a.store_id, queryId: id.slice(0, 8) });
    if (unindexed) lines.splice(lines.length - 1, 0, `  ${unindexed} arrived objects could not be indexed (UIDs not found at the head of the object)`);
    const log = createRunLog(home, id);
    for (const l of lines) log.info(l.trim());
    if (a.json) {
      out.line(JSON.stringify({ queryId: id, complete: report.complete, summary: report.summary, studyDate: report.studyDate, codes: report.codes, moves: report.selection.moves, results: report.moves, warnings: report.warnings, selection: report.selection }));
    } else {
      for (const l of lines) out.line(l);
      if (a.explain || params.dryRun) {
        const { explainLines } = await import('../../rules/index.js');
        for (const l of explainLines(report.selection)) out.line(l);
      }
    }
    return report.complete ? ExitCode.Ok : ExitCode.PartialRetrieve;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await db.close();
  }
}
