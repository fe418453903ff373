#!/usr/bin/env node
// Regenerates pcap-fixtures/: real PACS (dcmqrscp, Orthanc and PixelMed) on loopback, a small synthetic
// dose data set, one classic pcap per exchange recorded with tshark, and pcap-fixtures/README.md.
// Usage (as root, Linux): node --import tsx scripts/capture-fixtures.mjs [--only dcmqrscp,orthanc,pixelmed]
// --only records the named servers' captures alone: the other servers' files and README rows stay as
// they are (the README keeps their rows byte for byte).
// It re-executes itself inside a loopback-only network namespace (unshare --net) unless already in
// one (QRSCU_NETNS=1 and no interface but lo). Every wait is bounded; every process it starts is
// stopped by its own id. Never edit the fixtures by hand: run this again.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'pcap-fixtures');
const SERVER_KEYS = ['dcmqrscp', 'orthanc', 'pixelmed'];

function parseArgs(argv) {
  let only = SERVER_KEYS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = a.startsWith('--only=') ? a.slice('--only='.length) : a === '--only' ? argv[++i] : undefined;
    if (value === undefined) {
      console.error(`capture-fixtures: unknown argument ${a} (usage: capture-fixtures.mjs [--only ${SERVER_KEYS.join(',')}])`);
      process.exit(2);
    }
    only = value.split(',').map((k) => k.trim()).filter((k) => k !== '');
    const unknown = only.filter((k) => !SERVER_KEYS.includes(k));
    if (only.length === 0 || unknown.length > 0) {
      console.error(`capture-fixtures: --only takes ${SERVER_KEYS.join(', ')} (comma-separated), not ${value}`);
      process.exit(2);
    }
  }
  return { only: new Set(only) };
}
const args = parseArgs(process.argv.slice(2));

// ---- the namespace ---------------------------------------------------------------------------------

function interfacesBesidesLoopback() {
  try {
    return readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter((n) => n !== '' && n !== 'lo');
  } catch {
    return ['(unknown)'];
  }
}

if (process.env.QRSCU_NETNS !== '1' || interfacesBesidesLoopback().length > 0) {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    console.error('capture-fixtures: needs root on Linux (it runs the servers in a loopback-only network namespace)');
    process.exit(1);
  }
  const r = spawnSync('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, QRSCU_NETNS: '1' }, timeout: 15 * 60_000, cwd: root,
  });
  if (r.error) console.error(`capture-fixtures: ${r.error.message}`);
  process.exit(r.status ?? 1);
}

// Inside the namespace from here on.
const { startDcmqrscp, startOrthanc, syntheticStudies, freePorts, waitForTcp, runTool, withTimeout } = await import('../test/support/pacs.ts');

const log = (s) => process.stderr.write(`capture-fixtures: ${s}\n`);
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const which = (name) => {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name} is not installed (apt-get install dcmtk orthanc tshark libpixelmed-java default-jre-headless)`);
  return r.stdout.trim();
};
const TSHARK = which('tshark');
const ECHOSCU = which('echoscu');
const FINDSCU = which('findscu');
const MOVESCU = which('movescu');
const STORESCU = which('storescu');
const NODE = process.execPath;
const QRSCU = [NODE, '--import', 'tsx', path.join(root, 'src/cli/bin.ts')];

function versionOf(cmd, args, re) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  const m = `${r.stdout}${r.stderr}`.match(re);
  return m ? m[1] : 'unknown';
}
const versions = {
  dcmtk: versionOf(ECHOSCU, ['--version'], /echoscu v(\S+)/),
  orthanc: args.only.has('orthanc') ? versionOf(which('Orthanc'), ['--version'], /Orthanc (\S+)/) : 'unknown',
  // The Debian package's upstream version is PixelMed's release date.
  pixelmed: args.only.has('pixelmed') ? versionOf('dpkg-query', ['-W', '-f', '${Version}\n', 'libpixelmed-java'], /^(\d{8})/) : 'unknown',
  tshark: versionOf(TSHARK, ['--version'], /TShark \(Wireshark\) (\S+?)\.?\s/),
  qrscu: JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version,
};

// ---- capture ----------------------------------------------------------------------------------------

/** Packets in a (possibly partly flushed) classic pcap, Ethernet/IPv4, sent to TCP port `port`. */
function packetsTo(file, port) {
  let buf;
  try {
    buf = readFileSync(file);
  } catch {
    return -1;
  }
  if (buf.length < 24) return -1;
  let n = 0;
  for (let at = 24; at + 16 <= buf.length;) {
    const incl = buf.readUInt32LE(at + 8);
    const p = at + 16;
    if (p + incl > buf.length) break;
    if (incl >= 14 + 20 + 4 && buf.readUInt16BE(p + 12) === 0x0800 && buf[p + 14 + 9] === 6) {
      const ihl = (buf[p + 14] & 0x0f) * 4;
      if (buf.readUInt16BE(p + 14 + ihl + 2) === port) n++;
    }
    at = p + incl;
  }
  return n;
}

function probe(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = () => { s.destroy(); resolve(); };
    s.once('error', done);
    s.once('connect', done);
    setTimeout(done, 500).unref();
  });
}

/** Probe `probePort` until the capture file shows more than `already` packets sent to it (bounded). */
async function probeUntilSeen(file, probePort, already, what) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    await probe(probePort);
    await delay(100);
    if (packetsTo(file, probePort) > already) return;
  }
  throw new Error(`tshark did not record probe packets ${what} within 20 s`);
}

let ports; // { probe, storeA, storeB }

/**
 * Record `exchange()` on `serverPorts` (plus both store ports) into pcap-fixtures/<name>: tshark is
 * known to capture before the exchange starts (a probe connection shows up in the file) and is
 * stopped only after a probe sent after the exchange is in the file; the probes are filtered out.
 */
async function capture(name, serverPort, exchange) {
  const raw = path.join(work, `${name}.raw.pcap`);
  const filter = [serverPort, ports.storeA, ports.storeB, ports.probe].map((p) => `tcp port ${p}`).join(' or ');
  const tshark = spawn(TSHARK, ['-i', 'lo', '-f', filter, '-F', 'pcap', '-w', raw, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tsharkErr = '';
  tshark.stderr.on('data', (c) => { tsharkErr += c; });
  const exited = new Promise((r) => tshark.once('exit', r));
  let result;
  try {
    await probeUntilSeen(raw, ports.probe, 0, 'before the exchange');
    const before = packetsTo(raw, ports.probe);
    result = await withTimeout(exchange(), 60_000, `exchange ${name}`);
    await delay(500); // the store association's release and the TCP closes after the client exits
    await probeUntilSeen(raw, ports.probe, before, 'after the exchange');
  } finally {
    tshark.kill('SIGINT');
    const stopped = await Promise.race([exited.then(() => true), delay(10_000).then(() => false)]);
    if (!stopped) {
      tshark.kill('SIGKILL');
      await Promise.race([exited, delay(2_000)]);
    }
  }
  const out = path.join(outDir, name);
  const r = spawnSync(TSHARK, ['-r', raw, '-Y', `!(tcp.port == ${ports.probe})`, '-F', 'pcap', '-w', out], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`tshark could not filter ${raw}: ${r.stderr}\n${tsharkErr}`);
  log(`${name}: ${statSync(out).size} bytes — ${result.summary}`);
  return result;
}

/** Whether tshark sees a C-CANCEL-RQ in a capture (DICOM on `port`). */
function hasCancel(file, port) {
  const r = spawnSync(TSHARK, ['-r', file, '-d', `tcp.port==${port},dicom`, '-Y', 'dicom', '-T', 'fields', '-e', '_ws.col.Info'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 && r.stdout.includes('C-CANCEL-RQ');
}

/** Run a client program (bounded); its exit code and output. */
async function client(argv, timeoutMs = 45_000) {
  return runTool(argv[0], argv.slice(1), timeoutMs, { TCP_NODELAY: '1' });
}

// ---- PixelMed ------------------------------------------------------------------------------------------

const PIXELMED_JARS = ['pixelmed', 'hsqldb', 'commons-codec', 'commons-net', 'javax.json', 'slf4j-api', 'slf4j-simple', 'jmdns']
  .map((j) => `/usr/share/java/${j}.jar`);

/**
 * PixelMed's DicomAndWebStorageServer (AE `aeTitle`) on a free port, with `destinations` (AE → port
 * on 127.0.0.1) as its remote AEs, loaded with `files` by storescu; resolves once a study-level C-FIND
 * finds `studies` studies. Only inside the namespace: it tries multicast DNS and LDAP when it starts,
 * and its HSQLDB listens on the fixed port 9001 (one instance per namespace). stop() kills its process
 * group by id and removes its folder.
 */
async function startPixelmed({ files, aeTitle, destinations, studies }) {
  const java = which('java');
  for (const j of PIXELMED_JARS) if (!existsSync(j)) throw new Error(`${j} is missing (apt-get install libpixelmed-java)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qrscu-pixelmed-'));
  const [port, webPort] = await freePorts(2);
  const remote = Object.entries(destinations);
  const props = path.join(dir, 'server.properties');
  writeFileSync(props, [
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
    `Application.DatabaseFileName=${path.join(dir, 'db')}`,
    `Application.SavedImagesFolderName=${path.join(dir, 'images')}`,
    `WebServer.ListeningPort=${webPort}`,
    '',
  ].join('\n'));
  mkdirSync(path.join(dir, 'images'));
  const logFile = path.join(dir, 'server.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(java, ['-cp', PIXELMED_JARS.join(':'), 'com.pixelmed.server.DicomAndWebStorageServer', props],
    { cwd: dir, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise((r) => child.once('exit', r));
  const readLog = () => { try { return readFileSync(logFile, 'utf8'); } catch { return ''; } };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      const gone = await Promise.race([exited.then(() => true), delay(10_000).then(() => false)]);
      if (!gone) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
        await Promise.race([exited, delay(5_000)]);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForTcp(port, 120_000, () => child.exitCode !== null);
    for (let i = 0; i < files.length; i += 100) {
      const r = await runTool(STORESCU, ['-aet', 'LOADER', '-aec', aeTitle, '127.0.0.1', String(port), ...files.slice(i, i + 100)], 120_000);
      if (r.code !== 0) throw new Error(`storescu into PixelMed: exit ${r.code}\n${r.output.slice(-2000)}`);
    }
    // Stored objects are indexed by the time their C-STORE-RSP is sent; wait for them all the same (bounded).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await runTool(FINDSCU, ['-v', '-S', '-aet', 'LOADER', '-aec', aeTitle, '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID', '127.0.0.1', String(port)], 30_000);
      const found = (r.output.match(/Find Response: \d+ \(Pending\)/g) ?? []).length;
      if (r.code === 0 && found >= studies) break;
      if (Date.now() > deadline) throw new Error(`PixelMed finds ${found} of ${studies} studies after loading\n${r.output.slice(-2000)}`);
      await delay(500);
    }
  } catch (e) {
    const tail = readLog().split('\n').slice(-40).join('\n');
    await stop();
    throw new Error(`PixelMed did not start: ${e.message}\n${tail}`);
  }
  return { port, aeTitle, dir, pid: child.pid, readLog, stop };
}

// ---- the data and the servers ----------------------------------------------------------------------

// Enough studies that a C-FIND over all of them is still running when the C-CANCEL arrives.
const STUDIES = 20;
const work = mkdtempSync(path.join(os.tmpdir(), 'qrscu-capture-'));
const started = [];
const rows = [];
let storeA;
try {
  mkdirSync(outDir, { recursive: true });
  // With --only, the other servers' README rows (and "not recorded" lines) are kept as they are.
  const readmePath = path.join(outDir, 'README.md');
  const oldReadme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8').split('\n') : [];
  const keptLines = (re) => oldReadme.filter((l) => { const m = l.match(re); return m !== null && !args.only.has(m[1]); });
  const keptRows = keptLines(/^\| `([a-z]+)-[^`]*\.pcap` \|/);
  const keptMissing = keptLines(/^- `([a-z]+)-[^`]*\.pcap`: /);
  for (const f of readdirSync(outDir)) if (f.endsWith('.pcap') && args.only.has(f.split('-')[0])) rmSync(path.join(outDir, f));
  const set = syntheticStudies(path.join(work, 'data'), STUDIES, { seed: 'qrscu-pcap-fixtures', ctImages: 2 });
  const [s1] = set.studies;
  const ctSeries = s1.series[0];
  const [probePort, storePortA, storePortB] = await freePorts(3);
  ports = { probe: probePort, storeA: storePortA, storeB: storePortB };

  // Our store SCP for dcmtk's movescu (QRSCU_STORE); qrscu move runs its own (QRSCU_MOVE, --store-port).
  const storeDir = path.join(work, 'store-a');
  mkdirSync(storeDir);
  storeA = spawn(QRSCU[0], [...QRSCU.slice(1), 'store', '--port', String(storePortA), '--dir', storeDir, '--aet', 'QRSCU_STORE', '--max-seconds', '600'], { stdio: 'ignore', cwd: root });
  await waitForTcp(storePortA, 30_000, () => storeA.exitCode !== null);

  const destinations = { QRSCU_STORE: storePortA, QRSCU_MOVE: storePortB };
  const callers = { QRSCU: 1, ECHOSCU: 1, FINDSCU: 1, MOVESCU: 1 };
  const servers = [];
  let orthancLimit;
  if (args.only.has('dcmqrscp')) {
    const dcm = await startDcmqrscp({ files: set.files, moveDestinations: destinations, aeTitle: 'DCMQRSCP' });
    started.push(dcm);
    servers.push({ key: 'dcmqrscp', name: 'dcmqrscp (DCMTK)', version: versions.dcmtk, port: dcm.port, aec: 'DCMQRSCP' });
  }
  if (args.only.has('orthanc')) {
    const orthanc = await startOrthanc({ files: set.files, aeTitle: 'ORTHANC', modalities: { ...destinations, ...callers } });
    started.push(orthanc);
    orthancLimit = await startOrthanc({ files: set.files, aeTitle: 'ORTHANC', modalities: { ...destinations, ...callers }, options: { limitFindResults: 2 } });
    started.push(orthancLimit);
    servers.push({ key: 'orthanc', name: 'Orthanc', version: versions.orthanc, port: orthanc.port, aec: 'ORTHANC' });
  }
  if (args.only.has('pixelmed')) {
    const pixelmed = await startPixelmed({ files: set.files, aeTitle: 'PIXELMED', destinations, studies: STUDIES });
    started.push(pixelmed);
    servers.push({ key: 'pixelmed', name: 'PixelMed DicomAndWebStorageServer', version: versions.pixelmed, port: pixelmed.port, aec: 'PIXELMED' });
  }
  log(`${servers.map((s) => `${s.name} :${s.port}`).join(', ')}${orthancLimit ? `, Orthanc (LimitFindResults 2) :${orthancLimit.port}` : ''}, store SCPs :${storePortA} :${storePortB}`);

  const studyUid = s1.studyInstanceUid;
  const seriesUid = ctSeries.seriesInstanceUid;
  const sopUid = ctSeries.instances[0].sopInstanceUid;
  const uidNames = [[studyUid, '<study 1>'], [seriesUid, '<CT series of study 1>'], [sopUid, '<CT image 1>']];

  /** One capture: the client's argv for dcmtk or qrscu, what it covers, the expected outcome. */
  async function record(file, server, port, argv, covers, check) {
    const storeDirB = path.join(work, `store-${file}`);
    const fixed = argv.map((a) => (a === '@STOREDIR' ? storeDirB : a));
    const isQrscu = fixed[0] === NODE;
    await capture(file, port, async () => {
      const run = await client(fixed);
      const problem = check(run, storeDirB);
      if (problem) throw new Error(`${file}: ${problem}\n${client.lastShown}\n${run.output.slice(-3000)}`);
      return { summary: covers };
    }).then(() => {
      rows.push({
        key: server.key, file, server: `${server.name} ${server.version}`,
        client: isQrscu ? `qrscu ${versions.qrscu}` : `${path.basename(fixed[0])} (DCMTK ${versions.dcmtk})`,
        command: client.lastShown, covers, size: statSync(path.join(outDir, file)).size,
      });
    });
  }
  // The command for the README: UIDs, ports and the store folder as placeholders, so rows are stable.
  const shownOf = (argv, port) => {
    let shown = argv[0] === NODE ? `qrscu ${argv.slice(QRSCU.length).join(' ')}` : `${path.basename(argv[0])} ${argv.slice(1).join(' ')}`;
    for (const [v, l] of uidNames) shown = shown.split(v).join(l);
    for (const [v, l] of [[port, '<port>'], [storePortB, '<store-port>']]) shown = shown.replace(new RegExp(`(?<![0-9.])${v}(?![0-9.])`, 'g'), l);
    return shown.replace(/@STOREDIR/g, '<dir>');
  };

  const ok = (run) => (run.code === 0 ? undefined : `exit ${run.code}`);
  const failed = (run) => (run.code !== 0 ? undefined : 'expected a failure, got exit 0');
  const any = () => undefined;

  for (const s of servers) {
    const host = '127.0.0.1';
    const P = String(s.port);
    const dcmtkFind = (level, keys, extra = []) => [FINDSCU, '-S', '-aet', 'FINDSCU', '-aec', s.aec, ...extra, '-k', `QueryRetrieveLevel=${level}`, ...keys.flatMap((k) => ['-k', k]), host, P];
    const qFind = (level, keys, extra = []) => [...QRSCU, 'find', host, P, '--aec', s.aec, '-L', level, ...extra, ...keys.flatMap((k) => ['-k', k])];
    const studyKeys = ['StudyInstanceUID', 'PatientID', 'StudyDate', 'AccessionNumber'];
    const firstThree = ['StudyInstanceUID', 'PatientID', 'StudyDate=20240101-20240103', 'AccessionNumber'];
    const seriesKeys = [`StudyInstanceUID=${studyUid}`, 'SeriesInstanceUID', 'Modality', 'SeriesNumber'];
    const imageKeys = [`StudyInstanceUID=${studyUid}`, `SeriesInstanceUID=${seriesUid}`, 'SOPInstanceUID', 'InstanceNumber'];
    const moveKeys = [`StudyInstanceUID=${studyUid}`, `SeriesInstanceUID=${seriesUid}`];
    const moveImageKeys = [...moveKeys, `SOPInstanceUID=${sopUid}`];
    // Many return keys, so each response data set is a few hundred bytes: with a 128-byte max PDU on
    // our side the server splits every response identifier over several P-DATA-TF PDUs.
    const wideKeys = ['StudyInstanceUID', 'PatientID', 'PatientName', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime',
      'AccessionNumber', 'StudyID', 'StudyDescription', 'ReferringPhysicianName', 'ModalitiesInStudy',
      'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'];
    const wideFirstThree = wideKeys.map((k) => (k === 'StudyDate' ? 'StudyDate=20240101-20240103' : k));
    // What PixelMed does differently, measured (the other servers' texts stay as they were).
    const pm = s.key === 'pixelmed';

    const plan = [
      ['echo', 'C-ECHO', ok,
        [ECHOSCU, '-aet', 'ECHOSCU', '-aec', s.aec, host, P],
        [...QRSCU, 'echo', host, P, '--aec', s.aec]],
      ['find-study', 'study-level C-FIND (date range), 3 pending responses + success', ok, dcmtkFind('STUDY', firstThree), qFind('STUDY', firstThree)],
      ['find-series', 'series-level C-FIND, 2 pending responses + success', ok, dcmtkFind('SERIES', seriesKeys), qFind('SERIES', seriesKeys)],
      ['find-image', 'image-level C-FIND, 2 pending responses + success', ok, dcmtkFind('IMAGE', imageKeys), qFind('IMAGE', imageKeys)],
      ['move-series', `series-level C-MOVE of 2 CT images with the C-STORE sub-association to our store SCP${pm ? ' (1 pending C-MOVE-RSP: PixelMed sends N−1, then 0x0000)' : ''}`, ok,
        [MOVESCU, '-S', '-aet', 'MOVESCU', '-aec', s.aec, '-aem', 'QRSCU_STORE', '-k', 'QueryRetrieveLevel=SERIES', ...moveKeys.flatMap((k) => ['-k', k]), host, P],
        [...QRSCU, 'move', host, P, '--aec', s.aec, '--dest', 'QRSCU_MOVE', '--store-port', String(storePortB), '--store-dir', '@STOREDIR', '-L', 'SERIES', ...moveKeys.flatMap((k) => ['-k', k])]],
      ['move-image', `image-level C-MOVE of 1 CT image with the C-STORE sub-association to our store SCP${pm ? ' (no pending C-MOVE-RSP: PixelMed sends N−1, then 0x0000)' : ''}`, ok,
        [MOVESCU, '-S', '-aet', 'MOVESCU', '-aec', s.aec, '-aem', 'QRSCU_STORE', '-k', 'QueryRetrieveLevel=IMAGE', ...moveImageKeys.flatMap((k) => ['-k', k]), host, P],
        [...QRSCU, 'move', host, P, '--aec', s.aec, '--dest', 'QRSCU_MOVE', '--store-port', String(storePortB), '--store-dir', '@STOREDIR', '-L', 'IMAGE', ...moveImageKeys.flatMap((k) => ['-k', k])]],
      ['find-multipdu', 'study-level C-FIND with 14 return keys and a 128-byte max PDU on our side: 3 pending responses, each identifier split over several P-DATA-TF PDUs', ok,
        null, pm ? null : qFind('STUDY', wideFirstThree, ['--max-pdu', '128'])],
      ['cancel', pm
        ? `study-level C-FIND over ${STUDIES} studies, C-CANCEL-RQ sent after the first pending response: PixelMed reads it only once the C-FIND is done (all ${STUDIES} matches, then 0x0000), then closes the connection (FIN; no A-RELEASE-RP, no A-ABORT)`
        : `study-level C-FIND over ${STUDIES} studies, C-CANCEL-RQ sent after the first pending response (the server may already have sent every match: final 0x0000 or 0xFE00)`, any,
        dcmtkFind('STUDY', studyKeys, ['--cancel', '1']), qFind('STUDY', studyKeys, ['--cancel', '1'])],
      ['move-unknown-dest', `C-MOVE to a destination the server does not know (${s.key === 'orthanc' ? '0xC000' : '0xA801'})`, any,
        [MOVESCU, '-S', '-aet', 'MOVESCU', '-aec', s.aec, '-aem', 'NOWHERE', '-k', 'QueryRetrieveLevel=SERIES', ...moveKeys.flatMap((k) => ['-k', k]), host, P],
        [...QRSCU, 'move', host, P, '--aec', s.aec, '--dest', 'NOWHERE', '-L', 'SERIES', ...moveKeys.flatMap((k) => ['-k', k])]],
    ];
    if (s.key !== 'orthanc') {
      plan.push(['reject', 'A-ASSOCIATE-RJ: wrong called AE title (permanent, service-user, reason 7)', failed,
        [ECHOSCU, '-aet', 'ECHOSCU', '-aec', 'WRONG_AE', host, P],
        [...QRSCU, 'echo', host, P, '--aec', 'WRONG_AE']]);
    } else {
      plan.push(['abort', 'A-ABORT after the C-FIND request from an unknown calling AE title', any,
        [FINDSCU, '-S', '-aet', 'STRANGER', '-aec', s.aec, '-k', 'QueryRetrieveLevel=STUDY', ...studyKeys.flatMap((k) => ['-k', k]), host, P],
        [...QRSCU, 'find', host, P, '--aet', 'STRANGER', '--aec', s.aec, '-L', 'STUDY', ...studyKeys.flatMap((k) => ['-k', k])]]);
      const L = String(orthancLimit.port);
      plan.push(['find-limit', `study-level C-FIND over ${STUDIES} studies ended by LimitFindResults=2: 2 pending responses, then 0xFE00`, any,
        [FINDSCU, '-S', '-aet', 'FINDSCU', '-aec', s.aec, '-k', 'QueryRetrieveLevel=STUDY', ...studyKeys.flatMap((k) => ['-k', k]), host, L],
        [...QRSCU, 'find', host, L, '--aec', s.aec, '-L', 'STUDY', ...studyKeys.flatMap((k) => ['-k', k])], orthancLimit.port]);
    }
    for (const [what, covers, check, dcmtkArgv, qrscuArgv, portOverride] of plan) {
      const port = portOverride ?? s.port;
      for (const [tag, argv] of [['dcmtk', dcmtkArgv], ['qrscu', qrscuArgv]]) {
        if (argv === null) continue; // DCMTK's findscu accepts no max PDU below 4096; PixelMed ignores a 128-byte one
        const file = `${s.key}-${what}-${tag}.pcap`;
        try {
          client.lastShown = shownOf(argv, port);
          // A cancel capture must show the C-CANCEL-RQ: when every response is in before the client
          // cancels (timing), qrscu rightly sends none. Record again, a few times at most.
          for (let attempt = 1; ; attempt++) {
            await record(file, s, port, argv, covers, check);
            if (what !== 'cancel' || hasCancel(path.join(outDir, file), port)) break;
            rows.pop();
            if (attempt === 5) throw new Error('no C-CANCEL-RQ in 5 recordings');
            log(`${file}: no C-CANCEL-RQ in the capture (every response came first); recording again`);
          }
        } catch (e) {
          log(`FAILED ${file}: ${e.message}`);
          rows.push({ key: s.key, file, failed: true, server: `${s.name} ${s.version}`, client: tag, command: client.lastShown, covers, size: 0 });
          if (existsSync(path.join(outDir, file))) rmSync(path.join(outDir, file));
        }
      }
    }
  }

  // ---- README ----
  const good = rows.filter((r) => !r.failed);
  const lines = [
    '# pcap-fixtures',
    '',
    'Packet captures of real DICOM Query/Retrieve servers, recorded on loopback by',
    '`scripts/capture-fixtures.mjs` (run `node --import tsx scripts/capture-fixtures.mjs` as root; it works',
    'inside a loopback-only network namespace). **Generated: regenerate with the script, never edit by hand.**',
    '`test/pcap/fixtures.test.ts` replays every file here through our pcap reader, PDU codec, PDV reassembly',
    'and DIMSE decoder, and compares every DIMSE message (command set and data set, every element: tag, VR',
    'and value) with tshark\'s DICOM dissector, default preferences, no message excluded.',
    '`test/pcap/fixtures-replay.test.ts` decodes the client\'s requests of every file (A-ASSOCIATE-RQ, each',
    'command and identifier), sends them again with our client against `startReplay`, and checks that it gets',
    'the recorded responses (statuses, identifiers, sub-operation counts), the recorded rejection or abort, and',
    'that the replayed store sub-associations make our store SCP write the recorded objects.',
    '',
    `Data: ${STUDIES} synthetic studies (\`syntheticStudies\` from test/support/pacs.ts, seed \`qrscu-pcap-fixtures\`),`,
    'each a CT series of 2 images (2×2 pixels) and an X-Ray Radiation Dose SR. Nothing comes from a patient.',
    `Recorded with tshark ${versions.tshark}: \`tshark -i lo -f 'tcp port <server> or tcp port <store…>' -F pcap -w FILE\`;`,
    'decode with `tshark -r FILE -d tcp.port==<server port>,dicom -Y dicom -V` (the ports are in the file).',
    '',
    'Servers: dcmqrscp (AE `DCMQRSCP`, move destinations `QRSCU_STORE` and `QRSCU_MOVE`), Orthanc with',
    '`DicomModalities` naming the clients and destinations (AE `ORTHANC`), and a second Orthanc with',
    '`LimitFindResults: 2`. Move destinations are our store SCP: `qrscu store --aet QRSCU_STORE` for',
    'movescu, `qrscu move --store-port` (AE `QRSCU_MOVE`) for qrscu. Clients run with `TCP_NODELAY=1`.',
    '',
    'Multi-PDU C-FIND responses (`*-find-multipdu-qrscu.pcap`) are recorded with qrscu only: findscu accepts no max PDU',
    'below 4096, and these identifiers fit in 4096 bytes.',
    '',
    'PixelMed (`DicomAndWebStorageServer` from `libpixelmed-java`, AE `PIXELMED`, remote AEs `QRSCU_STORE` and',
    '`QRSCU_MOVE` as move destinations) is loaded with `storescu`; it runs only inside the namespace (it tries',
    'multicast DNS and LDAP when it starts). `--only pixelmed` records its captures alone and keeps the others.',
    'No `pixelmed-find-multipdu-qrscu.pcap`: PixelMed ignores the 128-byte max PDU we announce (it sent a 268-byte',
    'P-DATA-TF, and qrscu aborts the association), so the exchange cannot be recorded as it is for the others.',
    '',
    '| file | bytes | server | client | command | covers |',
    '|---|---:|---|---|---|---|',
    // Server by server in SERVER_KEYS order: recorded now, or (with --only) the row as it was.
    ...SERVER_KEYS.flatMap((key) => (args.only.has(key)
      ? good.filter((r) => r.key === key).map((r) => `| \`${r.file}\` | ${r.size} | ${r.server} | ${r.client} | \`${r.command.replace(/\|/g, '\\|')}\` | ${r.covers} |`)
      : keptRows.filter((l) => l.startsWith(`| \`${key}-`)))),
    '',
  ];
  const missing = rows.filter((r) => r.failed);
  const missingLines = [...keptMissing, ...missing.map((r) => `- \`${r.file}\`: ${r.covers}`)];
  if (missingLines.length > 0) {
    lines.push('Not recorded in the last run (the exchange did not behave as expected):', '', ...missingLines, '');
  }
  writeFileSync(path.join(outDir, 'README.md'), lines.join('\n'));
  log(`${good.length} captures written, ${missing.length} failed`);
  process.exitCode = missing.length > 0 ? 1 : 0;
} finally {
  for (const h of started.reverse()) await h.stop().catch(() => undefined);
  if (storeA && storeA.exitCode === null) {
    storeA.kill('SIGTERM');
    await Promise.race([new Promise((r) => storeA.once('exit', r)), delay(5_000)]);
    if (storeA.exitCode === null) storeA.kill('SIGKILL');
  }
  rmSync(work, { recursive: true, force: true });
}
