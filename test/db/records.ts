// Realistic query records for tests and the prune measurement: an hourly `qrscu pacs store -ct -mg
// -fl -dx` run of a mid-size hospital (busier by day), with the selection the engine would return
// (every study and series response with its decisions, image probes of SR series), the moves with
// sub-operation counts, stage timings and a summary.

import type { Decision, ImageSelection, PlannedMove, SelectionResult, SeriesSelection, StudySelection } from '../../src/rules/model.js';
import { compactSelection } from '../../src/db/compact.js';
import type { DatabaseFile, HeldIndex, MoveRecord, QueryParameters, QueryRecord, StageTiming } from '../../src/db/schema.js';
import { createRandom } from '../support/random.js';

const RULES = 'rules/default';

function decision(kept: boolean, branch: string, step: string, reason: string, file = branch.toLowerCase()): Decision {
  return { kept, branch, step, reason, source: `${RULES}/${file}.json#/steps/${step}` };
}

const D = {
  studyKept: (b: string) => decision(true, 'study-filters', 'description', `description passes include/exclude terms`, 'filters'),
  ctSeriesImage: decision(false, 'CT', 'drop-image-series', 'CT image series: not a dose object'),
  ctSr: decision(true, 'CT', 'keep-rdsr', 'SR series holding an X-Ray Radiation Dose SR'),
  ctSrProbe: decision(true, 'CT', 'sr-check', 'SOP class 1.2.840.10008.5.1.4.1.1.88.67 is a dose SR'),
  ctEsrDrop: decision(false, 'CT', 'drop-esr-when-rdsr', 'Enhanced SR dropped: the study has an RDSR'),
  ctSc: decision(false, 'CT', 'drop-dose-info', 'Philips dose info SC not needed: the study has an RDSR'),
  mgImage: decision(false, 'MG', 'drop-images', 'MG images not needed: the study has an RDSR'),
  mgSr: decision(true, 'MG', 'keep-rdsr', 'SR series holding an X-Ray Radiation Dose SR'),
  dxImage: decision(true, 'DX', 'keep-images-no-rdsr', 'no RDSR in the study: DX images carry the dose', 'dx'),
  dxSr: decision(true, 'DX', 'keep-rdsr', 'SR series holding an X-Ray Radiation Dose SR', 'dx'),
  dxDropImage: decision(false, 'DX', 'drop-images-with-rdsr', 'DX images not needed: the study has an RDSR', 'dx'),
  modality: (m: string) => decision(true, 'study-filters', 'modality', `ModalitiesInStudy contains ${m}`, 'filters'),
} as const;

let uidCounter = 0;
function uid(r: () => number): string {
  uidCounter++;
  return `1.2.826.0.1.3680043.8.498.${Math.floor(r() * 1e12)}.${Math.floor(r() * 1e9)}.${uidCounter}`;
}

function series(r: () => number, modality: string, description: string, n: number, count: number | null, kept: boolean, decisions: Decision[], images: ImageSelection[] = []): SeriesSelection {
  return {
    response: { seriesInstanceUid: uid(r), modality, seriesDescription: description, seriesNumber: n, numberOfSeriesRelatedInstances: count, stationName: 'CT01' },
    kept,
    decisions,
    categories: modality === 'SR' ? ['rdsr'] : [],
    moveLevel: 'SERIES',
    images,
    notes: [],
  };
}

function srProbe(r: () => number): ImageSelection[] {
  return [{ sopInstanceUid: uid(r), sopClassUid: '1.2.840.10008.5.1.4.1.1.88.67', instanceNumber: 1, kept: true, decision: D.ctSrProbe }];
}

function study(r: () => number, date: string): StudySelection {
  const kind = r();
  const base = (m: string[], description: string, station: string) => ({
    response: {
      studyInstanceUid: uid(r), studyDescription: description, stationName: station, modalitiesInStudy: m, studyDate: date,
      studyTime: `${String(Math.floor(r() * 24)).padStart(2, '0')}${String(Math.floor(r() * 60)).padStart(2, '0')}00`, accessionNumber: `ACC${Math.floor(r() * 1e8)}`,
      numberOfStudyRelatedSeries: 0, queriedCode: m[0]!,
    },
    modalities: m,
    modalitiesSource: 'returned' as const,
    kept: true,
    notes: [] as string[],
  });
  if (kind < 0.4) {
    const b = base(['CT', 'SR'], 'CT CHEST ABDOMEN PELVIS WITH CONTRAST', 'CTSCAN01');
    const s = [
      series(r, 'CT', 'Topogram 0.6 T20f', 1, 2, false, [D.ctSeriesImage]),
      series(r, 'CT', 'Thorax 3.0 I30f 3', 2, 312, false, [D.ctSeriesImage]),
      series(r, 'CT', 'Abdomen 5.0 I30f 3', 3, 140, false, [D.ctSeriesImage]),
      series(r, 'CT', 'Coronal MPR', 4, 88, false, [D.ctSeriesImage]),
      series(r, 'SR', 'Radiation Dose Information', 501, 1, true, [D.ctSr], srProbe(r)),
      series(r, 'SR', 'Enhanced SR', 502, 1, false, [D.ctEsrDrop], srProbe(r)),
      series(r, 'SC', 'Dose Info', 999, 1, false, [D.ctSc]),
    ];
    return { ...b, response: { ...b.response, numberOfStudyRelatedSeries: s.length }, branch: 'CT', decisions: [D.modality('CT'), D.studyKept('CT')], series: s };
  }
  if (kind < 0.6) {
    const b = base(['MG', 'SR'], 'MAMMO SCREENING BILATERAL', 'MAMMO02');
    const s = [
      series(r, 'MG', 'L CC', 1, 1, false, [D.mgImage]),
      series(r, 'MG', 'R CC', 2, 1, false, [D.mgImage]),
      series(r, 'MG', 'L MLO', 3, 1, false, [D.mgImage]),
      series(r, 'MG', 'R MLO', 4, 1, false, [D.mgImage]),
      series(r, 'SR', 'Dose Report', 100, 1, true, [D.mgSr], srProbe(r)),
    ];
    return { ...b, response: { ...b.response, numberOfStudyRelatedSeries: s.length }, branch: 'MG', decisions: [D.modality('MG'), D.studyKept('MG')], series: s };
  }
  const withSr = r() < 0.5;
  const b = base(withSr ? ['DX', 'SR'] : ['DX'], 'XR CHEST PA AND LATERAL', 'DRROOM3');
  const s = withSr
    ? [series(r, 'DX', 'PA', 1, 1, false, [D.dxDropImage]), series(r, 'DX', 'LAT', 2, 1, false, [D.dxDropImage]), series(r, 'SR', 'Dose', 3, 1, true, [D.dxSr], srProbe(r))]
    : [series(r, 'DX', 'PA', 1, 1, true, [D.dxImage]), series(r, 'DX', 'LAT', 2, 1, true, [D.dxImage])];
  return { ...b, response: { ...b.response, numberOfStudyRelatedSeries: s.length }, branch: 'DX', decisions: [D.modality('DX'), D.studyKept('DX')], series: s };
}

/** A realistic selection for a run at `hour` (0–23): ~12 studies by day, ~2 at night. */
export function realisticSelection(seed: number, hour: number, date = '20260101'): SelectionResult {
  const r = createRandom(seed);
  const n = hour >= 8 && hour < 18 ? 8 + Math.floor(r() * 9) : Math.floor(r() * 4);
  const studies = Array.from({ length: n }, () => study(r, date));
  const moves: PlannedMove[] = [];
  let imageQueries = 0;
  let seriesQueries = 0;
  for (const st of studies) {
    seriesQueries++;
    for (const se of st.series) {
      if (se.images.length > 0) imageQueries++;
      if (se.kept) moves.push({ studyInstanceUid: st.response.studyInstanceUid, seriesInstanceUid: se.response.seriesInstanceUid, level: 'SERIES', expectedInstances: se.response.numberOfSeriesRelatedInstances, branch: st.branch });
    }
  }
  return { studies, moves, warnings: [], imageQueries, seriesQueries };
}

export function realisticParameters(): QueryParameters {
  return {
    qrNodeId: 'pacs',
    storeNodeId: 'store',
    argv: ['pacs', 'store', '-ct', '-mg', '-fl', '-dx', '-tf', '0900', '-tt', '1000', '-e', 'imported'],
    options: { groups: ['CT', 'MG', 'FL', 'DX'], dateFrom: '2026-01-01', dateUntil: '2026-01-01', timeFrom: '0900', timeUntil: '1000', descriptionExclude: ['imported'], removeDuplicates: true },
  };
}

export function realisticMoves(sel: SelectionResult, at: string): MoveRecord[] {
  return sel.moves.map((m) => ({
    studyInstanceUid: m.studyInstanceUid, seriesInstanceUid: m.seriesInstanceUid, level: m.level, expectedInstances: m.expectedInstances,
    status: 'success', dimseStatus: 0, completed: m.expectedInstances ?? 1, failed: 0, warning: 0, arrived: m.expectedInstances ?? 1, attempts: 1, startedAt: at, finishedAt: at,
  }));
}

export function realisticStages(at: string): StageTiming[] {
  return ['echo', 'study-query', 'series-query', 'image-query', 'selection', 'retrieve'].map((stage, i) => ({ stage, startedAt: at, durationMs: 50 + i * 317, count: i * 3 }));
}

/**
 * The database of `count` hourly runs up to `now` (8,760: a year, ~115 MiB), and the held index they
 * built: one object per planned move, as a run indexes what arrives.
 */
export function hourlyRuns(count: number, now: number): { data: DatabaseFile; heldCount: number } {
  const queries: QueryRecord[] = [];
  for (let i = 0; i < count; i++) {
    const started = new Date(now - (count - i) * 3_600_000);
    const at = started.toISOString();
    const sel = realisticSelection(i + 1, started.getUTCHours());
    queries.push({
      id: crypto.randomUUID(), startedAt: at, finishedAt: new Date(started.getTime() + 42_000).toISOString(), status: 'complete',
      parameters: realisticParameters(), stages: realisticStages(at), selection: compactSelection(sel), moves: realisticMoves(sel, at),
      summary: { studiesFound: sel.studies.length, studiesKept: sel.studies.length, seriesKept: sel.moves.length, movesPlanned: sel.moves.length, instancesExpected: sel.moves.length, instancesArrived: sel.moves.length, subOpsFailed: 0 },
      errors: [],
    });
  }
  const held: HeldIndex = {};
  let heldCount = 0;
  for (const q of queries) {
    for (const m of q.moves) {
      const series = ((held[m.studyInstanceUid] ??= {})[m.seriesInstanceUid] ??= {});
      series[`${m.seriesInstanceUid}.1`] = { sopClassUid: '1.2.840.10008.5.1.4.1.1.88.67', file: `/srv/dose/${m.seriesInstanceUid}.1.dcm`, queryId: q.id, storedAt: q.startedAt };
      heldCount++;
    }
  }
  return { data: { schemaVersion: 1, qrNodes: [], storeNodes: [], queries, held }, heldCount };
}
