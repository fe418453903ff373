// A SelectionResult in a query record, compactly: each distinct Decision once, referred to by index,
// and responses as value tuples (field names are most of a response's bytes). Lossless for
// well-formed results: expandSelection(compactSelection(s)) deep-equals s; fields this file does
// not list are kept under `x`, so a field added to the model later is not lost.

import type { Decision, ImageResponse, ImageSelection, PlannedMove, SelectionResult, SeriesResponse, SeriesSelection, StudyResponse, StudySelection } from '../rules/model.js';
import type { CompactImage, CompactMove, CompactSelection, CompactSeries, CompactStudy, JsonValue, ResponseTuple } from './schema.js';

const STUDY_FIELDS = ['studyInstanceUid', 'studyDescription', 'stationName', 'modalitiesInStudy', 'studyDate', 'studyTime', 'accessionNumber', 'numberOfStudyRelatedSeries', 'queriedCode'] as const;
const SERIES_FIELDS = ['seriesInstanceUid', 'modality', 'seriesDescription', 'seriesNumber', 'numberOfSeriesRelatedInstances', 'stationName'] as const;
const IMAGE_FIELDS = ['sopInstanceUid', 'sopClassUid', 'instanceNumber'] as const;

type Extra = { readonly [key: string]: JsonValue };

function pack(o: object, fields: readonly string[]): { r: JsonValue[]; x?: Extra } {
  const rec = o as Record<string, JsonValue | undefined>;
  const r = fields.map((f) => rec[f] ?? null);
  while (r.length > 0 && r[r.length - 1] === null) r.pop();
  let x: Record<string, JsonValue> | undefined;
  for (const [k, v] of Object.entries(rec)) {
    if (v !== undefined && !fields.includes(k)) (x ??= {})[k] = v;
  }
  return x === undefined ? { r } : { r, x };
}

function unpack<T>(r: ResponseTuple, x: Extra | undefined, fields: readonly string[]): T {
  const o: Record<string, JsonValue> = {};
  fields.forEach((f, i) => (o[f] = r[i] ?? null));
  if (x) Object.assign(o, x);
  return o as T;
}

function decisionKey(d: Decision): string {
  return JSON.stringify([d.kept, d.branch, d.step, d.reason, d.source ?? null]);
}

export function compactSelection(s: SelectionResult): CompactSelection {
  const decisions: Decision[] = [];
  const byKey = new Map<string, number>();
  const ref = (d: Decision): number => {
    const key = decisionKey(d);
    let i = byKey.get(key);
    if (i === undefined) {
      i = decisions.length;
      decisions.push(d.source === undefined ? { kept: d.kept, branch: d.branch, step: d.step, reason: d.reason } : { kept: d.kept, branch: d.branch, step: d.step, reason: d.reason, source: d.source });
      byKey.set(key, i);
    }
    return i;
  };
  const image = (im: ImageSelection): CompactImage => {
    const { kept, decision, ...response } = im;
    const { r, x } = pack(response, IMAGE_FIELDS);
    while (r.length < IMAGE_FIELDS.length) r.push(null);
    const t: JsonValue[] = [...r, kept ? 1 : 0, decision === undefined ? -1 : ref(decision)];
    if (x) t.push(x);
    return t;
  };
  const series = (se: SeriesSelection): CompactSeries => {
    const { r, x } = pack(se.response, SERIES_FIELDS);
    return {
      r,
      ...(x ? { x } : {}),
      k: se.kept,
      d: se.decisions.map(ref),
      ...(se.categories.length > 0 ? { c: se.categories } : {}),
      ...(se.moveLevel === 'IMAGE' ? { l: 'I' as const } : {}),
      ...(se.images.length > 0 ? { i: se.images.map(image) } : {}),
      ...(se.notes.length > 0 ? { n: se.notes } : {}),
    };
  };
  const study = (st: StudySelection): CompactStudy => {
    const { r, x } = pack(st.response, STUDY_FIELDS);
    return {
      r,
      ...(x ? { x } : {}),
      modalities: st.modalities,
      modalitiesSource: st.modalitiesSource,
      kept: st.kept,
      branch: st.branch,
      d: st.decisions.map(ref),
      series: st.series.map(series),
      ...(st.notes.length > 0 ? { notes: st.notes } : {}),
    };
  };
  const studies = s.studies.map(study);
  // Planned moves refer to the study and series by position: [study, series, IMAGE ? 1 : 0, expected, branch, sop?].
  const where = new Map<string, [number, number]>();
  s.studies.forEach((st, i) => st.series.forEach((se, j) => where.set(`${st.response.studyInstanceUid}\\${se.response.seriesInstanceUid}`, [i, j])));
  const moves = s.moves.map((m): CompactMove => {
    const at = where.get(`${m.studyInstanceUid}\\${m.seriesInstanceUid}`);
    const known = Object.keys(m).every((k) => MOVE_FIELDS.includes(k));
    if (at === undefined || !known) return m;
    const t: JsonValue[] = [at[0], at[1], m.level === 'IMAGE' ? 1 : 0, m.expectedInstances, m.branch];
    if (m.sopInstanceUid !== undefined) t.push(m.sopInstanceUid);
    return t;
  });
  return { decisions, studies, moves, warnings: s.warnings, imageQueries: s.imageQueries, seriesQueries: s.seriesQueries };
}

const MOVE_FIELDS: readonly string[] = ['studyInstanceUid', 'seriesInstanceUid', 'level', 'sopInstanceUid', 'expectedInstances', 'branch'];

export function expandSelection(c: CompactSelection): SelectionResult {
  const dec = (i: number): Decision => {
    const d = c.decisions[i];
    if (d === undefined) throw new RangeError(`decision ${i} is not in the record's table`);
    return d;
  };
  const image = (t: CompactImage): ImageSelection => {
    const n = IMAGE_FIELDS.length;
    const r = unpack<ImageResponse>(t.slice(0, n), t[n + 2] as Extra | undefined, IMAGE_FIELDS);
    const kept = t[n] === 1;
    const d = t[n + 1] as number;
    return d < 0 ? { ...r, kept } : { ...r, kept, decision: dec(d) };
  };
  const series = (se: CompactSeries): SeriesSelection => ({
    response: unpack<SeriesResponse>(se.r, se.x, SERIES_FIELDS),
    kept: se.k,
    decisions: se.d.map(dec),
    categories: se.c ?? [],
    moveLevel: se.l === 'I' ? 'IMAGE' : 'SERIES',
    images: (se.i ?? []).map(image),
    notes: se.n ?? [],
  });
  const study = (st: CompactStudy): StudySelection => ({
    response: unpack<StudyResponse>(st.r, st.x, STUDY_FIELDS),
    modalities: st.modalities,
    modalitiesSource: st.modalitiesSource,
    kept: st.kept,
    branch: st.branch,
    decisions: st.d.map(dec),
    series: st.series.map(series),
    notes: st.notes ?? [],
  });
  const studies = c.studies.map(study);
  const moves = c.moves.map((m): PlannedMove => {
    if (!Array.isArray(m)) return m as PlannedMove;
    const t = m as readonly JsonValue[];
    const st = studies[t[0] as number];
    const se = st?.series[t[1] as number];
    if (!st || !se) throw new RangeError(`planned move ${JSON.stringify(t)} refers to no series of the record`);
    const base = { studyInstanceUid: st.response.studyInstanceUid, seriesInstanceUid: se.response.seriesInstanceUid, level: t[2] === 1 ? ('IMAGE' as const) : ('SERIES' as const) };
    const tail = { expectedInstances: t[3] as number | null, branch: t[4] as string | null };
    return t.length > 5 ? { ...base, sopInstanceUid: t[5] as string, ...tail } : { ...base, ...tail };
  });
  return { studies, moves, warnings: c.warnings, imageQueries: c.imageQueries, seriesQueries: c.seriesQueries };
}
