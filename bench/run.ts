// `npm run bench`: every benchmark, tables on stdout, raw numbers in bench/results/<name>.json.
// Usage: npm run bench [-- --seconds N] [--no-network] [--profile]

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { runDatasetBench } from './dataset.js';
import { formatFindBench, runFindBench, writeResults } from './find.js';
import { formatRows } from './measure.js';

const i = process.argv.indexOf('--seconds');
const seconds = i > 0 ? Number(process.argv[i + 1]) : 2;
const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;

const rows = runDatasetBench(seconds);
console.log(`# dataset codec (${machine})\n${formatRows(rows)}\n`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/dataset.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2));

// C-FIND over loopback against the canned SCP: qrscu vs findscu vs dcmjs-dimse (bench/find.ts; ~1-2 min).
if (!process.argv.includes('--no-network')) {
  const find = await runFindBench({ runs: 3, profile: process.argv.includes('--profile') });
  console.log(`# C-FIND over loopback (${find.machine})\n${formatFindBench(find)}\n`);
  writeResults(find);
}
