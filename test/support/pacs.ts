// Real PACS for live interop tests: dcmqrscp (DCMTK) and Orthanc, each on free loopback ports with
// its own temporary folder, plus synthetic studies written with our own codec. Every wait here is
// bounded; every process started here runs in its own process group and is killed by stop() (or at
// exit), and nothing else is ever signalled. See ../shared/docs/real-pacs.md for the servers' quirks.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, closeSync, constants, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDataset, setValue, writePart10, type Dataset } from '../../src/dicom/index.js';
import { requireProgram } from './live.js';

// ---- handles and process bookkeeping ---------------------------------------------------------------

/** A server started for a test. */
export interface PacsHandle {
  /** The program that runs (path). */
  readonly program: string;
  /** DICOM port on 127.0.0.1. */
  readonly port: number;
  readonly aeTitle: string;
  /** The server's temporary folder (config, storage, log); removed by stop(). */
  readonly dir: string;
  /** The server's stdout and stderr. */
  readonly log: string;
  /** The process id (also its process group id). */
  readonly pid: number;
  /** The log so far ('' when unreadable). */
  readLog(): string;
  /**
   * SIGSTOP the server's process group: it accepts no bytes into its logic until resume(), while the
   * kernel still queues what we send. Lets a test put two requests in its socket at once.
   */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Kill the process (its whole group: dcmqrscp forks per association) and remove its folder. */
  stop(): Promise<void>;
}

export interface OrthancHandle extends PacsHandle {
  readonly httpPort: number;
  readonly username: string;
  readonly password: string;
  /** A REST call to this Orthanc (127.0.0.1, basic auth), bounded by `timeoutMs` (default 10 s). */
  rest(pathname: string, init?: { method?: string; body?: BodyInit; timeoutMs?: number }): Promise<Response>;
}

interface Started {
  readonly child: ChildProcess;
  readonly dir: string;
  exited: boolean;
}

/** Processes started here and not yet stopped: killed (by group) if the test process exits first. */
const running = new Set<Started>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanUp = (): void => {
    for (const s of running) {
      if (!s.exited) killGroup(s, 'SIGKILL');
      if (!keepDirs()) rmSync(s.dir, { recursive: true, force: true });
    }
    running.clear();
  };
  process.once('exit', cleanUp);
  // A test run stopped by a signal (a CI timeout, ^C) must not leave servers behind: clean up, then
  // let the signal do what it would have done.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUp();
      process.kill(process.pid, signal);
    });
  }
}

function keepDirs(): boolean {
  return process.env.QRSCU_KEEP_PACS === '1';
}

function killGroup(s: Started, signal: NodeJS.Signals): void {
  const pid = s.child.pid;
  if (pid === undefined) return;
  // Once the leader has exited, only stop() sweeps its group, at once, for children it forked (the
  // group id cannot be reused while one of them lives).
  if (s.exited && signal !== 'SIGKILL') return;
  try {
    // Negative pid: the process group this module created with `detached: true` (the server and the
    // children it forked), and nothing else.
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Stop a started server: SIGTERM to its group, SIGKILL after `graceMs`, wait (bounded) for exit. */
async function stopStarted(s: Started, options: { removeDir?: boolean; graceMs?: number } = {}): Promise<void> {
  const graceMs = options.graceMs ?? 5_000;
  if (!running.has(s)) return;
  running.delete(s);
  if (!s.exited) {
    const exited = new Promise<void>((resolve) => {
      if (s.exited) resolve();
      else s.child.once('exit', () => resolve());
    });
    killGroup(s, 'SIGTERM');
    killGroup(s, 'SIGCONT'); // a paused server acts on SIGTERM only once continued
    const killed = await Promise.race([exited.then(() => true), delay(graceMs).then(() => false)]);
    if (!killed) {
      killGroup(s, 'SIGKILL');
      await Promise.race([exited, delay(2_000)]);
    }
  }
  // dcmqrscp's forked children may outlive the parent by a moment: make sure the group is gone.
  killGroup(s, 'SIGKILL');
  if (options.removeDir === false) return;
  if (keepDirs()) {
    process.stderr.write(`# kept ${s.dir} (QRSCU_KEEP_PACS=1)\n`);
  } else {
    rmSync(s.dir, { recursive: true, force: true });
  }
}

function startProcess(program: string, args: readonly string[], dir: string, logFile: string, env: NodeJS.ProcessEnv = {}): Started {
  installExitHook();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(program, args, { cwd: dir, detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
  } finally {
    closeSync(fd);
  }
  const s: Started = { child, dir, exited: false };
  child.once('exit', () => { s.exited = true; });
  child.once('error', () => { s.exited = true; });
  running.add(s);
  return s;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => { setTimeout(r, ms).unref(); });
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

// ---- ports ---------------------------------------------------------------------------------------

/** `count` distinct free TCP ports on 127.0.0.1 (bound to port 0 together, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** Resolves once 127.0.0.1:port accepts a TCP connection; rejects after `timeoutMs` or when `gone()` turns true. */
export async function waitForTcp(port: number, timeoutMs: number, gone: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 1_000; attempt++) {
    if (gone()) throw new Error(`the server exited before it accepted connections on port ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => { socket.destroy(); resolve(false); }, 1_000);
      socket.once('connect', () => { clearTimeout(timer); socket.destroy(); resolve(true); });
      socket.once('error', () => { clearTimeout(timer); resolve(false); });
    });
    if (ok) return;
    if (Date.now() >= deadline) break;
    await delay(50);
  }
  throw new Error(`nothing accepted connections on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

function program(name: string): string {
  const p = requireProgram(name);
  if (p === undefined) throw new Error(`${name} is not installed (the test should have been skipped)`);
  return p;
}

// ---- dcmqrscp ------------------------------------------------------------------------------------

/**
 * A scratch folder for one server under the temporary directory: removed again when starting fails
 * (kept with QRSCU_KEEP_TEST_DIRS, see keepDirs), else the handle's stop() removes it.
 */
async function inScratchDir<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    return await body(dir);
  } catch (e) {
    if (!keepDirs()) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Start a server on `count` free ports, up to three times: a port can be taken between the probe and
 * the server's bind. `launch` writes the configuration for these ports and starts the process;
 * `ready` resolves once it answers (default: the first port accepts connections).
 */
async function startOnFreePorts(
  name: string,
  log: string,
  count: number,
  launch: (ports: readonly number[], attempt: number) => Started,
  ready: (ports: readonly number[], started: Started) => Promise<void>,
): Promise<{ started: Started; ports: readonly number[] }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const ports = await freePorts(count);
    const started = launch(ports, attempt);
    try {
      await ready(ports, started);
      return { started, ports };
    } catch (e) {
      lastError = new Error(`${name} did not start: ${(e as Error).message}\n${tail(readText(log))}`);
      await stopStarted(started, { removeDir: false });
    }
  }
  throw lastError;
}

/** The first port accepts connections within `timeoutMs` (while the process lives). */
function listening(timeoutMs: number) {
  return (ports: readonly number[], started: Started): Promise<void> => waitForTcp(ports[0]!, timeoutMs, () => started.exited);
}

/** The handle of a started server process. */
function handleOf(started: Started, h: Pick<PacsHandle, 'program' | 'port' | 'aeTitle' | 'dir' | 'log'>, graceMs?: number): PacsHandle {
  return {
    ...h, pid: started.child.pid!,
    readLog: () => readText(h.log),
    pause: () => killGroup(started, 'SIGSTOP'),
    resume: () => killGroup(started, 'SIGCONT'),
    stop: () => stopStarted(started, graceMs !== undefined ? { graceMs } : {}),
  };
}

export interface DcmqrscpOptions {
  /** Part-10 files to index (copied into the storage area first). */
  readonly files: readonly string[];
  /** Move destinations: AE title → port on 127.0.0.1 (the HostTable). */
  readonly moveDestinations?: Readonly<Record<string, number>>;
  readonly aeTitle?: string;
  /** Set TCP_NODELAY=1 for the server (DCMTK leaves Nagle on otherwise, as real sites do). */
  readonly noDelay?: boolean;
  /** dcmqrscp log level: '-v' (default) or '-d'. */
  readonly verbosity?: '-v' | '-d';
  readonly startTimeoutMs?: number;
}

/**
 * Start dcmqrscp with a fresh config and storage area holding `files`.
 * @throws Error when it is not installed, indexing fails or it does not listen in time.
 */
export async function startDcmqrscp(options: DcmqrscpOptions): Promise<PacsHandle> {
  const dcmqrscp = program('dcmqrscp');
  const dcmqridx = program('dcmqridx');
  const aeTitle = options.aeTitle ?? 'DCMQRSCP';
  checkAeTitle(aeTitle);
  return inScratchDir('qrscu-dcmqrscp-', async (dir) => {
    const storage = path.join(dir, 'storage');
    const files = path.join(dir, 'files');
    mkdirSync(storage);
    mkdirSync(files);
    // dcmqridx records paths: the index must not point at files the caller may delete.
    const copies = options.files.map((f, i) => {
      const to = path.join(files, `${String(i).padStart(6, '0')}.dcm`);
      copyFileSync(f, to);
      return to;
    });
    for (let i = 0; i < copies.length; i += 200) {
      const r = spawnSync(dcmqridx, [storage, ...copies.slice(i, i + 200)], { encoding: 'utf8', timeout: 60_000 });
      if (r.error || r.status !== 0) {
        throw new Error(`dcmqridx failed (${r.error?.message ?? `exit ${r.status}`}): ${tail(`${r.stdout}${r.stderr}`, 10)}`);
      }
    }
    const log = path.join(dir, 'dcmqrscp.log');
    const cfg = path.join(dir, 'dcmqrscp.cfg');
    const destinations = Object.entries(options.moveDestinations ?? {});
    destinations.forEach(([ae]) => checkAeTitle(ae));
    const { started, ports } = await startOnFreePorts('dcmqrscp', log, 1, ([port]) => {
      writeFileSync(cfg, [
        '# written by test/support/pacs.ts',
        `NetworkTCPPort  = ${port}`,
        'MaxPDUSize      = 16384',
        'MaxAssociations = 16',
        '',
        'HostTable BEGIN',
        ...destinations.map(([ae, p]) => `${ae} = (${ae}, 127.0.0.1, ${p})`),
        'HostTable END',
        '',
        'VendorTable BEGIN',
        'VendorTable END',
        '',
        'AETable BEGIN',
        `${aeTitle} ${storage} RW (500, 1024mb) ANY`,
        'AETable END',
        '',
      ].join('\n'));
      return startProcess(dcmqrscp, [options.verbosity ?? '-v', '-c', cfg], dir, log, options.noDelay ? { TCP_NODELAY: '1' } : {});
    }, listening(options.startTimeoutMs ?? 10_000));
    return handleOf(started, { program: dcmqrscp, port: ports[0]!, aeTitle, dir, log });
  });
}

// ---- Orthanc -------------------------------------------------------------------------------------

export interface OrthancOptions {
  readonly files: readonly string[];
  readonly aeTitle?: string;
  /** DicomModalities: AE title → port on 127.0.0.1; move destinations and allowed callers. */
  readonly modalities?: Readonly<Record<string, number>>;
  readonly options?: {
    /** LimitFindResults (0 = none). */
    readonly limitFindResults?: number;
    /** DicomCheckCalledAet. */
    readonly checkCalledAet?: boolean;
    /** DicomAlwaysAllowFind. */
    readonly alwaysAllowFind?: boolean;
    /** DicomAlwaysAllowMove. */
    readonly alwaysAllowMove?: boolean;
    /** Any other configuration keys, written last. */
    readonly extra?: Readonly<Record<string, unknown>>;
  };
  /** Run Orthanc with --verbose. */
  readonly verbose?: boolean;
  /** Set TCP_NODELAY=1 (Orthanc uses DCMTK's network layer, which reads it). */
  readonly noDelay?: boolean;
  readonly startTimeoutMs?: number;
}

/**
 * Start Orthanc with a fresh configuration and storage, then load `files` through its REST API.
 * @throws Error when it is not installed, does not start in time or refuses a file.
 */
export async function startOrthanc(options: OrthancOptions): Promise<OrthancHandle> {
  const orthanc = program('Orthanc');
  const aeTitle = options.aeTitle ?? 'ORTHANC';
  checkAeTitle(aeTitle);
  const modalities = Object.entries(options.modalities ?? {});
  modalities.forEach(([ae]) => checkAeTitle(ae));
  const username = 'qrscu';
  const password = createHash('sha256').update(`${process.pid}:${Date.now()}:${Math.random()}`).digest('hex').slice(0, 24);
  const auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const o = options.options ?? {};
  return inScratchDir('qrscu-orthanc-', async (dir) => {
    const log = path.join(dir, 'orthanc.log');
    const cfg = path.join(dir, 'orthanc.json');
    const rest = (httpPort: number) => async (pathname: string, init: { method?: string; body?: BodyInit; timeoutMs?: number } = {}): Promise<Response> =>
      fetch(`http://127.0.0.1:${httpPort}${pathname}`, {
        method: init.method ?? 'GET',
        headers: { Authorization: auth },
        ...(init.body !== undefined ? { body: init.body } : {}),
        signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
      });
    const timeoutMs = options.startTimeoutMs ?? 20_000;
    const { started, ports } = await startOnFreePorts('Orthanc', log, 2, ([httpPort, port], attempt) => {
      const config: Record<string, unknown> = {
        Name: `qrscu-test-${attempt}`,
        StorageDirectory: path.join(dir, 'storage'),
        IndexDirectory: path.join(dir, 'index'),
        Plugins: [],
        HttpServerEnabled: true,
        HttpPort: httpPort,
        RemoteAccessAllowed: false,
        AuthenticationEnabled: true,
        RegisteredUsers: { [username]: password },
        WebDavEnabled: false,
        DicomServerEnabled: true,
        DicomAet: aeTitle,
        DicomPort: port,
        DicomModalities: Object.fromEntries(modalities.map(([ae, p]) => [ae, [ae, '127.0.0.1', p]])),
        DicomModalitiesInDatabase: false,
        OrthancPeers: {},
        DicomCheckCalledAet: o.checkCalledAet ?? false,
        DicomAlwaysAllowFind: o.alwaysAllowFind ?? false,
        DicomAlwaysAllowMove: o.alwaysAllowMove ?? false,
        LimitFindResults: o.limitFindResults ?? 0,
        LimitFindInstances: 0,
        StorageAccessOnFind: 'Always',
        DicomScuTimeout: 10,
        DicomAssociationCloseDelay: 0,
        SaveJobs: false,
        ...(o.extra ?? {}),
      };
      writeFileSync(cfg, JSON.stringify(config, null, 2));
      return startProcess(orthanc, [...(options.verbose ? ['--verbose'] : []), cfg], dir, log, options.noDelay ? { TCP_NODELAY: '1' } : {});
    }, async ([httpPort, port], started) => {
      await waitForTcp(httpPort!, timeoutMs, () => started.exited);
      await waitForTcp(port!, timeoutMs, () => started.exited);
      const system = await rest(httpPort!)('/system');
      if (!system.ok) throw new Error(`GET /system answered ${system.status}`);
    });
    const [httpPort, port] = ports as [number, number];
    const handle: OrthancHandle = { ...handleOf(started, { program: orthanc, port, aeTitle, dir, log }), httpPort, username, password, rest: rest(httpPort) };
    try {
      await loadIntoOrthanc(handle, options.files);
    } catch (e) {
      await handle.stop();
      throw e;
    }
    return handle;
  });
}

async function loadIntoOrthanc(h: OrthancHandle, files: readonly string[]): Promise<void> {
  for (const file of files) {
    const rsp = await h.rest('/instances', { method: 'POST', body: new Uint8Array(readFileSync(file)), timeoutMs: 30_000 });
    const text = await rsp.text();
    if (!rsp.ok) throw new Error(`Orthanc refused ${file}: HTTP ${rsp.status} ${text.slice(0, 200)}`);
    const status = (JSON.parse(text) as { Status?: string }).Status;
    if (status !== 'Success' && status !== 'AlreadyStored') throw new Error(`Orthanc did not store ${file}: ${text.slice(0, 200)}`);
  }
}

function checkAeTitle(ae: string): void {
  // PS3.5 Table 6.2-1 (AE): up to 16 characters of the default repertoire, no backslash or control.
  if (!/^[\x21-\x5b\x5d-\x7e][\x20-\x5b\x5d-\x7e]{0,15}$/.test(ae) || /[\s=(),]/.test(ae)) {
    throw new Error(`unusable AE title for a test server config: '${ae}'`);
  }
}

// ---- synthetic studies ---------------------------------------------------------------------------

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const XRAY_RADIATION_DOSE_SR_STORAGE = '1.2.840.10008.5.1.4.1.1.88.67';

export interface SyntheticInstance {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly instanceNumber: number;
  readonly file: string;
}

export interface SyntheticSeries {
  readonly seriesInstanceUid: string;
  readonly seriesNumber: number;
  readonly modality: 'CT' | 'SR';
  readonly seriesDescription: string;
  readonly instances: readonly SyntheticInstance[];
}

export interface SyntheticStudy {
  readonly studyInstanceUid: string;
  readonly patientId: string;
  readonly patientName: string;
  readonly studyDate: string;
  readonly studyTime: string;
  readonly accessionNumber: string;
  readonly studyDescription: string;
  readonly stationName: string;
  readonly series: readonly SyntheticSeries[];
}

export interface SyntheticSet {
  readonly files: readonly string[];
  readonly studies: readonly SyntheticStudy[];
}

/** A UID under 2.25 (PS3.5 §B.2) derived from `seed` and `parts`: the same inputs give the same UID. */
export function syntheticUid(seed: string, ...parts: (string | number)[]): string {
  const digest = createHash('sha256').update([seed, ...parts].join('/')).digest();
  return `2.25.${BigInt(`0x${digest.subarray(0, 16).toString('hex')}`).toString()}`;
}

/**
 * Write `n` synthetic studies into `dir` as Part-10 files: per study a CT series of `ctImages` (3)
 * images of 2×2 pixels and an SR series with one X-Ray Radiation Dose SR. Study `i` (from `first`,
 * default 1) has patient SYNTHETIC^PATIENT^<i> and id SYN<i>; UIDs follow from `seed` and `i`.
 * Nothing comes from a real patient.
 */
export function syntheticStudies(dir: string, n: number, options: { seed?: string; ctImages?: number; first?: number } = {}): SyntheticSet {
  const first = options.first ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new Error(`syntheticStudies: n must be 1..500, not ${n}`);
  if (!Number.isInteger(first) || first < 1 || first + n - 1 > 999) throw new Error(`syntheticStudies: studies ${first}..${first + n - 1} do not fit 001..999`);
  const seed = options.seed ?? 'qrscu-synthetic';
  const ctImages = options.ctImages ?? 3;
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const studies: SyntheticStudy[] = [];
  for (let i = first; i < first + n; i++) {
    const num = String(i).padStart(3, '0');
    const base = new Date(Date.UTC(2024, 0, 1) + (i - 1) * 86_400_000);
    const study = {
      studyInstanceUid: syntheticUid(seed, 'study', i),
      patientId: `SYN${num}`,
      patientName: `SYNTHETIC^PATIENT^${num}`,
      studyDate: base.toISOString().slice(0, 10).replace(/-/g, ''),
      studyTime: `${String(8 + (i % 10)).padStart(2, '0')}1500`,
      accessionNumber: `ACC${num}`,
      studyDescription: 'SYNTHETIC CT CHEST',
      stationName: `SYNCT${String(1 + (i % 2)).padStart(2, '0')}`,
    };
    const frameOfReferenceUid = syntheticUid(seed, 'frame', i);
    const ct: SyntheticInstance[] = [];
    const ctSeries = { seriesInstanceUid: syntheticUid(seed, 'series', i, 1), seriesNumber: 1, modality: 'CT' as const, seriesDescription: 'SYNTHETIC AXIAL' };
    for (let k = 1; k <= ctImages; k++) {
      const sopInstanceUid = syntheticUid(seed, 'image', i, 1, k);
      const ds = commonModules(study, ctSeries, CT_IMAGE_STORAGE, sopInstanceUid, k);
      setValue(ds, 'FrameOfReferenceUID', frameOfReferenceUid);
      setValue(ds, 'PositionReferenceIndicator', '');
      setValue(ds, 'ImageType', ['ORIGINAL', 'PRIMARY', 'AXIAL']);
      setValue(ds, 'AcquisitionNumber', 1);
      setValue(ds, 'KVP', 120);
      setValue(ds, 'SliceThickness', 5);
      setValue(ds, 'ImagePositionPatient', [0, 0, -5 * k]);
      setValue(ds, 'ImageOrientationPatient', [1, 0, 0, 0, 1, 0]);
      setValue(ds, 'SamplesPerPixel', 1);
      setValue(ds, 'PhotometricInterpretation', 'MONOCHROME2');
      setValue(ds, 'Rows', 2);
      setValue(ds, 'Columns', 2);
      setValue(ds, 'PixelSpacing', [0.5, 0.5]);
      setValue(ds, 'BitsAllocated', 16);
      setValue(ds, 'BitsStored', 12);
      setValue(ds, 'HighBit', 11);
      setValue(ds, 'PixelRepresentation', 0);
      setValue(ds, 'RescaleIntercept', -1024);
      setValue(ds, 'RescaleSlope', 1);
      const pixels = Buffer.alloc(8);
      [1024, 1034, 1044, 1054].forEach((v, j) => pixels.writeUInt16LE(v + k, j * 2));
      setValue(ds, 'PixelData', pixels, 'OW');
      const file = path.join(dir, `study${num}-ct-${k}.dcm`);
      writeFileSync(file, writePart10(ds));
      files.push(file);
      ct.push({ sopClassUid: CT_IMAGE_STORAGE, sopInstanceUid, instanceNumber: k, file });
    }
    const srSeries = { seriesInstanceUid: syntheticUid(seed, 'series', i, 997), seriesNumber: 997, modality: 'SR' as const, seriesDescription: 'DOSE REPORT' };
    const srUid = syntheticUid(seed, 'image', i, 997, 1);
    const sr = commonModules(study, srSeries, XRAY_RADIATION_DOSE_SR_STORAGE, srUid, 1);
    doseReport(sr);
    const srFile = path.join(dir, `study${num}-sr-1.dcm`);
    writeFileSync(srFile, writePart10(sr));
    files.push(srFile);
    studies.push({
      ...study,
      series: [
        { ...ctSeries, instances: ct },
        { ...srSeries, instances: [{ sopClassUid: XRAY_RADIATION_DOSE_SR_STORAGE, sopInstanceUid: srUid, instanceNumber: 1, file: srFile }] },
      ],
    });
  }
  return { files, studies };
}

function commonModules(
  study: Omit<SyntheticStudy, 'series'>,
  series: { seriesInstanceUid: string; seriesNumber: number; modality: string; seriesDescription: string },
  sopClassUid: string, sopInstanceUid: string, instanceNumber: number,
): Dataset {
  const ds = createDataset();
  setValue(ds, 'SpecificCharacterSet', 'ISO_IR 100');
  setValue(ds, 'SOPClassUID', sopClassUid);
  setValue(ds, 'SOPInstanceUID', sopInstanceUid);
  setValue(ds, 'StudyDate', study.studyDate);
  setValue(ds, 'SeriesDate', study.studyDate);
  setValue(ds, 'ContentDate', study.studyDate);
  setValue(ds, 'StudyTime', study.studyTime);
  setValue(ds, 'SeriesTime', study.studyTime);
  setValue(ds, 'ContentTime', study.studyTime);
  setValue(ds, 'AccessionNumber', study.accessionNumber);
  setValue(ds, 'Modality', series.modality);
  setValue(ds, 'Manufacturer', 'QRSCU SYNTHETIC');
  setValue(ds, 'ReferringPhysicianName', '');
  setValue(ds, 'StationName', study.stationName);
  setValue(ds, 'StudyDescription', study.studyDescription);
  setValue(ds, 'SeriesDescription', series.seriesDescription);
  setValue(ds, 'ManufacturerModelName', 'SYNTHETIC');
  setValue(ds, 'PatientName', study.patientName);
  setValue(ds, 'PatientID', study.patientId);
  setValue(ds, 'PatientBirthDate', '19700101');
  setValue(ds, 'PatientSex', 'O');
  setValue(ds, 'StudyInstanceUID', study.studyInstanceUid);
  setValue(ds, 'SeriesInstanceUID', series.seriesInstanceUid);
  setValue(ds, 'StudyID', study.accessionNumber);
  setValue(ds, 'SeriesNumber', series.seriesNumber);
  setValue(ds, 'InstanceNumber', instanceNumber);
  return ds;
}

function code(value: string, scheme: string, meaning: string): Dataset {
  const c = createDataset();
  setValue(c, 'CodeValue', value);
  setValue(c, 'CodingSchemeDesignator', scheme);
  setValue(c, 'CodeMeaning', meaning);
  return c;
}

/** The SR Document modules with a minimal TID 10011 root: the title and one child. */
function doseReport(ds: Dataset): void {
  setValue(ds, 'ReferencedPerformedProcedureStepSequence', []);
  setValue(ds, 'PerformedProcedureCodeSequence', []);
  setValue(ds, 'ValueType', 'CONTAINER');
  setValue(ds, 'ConceptNameCodeSequence', [code('113701', 'DCM', 'X-Ray Radiation Dose Report')]);
  setValue(ds, 'ContinuityOfContent', 'SEPARATE');
  setValue(ds, 'CompletionFlag', 'COMPLETE');
  setValue(ds, 'VerificationFlag', 'UNVERIFIED');
  const template = createDataset();
  setValue(template, 'MappingResource', 'DCMR');
  setValue(template, 'TemplateIdentifier', '10011');
  setValue(ds, 'ContentTemplateSequence', [template]);
  const procedure = createDataset();
  setValue(procedure, 'RelationshipType', 'HAS CONCEPT MOD');
  setValue(procedure, 'ValueType', 'CODE');
  setValue(procedure, 'ConceptNameCodeSequence', [code('121058', 'DCM', 'Procedure reported')]);
  setValue(procedure, 'ConceptCodeSequence', [code('P5-08000', 'SRT', 'Computed Tomography X-Ray')]);
  setValue(ds, 'ContentSequence', [procedure]);
}

// ---- bounded waits and tool runs for the live tests -----------------------------------------------

/** `promise`, or a rejection after `ms` naming `what`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `condition()` holds, polling every 10 ms; rejects after `ms` naming `what`. */
export async function waitUntil(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(10);
  }
}

export interface ToolRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
  readonly ms: number;
}

/** Run a tool (dcmtk's storescu, findscu…) to completion, killed after `timeoutMs`; stdout and stderr together. */
export function runTool(programPath: string, args: readonly string[], timeoutMs = 30_000, env: NodeJS.ProcessEnv = {}): Promise<ToolRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(programPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    const take = (chunk: Buffer): void => {
      if (output.length < 1 << 20) output += chunk.toString();
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, output: `${output}${e.message}`, ms: performance.now() - started });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, ms: performance.now() - started });
    });
  });
}

// ---- storescp (a move destination) ----------------------------------------------------------------

export interface StorescpHandle extends PacsHandle {
  /** Where it writes what it receives. */
  readonly outputDir: string;
}

/**
 * Start dcmtk's storescp on a free port writing into a fresh folder: `+xa` accepts every transfer
 * syntax it knows; `+B` (bit-preserving) writes each received data set exactly as it arrived, after
 * a File Meta Information of storescp's own.
 * @throws Error when it is not installed or does not listen in time.
 */
export async function startStorescp(options: { aeTitle?: string; startTimeoutMs?: number } = {}): Promise<StorescpHandle> {
  const storescp = program('storescp');
  const aeTitle = options.aeTitle ?? 'STORESCP';
  checkAeTitle(aeTitle);
  return inScratchDir('qrscu-storescp-', async (dir) => {
    const outputDir = path.join(dir, 'in');
    mkdirSync(outputDir);
    const log = path.join(dir, 'storescp.log');
    const { started, ports } = await startOnFreePorts('storescp', log, 1,
      ([port]) => startProcess(storescp, ['-v', '-aet', aeTitle, '+xa', '+B', '-od', outputDir, String(port)], dir, log),
      listening(options.startTimeoutMs ?? 10_000));
    return { ...handleOf(started, { program: storescp, port: ports[0]!, aeTitle, dir, log }), outputDir };
  });
}

// ---- PixelMed ------------------------------------------------------------------------------------

/** The classpath of PixelMed's DicomAndWebStorageServer (Debian's libpixelmed-java and its dependencies). */
const PIXELMED_JARS = ['pixelmed', 'hsqldb', 'commons-codec', 'commons-net', 'javax.json', 'slf4j-api', 'slf4j-simple', 'jmdns']
  .map((j) => `/usr/share/java/${j}.jar`);

/**
 * Whether PixelMed can run here: `java` on PATH and the jars above. Like requireProgram: outside CI
 * a missing piece gives false after one "skip:" line on stderr; under CI=true it throws.
 */
export function havePixelmed(env: NodeJS.ProcessEnv = process.env): boolean {
  const missing = [
    // Not requireProgram('java'): its skip line would name the wrong package.
    ...((env.PATH ?? '').split(path.delimiter).some((d) => path.isAbsolute(d) && usable(path.join(d, 'java'), constants.X_OK))
      ? [] : ['java (apt-get install default-jre-headless)']),
    ...PIXELMED_JARS.filter((j) => !usable(j, constants.R_OK)).map((j) => `${j} (apt-get install libpixelmed-java)`),
  ];
  if (missing.length === 0) return true;
  if (env.CI === 'true') throw new Error(`PixelMed cannot run but CI=true: live tests must run in CI; missing ${missing.join(', ')}`);
  process.stderr.write(`skip: PixelMed: missing ${missing.join(', ')}\n`);
  return false;
}

function usable(file: string, mode: number): boolean {
  try {
    accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
}

export interface PixelmedOptions {
  /** Part-10 files to load (with dcmtk's storescu, after the server listens). */
  readonly files: readonly string[];
  readonly aeTitle?: string;
  /** Remote AEs, the move destinations: AE title → port on 127.0.0.1. */
  readonly moveDestinations?: Readonly<Record<string, number>>;
  /** How many studies a study-level C-FIND must find once loaded (the load is waited for, bounded). */
  readonly studies: number;
  readonly startTimeoutMs?: number;
}

/**
 * Start PixelMed's DicomAndWebStorageServer with a fresh properties file, database and image folder,
 * then load `files` with storescu and wait until a study-level C-FIND finds `studies` studies. Its
 * HSQLDB listens on the fixed port 9001: one instance at a time. Meant for the loopback-only
 * namespace of the test runner (it tries multicast DNS and LDAP when it starts). Quirks (measured,
 * see pcap-fixtures/README.md): C-MOVE sends N−1 pending responses; it ignores the max PDU length we
 * announce (keep ours large); a wrong called AE title is rejected (reason 7).
 * @throws Error when it cannot run, does not listen in time or the load fails.
 */
export async function startPixelmed(options: PixelmedOptions): Promise<PacsHandle> {
  const java = program('java');
  const storescu = program('storescu');
  const findscu = program('findscu');
  const aeTitle = options.aeTitle ?? 'PIXELMED';
  checkAeTitle(aeTitle);
  const remote = Object.entries(options.moveDestinations ?? {});
  remote.forEach(([ae]) => checkAeTitle(ae));
  return inScratchDir('qrscu-pixelmed-', async (dir) => {
    const log = path.join(dir, 'server.log');
    const { started, ports } = await startOnFreePorts('PixelMed', log, 2, ([port, webPort], attempt) => {
      const run = path.join(dir, `run${attempt}`);
      mkdirSync(path.join(run, 'images'), { recursive: true });
      const props = path.join(run, 'server.properties');
      writeFileSync(props, [
        '# written by test/support/pacs.ts',
        `Dicom.ListeningPort=${port}`,
        `Dicom.CalledAETitle=${aeTitle}`,
        `Dicom.CallingAETitle=${aeTitle}`,
        'Dicom.StorageSCUCompressionLevel=0',
        `Dicom.RemoteAEs=${remote.map(([ae]) => ae).join(' ')}`,
        ...remote.flatMap(([ae, p]) => [
          `Dicom.RemoteAEs.${ae}.CalledAETitle=${ae}`,
          `Dicom.RemoteAEs.${ae}.HostNameOrIPAddress=127.0.0.1`,
          `Dicom.RemoteAEs.${ae}.Port=${p}`,
          `Dicom.RemoteAEs.${ae}.QueryModel=STUDYROOT`,
        ]),
        `Application.DatabaseFileName=${path.join(run, 'db')}`,
        `Application.SavedImagesFolderName=${path.join(run, 'images')}`,
        `WebServer.ListeningPort=${webPort}`,
        '',
      ].join('\n'));
      return startProcess(java, ['-cp', PIXELMED_JARS.join(':'), 'com.pixelmed.server.DicomAndWebStorageServer', props], dir, log);
    }, listening(options.startTimeoutMs ?? 60_000));
    const port = ports[0]!;
    const handle = handleOf(started, { program: java, port, aeTitle, dir, log }, 10_000);
    try {
      // -R: propose just the files' SOP classes (storescu's default list lacks e.g. the Radiopharmaceutical RDSR).
      for (let i = 0; i < options.files.length; i += 100) {
        const r = await runTool(storescu, ['-R', '-aet', 'LOADER', '-aec', aeTitle, '127.0.0.1', String(port), ...options.files.slice(i, i + 100)], 120_000);
        if (r.code !== 0) throw new Error(`storescu into PixelMed: exit ${r.code}\n${tail(r.output)}`);
      }
      // Stored objects are indexed by the time their C-STORE-RSP is sent; wait for them all the same (bounded).
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = await runTool(findscu, ['-v', '-S', '-aet', 'LOADER', '-aec', aeTitle, '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID', '127.0.0.1', String(port)], 30_000);
        const found = (r.output.match(/Find Response: \d+ \(Pending\)/g) ?? []).length;
        if (r.code === 0 && found >= options.studies) break;
        if (Date.now() > deadline) throw new Error(`PixelMed finds ${found} of ${options.studies} studies after loading\n${tail(r.output)}`);
        await delay(200);
      }
    } catch (e) {
      const text = tail(readText(log));
      await handle.stop();
      throw new Error(`PixelMed did not load the files: ${(e as Error).message}\n${text}`);
    }
    return handle;
  });
}
