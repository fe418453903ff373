// C-FIND over loopback (issue 3, "Proof"): 100,000 study-level C-FIND responses from the canned SCP
// (bench/canned-scp.ts, its own process), received by qrscu's client, dcmtk's findscu and dcmjs-dimse,
// each in its own process; then sequential round trips on one open association.
//
//   node --import tsx bench/find.ts [--runs 3] [--responses 100000] [--round-trips 2000] [--profile]
//   (also part of `npm run bench`)
//
// The clients run as plain JavaScript: this file compiles itself, the SCP and the sources they import
// with tsc --noCheck into bench/results/.build/ first, because the tsx loader alone adds ~45 MB of RSS
// and ~0.5 s of start-up to a Node process, which would be charged to qrscu. Each figure is the median
// of `runs` runs, the peers interleaved run by run.
//
// What is measured, per peer and run:
//   query   — on the SCP's clock: from the C-FIND-RQ's arrival to the A-RELEASE-RQ's (the client has
//             consumed every response before it releases); the same clock for every client.
//   wall    — process start to exit, as seen from this process (includes runtime start-up).
//   cpu     — user + system CPU of the client process.
//   RSS     — peak resident set: process.resourceUsage().maxRSS in the Node children, GNU time's %M
//             for findscu.
// Every consumer touches each response the way a caller would: qrscu and dcmjs-dimse read
// StudyInstanceUID from every match; findscu -q parses each into a DcmDataset and prints nothing.

import { fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AssociationStats, ForkedScp } from './canned-scp.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CALLED_AE = 'ANY-SCP';
const AE = { qrscu: 'QRSCU-BENCH', findscu: 'FINDSCU', dcmjs: 'DCMJS-DIMSE' } as const;
type Peer = keyof typeof AE;

/** The query: study level, the usual return keys, all universal. */
const QUERY_KEYS = ['PatientName', 'PatientID', 'StudyDate', 'StudyTime', 'AccessionNumber', 'ModalitiesInStudy', 'StudyDescription', 'StudyInstanceUID'] as const;

// ---- child processes: the clients under test ---------------------------------------------------

interface FindChildResult {
  readonly responses: number;
  readonly status: number;
  readonly maxRssKb: number;
  readonly cpuMs: number;
  /** Client-side: connect to released. */
  readonly clientMs: number;
}

interface RttChildResult {
  readonly findMs: number[];
  readonly echoMs: number[];
  readonly maxRssKb: number;
}

function argOf(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function usage(): { maxRssKb: number; cpuMs: number } {
  const u = process.resourceUsage();
  return { maxRssKb: u.maxRSS, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 };
}

async function qrscuIdentifier() {
  const { createDataset, setValue } = await import('../src/dicom/index.js');
  const ds = createDataset();
  setValue(ds, 'QueryRetrieveLevel', 'STUDY');
  for (const k of QUERY_KEYS) setValue(ds, k, null);
  return ds;
}

async function childQrscuFind(port: number, expect: number): Promise<FindChildResult> {
  const { connect } = await import('../src/net/client.js');
  const { getString } = await import('../src/dicom/index.js');
  const identifier = await qrscuIdentifier();
  const t0 = performance.now();
  const client = await connect({ host: '127.0.0.1', port, callingAeTitle: AE.qrscu, calledAeTitle: CALLED_AE });
  const op = client.find(identifier);
  let responses = 0;
  let uidChars = 0;
  for await (const ds of op) {
    responses++;
    uidChars += getString(ds, 'StudyInstanceUID')?.length ?? 0;
  }
  await client.release();
  const clientMs = performance.now() - t0;
  if (responses !== expect || uidChars === 0) throw new Error(`qrscu: ${responses} responses, expected ${expect}`);
  return { responses, status: op.final?.status ?? -1, clientMs, ...usage() };
}

async function childQrscuRtt(port: number, count: number, warmup: number): Promise<RttChildResult> {
  const { connect } = await import('../src/net/client.js');
  const { getString } = await import('../src/dicom/index.js');
  const identifier = await qrscuIdentifier();
  const client = await connect({ host: '127.0.0.1', port, callingAeTitle: AE.qrscu, calledAeTitle: CALLED_AE });
  const findMs: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const t = performance.now();
    let n = 0;
    for await (const ds of client.find(identifier)) if (getString(ds, 'StudyInstanceUID')) n++;
    if (i >= warmup) findMs.push(performance.now() - t);
    if (n !== 1) throw new Error(`round trip ${i}: ${n} matches`);
  }
  const echoMs: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const t = performance.now();
    const r = await client.echo();
    if (i >= warmup) echoMs.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`C-ECHO status ${r.status}`);
  }
  await client.release();
  return { findMs, echoMs, maxRssKb: usage().maxRssKb };
}

async function childDcmjsFind(port: number, expect: number): Promise<FindChildResult> {
  const mod = await import('dcmjs-dimse');
  const dimse = mod.default; // a CommonJS bundle: module.exports is the default export
  const { Client, requests, constants, log } = dimse;
  log.setLevel('error');
  const keys: Record<string, string> = { QueryRetrieveLevel: 'STUDY' };
  for (const k of QUERY_KEYS) keys[k] = '';
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const client = new Client();
    const request = requests.CFindRequest.createStudyFindRequest(keys);
    let responses = 0;
    let uidChars = 0;
    let status = -1;
    request.on('response', (rsp) => {
      const s = rsp.getStatus();
      if (s === constants.Status.Pending && rsp.hasDataset()) {
        responses++;
        uidChars += String(rsp.getDataset()?.getElement('StudyInstanceUID') ?? '').length;
      } else status = s;
    });
    client.addRequest(request);
    client.on('networkError', (e: Error) => reject(e));
    client.on('closed', () => {
      if (responses !== expect || uidChars === 0) reject(new Error(`dcmjs-dimse: ${responses} responses, expected ${expect}`));
      else resolve({ responses, status, clientMs: performance.now() - t0, ...usage() });
    });
    client.send('127.0.0.1', port, AE.dcmjs, CALLED_AE);
  });
}

async function childMain(): Promise<void> {
  const mode = process.argv[3];
  const port = argOf('--port', 0);
  let result: unknown;
  if (mode === 'qrscu-find') result = await childQrscuFind(port, argOf('--expect', 0));
  else if (mode === 'qrscu-rtt') result = await childQrscuRtt(port, argOf('--count', 2000), argOf('--warmup', 200));
  else if (mode === 'dcmjs-find') result = await childDcmjsFind(port, argOf('--expect', 0));
  else throw new Error(`unknown child mode ${mode}`);
  process.send!(result, () => process.exit(0));
}

// ---- the bench ----------------------------------------------------------------------------------

const BUILD = path.join(HERE, 'results', '.build');

/** Compile this file and the canned SCP (and what they import) to plain JavaScript, types unchecked. */
function build(): { find: string; scp: string } {
  rmSync(BUILD, { recursive: true, force: true });
  mkdirSync(BUILD, { recursive: true });
  const root = path.resolve(HERE, '..');
  const config = {
    extends: path.join(root, 'tsconfig.json'),
    compilerOptions: { rootDir: root, outDir: BUILD, noCheck: true, sourceMap: false, declaration: false, incremental: false, noEmitOnError: false },
    include: [],
    files: [path.join(HERE, 'find.ts'), path.join(HERE, 'canned-scp.ts')],
  };
  writeFileSync(path.join(BUILD, 'tsconfig.json'), JSON.stringify(config, null, 2));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(BUILD, 'tsconfig.json')], { encoding: 'utf8', timeout: 120_000 });
  const out = { find: path.join(BUILD, 'bench', 'find.js'), scp: path.join(BUILD, 'bench', 'canned-scp.js') };
  // tsc prints (and exits non-zero for) semantic errors in other files even with noCheck; what matters is the output.
  if (!existsSync(out.find) || !existsSync(out.scp) || !existsSync(path.join(BUILD, 'src', 'net', 'client.js'))) {
    throw new Error(`tsc did not emit the bench: ${r.error?.message ?? ''}${r.stdout}${r.stderr}`);
  }
  return out;
}

function runNodeChild<T>(script: string, args: string[], options: { timeoutMs: number; execArgv?: string[] }): Promise<{ result: T; wallMs: number }> {
  const t0 = performance.now();
  const child = fork(script, ['--child', ...args], {
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, DEBUG: '' },
  });
  return new Promise((resolve, reject) => {
    let result: T | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('message', (m) => { result = m as T; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      if (code === 0 && result !== undefined) resolve({ result, wallMs });
      else reject(new Error(`child ${args[0]} ended with ${signal ?? `exit code ${code}`}${signal === 'SIGKILL' ? ` (timeout ${options.timeoutMs} ms)` : ''}`));
    });
  });
}

interface FindscuResult { maxRssKb: number; cpuMs: number; wallMs: number }

function runFindscu(port: number, extra: string[], timeoutMs: number): Promise<FindscuResult> {
  const keys = ['-k', 'QueryRetrieveLevel=STUDY', ...QUERY_KEYS.flatMap((k) => ['-k', `${k}=`])];
  // -q: quiet (no per-response output); -S: study root; -xi: implicit VR LE only, like the others. No -X: no files.
  const args = ['-f', 'BENCH-TIME %M %U %S', 'findscu', '-q', '-S', '-xi', '-aet', AE.findscu, '-aec', CALLED_AE, ...extra, ...keys, '127.0.0.1', String(port)];
  const t0 = performance.now();
  // Its own process group, so a timeout kills findscu and not only GNU time.
  const child = spawn('/usr/bin/time', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TCP_NODELAY: '1' }, detached: true });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const m = /BENCH-TIME (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
      if (code !== 0 || !m) {
        reject(new Error(`findscu failed (${code}): ${stderr.trim()}`));
        return;
      }
      const other = stderr.replace(m[0], '').trim();
      if (other) process.stderr.write(`findscu: ${other}\n`);
      resolve({ maxRssKb: Number(m[1]), cpuMs: (Number(m[2]) + Number(m[3])) * 1000, wallMs });
    });
  });
}

export interface FindRow {
  readonly peer: Peer;
  readonly responses: number;
  /** Medians over the runs. */
  readonly queryMs: number;
  readonly responsesPerSecond: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
  /** qrscu's responses/s over this peer's (query clock). */
  readonly ratio: number;
  /** qrscu's responses/s over this peer's on process wall time. */
  readonly wallRatio: number;
  readonly runs: ReadonlyArray<{ queryMs: number; wallMs: number; cpuMs: number; maxRssMb: number }>;
}

export interface RttRow {
  readonly name: string;
  readonly peer: string;
  readonly count: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly clock: 'client' | 'SCP';
}

export interface FindBenchResult {
  readonly date: string;
  readonly machine: string;
  /** 1-minute load average before and after: figures taken on a busy machine are noisier. */
  readonly loadAverage: readonly [number, number];
  readonly responses: number;
  readonly runs: number;
  readonly find: FindRow[];
  readonly rtt: RttRow[];
  readonly targets: ReadonlyArray<{ target: string; value: string; met: boolean }>;
  readonly profile?: ProfileSummary;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The SCP's view: first C-FIND-RQ in to A-RELEASE-RQ in. */
function queryWindow(s: AssociationStats, peer: Peer, expect: number): number {
  if (s.callingAeTitle !== AE[peer]) throw new Error(`expected an association from ${AE[peer]}, got ${s.callingAeTitle}`);
  const first = s.requests.find((r) => r.type === 'C-FIND-RQ');
  if (!first || s.releaseAt === undefined) throw new Error(`${peer}: association without C-FIND or release`);
  if (s.pendingSent !== expect) throw new Error(`${peer}: SCP sent ${s.pendingSent} matches, expected ${expect}`);
  return s.releaseAt - first.at;
}

/** Gaps between consecutive requests of one type, from the `skip`-th on: the round trip as the SCP sees it. */
function gaps(s: AssociationStats, type: string, skip: number): number[] {
  const at = s.requests.filter((r) => r.type === type).map((r) => r.at).slice(skip);
  return at.slice(1).map((t, i) => t - at[i]!);
}

export interface FindBenchOptions {
  readonly runs?: number;
  readonly responses?: number;
  readonly roundTrips?: number;
  readonly profile?: boolean;
  readonly log?: (line: string) => void;
}

export async function runFindBench(options: FindBenchOptions = {}): Promise<FindBenchResult> {
  const runs = options.runs ?? 3;
  const n = options.responses ?? 100_000;
  const count = options.roundTrips ?? 2000;
  const warmup = 200;
  const log = options.log ?? ((l: string) => console.error(l));
  const childTimeoutMs = 120_000;

  const loadBefore = os.loadavg()[0]!;
  log('find bench: compiling to plain JavaScript (tsc --noCheck)…');
  const js = build();
  const { forkCannedScp } = await import('./canned-scp.js');
  const scp: ForkedScp = await forkCannedScp({ script: js.scp, responses: n });
  try {
    // ---- (a)–(c): 100,000 responses, peers interleaved ----
    const samples: Record<Peer, Array<{ queryMs: number; wallMs: number; cpuMs: number; maxRssMb: number }>> = { qrscu: [], findscu: [], dcmjs: [] };
    for (let run = 1; run <= runs; run++) {
      for (const peer of ['qrscu', 'findscu', 'dcmjs'] as const) {
        let wallMs: number;
        let cpuMs: number;
        let maxRssKb: number;
        if (peer === 'findscu') {
          ({ wallMs, cpuMs, maxRssKb } = await runFindscu(scp.port, [], childTimeoutMs));
        } else {
          const r = await runNodeChild<FindChildResult>(js.find, [`${peer}-find`, '--port', String(scp.port), '--expect', String(n)], { timeoutMs: childTimeoutMs });
          ({ wallMs } = r);
          ({ cpuMs, maxRssKb } = r.result);
          if (r.result.status !== 0) throw new Error(`${peer}: final status ${r.result.status}`);
        }
        const queryMs = queryWindow(await scp.nextAssociation(10_000), peer, n);
        samples[peer].push({ queryMs, wallMs, cpuMs, maxRssMb: maxRssKb / 1024 });
        log(`  run ${run} ${peer.padEnd(8)} query ${queryMs.toFixed(0).padStart(6)} ms  wall ${wallMs.toFixed(0).padStart(6)} ms  cpu ${cpuMs.toFixed(0).padStart(6)} ms  RSS ${(maxRssKb / 1024).toFixed(1)} MB`);
      }
    }
    const med = (peer: Peer) => {
      const s = samples[peer];
      return { queryMs: median(s.map((x) => x.queryMs)), wallMs: median(s.map((x) => x.wallMs)), cpuMs: median(s.map((x) => x.cpuMs)), maxRssMb: median(s.map((x) => x.maxRssMb)) };
    };
    const ours = med('qrscu');
    const find: FindRow[] = (['qrscu', 'findscu', 'dcmjs'] as const).map((peer) => {
      const m = med(peer);
      return { peer, responses: n, ...m, responsesPerSecond: n / (m.queryMs / 1000), ratio: m.queryMs / ours.queryMs, wallRatio: m.wallMs / ours.wallMs, runs: samples[peer] };
    });

    // ---- (d): sequential round trips on one association ----
    await scp.setResponses(1);
    const rttRuns: Array<{ find: number[]; echo: number[]; scpFind: number[]; scpEcho: number[] }> = [];
    const findscuRtt: number[][] = [];
    for (let run = 1; run <= runs; run++) {
      const r = await runNodeChild<RttChildResult>(js.find, ['qrscu-rtt', '--port', String(scp.port), '--count', String(count), '--warmup', String(warmup)], { timeoutMs: childTimeoutMs });
      const s = await scp.nextAssociation(10_000);
      rttRuns.push({ find: r.result.findMs, echo: r.result.echoMs, scpFind: gaps(s, 'C-FIND-RQ', warmup), scpEcho: gaps(s, 'C-ECHO-RQ', warmup) });
      // findscu --repeat sends its C-FINDs one after another on one association.
      await runFindscu(scp.port, ['--repeat', String(count)], childTimeoutMs);
      const f = await scp.nextAssociation(10_000);
      if (f.requests.length !== count) throw new Error(`findscu --repeat: ${f.requests.length} requests on one association, expected ${count}`);
      findscuRtt.push(gaps(f, 'C-FIND-RQ', 0));
      log(`  run ${run} round trips: qrscu C-FIND median ${median(r.result.findMs).toFixed(3)} ms p99 ${percentile(r.result.findMs, 99).toFixed(3)} ms; findscu median ${median(findscuRtt.at(-1)!).toFixed(3)} ms`);
    }
    const rttRow = (name: string, peer: string, clock: 'client' | 'SCP', series: number[][]): RttRow => ({
      name, peer, clock, count: series[0]!.length,
      medianMs: median(series.map((x) => median(x))),
      p99Ms: median(series.map((x) => percentile(x, 99))),
      meanMs: median(series.map((x) => mean(x))),
    });
    const rtt: RttRow[] = [
      rttRow('C-FIND, 1 match', 'qrscu', 'client', rttRuns.map((r) => r.find)),
      rttRow('C-FIND, 1 match', 'qrscu', 'SCP', rttRuns.map((r) => r.scpFind)),
      rttRow('C-FIND, 1 match', 'findscu', 'SCP', findscuRtt),
      rttRow('C-ECHO', 'qrscu', 'client', rttRuns.map((r) => r.echo)),
      rttRow('C-ECHO', 'qrscu', 'SCP', rttRuns.map((r) => r.scpEcho)),
    ];

    // ---- optional CPU profile of the qrscu client ----
    let profile: ProfileSummary | undefined;
    if (options.profile) {
      await scp.setResponses(n);
      const dir = path.join(HERE, 'results', 'profiles');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      await runNodeChild(js.find, ['qrscu-find', '--port', String(scp.port), '--expect', String(n)], { timeoutMs: childTimeoutMs, execArgv: ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', 'qrscu-find.cpuprofile'] });
      await scp.nextAssociation(10_000);
      await scp.setResponses(1);
      await runNodeChild(js.find, ['qrscu-rtt', '--port', String(scp.port), '--count', String(count), '--warmup', String(warmup)], { timeoutMs: childTimeoutMs, execArgv: ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', 'qrscu-rtt.cpuprofile'] });
      await scp.nextAssociation(10_000);
      profile = { find: summarizeProfile(path.join(dir, 'qrscu-find.cpuprofile')), rtt: summarizeProfile(path.join(dir, 'qrscu-rtt.cpuprofile')) };
    }

    const byPeer = (p: Peer) => find.find((r) => r.peer === p)!;
    const rttFind = rtt[0]!;
    const targets = [
      { target: '≥ 1.2× findscu responses/s', value: `${byPeer('findscu').ratio.toFixed(2)}×`, met: byPeer('findscu').ratio >= 1.2 },
      { target: '≥ 8× dcmjs-dimse responses/s', value: `${byPeer('dcmjs').ratio.toFixed(1)}×`, met: byPeer('dcmjs').ratio >= 8 },
      { target: 'peak RSS ≤ 80 MB', value: `${byPeer('qrscu').maxRssMb.toFixed(1)} MB`, met: byPeer('qrscu').maxRssMb <= 80 },
      { target: 'C-FIND round trip ≤ 0.3 ms (median, client)', value: `${rttFind.medianMs.toFixed(3)} ms (p99 ${rttFind.p99Ms.toFixed(3)})`, met: rttFind.medianMs <= 0.3 },
    ];
    return { date: new Date().toISOString(), machine: machine(), loadAverage: [loadBefore, os.loadavg()[0]!], responses: n, runs, find, rtt, targets, ...(profile ? { profile } : {}) };
  } finally {
    await scp.close();
  }
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'cpu'} × ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${os.type()} ${os.release()}`;
}

const PEER_NAME: Record<Peer, string> = { qrscu: 'qrscu', findscu: 'dcmtk findscu', dcmjs: 'dcmjs-dimse' };

export function formatFindBench(r: FindBenchResult): string {
  const lines: string[] = [];
  lines.push(`${r.responses.toLocaleString('en')} study-level C-FIND responses, loopback, median of ${r.runs} runs (load average ${r.loadAverage[0].toFixed(1)} before, ${r.loadAverage[1].toFixed(1)} after)`);
  lines.push('| client | responses/s | query s | wall s | CPU s | peak RSS MB | qrscu ÷ peer (query) | qrscu ÷ peer (wall) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const f of r.find) {
    const rps = Math.round(f.responsesPerSecond).toLocaleString('en');
    const ratio = f.peer === 'qrscu' ? '' : `${f.ratio.toFixed(2)}×`;
    const wallRatio = f.peer === 'qrscu' ? '' : `${f.wallRatio.toFixed(2)}×`;
    lines.push(`| ${PEER_NAME[f.peer]} | ${rps} | ${(f.queryMs / 1000).toFixed(3)} | ${(f.wallMs / 1000).toFixed(3)} | ${(f.cpuMs / 1000).toFixed(3)} | ${f.maxRssMb.toFixed(1)} | ${ratio} | ${wallRatio} |`);
  }
  lines.push('');
  lines.push(`Sequential round trips on one open association (${r.rtt[0]?.count ?? 0} per run after 200 warm-up)`);
  lines.push('| round trip | client | clock | median ms | p99 ms | mean ms |');
  lines.push('|---|---|---|---:|---:|---:|');
  for (const t of r.rtt) lines.push(`| ${t.name} | ${t.peer} | ${t.clock} | ${t.medianMs.toFixed(3)} | ${t.p99Ms.toFixed(3)} | ${t.meanMs.toFixed(3)} |`);
  lines.push('');
  lines.push('| target | measured | met |');
  lines.push('|---|---|---|');
  for (const t of r.targets) lines.push(`| ${t.target} | ${t.value} | ${t.met ? 'yes' : '**no**'} |`);
  if (r.profile) {
    for (const [name, p] of Object.entries(r.profile) as Array<[string, ProfileBreakdown]>) {
      lines.push('');
      lines.push(`CPU profile, qrscu ${name} (${p.totalMs.toFixed(0)} ms sampled): self time by file`);
      for (const f of p.byFile.slice(0, 12)) lines.push(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`);
      lines.push('  top functions (self time)');
      for (const f of p.byFunction.slice(0, 20)) lines.push(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}`);
    }
  }
  return lines.join('\n');
}

// ---- --cpu-prof summaries -----------------------------------------------------------------------

interface ProfileEntry { readonly name: string; readonly ms: number; readonly pct: number }
interface ProfileBreakdown { readonly totalMs: number; readonly byFile: ProfileEntry[]; readonly byFunction: ProfileEntry[] }
export interface ProfileSummary { readonly find: ProfileBreakdown; readonly rtt: ProfileBreakdown }

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

function summarizeProfile(file: string): ProfileBreakdown {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((x) => [x.id, x.callFrame]));
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  const short = (url: string): string => {
    if (!url) return '';
    const i = url.indexOf('/.build/');
    if (i >= 0) return url.slice(i + 8);
    const j = url.indexOf('/node_modules/');
    return j >= 0 ? url.slice(j + 1) : url.replace(/^file:\/\//, '');
  };
  for (let i = 0; i < p.samples.length; i++) {
    const cf = byId.get(p.samples[i]!);
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    if (!cf) continue;
    total += dt;
    const file = short(cf.url) || cf.functionName; // (garbage collector), (program), (idle)
    const name = cf.url ? `${cf.functionName || '(anonymous)'} ${short(cf.url)}:${cf.lineNumber + 1}` : cf.functionName;
    fn.set(name, (fn.get(name) ?? 0) + dt);
    files.set(file, (files.get(file) ?? 0) + dt);
  }
  const list = (m: Map<string, number>): ProfileEntry[] => [...m].map(([name, ms]) => ({ name, ms, pct: (100 * ms) / total })).sort((a, b) => b.ms - a.ms);
  return { totalMs: total, byFile: list(files), byFunction: list(fn).slice(0, 40) };
}

// ---- entry point --------------------------------------------------------------------------------

async function main(): Promise<void> {
  const runs = argOf('--runs', 3);
  const responses = argOf('--responses', 100_000);
  const roundTrips = argOf('--round-trips', 2000);
  const result = await runFindBench({ runs, responses, roundTrips, profile: process.argv.includes('--profile') });
  console.log(`# C-FIND over loopback (${result.machine})\n${formatFindBench(result)}\n`);
  writeResults(result);
}

export function writeResults(result: FindBenchResult): void {
  mkdirSync(path.join(HERE, 'results'), { recursive: true });
  writeFileSync(path.join(HERE, 'results', 'find.json'), JSON.stringify(result, null, 2));
}

if (process.argv[2] === '--child') {
  childMain().catch((e: unknown) => {
    process.stderr.write(`bench child: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  });
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`find bench: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}

