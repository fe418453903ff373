// `npm run bench`: every benchmark, tables on stdout, raw numbers in bench/results/<name>.json.
// Usage: npm run bench [-- NAME…] [--seconds N] [--no-network] [--profile] [--runs N]
//   NAME: codec, find, retrieve, ingest, startup (default: all). retrieve/ingest start Orthanc (as root
//   inside a loopback-only network namespace: the whole bench re-runs itself under `unshare --net`).
//   retrieve: [--scales 100,500,2000] [--dcmtk-up-to 100]; ingest: [--objects 2000].

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { argValue, reexecInNamespace, writeJson } from './support.js';

const NAMES = ['codec', 'find', 'retrieve', 'ingest', 'startup'] as const;
const asked = process.argv.slice(2).filter((a) => (NAMES as readonly string[]).includes(a));
const want = (n: (typeof NAMES)[number]) => (asked.length === 0 ? !(process.argv.includes('--no-network') && n !== 'codec') : asked.includes(n));
const runs = argValue('--runs', 3);
let ingested = false;

if (want('retrieve') || want('ingest') || want('startup')) {
  const code = reexecInNamespace();
  if (code !== undefined) process.exit(code);
}

if (want('codec')) {
  const { runDatasetBench } = await import('./dataset.js');
  const { formatRows } = await import('./measure.js');
  const i = process.argv.indexOf('--seconds');
  const seconds = i > 0 ? Number(process.argv[i + 1]) : 2;
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  const rows = runDatasetBench(seconds);
  console.log(`# dataset codec (${machine})\n${formatRows(rows)}\n`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/dataset.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2));
}

// C-FIND over loopback against the canned SCP: qrscu vs findscu vs dcmjs-dimse (bench/find.ts; ~1-2 min).
if (want('find')) {
  const { formatFindBench, runFindBench, writeResults } = await import('./find.js');
  const find = await runFindBench({ runs, profile: process.argv.includes('--profile') });
  console.log(`# C-FIND over loopback (${find.machine})\n${formatFindBench(find)}\n`);
  writeResults(find);
}

if (want('startup')) {
  const { runStartupBench, formatStartup } = await import('./startup.js');
  const r = await runStartupBench({ runs: Math.max(runs, 7) });
  console.log(`# start-up and association latency\n${formatStartup(r)}\n`);
  writeJson('startup', r);
}

// Orthanc: the whole retrieve at each scale, then the ingest (≥ 2,000 objects), on one server that grows.
if (want('retrieve') || want('ingest')) {
  const { startBenchOrthanc } = await import('./orthanc.js');
  const o = await startBenchOrthanc();
  try {
    if (want('retrieve')) {
      const { runRetrieveScale, formatRetrieve } = await import('./retrieve.js');
      const scales = (process.argv.includes('--scales') ? process.argv[process.argv.indexOf('--scales') + 1]! : '100,500,2000').split(',').map(Number);
      const done: Awaited<ReturnType<typeof runRetrieveScale>>[] = [];
      for (const n of scales) {
        if (want('ingest') && n > 550 && done.length > 0 && !done.some((d) => d.studies > 550)) await ingest();
        done.push(await runRetrieveScale(o, n, runs, { profile: process.argv.includes('--profile'), dcmtkUpTo: argValue('--dcmtk-up-to', 100) }));
        console.log(`# whole retrieve from Orthanc (so far)\n${formatRetrieve(done)}\n`);
        writeJson('retrieve', { scales: done });
      }
    }
    if (want('ingest') && !ingested) await ingest();
  } finally {
    await o.stop();
  }

  async function ingest(): Promise<void> {
    const { runIngestBench, formatIngest } = await import('./ingest.js');
    const r = await runIngestBench(o, { runs: argValue('--ingest-runs', 2), minObjects: argValue('--objects', 2_000) });
    console.log(`# store-node ingest from Orthanc\n${formatIngest(r)}\n`);
    writeJson('ingest', r);
    ingested = true;
  }
}
