// `qrscu rules check [DIR]` and `qrscu rules test --snapshot FILE`: validate rule files, and run the
// whole pipeline against a PACS snapshot (through the simulated PACS, over DIMSE) without moving
// anything: the offline what-if for people editing rule files.

import { ConfigError, ErrorCode } from '../../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { runParameters, type RunArgs } from '../run-args.js';
import { summaryLines } from '../summary.js';

export interface RulesCheckArgs {
  dir?: string;
  json?: boolean;
}

export async function runRulesCheck(a: RulesCheckArgs, out: Output): Promise<ExitCode> {
  const { checkRules, builtInRulesDir } = await import('../../rules/index.js');
  const problems = checkRules(a.dir);
  if (a.json) {
    for (const p of problems) out.line(JSON.stringify(p));
  } else if (problems.length === 0) {
    out.line(`rules OK: ${a.dir ? `${a.dir} over ` : ''}${builtInRulesDir()}`);
  } else {
    for (const p of problems) out.error(`${p.file}${p.pointer !== undefined ? ` at ${p.pointer || '/'}` : ''}: ${p.message}`);
    out.error(`${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  }
  return problems.length === 0 ? ExitCode.Ok : ExitCode.InvalidRules;
}

export interface RulesTestArgs extends Omit<RunArgs, 'qr_id' | 'store_id'> {
  snapshot: string;
  rules?: string;
  json?: boolean;
}

export async function runRulesTest(a: RulesTestArgs, out: Output): Promise<ExitCode> {
  const params = { ...runParameters({ ...a, qr_id: '-', store_id: '-' }), dryRun: true, ...(a.dfrom || a.duntil || a.sd ? {} : { allDates: true }) };
  const { loadRuleSet, groupSelectionProblem, explainLines } = await import('../../rules/index.js');
  const { loadSnapshot } = await import('../../pacs/snapshot.js');
  const { startSimulatedPacs } = await import('../../pacs/simulated.js');
  const { runQueryRetrieve } = await import('../../qr/run.js');
  const rules = loadRuleSet(a.rules ? { rulesDir: a.rules } : {});
  const problem = groupSelectionProblem(rules, params.groups);
  if (problem) throw new ConfigError(ErrorCode.Usage, problem);
  const pacs = await startSimulatedPacs({ snapshot: loadSnapshot(a.snapshot), port: 0 });
  try {
    const report = await runQueryRetrieve(params, {
      qr: { id: 'snapshot', aeTitle: pacs.aeTitle, host: '127.0.0.1', port: pacs.port, callingAeTitle: 'QRSCU', useModalityTag: false, maxAssociations: 4 },
      store: { id: 'none', aeTitle: 'QRSCU_STORE', host: '127.0.0.1', port: 1, own: false },
      rules,
    });
    if (a.json) {
      out.line(JSON.stringify({ summary: report.summary, moves: report.selection.moves, requests: pacs.requests(), selection: report.selection }));
      return ExitCode.Ok;
    }
    for (const l of summaryLines(report, { qr: a.snapshot, store: '(dry run)' })) out.line(l);
    out.line('retrieve plan:');
    for (const m of report.selection.moves) out.line(`  C-MOVE ${m.level} ${m.level === 'IMAGE' ? m.sopInstanceUid : m.seriesInstanceUid} (study ${m.studyInstanceUid}, ${m.branch ?? 'no branch'})`);
    if (report.selection.moves.length === 0) out.line('  (nothing)');
    for (const l of explainLines(report.selection)) out.line(l);
    return ExitCode.Ok;
  } finally {
    await pacs.close();
  }
}
