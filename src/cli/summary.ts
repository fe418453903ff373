// The end-of-run summary: what was asked, what the rules kept, what was requested from the PACS and
// what arrived. The same lines go to the terminal and to the log file (no patient names or IDs).

import { hexStatus } from '../net/status.js';
import { describeMove } from '../qr/retrieve.js';
import type { RunReport } from '../qr/run.js';

const ms = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);

export function summaryLines(r: RunReport, ids: { qr: string; store: string; queryId?: string }): string[] {
  const s = r.summary;
  const out: string[] = [];
  out.push(`qrscu ${ids.qr} → ${ids.store}${ids.queryId ? ` (query ${ids.queryId})` : ''}: ${r.parameters.groups.join(', ')}; StudyDate ${r.studyDate || 'any'}${r.studyTime ? ` ${r.studyTime}` : ''}`);
  out.push(`  queries: ${r.queryCounts.study} study, ${r.queryCounts.series} series, ${r.queryCounts.image} image C-FINDs${r.queryCounts.retries ? `, ${r.queryCounts.retries} retried` : ''}`);
  out.push(`  studies: ${s.studiesFound} found, ${s.studiesKept} kept; ${s.seriesKept} series kept; ${s.movesPlanned} C-MOVEs planned${s.instancesExpected !== null ? ` (${s.instancesExpected} objects expected)` : ''}`);
  const byBranch = new Map<string, number>();
  for (const st of r.selection.studies) if (st.kept) byBranch.set(st.branch ?? 'none', (byBranch.get(st.branch ?? 'none') ?? 0) + 1);
  if (byBranch.size) out.push(`  kept by branch: ${[...byBranch].map(([b, n]) => `${b} ${n}`).join(', ')}`);
  if (r.parameters.dryRun) {
    out.push('  dry run: nothing moved');
  } else if (s.movesPlanned > 0) {
    out.push(`  moves: ${s.movesSucceeded} succeeded, ${s.movesPartial} partial, ${s.movesFailed} failed${s.movesSkipped ? `, ${s.movesSkipped} skipped` : ''}; sub-operations ${s.subOperationsCompleted} completed, ${s.subOperationsFailed} failed, ${s.subOperationsWarning} warning${s.countsUnknown ? ` (${s.countsUnknown} moves gave no counts)` : ''}`);
    if (s.arrived !== null) out.push(`  arrived at ${ids.store}: ${s.arrived} objects${s.instancesExpected !== null ? ` of ${s.instancesExpected} expected` : ''}`);
  }
  for (const m of r.moves) {
    if (m.outcome === 'success') continue;
    const status = m.status === null ? m.statusText : `${hexStatus(m.status)} ${m.statusText.replace(/^0x[0-9A-F]{4} /, '')}`;
    out.push(`  ${m.outcome}: ${describeMove(m.move)}: ${status}${m.error ? ` (${m.error})` : ''}${m.failedSopInstanceUids.length ? `; failed: ${m.failedSopInstanceUids.join(', ')}` : ''}`);
  }
  out.push(`  time: echo ${ms(r.timings.echo)}, query ${ms(r.timings.query)}, retrieve ${ms(r.timings.retrieve)}, total ${ms(r.timings.total)}${s.warnings ? `; ${s.warnings} warnings` : ''}`);
  out.push(r.complete ? '  result: complete' : `  result: INCOMPLETE — re-run the same command to fetch what is missing`);
  return out;
}
