// Store-node ingest (issue 8, item 3): Orthanc (Nagle on, as sites run it) C-MOVEs every loaded study
// (≥ 2,000 objects) to a store SCP writing to disk: qrscu's (`qrscu store`, its own process) vs
// dcmtk's `storescp` (`-od DIR`, default options, no -v), interleaved run by run. The same bench
// client sends the STUDY-level C-MOVEs, 4 at a time, for both; the time runs from the first C-MOVE to
// the last object on disk (file count), after every final C-MOVE response.

import path from 'node:path';
import { waitForTcp } from '../test/support/pacs.js';
import type { BenchOrthanc } from './orthanc.js';
import { build, du, fresh, loadAverage, log, median, RESULTS, ratio, startBackground, table, type Background } from './support.js';

const WORK = path.join(RESULTS, '.work');

export interface IngestRun { readonly ms: number; readonly objects: number; readonly bytes: number; readonly completed: number; readonly cpuMs?: number }
export interface IngestResult {
  readonly studies: number;
  readonly objects: number;
  readonly load: number;
  readonly runs: { qrscu: IngestRun[]; storescp: IngestRun[] };
  readonly median: { qrscu: IngestRun; storescp: IngestRun };
}

/** CPU ms (user + system) of a process so far, from /proc (Linux), or undefined. */
async function cpuOf(pid: number): Promise<number | undefined> {
  const { readFileSync } = await import('node:fs');
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

async function ingestOnce(o: BenchOrthanc, dest: string, port: number, dir: string, start: () => Background): Promise<IngestRun> {
  const { connect } = await import('../src/net/client.js');
  const { datasetFromJson } = await import('../src/dicom/index.js');
  fresh(dir);
  const scp = start();
  try {
    await waitForTcp(port, 20_000, () => scp.exited());
    const cpu0 = await cpuOf(scp.pid);
    const options = { host: '127.0.0.1', port: o.orthanc.port, callingAeTitle: 'QRSCU', calledAeTitle: 'ORTHANC', dimseTimeoutMs: 300_000 };
    const t0 = performance.now();
    const clients = await Promise.all(Array.from({ length: 4 }, () => connect(options)));
    let next = 0;
    let completed = 0;
    await Promise.all(clients.map(async (c) => {
      while (next < o.studyUids.length) {
        const uid = o.studyUids[next++]!;
        const r = await c.move(datasetFromJson({ '00080052': { vr: 'CS', Value: ['STUDY'] }, '0020000D': { vr: 'UI', Value: [uid] } } as never), { destination: dest });
        completed += r.subOperations.completed ?? 0;
        if ((r.subOperations.failed ?? 0) > 0) throw new Error(`C-MOVE of ${uid} to ${dest}: ${r.subOperations.failed} failed`);
      }
      await c.release();
    }));
    const deadline = performance.now() + 120_000;
    let got = du(dir);
    while (got.files < completed && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      got = du(dir);
    }
    const ms = performance.now() - t0;
    const cpu1 = await cpuOf(scp.pid);
    if (got.files < completed) throw new Error(`${dest}: ${got.files} of ${completed} objects on disk after 120 s\n${scp.output().slice(-2000)}`);
    return { ms, objects: got.files, bytes: got.bytes, completed, ...(cpu0 !== undefined && cpu1 !== undefined ? { cpuMs: cpu1 - cpu0 } : {}) };
  } finally {
    await scp.stop();
  }
}

export async function runIngestBench(o: BenchOrthanc, options: { minObjects?: number; runs: number }): Promise<IngestResult> {
  const minObjects = options.minObjects ?? 2_000;
  let studies = Math.max(o.studies, 100);
  while (o.objects < minObjects) {
    await o.growTo(studies);
    studies = Math.ceil(studies * Math.max(1.05, (minObjects * 1.02) / Math.max(1, o.objects)));
  }
  const { bin } = build();
  const load = loadAverage();
  const res = { qrscu: [] as IngestRun[], storescp: [] as IngestRun[] };
  const qrscuDir = path.join(WORK, 'ingest-qrscu');
  const storescpDir = path.join(WORK, 'ingest-storescp');
  for (let i = 0; i < options.runs; i++) {
    res.qrscu.push(await ingestOnce(o, 'QRSCU_STORE', o.ports.qrscuStore, qrscuDir, () =>
      startBackground(process.execPath, [bin, 'store', '--port', String(o.ports.qrscuStore), '--dir', qrscuDir, '--aet', 'QRSCU_STORE'])));
    res.storescp.push(await ingestOnce(o, 'STORESCP', o.ports.storescp, storescpDir, () =>
      startBackground('storescp', ['-aet', 'STORESCP', '-od', storescpDir, String(o.ports.storescp)])));
    log(`ingest run ${i + 1}/${options.runs}: qrscu ${res.qrscu[i]!.ms.toFixed(0)} ms, storescp ${res.storescp[i]!.ms.toFixed(0)} ms (${res.qrscu[i]!.objects} objects); load ${loadAverage()}`);
  }
  const pick = (xs: IngestRun[]) => { const m = median(xs.map((x) => x.ms)); return xs.reduce((a, b) => (Math.abs(b.ms - m) < Math.abs(a.ms - m) ? b : a)); };
  return { studies: o.studies, objects: o.objects, load, runs: res, median: { qrscu: pick(res.qrscu), storescp: pick(res.storescp) } };
}

export function formatIngest(r: IngestResult): string {
  const row = (name: string, x: IngestRun, all: IngestRun[]) => {
    const ms = median(all.map((a) => a.ms));
    return [name, x.objects, ms / 1000, (x.objects / ms) * 1000, (x.bytes / 2 ** 20 / ms) * 1000, (median(all.map((a) => a.cpuMs ?? NaN)) / 1000).toFixed(2)];
  };
  const q = median(r.runs.qrscu.map((a) => a.ms));
  const s = median(r.runs.storescp.map((a) => a.ms));
  return [
    table(['store SCP', 'objects', 's', 'objects/s', 'MB/s', 'SCP CPU s'], [row('qrscu store', r.median.qrscu, r.runs.qrscu), row('dcmtk storescp', r.median.storescp, r.runs.storescp)]),
    '',
    `qrscu ÷ storescp (objects/s): ${ratio(s, q)}; ${r.studies} studies moved STUDY-level, 4 C-MOVEs at a time; load ${r.load}`,
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && /ingest\.(ts|js)$/.test(process.argv[1]);
if (isMain) {
  const { reexecInNamespace, argValue, writeJson } = await import('./support.js');
  const code = reexecInNamespace();
  if (code !== undefined) process.exit(code);
  const { startBenchOrthanc } = await import('./orthanc.js');
  const o = await startBenchOrthanc();
  try {
    const r = await runIngestBench(o, { runs: argValue('--runs', 3), minObjects: argValue('--objects', 2_000) });
    console.log(`# store-node ingest from Orthanc\n${formatIngest(r)}\n`);
    log(`wrote ${writeJson('ingest', r)}`);
  } finally {
    await o.stop();
  }
}
