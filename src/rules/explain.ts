// `explain`: a selection result as a readable tree, study → series → images, each line saying
// kept or dropped and which rule (branch, step, file and JSON pointer) decided why.

import type { Decision, SelectionResult } from './model.js';

function verdict(kept: boolean): string {
  return kept ? 'KEPT' : 'DROPPED';
}

function why(d: Decision | undefined): string {
  if (d === undefined) return '';
  return ` — ${d.branch}/${d.step}: ${d.reason}${d.source ? ` [${d.source}]` : ''}`;
}

function quoted(v: string | null): string {
  return v === null ? '(none)' : JSON.stringify(v);
}

/** The selection as indented lines: one per study, series and image looked at, with the decisions. */
export function explainLines(result: SelectionResult): string[] {
  const lines: string[] = [];
  for (const st of result.studies) {
    const r = st.response;
    lines.push(
      `study ${r.studyInstanceUid} ${verdict(st.kept)} branch ${st.branch ?? '(none)'}; modalities [${st.modalities.join(', ')}] (${st.modalitiesSource}); ` +
        `description ${quoted(r.studyDescription)}; station ${quoted(r.stationName)}`,
    );
    for (const d of st.decisions) lines.push(`  ${d.kept ? '+' : '-'}${why(d).slice(2)}`);
    for (const n of st.notes) lines.push(`  note: ${n}`);
    for (const se of st.series) {
      const s = se.response;
      const cats = se.categories.length > 0 ? `; categories ${se.categories.join(', ')}` : '';
      lines.push(
        `  series ${s.seriesNumber ?? '?'} ${s.seriesInstanceUid} ${s.modality} ${quoted(s.seriesDescription)} ` +
          `(${s.numberOfSeriesRelatedInstances ?? '?'} instances) ${verdict(se.kept)}${se.kept ? ` at ${se.moveLevel} level` : ''}${cats}`,
      );
      for (const d of se.decisions) lines.push(`    ${d.kept ? '+' : '-'}${why(d).slice(2)}`);
      for (const n of se.notes) lines.push(`    note: ${n}`);
      for (const im of se.images) {
        lines.push(`    image ${im.instanceNumber ?? '?'} ${im.sopInstanceUid} ${im.sopClassUid || '(no SOP class)'}${im.decision ? ` ${verdict(im.kept)}${why(im.decision)}` : ''}`);
      }
    }
  }
  for (const w of result.warnings) lines.push(`warning: ${w}`);
  lines.push(`${result.moves.length} move${result.moves.length === 1 ? '' : 's'} planned; ${result.seriesQueries} series and ${result.imageQueries} image queries`);
  return lines;
}
