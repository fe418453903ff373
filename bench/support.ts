// Shared by the end-to-end benches (retrieve.ts, ingest.ts, startup.ts): a plain-JavaScript build of
// qrscu for the children, a loopback-only network namespace, Orthanc loaded with generated dose
// studies, dcmtk processes, timing and tables. Every child is bounded by a timeout and killed by its
// process id (or its own process group); nothing else is ever signalled.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..');
export const RESULTS = path.join(HERE, 'results');
/** The plain-JavaScript copy of src/ and bench/ the children run (see build()). */
export const BUILD = path.join(RESULTS, '.qrscu');

export const log = (m: string): void => void process.stderr.write(`${m}\n`);

export function machine(): string {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${load}`;
}

export function loadAverage(): number {
  return Number(os.loadavg()[0]!.toFixed(2));
}

/**
 * Compile src/ and bench/ with `tsc --noCheck` into bench/results/.qrscu/ (the tsx loader would add
 * ~0.5 s of start-up and ~45 MB to every child), then bundle the CLI as `npm run build` does. native/
 * is linked next to it so the TCP_QUICKACK addon is found at the same relative path as from dist/; the
 * built-in rules/ and package.json are found by walking up.
 */
const built = new Set<string>();
export function build(dir = BUILD): { bin: string; bench: string; cli: string } {
  const BUILD = dir;
  const out = { bin: path.join(BUILD, 'src', 'cli', 'bin.js'), bench: path.join(BUILD, 'bench'), cli: path.join(BUILD, 'src', 'cli') };
  if (built.has(dir)) return out;
  mkdirSync(BUILD, { recursive: true });
  const config = {
    extends: path.join(ROOT, 'tsconfig.json'),
    compilerOptions: { rootDir: ROOT, outDir: BUILD, noCheck: true, sourceMap: false, declaration: false, declarationMap: false, incremental: false, noEmitOnError: false },
    include: [path.join(ROOT, 'src', '**', '*.ts'), path.join(HERE, '*.ts')],
  };
  writeFileSync(path.join(BUILD, 'tsconfig.json'), JSON.stringify(config, null, 2));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(BUILD, 'tsconfig.json')], { encoding: 'utf8', timeout: 180_000 });
  if (!existsSync(out.bin)) throw new Error(`tsc did not emit qrscu: ${r.error?.message ?? ''}${r.stdout}${r.stderr}`);
  const native = path.join(BUILD, 'native');
  if (!existsSync(native)) symlinkSync(path.join(ROOT, 'native'), native);
  // The CLI bundled and the root --help cache, as `npm run build` does it in dist/cli.
  const u = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle.mjs'), out.cli], { encoding: 'utf8', timeout: 120_000 });
  if (u.status !== 0) throw new Error(`bundle failed: ${u.stdout}${u.stderr}`);
  const g = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-help.mjs'), out.cli], { encoding: 'utf8', timeout: 60_000 });
  if (g.status !== 0) throw new Error(`gen-help failed: ${g.stdout}${g.stderr}`);
  built.add(dir);
  return out;
}

/**
 * The floor replay (floor.ts) as one file, bundled like the qrscu executable: the fastest start a
 * Node client of ours can have. Written into BUILD/bench/floor/ so the TCP_QUICKACK addon's path
 * (`../../native/…` from the module) resolves as it does from dist/cli.
 */
export async function floorBundle(dir = BUILD): Promise<string> {
  const { bench } = build(dir);
  const outfile = path.join(bench, 'floor', 'floor.js');
  const { build: esbuild } = await import('esbuild');
  await esbuild({
    entryPoints: [path.join(bench, 'floor.js')], outfile, bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning',
    banner: { js: "import { createRequire as qrscuCreateRequire } from 'node:module'; const require = qrscuCreateRequire(import.meta.url);" },
  });
  return outfile;
}

// ---- the namespace --------------------------------------------------------------------------------

/**
 * As root on Linux and not yet inside one: re-run this process inside a new network namespace that
 * has only loopback (`unshare --net`), so the servers started here (Orthanc binds every interface)
 * cannot be reached from, nor send to, anything off the machine. Returns the child's exit code, or
 * undefined when the caller should go on in this process.
 */
export function reexecInNamespace(): number | undefined {
  if (process.env.QRSCU_NETNS === '1' || process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const ip = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));
  if (!ip) return undefined;
  const probe = spawnSync('unshare', ['--net', 'sh', '-c', `${ip} link set lo up`], { timeout: 10_000 });
  if (probe.status !== 0) return undefined;
  log('bench: re-running inside a loopback-only network namespace (unshare --net)');
  const r = spawnSync('unshare', ['--net', 'sh', '-c', `${ip} link set lo up && exec "$@"`, 'sh', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, QRSCU_NETNS: '1' },
  });
  return r.status ?? 1;
}

// ---- processes ------------------------------------------------------------------------------------

export interface ProcessRun {
  readonly code: number | null;
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
  /** From GNU time when `timed`: peak RSS (KB) and user+system CPU (ms). */
  readonly maxRssKb?: number;
  readonly cpuMs?: number;
}

/** Run a program to completion in its own process group (killed whole after `timeoutMs`). */
export function runProcess(program: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; timed?: boolean; cwd?: string } = {}): Promise<ProcessRun> {
  const [cmd, argv] = options.timed ? ['/usr/bin/time', ['-f', 'BENCH-TIME %M %U %S', program, ...args]] : [program, [...args]];
  const t0 = performance.now();
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env }, detached: true, ...(options.cwd ? { cwd: options.cwd } : {}) });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, options.timeoutMs ?? 300_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const m = /BENCH-TIME (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
      if (m) stderr = stderr.replace(m[0], '');
      resolve({ code, wallMs, stdout, stderr, ...(m ? { maxRssKb: Number(m[1]), cpuMs: (Number(m[2]) + Number(m[3])) * 1000 } : {}) });
    });
  });
}

/** A long-running server process (its own process group), stopped by stop(). */
export interface Background {
  readonly pid: number;
  exited(): boolean;
  output(): string;
  stop(): Promise<void>;
}

const backgrounds = new Set<Background>();
process.once('exit', () => { for (const b of backgrounds) if (!b.exited()) try { process.kill(-b.pid, 'SIGKILL'); } catch { /* gone */ } });

export function startBackground(program: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Background {
  const child = spawn(program, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: true });
  let out = '';
  let done = false;
  const keep = (d: string) => { out = (out + d).slice(-20_000); };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => { done = true; r(); }));
  const b: Background = {
    pid: child.pid!,
    exited: () => done,
    output: () => out,
    async stop() {
      backgrounds.delete(b);
      if (done) return;
      try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (!done) try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
    },
  };
  backgrounds.add(b);
  return b;
}

// ---- files ---------------------------------------------------------------------------------------

/** Files (count) and bytes under `dir`, recursively. */
export function du(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  if (!existsSync(dir)) return { files, bytes };
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += statSync(path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).size;
  }
  return { files, bytes };
}

export function fresh(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

// ---- statistics and tables -------------------------------------------------------------------------

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(v < 10 ? 3 : 1)) : v);
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

export function writeJson(name: string, data: unknown): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), ...(data as object) }, null, 2)}\n`);
  return file;
}

export function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
