// src/pcap/replay.ts and `qrscu replay`: sessions recorded with --pcap against our own SCPs, then our
// client run against the replay gets the recorded results; a client that asks something else gets a
// divergence naming both PDUs and an A-ABORT; a corrupt capture is a typed error.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { runReplay } from '../../src/cli/commands/replay.js';
import { createDataset, datasetToJson, decodeDataset, getString, keywordOfTag, setValue, transferSyntaxOf } from '../../src/dicom/index.js';
import { DicomError } from '../../src/errors.js';
import { QUERY_RETRIEVE_CONTEXTS } from '../../src/net/client.js';
import { listen, type Server } from '../../src/net/server.js';
import { startSimulatedPacs, type SimulatedPacs } from '../../src/pacs/simulated.js';
import { loadSnapshot } from '../../src/pacs/snapshot.js';
import { readCapture } from '../../src/pcap/index.js';
import { planReplay, startReplay } from '../../src/pcap/replay.js';
import { decodeCommand, encodeCommand, type DimseMessage } from '../../src/net/dimse.js';
import { createMessageAssembler } from '../../src/net/pdv.js';
import { createFramer } from '../../src/net/framer.js';
import { decodePdu, encodePdu } from '../../src/net/pdu-codec.js';
import type { Pdu } from '../../src/net/pdu.js';

const test = suite('pcap: replay');
const SNAPSHOT = fileURLToPath(new URL('../fixtures/snapshots/contract-example.json', import.meta.url));
let server: Server;
let pacs: SimulatedPacs;
let storePort: number;
let dir: string;

type Captured = Output & { out: string[]; err: string[] };
function capture(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, line: (t) => void out.push(t), error: (t) => void err.push(t) };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Echo lines carry the round-trip time; everything else must be identical. */
function normalise(lines: string[]): string[] {
  return lines.map((l) => l.replace(/in [\d.]+ ms/, 'in N ms').replace(/@127\.0\.0\.1:\d+/, '@127.0.0.1:PORT'));
}

/** Record `args` (host and port appended after the command) with --pcap; return the file and the live output. */
async function record(name: string, command: string, port: number, args: string[]): Promise<{ file: string; live: Captured }> {
  const file = path.join(dir, `${name}.pcap`);
  const live = capture();
  assert.is(await main([command, '127.0.0.1', String(port), ...args, '--pcap', file], live), 0, live.err.join('\n'));
  return { file, live };
}

/** Start `runReplay` on `file`, run the client against it, and return both outputs and exit codes. */
async function replayWith(file: string, command: string, args: string[], storePortArg?: number): Promise<{ code: number; client: Captured; replay: Captured; replayCode: number }> {
  const replay = capture();
  let port = 0;
  const running = runReplay({ file, port: 0, 'max-seconds': 20, ...(storePortArg !== undefined ? { 'store-port': storePortArg } : {}), onListening: (p) => (port = p) }, replay);
  for (let i = 0; i < 100 && port === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(port > 0, 'the replay printed its port');
  assert.match(replay.err.join('\n'), new RegExp(`listening on 127\\.0\\.0\\.1:${port}`));
  const client = capture();
  const code = await main([command, '127.0.0.1', String(port), ...args], client);
  const replayCode = await running;
  return { code, client, replay, replayCode };
}

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'qrscu-replay-'));
  server = await listen(
    { port: 0, policy: { aeTitle: 'SIM', abstractSyntaxes: new Map(QUERY_RETRIEVE_CONTEXTS.map((c) => [c.abstractSyntax, ['1.2.840.10008.1.2']])) } },
    {
      *find(identifier) {
        for (let i = 0; i < 3; i++) {
          const ds = createDataset();
          setValue(ds, 'QueryRetrieveLevel', getString(identifier, 'QueryRetrieveLevel') ?? '');
          setValue(ds, 'StudyInstanceUID', `2.25.${i}`);
          setValue(ds, 'PatientName', `SYNTHETIC^${i}`);
          yield ds;
        }
      },
    },
  );
  storePort = await freePort();
  pacs = await startSimulatedPacs({ snapshot: loadSnapshot(SNAPSHOT), port: 0, destinations: { QRSCU_STORE: { host: '127.0.0.1', port: storePort } } });
});
test.after(async () => {
  await server.close(100);
  await pacs.close();
  rmSync(dir, { recursive: true, force: true });
});

test('echo: the replayed SCP answers as recorded (two echoes, one association)', async () => {
  const args = ['--aec', 'SIM', '--count', '2'];
  const { file, live } = await record('echo', 'echo', server.port, args);
  const r = await replayWith(file, 'echo', args);
  assert.is(r.code, 0, r.client.err.join('\n'));
  assert.is(r.replayCode, 0, r.replay.out.join('\n'));
  assert.equal(normalise(r.client.out), normalise(live.out));
  assert.equal(r.replay.out, ['association 1: played (4 client PDUs recorded)']);
});

test('echo: another calling AE title and a different port are not divergences', async () => {
  const { file } = await record('echo-aet', 'echo', server.port, ['--aec', 'SIM']);
  const r = await replayWith(file, 'echo', ['--aec', 'OTHER', '--aet', 'SOMEONE']);
  assert.is(r.code, 0, r.client.err.join('\n'));
  assert.is(r.replayCode, 0, r.replay.out.join('\n'));
});

test('find: several matches come back exactly as recorded (NDJSON)', async () => {
  const args = ['--aec', 'SIM', '-L', 'SERIES', '-k', 'StudyInstanceUID', '-k', 'PatientName=SYN*'];
  const { file, live } = await record('find', 'find', server.port, args);
  assert.is(live.out.length, 3);
  const r = await replayWith(file, 'find', args);
  assert.is(r.code, 0, r.client.err.join('\n'));
  assert.is(r.replayCode, 0, r.replay.out.join('\n'));
  assert.equal(r.client.out, live.out);
  assert.equal(r.client.err.at(-1), live.err.at(-1));
});

test('find: another key value is a divergence naming both PDUs; the client gets an A-ABORT', async () => {
  const args = ['--aec', 'SIM', '-L', 'SERIES', '-k', 'StudyInstanceUID', '-k', 'PatientName=SYN*'];
  const { file } = await record('find-diverge', 'find', server.port, args);
  const r = await replayWith(file, 'find', ['--aec', 'SIM', '-L', 'SERIES', '-k', 'StudyInstanceUID', '-k', 'PatientName=OTHER*']);
  assert.is(r.code, 3, 'the client sees the association aborted');
  assert.match(r.client.err.join('\n'), /ERR_ASSOC_ABORTED|abort/i);
  assert.is(r.replayCode, 3);
  const text = r.replay.out.join('\n');
  assert.match(text, /divergence in association 1, PDU 3: C-FIND-RQ identifier keys or values differ: 00100010 recorded \{.*SYN\*.*\}, received \{.*OTHER\*.*\}/);
  assert.match(text, /recorded: P-DATA-TF .*C-FIND-RQ id=\d+ .*SYN\*/);
  assert.match(text, /received: P-DATA-TF .*C-FIND-RQ id=\d+ .*OTHER\*/);
});

test('move: counts and the store sub-association replayed towards the client store SCP', async () => {
  const recvLive = mkdtempSync(path.join(dir, 'live-'));
  const args = ['--aec', 'SIMPACS', '--dest', 'QRSCU_STORE', '-L', 'SERIES', '-k', 'StudyInstanceUID=2.25.1', '-k', 'SeriesInstanceUID=2.25.1.1'];
  const { file, live } = await record('move', 'move', pacs.port, [...args, '--store-port', String(storePort), '--store-dir', recvLive]);
  assert.is(readdirSync(recvLive).length, 1, 'the live move stored one object');
  const plan = planReplay(readCapture(readFileSync(file)).streams);
  assert.is(plan.scp.length, 1);
  assert.is(plan.store.length, 1, 'the store sub-association was recorded');
  const recvReplay = mkdtempSync(path.join(dir, 'replayed-'));
  const replayStore = await freePort();
  const r = await replayWith(file, 'move', [...args, '--store-port', String(replayStore), '--store-dir', recvReplay], replayStore);
  assert.is(r.code, 0, r.client.err.join('\n'));
  assert.is(r.replayCode, 0, r.replay.out.join('\n') + r.replay.err.join('\n'));
  assert.equal(r.client.out, live.out);
  assert.equal(readdirSync(recvReplay), readdirSync(recvLive));
  assert.ok(readFileSync(path.join(recvReplay, readdirSync(recvReplay)[0]!)).equals(readFileSync(path.join(recvLive, readdirSync(recvLive)[0]!))));
  assert.match(r.replay.out.join('\n'), /store sub-association 1: played/);
});

test('move: a store SCP that cannot be reached is a store divergence (exit 3)', async () => {
  const recvLive = mkdtempSync(path.join(dir, 'live2-'));
  const args = ['--aec', 'SIMPACS', '--dest', 'QRSCU_STORE', '-L', 'SERIES', '-k', 'StudyInstanceUID=2.25.1', '-k', 'SeriesInstanceUID=2.25.1.1'];
  const { file } = await record('move-nostore', 'move', pacs.port, [...args, '--store-port', String(storePort), '--store-dir', recvLive]);
  const nobody = await freePort();
  const r = await replayWith(file, 'move', args, nobody);
  assert.is(r.replayCode, 3);
  assert.match(r.replay.out.join('\n'), /divergence in store sub-association 1, PDU 0: store sub-association failed: .*ECONNREFUSED/);
  assert.match(r.replay.out.join('\n'), /association 1: played/, 'the SCP side still played to its end');
});

test('several recorded associations are played in order, one per incoming connection', async () => {
  const echoArgs = ['--aec', 'SIM'];
  const findArgs = ['--aec', 'SIM', '-L', 'STUDY', '-k', 'StudyInstanceUID', '-k', 'PatientName'];
  const echo = await record('multi-echo', 'echo', server.port, echoArgs);
  const find = await record('multi-find', 'find', server.port, findArgs);
  const streams = [...readCapture(readFileSync(echo.file)).streams, ...readCapture(readFileSync(find.file)).streams];
  const replay = await startReplay({ capture: streams, port: 0, pduTimeoutMs: 2000 });
  assert.is(replay.associations, 2);
  const e = capture();
  assert.is(await main(['echo', '127.0.0.1', String(replay.port), ...echoArgs], e), 0, e.err.join('\n'));
  const f = capture();
  assert.is(await main(['find', '127.0.0.1', String(replay.port), ...findArgs], f), 0, f.err.join('\n'));
  const report = await replay.done();
  await replay.close();
  assert.equal(f.out, find.live.out);
  assert.equal([report.played, report.divergences.length], [2, 0]);
});

test('a corrupt or empty capture is a typed error: exit 6 from the CLI, ERR_PCAP_* from startReplay', async () => {
  const bad = path.join(dir, 'corrupt.pcap');
  writeFileSync(bad, Buffer.from('not a capture file at all'));
  const o = capture();
  assert.is(await runReplay({ file: bad, port: 0 }, o), 6);
  assert.match(o.err.join('\n'), /ERR_PCAP_INVALID/);
  // A readable capture whose stream is not DICOM.
  const { file } = await record('echo-for-corrupt', 'echo', server.port, ['--aec', 'SIM']);
  const streams = readCapture(readFileSync(file)).streams;
  const mangled = streams.map((s) => ({ ...s, chunks: s.chunks.map((c) => ({ ...c, data: Buffer.alloc(c.data.length, 0x09) })) }));
  try {
    await startReplay({ capture: mangled, port: 0 });
    assert.unreachable('startReplay accepted a non-DICOM stream');
  } catch (e) {
    assert.instance(e, DicomError);
    assert.is((e as DicomError).code, 'ERR_PCAP_INVALID');
  }
  // One good association beside a stream that is not DICOM: played, the other skipped with a warning.
  const mixed = await startReplay({ capture: [...streams, { ...mangled[0]!, client: { ip: '127.0.0.1', port: 1 } }], port: 0 });
  assert.is(mixed.associations, 1);
  assert.is(mixed.warnings.length, 1);
  assert.match(mixed.warnings[0]!, /^skipped: stream 2 .*127\.0\.0\.1:1 ->/);
  await mixed.close();
  try {
    await startReplay({ capture: [], port: 0 });
    assert.unreachable('startReplay accepted an empty capture');
  } catch (e) {
    assert.is((e as DicomError).code, 'ERR_PCAP_INVALID');
  }
});

test('a second connection beyond the recording is aborted; close() ends a replay nobody connected to', async () => {
  const { file } = await record('echo-once', 'echo', server.port, ['--aec', 'SIM']);
  const replay = await startReplay({ capture: readCapture(readFileSync(file)).streams, port: 0, pduTimeoutMs: 2000 });
  const first = capture();
  assert.is(await main(['echo', '127.0.0.1', String(replay.port), '--aec', 'SIM'], first), 0, first.err.join('\n'));
  const report = await replay.done();
  assert.is(report.played, 1);
  assert.equal(replay.divergences(), []);
  const second = capture();
  assert.is(await main(['echo', '127.0.0.1', String(replay.port), '--aec', 'SIM'], second), 3);
  await replay.close();
  const idle = await startReplay({ capture: readCapture(readFileSync(file)).streams, port: 0 });
  await idle.close();
  assert.is((await idle.done()).played, 0);
});

/** The PDUs one side of a recorded stream sent. */
function pdusOf(file: string, fromClient: boolean): Buffer[] {
  const out: Buffer[] = [];
  const f = createFramer(0, (b) => void out.push(Buffer.from(b)));
  for (const c of readCapture(readFileSync(file)).streams[0]!.chunks) if (c.fromClient === fromClient) f.push(c.data);
  return out;
}

/** A raw client: send each PDU, collect whatever comes back until the replay closes (bounded by 3 s). */
async function rawSession(port: number, pdus: Buffer[], answersAfterEach: number[]): Promise<Pdu[]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const got: Pdu[] = [];
  const f = createFramer(0, (b) => void got.push(decodePdu(b)));
  socket.on('data', (c: Buffer) => f.push(c));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  let expected = 0;
  for (let i = 0; i < pdus.length; i++) {
    socket.write(pdus[i]!);
    expected += answersAfterEach[i]!;
    for (let t = 0; t < 300 && got.length < expected && !socket.destroyed; t++) await new Promise((r) => setTimeout(r, 10));
  }
  socket.destroy();
  return got;
}

test('Message ID Being Responded To is rewritten to the client\'s Message ID', async () => {
  const { file } = await record('echo-ids', 'echo', server.port, ['--aec', 'SIM']);
  const sent = pdusOf(file, true);
  assert.equal(sent.map((b) => decodePdu(b).type), ['A-ASSOCIATE-RQ', 'P-DATA-TF', 'A-RELEASE-RQ']);
  // The same echo with Message ID 77.
  const echo = decodePdu(sent[1]!);
  assert.is(echo.type, 'P-DATA-TF');
  const pdvs = (echo as Extract<Pdu, { type: 'P-DATA-TF' }>).pdvs.map((v) => {
    const cmd = decodeCommand(v.data) as Extract<DimseMessage, { type: 'C-ECHO-RQ' }>;
    return { ...v, data: encodeCommand({ ...cmd, messageId: 77 }) };
  });
  const replay = await startReplay({ capture: readCapture(readFileSync(file)).streams, port: 0, pduTimeoutMs: 2000 });
  const got = await rawSession(replay.port, [sent[0]!, encodePdu({ type: 'P-DATA-TF', pdvs }), sent[2]!], [1, 1, 1]);
  await replay.close();
  assert.equal(got.map((p) => p.type), ['A-ASSOCIATE-AC', 'P-DATA-TF', 'A-RELEASE-RP']);
  const rsp = decodeCommand((got[1] as Extract<Pdu, { type: 'P-DATA-TF' }>).pdvs[0]!.data);
  assert.is(rsp.type, 'C-ECHO-RSP');
  assert.is((rsp as Extract<DimseMessage, { type: 'C-ECHO-RSP' }>).messageIdBeingRespondedTo, 77);
  assert.equal(replay.divergences(), []);
});

test('other presentation contexts in the A-ASSOCIATE-RQ are a divergence answered with A-ABORT', async () => {
  const { file } = await record('echo-contexts', 'echo', server.port, ['--aec', 'SIM']);
  const rq = decodePdu(pdusOf(file, true)[0]!) as Extract<Pdu, { type: 'A-ASSOCIATE-RQ' }>;
  const replay = await startReplay({ capture: readCapture(readFileSync(file)).streams, port: 0, pduTimeoutMs: 2000 });
  const other = encodePdu({ ...rq, presentationContexts: [{ ...rq.presentationContexts[0]!, abstractSyntax: '1.2.3.4' }, ...rq.presentationContexts.slice(1)] });
  const got = await rawSession(replay.port, [other], [1]);
  const report = await replay.done();
  await replay.close();
  assert.equal(got.map((p) => p.type), ['A-ABORT']);
  assert.is(report.divergences.length, 1);
  assert.match(report.divergences[0]!.reason, /presentation contexts differ/);
  assert.match(report.divergences[0]!.expected, /^A-ASSOCIATE-RQ /);
  assert.match(report.divergences[0]!.actual, /^A-ASSOCIATE-RQ /);
});

// Captures of real servers (pcap-fixtures/, written by scripts/capture-fixtures.mjs) with qrscu as the
// client: the same command against the replay gets the recorded answers. Skipped where a file is absent.
const FIXTURES = fileURLToPath(new URL('../../pcap-fixtures/', import.meta.url));

/** The recorded request identifier and response identifiers of a capture's first SCP association, as DICOM JSON. */
function recordedIdentifiers(capture: Buffer): { request: Record<string, unknown>[]; responses: string[] } {
  const plan = planReplay(readCapture(capture).streams);
  const a = plan.scp[0]!;
  const syntaxes = new Map<number, string>();
  const request: Record<string, unknown>[] = [];
  const responses: string[] = [];
  const fromClient = createMessageAssembler();
  const fromServer = createMessageAssembler();
  for (const step of a.steps) {
    for (const p of [step.request, ...step.answers]) {
      if (p.pdu.type === 'A-ASSOCIATE-AC') for (const pc of p.pdu.presentationContexts) if (pc.transferSyntax) syntaxes.set(pc.id, pc.transferSyntax);
      if (p.pdu.type !== 'P-DATA-TF') continue;
      for (const m of (p.fromClient ? fromClient : fromServer).push(p.pdu)) {
        if (!m.dataset) continue;
        const ds = decodeDataset(m.dataset, transferSyntaxOf(syntaxes.get(m.contextId)!));
        if (p.fromClient) request.push(Object.fromEntries([...ds.elements.keys()].map((t) => [keywordOfTag(t), getString(ds, keywordOfTag(t)!) ?? ''])));
        else responses.push(JSON.stringify(datasetToJson(ds)));
      }
    }
  }
  return { request, responses };
}

/**
 * The bytes of a fixture, read now, when README.md lists it with that size (the capture script has
 * finished it); undefined otherwise. Read at registration so that a regeneration running meanwhile
 * cannot change or remove it under the test.
 */
function fixtureBytes(name: string): Buffer | undefined {
  try {
    const row = readFileSync(path.join(FIXTURES, 'README.md'), 'utf8').split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
    const bytes = readFileSync(path.join(FIXTURES, name));
    return row !== undefined && Number(row.split('|')[2]) === bytes.length ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** `-L LEVEL -k Keyword=value …` from a recorded identifier. */
function keysOf(identifier: Record<string, unknown>): string[] {
  const args = ['-L', String(identifier.QueryRetrieveLevel)];
  for (const [k, v] of Object.entries(identifier)) if (k !== 'QueryRetrieveLevel') args.push('-k', v === '' ? k : `${k}=${String(v)}`);
  return args;
}

for (const peer of ['dcmqrscp', 'orthanc']) {
  const aec = peer === 'orthanc' ? 'ORTHANC' : 'DCMQRSCP';
  for (const kind of ['echo', 'find-study', 'find-series', 'find-image', 'find-multipdu', 'cancel', 'reject', 'move-series', 'move-image', 'move-unknown-dest']) {
    const stores = kind === 'move-series' || kind === 'move-image';
    const bytes = fixtureBytes(`${peer}-${kind}-qrscu.pcap`);
    if (bytes === undefined) continue;
    test(`real ${peer} capture ${kind}: our client against the replay gets the recorded answers`, async () => {
      const rec = recordedIdentifiers(bytes);
      const replayStore = await freePort();
      const recv = mkdtempSync(path.join(dir, `fx-${peer}-${kind}-`));
      let args: string[];
      if (kind === 'echo') args = ['echo', '--aec', aec];
      else if (kind === 'reject') args = ['echo', '--aec', 'WRONG_AE'];
      else if (kind.startsWith('find') || kind === 'cancel') args = ['find', '--aec', aec, ...(kind === 'cancel' ? ['--cancel', '1'] : []), ...keysOf(rec.request[0]!)];
      else args = ['move', '--aec', aec, '--dest', stores ? 'QRSCU_MOVE' : 'NOWHERE', ...(stores ? ['--store-port', String(replayStore), '--store-dir', recv] : []), ...keysOf(rec.request[0]!)];
      const replay = await startReplay({ capture: readCapture(bytes).streams, port: 0, pduTimeoutMs: 3000, ...(stores ? { storeTarget: { host: '127.0.0.1', port: replayStore } } : {}) });
      const c = capture();
      const code = await main([args[0]!, '127.0.0.1', String(replay.port), ...args.slice(1)], c);
      const report = await replay.done();
      await replay.close();
      assert.equal(report.divergences, [], c.err.join('\n'));
      assert.is(report.played, 1);
      assert.is(report.storePlayed, report.storeAssociations);
      assert.is(code, kind === 'reject' || kind === 'move-unknown-dest' ? 3 : 0, c.err.join('\n'));
      // With --cancel 1 the client prints the match before its C-CANCEL-RQ; the ones the server had already sent are dropped.
      if (args[0] === 'find') assert.equal(c.out, kind === 'cancel' ? rec.responses.slice(0, 1) : rec.responses, 'the NDJSON is the recorded identifiers');
      if (stores) {
        assert.ok(report.storeAssociations >= 1, 'the store sub-association is in the capture');
        assert.match(c.out.join('\n'), new RegExp(`${readdirSync(recv).length} stored here`));
        assert.ok(readdirSync(recv).length > 0);
      }
    });
  }
}

test.run();
