// `qrscu queries [list] | show ID`: the query records of past runs.

import type { CommandModule } from 'yargs';
import { ConfigError, ErrorCode } from '../../errors.js';
import type { QueryListItem, QueryView } from '../../db/database.js';
import type { MoveRecord } from '../../db/schema.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { HomeArgs } from './nodes.js';

const STATUSES = ['running', 'complete', 'failed', 'interrupted'] as const;

function duration(from: string, to: string | undefined): string {
  if (to === undefined) return '-';
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms)) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

function n(v: number | null | undefined): string {
  return v === undefined || v === null ? '-' : String(v);
}

function moveCounts(moves: readonly MoveRecord[]): string {
  if (moves.length === 0) return '-';
  const ok = moves.filter((m) => m.status === 'success').length;
  return `${ok}/${moves.length}`;
}

/** The `queries list` table: studies kept/found, moves succeeded/made, objects arrived and failed sub-operations (summary keys of src/qr/run.ts). */
export function queryTableLines(items: readonly QueryListItem[], formatTable: (rows: readonly (readonly string[])[]) => string[]): string[] {
  const header = ['ID', 'STARTED', 'STATUS', 'NODES', 'STUDIES', 'MOVES OK', 'ARRIVED', 'SUB-OPS FAILED', 'DURATION'];
  const rows = items.map((q) => [
    q.id.slice(0, 8),
    q.startedAt.replace(/\.\d+Z$/, 'Z'),
    q.status,
    `${q.parameters.qrNodeId}→${q.parameters.storeNodeId}`,
    q.summary.studiesKept !== undefined || q.summary.studiesFound !== undefined ? `${n(q.summary.studiesKept)}/${n(q.summary.studiesFound)}` : '-',
    moveCounts(q.moves),
    n(q.summary.arrived ?? q.summary.instancesArrived),
    n(q.summary.subOperationsFailed),
    duration(q.startedAt, q.finishedAt),
  ]);
  return formatTable([header, ...rows]);
}

/** A query record as text (no patient data is stored, so none is printed). */
export function describeQuery(q: QueryView): string[] {
  const lines: string[] = [];
  lines.push(`query ${q.id}`);
  lines.push(`  status:   ${q.status}${q.parameters.dryRun ? ' (dry run)' : ''}`);
  lines.push(`  started:  ${q.startedAt}`);
  lines.push(`  finished: ${q.finishedAt ?? '-'} (${duration(q.startedAt, q.finishedAt)})`);
  lines.push(`  nodes:    ${q.parameters.qrNodeId} → ${q.parameters.storeNodeId}`);
  if (q.parameters.argv) lines.push(`  command:  qrscu ${q.parameters.argv.join(' ')}`);
  if (q.parameters.options && Object.keys(q.parameters.options).length > 0) lines.push(`  options:  ${JSON.stringify(q.parameters.options)}`);
  if (q.stages.length > 0) {
    lines.push('stages:');
    const w = Math.max(...q.stages.map((s) => s.stage.length));
    for (const s of q.stages) lines.push(`  ${s.stage.padEnd(w)}  ${(s.durationMs / 1000).toFixed(2)} s${s.count !== undefined ? `  ${s.count}` : ''}`);
  }
  const keys = Object.keys(q.summary);
  if (keys.length > 0) lines.push(`summary: ${keys.map((k) => `${k} ${n(q.summary[k])}`).join(', ')}`);
  if (q.selection) {
    const sel = q.selection;
    lines.push(`selection: ${sel.studies.length} studies (${sel.studies.filter((s) => s.kept).length} kept), ${sel.seriesQueries} series and ${sel.imageQueries} image queries, ${sel.moves.length} moves planned`);
    for (const st of sel.studies) {
      const r = st.response;
      const last = st.decisions[st.decisions.length - 1];
      lines.push(`  ${st.kept ? 'kept   ' : 'dropped'} study ${r.studyInstanceUid} ${st.modalities.join('\\') || '-'} ${r.studyDate ?? '-'} ${JSON.stringify(r.studyDescription ?? '')}${st.branch ? ` [${st.branch}]` : ''}${last ? `: ${last.reason}` : ''}`);
      for (const se of st.series) {
        const d = se.decisions[se.decisions.length - 1];
        lines.push(`      ${se.kept ? 'kept   ' : 'dropped'} series ${se.response.seriesInstanceUid} ${se.response.modality} ${JSON.stringify(se.response.seriesDescription ?? '')}${se.kept ? ` → ${se.moveLevel}` : ''}${d ? `: ${d.reason}` : ''}`);
      }
    }
    for (const w of sel.warnings) lines.push(`  warning: ${w}`);
  }
  if (q.moves.length > 0) {
    lines.push('moves:');
    for (const m of q.moves) {
      const counts = [m.completed !== undefined ? `completed ${n(m.completed)}` : '', m.failed !== undefined ? `failed ${n(m.failed)}` : '', m.warning !== undefined ? `warning ${n(m.warning)}` : '', m.arrived !== undefined ? `arrived ${m.arrived}` : ''].filter(Boolean).join(' ');
      const status = m.dimseStatus !== undefined ? ` 0x${m.dimseStatus.toString(16).toUpperCase().padStart(4, '0')}` : '';
      lines.push(`  ${m.status.padEnd(7)} ${m.level.padEnd(6)} ${m.level === 'IMAGE' ? m.sopInstanceUid : m.seriesInstanceUid}${status}${counts ? `  ${counts}` : ''}${m.attempts > 1 ? `  (${m.attempts} attempts)` : ''}${m.error ? `  ${m.error}` : ''}`);
      if (m.failedSopInstanceUids && m.failedSopInstanceUids.length > 0) lines.push(`          failed: ${m.failedSopInstanceUids.join(', ')}`);
    }
  }
  if (q.errors.length > 0) {
    lines.push('errors:');
    for (const e of q.errors) lines.push(`  ${e.at} ${e.stage}: ${e.message}${e.code ? ` [${e.code}]` : ''}`);
  }
  return lines;
}

export function queriesCommand(out: Output, done: (code: number) => void): CommandModule<HomeArgs, HomeArgs> {
  return {
    command: 'queries',
    describe: 'the records of past runs: list them, show one',
    builder: (y) =>
      y
        .command<HomeArgs & { json: boolean; limit: number; status?: (typeof STATUSES)[number] }>(
          ['list', '$0'],
          'list query records, newest first',
          (g) =>
            g.option('json', { type: 'boolean', default: false, describe: 'one JSON object per line (without the selection)' })
              .option('limit', { type: 'number', default: 20, describe: 'at most N records (0: all)' })
              .option('status', { type: 'string', choices: STATUSES, describe: 'only records with this status' })
              .example('$0 queries list', 'the last 20 runs')
              .example('$0 queries list --status failed --limit 0', 'every failed run')
              .example('$0 queries list --json | jq -r .id', 'ids for scripts') as never,
          async (a) => {
            if (!Number.isInteger(a.limit) || a.limit < 0) throw new ConfigError(ErrorCode.Usage, `--limit must be a whole number ≥ 0, not ${a.limit}`);
            const { openDatabase, resolveHome } = await import('../../db/database.js');
            const { formatTable } = await import('../../db/nodes.js');
            const db = await openDatabase({ home: resolveHome(a.home), readOnly: true });
            const items = db.listQueries({ ...(a.limit > 0 ? { limit: a.limit } : {}), ...(a.status ? { status: a.status } : {}) });
            if (a.json) for (const q of items) out.line(JSON.stringify(q));
            else if (items.length === 0) out.line('no query records');
            else for (const l of queryTableLines(items, formatTable)) out.line(l);
            done(ExitCode.Ok);
          },
        )
        .command<HomeArgs & { id: string; json: boolean }>(
          'show <id>',
          'show one query record: parameters, stages, every study and series with its verdict, moves, errors',
          (g) =>
            g.positional('id', { type: 'string', demandOption: true, describe: 'the query id, or a unique prefix of it (≥ 4 characters)' })
              .option('json', { type: 'boolean', default: false, describe: 'the whole record as JSON (the selection as the engine returned it)' })
              .example('$0 queries show 3f2a9c1e', 'by id prefix')
              .example('$0 queries show 3f2a9c1e --json | jq .moves', 'its moves') as never,
          async (a) => {
            const { openDatabase, resolveHome } = await import('../../db/database.js');
            const db = await openDatabase({ home: resolveHome(a.home), readOnly: true });
            const q = db.getQuery(a.id);
            if (!q) throw new ConfigError(ErrorCode.ConfigInvalid, `no query ${JSON.stringify(a.id)} (see qrscu queries list)`);
            if (a.json) out.line(JSON.stringify(q, null, 2));
            else for (const l of describeQuery(q)) out.line(l);
            done(ExitCode.Ok);
          },
        ) as never,
    handler: () => undefined,
  };
}
