// The whole retrieve (issue 8, items 1 and 6): `qrscu <qr> <store> -ct -mg -fl -dx --all-dates` from an
// Orthanc loaded with generated dose studies (Nagle on, as real sites run it) into qrscu's own store
// node, three ways, interleaved run by run:
// - qrscu: the CLI as a user runs it, the QR node's maxAssociations at its default 4;
// - OpenREM-style: the same CLI with maxAssociations 1, i.e. one request at a time, each waiting for
//   the last (study queries, a series query per study, image queries where needed, one C-MOVE per
//   series) — OpenREM's order of work without its per-request process and Python costs;
// - floor: the exact C-FINDs and C-MOVEs the pipeline made (recorded once per scale, untimed, through
//   the same modules), replayed with no dependencies between them over P associations at once, into
//   the same store SCP, by a bare client process. Connect to the last release and the last object on
//   disk; the best P of 4 and 8 each run. What the server needs to answer these requests.
// Every time is a child process's wall clock (qrscu: process start to exit, so it includes Node's
// start-up, the database and the echo of both nodes). The floor (floor.ts, bundled into one file like
// the qrscu executable) is timed twice: on its own clock from its first connect to done, and as a
// process from spawn to exit like qrscu.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { argValue, build, du, floorBundle, fresh, loadAverage, log, median, RESULTS, ratio, runProcess, table, writeJson } from './support.js';
import type { BenchOrthanc } from './orthanc.js';
import type { FloorArgs, FloorResult, RecordedRequest } from './floor.js';

const WORK = path.join(RESULTS, '.work');
const GROUP_FLAGS = ['-ct', '-mg', '-fl', '-dx'];

// ---- bench side --------------------------------------------------------------------------------------

/**
 * Record the requests the pipeline makes against this Orthanc (untimed): the study stage, the rules'
 * series and image queries and the retrieve, through the same modules as `qrscu`, with a pool whose
 * associations note every C-FIND and C-MOVE identifier.
 */
async function recordRequests(o: BenchOrthanc, file: string): Promise<{ finds: number; moves: number }> {
  const { connect } = await import('../src/net/client.js');
  const { createPool } = await import('../src/net/pool.js');
  const { startStoreScp } = await import('../src/net/store-scp.js');
  const { datasetToJson } = await import('../src/dicom/index.js');
  const { loadRuleSet, select, studyQueryCodes } = await import('../src/rules/index.js');
  const { createQuerySession } = await import('../src/qr/query.js');
  const { retrieve } = await import('../src/qr/retrieve.js');
  const { dateKeys } = await import('../src/qr/identifiers.js');
  const { runParameters } = await import('../src/cli/run-args.js');
  const p = runParameters({ qr_id: 'pacs1', store_id: 'store1', ct: true, mg: true, fl: true, dx: true, 'all-dates': true } as never);
  const rules = loadRuleSet();
  const node = { id: 'pacs1', aeTitle: 'ORTHANC', host: '127.0.0.1', port: o.orthanc.port, callingAeTitle: 'QRSCU', useModalityTag: false, maxAssociations: 4, dimseTimeoutMs: 120_000 };
  const recorded: RecordedRequest[] = [];
  type Client = Awaited<ReturnType<typeof connect>>;
  const open = async (options: Parameters<typeof connect>[0]): Promise<Client> => {
    const c = await connect(options);
    return {
      get association() { return c.association; },
      echo: c.echo.bind(c), store: c.store.bind(c), release: c.release.bind(c), abort: c.abort.bind(c),
      find: (identifier, opts) => { recorded.push({ kind: 'find', identifier: datasetToJson(identifier) }); return c.find(identifier, opts); },
      move: (identifier, opts) => { recorded.push({ kind: 'move', identifier: datasetToJson(identifier) }); return c.move(identifier, opts); },
    };
  };
  const storeDir = fresh(path.join(WORK, 'record-store'));
  const server = await startStoreScp({ aeTitle: 'QRSCU_STORE', host: '127.0.0.1', port: o.ports.qrscuStore, directory: storeDir });
  try {
    const pool = createPool({ host: '127.0.0.1', port: o.orthanc.port, callingAeTitle: 'QRSCU', calledAeTitle: 'ORTHANC', dimseTimeoutMs: 120_000 }, 4, open);
    const session = createQuerySession(node, {}, pool);
    const stage = await session.studyStage(studyQueryCodes(rules, p.groups), dateKeys(p, new Date()));
    const selection = await select(rules, { studies: stage.studies, outcome: stage.outcome, options: { ...p.selection, groups: p.groups }, port: session.port });
    await retrieve(selection.moves, { node, destination: 'QRSCU_STORE', pool });
    await session.close();
  } finally {
    await server.close();
  }
  writeFileSync(file, JSON.stringify(recorded));
  return { finds: recorded.filter((r) => r.kind === 'find').length, moves: recorded.filter((r) => r.kind === 'move').length };
}

/** A qrscu home with the QR node `pacs1` (this Orthanc, `maxAssociations`) and our store node `store1`. */
async function makeHome(o: BenchOrthanc, dir: string, maxAssociations: number): Promise<{ home: string; store: string }> {
  const { openDatabase } = await import('../src/db/index.js');
  const home = fresh(dir);
  const store = path.join(home, 'store');
  const db = await openDatabase({ home });
  db.addQrNode({ id: 'pacs1', aeTitle: 'ORTHANC', host: '127.0.0.1', port: o.orthanc.port, callingAeTitle: 'QRSCU', maxAssociations, dimseTimeoutMs: 120_000 });
  db.addStoreNode({ id: 'store1', aeTitle: 'QRSCU_STORE', host: '127.0.0.1', port: o.ports.qrscuStore, directory: store });
  await db.close();
  return { home, store };
}

/** DICOM JSON identifier → dcmtk `-k (gggg,eeee)=value` arguments. */
function dcmtkKeys(json: Record<string, { vr: string; Value?: unknown[] }>): string[] {
  return Object.entries(json).flatMap(([tag, e]) => {
    const values = (e.Value ?? []).map((v) => (typeof v === 'object' && v !== null ? String((v as { Alphabetic?: string }).Alphabetic ?? '') : String(v)));
    return ['-k', `${tag.slice(0, 4)},${tag.slice(4)}=${values.join('\\')}`];
  });
}

/**
 * OpenREM-style with dcmtk's tools, as a shell script would run it: the recorded requests in their
 * order, one `findscu` or `movescu` process (and association) per request, each waiting for the last;
 * Nagle left on (no TCP_NODELAY), as OpenREM and dcmtk run by default. Into our store SCP.
 */
async function runDcmtkScript(o: BenchOrthanc, requestsFile: string): Promise<PeerRun> {
  const { startStoreScp } = await import('../src/net/store-scp.js');
  const requests = JSON.parse(readFileSync(requestsFile, 'utf8')) as RecordedRequest[];
  const storeDir = fresh(path.join(WORK, 'dcmtk-store'));
  let arrived = 0;
  const server = await startStoreScp({ aeTitle: 'QRSCU_STORE', host: '127.0.0.1', port: o.ports.qrscuStore, directory: storeDir, onStored: () => { arrived++; } });
  try {
    const t0 = performance.now();
    let completed = 0;
    for (const r of requests) {
      const keys = dcmtkKeys(r.identifier as never);
      const args = r.kind === 'find'
        ? ['-S', '-aet', 'QRSCU', '-aec', 'ORTHANC', ...keys, '127.0.0.1', String(o.orthanc.port)]
        : ['-S', '-aet', 'QRSCU', '-aec', 'ORTHANC', '-aem', 'QRSCU_STORE', ...keys, '127.0.0.1', String(o.orthanc.port)];
      const run = await runProcess(r.kind === 'find' ? 'findscu' : 'movescu', args, { timeoutMs: 120_000 });
      if (run.code !== 0) throw new Error(`${r.kind === 'find' ? 'findscu' : 'movescu'} exited ${run.code}: ${run.stderr.slice(-1000)}`);
    }
    completed = requests.length;
    const deadline = performance.now() + 30_000;
    while (server.associations() > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    void completed;
    const got = du(storeDir);
    return { ms: performance.now() - t0, objects: got.files, bytes: got.bytes, detail: `${requests.length} processes, ${arrived} stored` };
  } finally {
    await server.close();
  }
}

export interface PeerRun { readonly ms: number; readonly pipelineMs?: number; readonly processMs?: number; readonly objects: number; readonly bytes: number; readonly cpuMs?: number; readonly maxRssKb?: number; readonly detail?: string }
export interface ScaleResult {
  readonly studies: number;
  readonly objectsInPacs: number;
  readonly requests: { finds: number; moves: number };
  readonly load: number;
  /** Orthanc's time for one series-level C-FIND of one study at this size (seriesFindMs). */
  readonly seriesFindMs: number;
  readonly runs: { qrscu: PeerRun[]; openrem: PeerRun[]; floor: PeerRun[]; dcmtk: PeerRun[] };
  readonly median: { qrscu: number; openrem: number; floor: number; floorProcess: number; dcmtk: number };
}

async function runQrscu(o: BenchOrthanc, bin: string, maxAssociations: number, tag: string, profile = false): Promise<PeerRun> {
  const { home, store } = await makeHome(o, path.join(WORK, `home-${tag}`), maxAssociations);
  const prof = profile ? ['--cpu-prof', '--cpu-prof-dir', path.join(RESULTS, 'profiles'), '--cpu-prof-name', `retrieve-${tag}.cpuprofile`] : [];
  const r = await runProcess(process.execPath, [...prof, bin, 'pacs1', 'store1', ...GROUP_FLAGS, '--all-dates', '--home', home], { timeoutMs: 900_000, timed: true });
  const got = du(store);
  if (r.code !== 0) throw new Error(`qrscu (maxAssociations ${maxAssociations}) exited ${r.code}:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  // The run's own clock (summary line "time: echo …, query …, retrieve …"): query + retrieve, i.e.
  // from the first association of the query stage to the last object on disk.
  const t = /time: echo ([\d.]+) ?(ms|s), query ([\d.]+) ?(ms|s), retrieve ([\d.]+) ?(ms|s)/.exec(r.stdout + r.stderr);
  const toMs = (v: string, u: string) => Number(v) * (u === 's' ? 1000 : 1);
  const pipelineMs = t ? toMs(t[3]!, t[4]!) + toMs(t[5]!, t[6]!) : undefined;
  return { ms: r.wallMs, ...(pipelineMs !== undefined ? { pipelineMs } : {}), objects: got.files, bytes: got.bytes, ...(r.cpuMs !== undefined ? { cpuMs: r.cpuMs, maxRssKb: r.maxRssKb! } : {}) };
}

async function runFloor(o: BenchOrthanc, floorJs: string, requests: string): Promise<PeerRun> {
  let best: PeerRun | undefined;
  for (const parallel of [4, 8]) {
    const storeDir = fresh(path.join(WORK, 'floor-store'));
    const args: FloorArgs = { port: o.orthanc.port, storePort: o.ports.qrscuStore, storeDir, requests, parallel };
    const r = await runProcess(process.execPath, [floorJs, JSON.stringify(args)], { timeoutMs: 900_000, timed: true });
    if (r.code !== 0) throw new Error(`floor child exited ${r.code}: ${r.stderr.slice(-2000)}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as FloorResult;
    const got = du(storeDir);
    const run: PeerRun = { ms: res.ms, processMs: r.wallMs, objects: got.files, bytes: got.bytes, cpuMs: r.cpuMs!, maxRssKb: r.maxRssKb!, detail: `P=${parallel}` };
    if (!best || run.ms < best.ms) best = run;
  }
  return best!;
}

/**
 * The server's own cost of one request as the database grows: `count` series-level C-FINDs for one
 * study each (the run's commonest request), one after another on one association; median ms.
 */
async function seriesFindMs(o: BenchOrthanc, count = 40): Promise<number> {
  const { connect } = await import('../src/net/client.js');
  const { datasetFromJson, getString } = await import('../src/dicom/index.js');
  const c = await connect({ host: '127.0.0.1', port: o.orthanc.port, callingAeTitle: 'QRSCU', calledAeTitle: 'ORTHANC', dimseTimeoutMs: 60_000 });
  try {
    const times: number[] = [];
    for (const uid of o.studyUids.slice(0, count)) {
      const t0 = performance.now();
      for await (const m of c.find(datasetFromJson({ '00080052': { vr: 'CS', Value: ['SERIES'] }, '0020000D': { vr: 'UI', Value: [uid] }, '0020000E': { vr: 'UI' }, '00080060': { vr: 'CS' }, '0008103E': { vr: 'LO' } }))) void getString(m, 0x0020000e);
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    await c.release();
  }
}

export async function runRetrieveScale(o: BenchOrthanc, studies: number, runs: number, options: { profile?: boolean; dcmtkUpTo?: number } = {}): Promise<ScaleResult> {
  await o.growTo(studies);
  const { bin } = build();
  const floorJs = await floorBundle();
  mkdirSync(WORK, { recursive: true });
  const requestsFile = path.join(WORK, `requests-${studies}.json`);
  const requests = await recordRequests(o, requestsFile);
  const seriesFind = await seriesFindMs(o);
  log(`retrieve ${studies}: the pipeline made ${requests.finds} C-FINDs and ${requests.moves} C-MOVEs; one series C-FIND takes Orthanc ${seriesFind.toFixed(1)} ms`);
  const load = loadAverage();
  const res = { qrscu: [] as PeerRun[], openrem: [] as PeerRun[], floor: [] as PeerRun[], dcmtk: [] as PeerRun[] };
  const withDcmtk = studies <= (options.dcmtkUpTo ?? 500);
  for (let i = 0; i < runs; i++) {
    if (withDcmtk && i === 0) {
      res.dcmtk.push(await runDcmtkScript(o, requestsFile));
      log(`retrieve ${studies} run ${i + 1}/${runs}: dcmtk script ${res.dcmtk[i]!.ms.toFixed(0)} ms (${res.dcmtk[i]!.detail}), objects ${res.dcmtk[i]!.objects}`);
    }
    res.qrscu.push(await runQrscu(o, bin, 4, `q${studies}`, options.profile && i === 0));
    res.floor.push(await runFloor(o, floorJs, requestsFile));
    res.openrem.push(await runQrscu(o, bin, 1, `o${studies}`));
    log(`retrieve ${studies} run ${i + 1}/${runs}: qrscu ${res.qrscu[i]!.ms.toFixed(0)} ms, floor ${res.floor[i]!.ms.toFixed(0)} ms (${res.floor[i]!.detail}; process ${res.floor[i]!.processMs?.toFixed(0)} ms), OpenREM-style ${res.openrem[i]!.ms.toFixed(0)} ms; objects ${res.qrscu[i]!.objects}/${res.floor[i]!.objects}/${res.openrem[i]!.objects}; load ${loadAverage()}`);
  }
  const m = (xs: PeerRun[]) => median(xs.map((x) => x.ms));
  return { studies, objectsInPacs: o.objects, requests, load, seriesFindMs: seriesFind, runs: res, median: { qrscu: m(res.qrscu), openrem: m(res.openrem), floor: m(res.floor), floorProcess: median(res.floor.map((x) => x.processMs ?? NaN)), dcmtk: res.dcmtk.length ? m(res.dcmtk) : NaN } };
}

export function formatRetrieve(scales: readonly ScaleResult[]): string {
  const main = scales.map((s) => {
    const q = s.median.qrscu;
    const pipeline = median(s.runs.qrscu.map((r) => r.pipelineMs ?? NaN));
    // Runs are interleaved round by round; the ratio within each round cancels the machine's drifting load.
    const paired = median(s.runs.qrscu.map((r, i) => r.ms / (s.runs.floor[i]?.processMs ?? NaN)));
    return [`${s.studies} (${s.runs.qrscu[0]!.objects} objects, ${s.requests.finds} finds, ${s.requests.moves} moves)`,
      q / 1000, pipeline / 1000, s.runs.dcmtk.length ? s.median.dcmtk / 1000 : '—', s.median.openrem / 1000, s.median.floor / 1000, s.median.floorProcess / 1000,
      s.runs.dcmtk.length ? ratio(s.median.dcmtk, q) : '—', ratio(s.median.openrem, q), ratio(q, s.median.floorProcess), `${paired.toFixed(2)}×`, ratio(q, s.median.floor), ratio(pipeline, s.median.floor),
      `${(median(s.runs.qrscu.map((r) => r.cpuMs ?? 0)) / 1000).toFixed(2)} / ${(median(s.runs.qrscu.map((r) => r.maxRssKb ?? 0)) / 1024).toFixed(0)}`, s.load];
  });
  const first = scales[0];
  const scale = first ? scales.map((s) => [s.studies, `${(s.studies / first.studies).toFixed(1)}×`, `${(s.median.qrscu / first.median.qrscu).toFixed(2)}×`, `${(s.median.openrem / first.median.openrem).toFixed(2)}×`, `${(s.median.floor / first.median.floor).toFixed(2)}×`,
    (s.median.qrscu / s.studies).toFixed(2), (s.median.floor / s.studies).toFixed(2),
    (median(s.runs.qrscu.map((r) => r.cpuMs ?? NaN)) / s.studies).toFixed(2), Number.isFinite(s.seriesFindMs) ? s.seriesFindMs.toFixed(1) : '—']) : [];
  return [
    table(['studies', 'qrscu s (process)', 'qrscu query+retrieve s', 'OpenREM-style dcmtk script s', 'OpenREM-style qrscu (1 assoc) s', 'floor s (replay)', 'floor s (process)', 'dcmtk script ÷ qrscu', 'qrscu 1 assoc ÷ qrscu', 'qrscu ÷ floor (process ÷ process)', 'the same, median of the rounds\' ratios', 'qrscu ÷ floor (process ÷ replay)', 'qrscu ÷ floor (query+retrieve ÷ replay)', 'qrscu CPU s / RSS MB', 'load'], main),
    '',
    table(['studies', 'studies ×', 'qrscu time ×', 'OpenREM-style time ×', 'floor time ×', 'qrscu ms/study', 'floor ms/study', 'qrscu CPU ms/study', 'Orthanc: one series C-FIND ms'], scale),
  ].join('\n');
}

export async function runRetrieveBench(o: BenchOrthanc, options: { scales: readonly number[]; runs: number; profile?: boolean; dcmtkUpTo?: number }): Promise<ScaleResult[]> {
  const out: ScaleResult[] = [];
  for (const n of options.scales) out.push(await runRetrieveScale(o, n, options.runs, options));
  return out;
}

// ---- entry -------------------------------------------------------------------------------------------

const isMain = process.argv[1] !== undefined && /retrieve\.(ts|js)$/.test(process.argv[1]);
if (isMain) {
  const { reexecInNamespace } = await import('./support.js');
  const code = reexecInNamespace();
  if (code !== undefined) process.exit(code);
  const { startBenchOrthanc } = await import('./orthanc.js');
  const scales = (process.argv.includes('--scales') ? process.argv[process.argv.indexOf('--scales') + 1]! : '100,500,2000').split(',').map(Number);
  const o = await startBenchOrthanc();
  try {
    const r = await runRetrieveBench(o, { scales, runs: argValue('--runs', 3), dcmtkUpTo: argValue('--dcmtk-up-to', 500), profile: process.argv.includes('--profile') });
    console.log(`# whole retrieve from Orthanc\n${formatRetrieve(r)}\n`);
    log(`wrote ${writeJson('retrieve', { scales: r })}`);
  } finally {
    await o.stop();
  }
}
