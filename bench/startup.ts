// Start-up and association latency (issue 8, items 4 and 5), each peer interleaved run by run,
// medians of N runs, every figure a child process's wall clock (spawn to exit) unless said otherwise:
// - `qrscu --help` (the build-time help cache, src/cli/help-cache.ts), the same with the cache off
//   (QRSCU_HELP_CACHE=0: yargs renders it, what every version before did), `node -e 0` (Node's own
//   floor), `echoscu --help`, `findscu --help`;
// - `qrscu echo 127.0.0.1 PORT` vs `echoscu 127.0.0.1 PORT` against the canned SCP (TCP_NODELAY);
// - association set-up + C-ECHO + release, 300 in a row in one qrscu process (client clock), vs
//   echoscu's process wall minus its `--help` wall (one association per process is all echoscu does).
// Child mode (plain JavaScript from bench/results/.qrscu): `startup.js --child assoc PORT N`.

import { fork } from 'node:child_process';
import path from 'node:path';
import { build, loadAverage, log, median, RESULTS, ratio, runProcess, table } from './support.js';

interface Row { readonly name: string; readonly command: string; readonly ms: number[] }
export interface StartupResult {
  readonly load: number;
  readonly rows: Row[];
  readonly association: { readonly qrscuMs: number[]; readonly echoscuEstimateMs: number };
}

async function assocChild(port: number, n: number): Promise<number[]> {
  const { connect } = await import('../src/net/client.js');
  const out: number[] = [];
  for (let i = 0; i < n + 30; i++) {
    const t0 = performance.now();
    const c = await connect({ host: '127.0.0.1', port, callingAeTitle: 'QRSCU', calledAeTitle: 'ANY-SCP' });
    await c.echo();
    await c.release();
    if (i >= 30) out.push(performance.now() - t0);
  }
  return out;
}

export async function runStartupBench(options: { runs: number }): Promise<StartupResult> {
  // Its own build folder: start-up depends on what the build holds (the help cache), and another bench may be running children from bench/results/.qrscu.
  const { bin, bench } = build(path.join(RESULTS, '.startup'));
  const scp = fork(path.join(bench, 'canned-scp.js'), ['--ipc', '--responses', '1'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    scp.on('message', (m: { type: string; port?: number }) => { if (m.type === 'listening') resolve(m.port!); });
    scp.once('exit', () => reject(new Error('canned SCP exited')));
  });
  try {
    const peers: Array<{ name: string; program: string; args: string[]; env?: NodeJS.ProcessEnv }> = [
      { name: 'node -e 0', program: process.execPath, args: ['-e', '0'] },
      { name: 'qrscu --help', program: process.execPath, args: [bin, '--help'] },
      { name: 'qrscu --help (cache off: yargs)', program: process.execPath, args: [bin, '--help'], env: { QRSCU_HELP_CACHE: '0' } },
      { name: 'echoscu --help', program: 'echoscu', args: ['--help'] },
      { name: 'findscu --help', program: 'findscu', args: ['--help'] },
      { name: 'qrscu echo', program: process.execPath, args: [bin, 'echo', '127.0.0.1', String(port), '--aec', 'ANY-SCP'] },
      { name: 'echoscu', program: 'echoscu', args: ['-aec', 'ANY-SCP', '127.0.0.1', String(port)], env: { TCP_NODELAY: '1' } },
    ];
    const rows: Row[] = peers.map((p) => ({ name: p.name, command: [p.program === process.execPath ? 'node' : p.program, ...p.args.map((a) => a.replace(/.*\.startup\//, 'bench/results/.startup/'))].join(' '), ms: [] }));
    const load = loadAverage();
    for (let i = 0; i < options.runs + 1; i++) {
      for (const [j, p] of peers.entries()) {
        const r = await runProcess(p.program, p.args, { timeoutMs: 30_000, env: { LANG: 'C.UTF-8', ...p.env } });
        if (r.code !== 0) throw new Error(`${p.name} exited ${r.code}: ${r.stderr.slice(-500)}`);
        if (i > 0) rows[j]!.ms.push(r.wallMs); // the first round warms the page cache
      }
    }
    const child = await runProcess(process.execPath, [path.join(bench, 'startup.js'), '--child', 'assoc', String(port), '300'], { timeoutMs: 120_000 });
    if (child.code !== 0) throw new Error(`association child: ${child.stderr.slice(-500)}`);
    const qrscuMs = JSON.parse(child.stdout.trim()) as number[];
    const med = (name: string) => median(rows.find((r) => r.name === name)!.ms);
    return { load, rows, association: { qrscuMs, echoscuEstimateMs: med('echoscu') - med('echoscu --help') } };
  } finally {
    scp.send({ type: 'close' });
    await new Promise((r) => { scp.once('exit', r); setTimeout(r, 3_000); });
    if (scp.exitCode === null) scp.kill('SIGKILL');
  }
}

export function formatStartup(r: StartupResult): string {
  const med = (name: string) => median(r.rows.find((x) => x.name === name)!.ms);
  const base = med('node -e 0');
  const rows = r.rows.map((x) => [x.name, median(x.ms), Math.min(...x.ms), (median(x.ms) - (x.command.startsWith('node') ? base : 0)), `\`${x.command}\``]);
  const a = [...r.association.qrscuMs].sort((p, q) => p - q);
  return [
    table(['command', 'median ms', 'min ms', 'minus node -e 0 (node only) ms', 'command line'], rows),
    '',
    `qrscu --help ÷ cache off: ${ratio(med('qrscu --help'), med('qrscu --help (cache off: yargs)'))}; qrscu --help ÷ echoscu --help: ${ratio(med('qrscu --help'), med('echoscu --help'))}; qrscu echo ÷ echoscu: ${ratio(med('qrscu echo'), med('echoscu'))}; load ${r.load}`,
    '',
    table(['association set-up + C-ECHO + release', 'median ms', 'p99 ms'], [
      ['qrscu (one process, client clock, 300 in a row)', median(a), a[Math.floor(a.length * 0.99)] ?? NaN],
      ['echoscu (process wall − `echoscu --help` wall)', r.association.echoscuEstimateMs, '—'],
    ]),
  ].join('\n');
}

const isMain = process.argv[1] !== undefined && /startup\.(ts|js)$/.test(process.argv[1]);
if (isMain && process.argv[2] === '--child') {
  process.stdout.write(`${JSON.stringify(await assocChild(Number(process.argv[4]), Number(process.argv[5])))}\n`);
  process.exit(0);
} else if (isMain) {
  const { argValue, writeJson } = await import('./support.js');
  const r = await runStartupBench({ runs: argValue('--runs', 9) });
  console.log(`# start-up and association latency\n${formatStartup(r)}\n`);
  log(`wrote ${writeJson('startup', r)}`);
}
