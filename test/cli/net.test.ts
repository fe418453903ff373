import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { createDataset, setValue, getString } from '../../src/dicom/index.js';
import { QUERY_RETRIEVE_CONTEXTS } from '../../src/net/client.js';
import { listen, type Server } from '../../src/net/server.js';
import { buildIdentifier } from '../../src/cli/commands/net.js';

const test = suite('cli: echo, find, move, store');
let server: Server;

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, line: (t) => void out.push(t), error: (t) => void err.push(t) };
}

test.before(async () => {
  server = await listen(
    { port: 0, policy: { aeTitle: 'SIM', checkCalledAeTitle: true, abstractSyntaxes: new Map(QUERY_RETRIEVE_CONTEXTS.map((c) => [c.abstractSyntax, ['1.2.840.10008.1.2']])) } },
    {
      *find(identifier) {
        for (let i = 0; i < 3; i++) {
          const ds = createDataset();
          setValue(ds, 'QueryRetrieveLevel', getString(identifier, 'QueryRetrieveLevel') ?? '');
          setValue(ds, 'StudyInstanceUID', `2.25.${i}`);
          setValue(ds, 'PatientName', 'SYNTHETIC^ONE');
          yield ds;
        }
      },
      async move(_id, req) {
        req.progress({ remaining: 1, completed: 0, failed: 0, warning: 0 });
        return req.destination === 'STORE' ? { status: 0, subOperations: { remaining: 0, completed: 1, failed: 0, warning: 0 } } : { status: 0xa801, subOperations: {} };
      },
    },
  );
});
test.after(async () => { await server.close(100); });

test('echo: exit 0 and one line per echo', async () => {
  const o = capture();
  assert.is(await main(['echo', '127.0.0.1', String(server.port), '--aec', 'SIM', '--count', '2'], o), 0);
  assert.is(o.out.length, 2);
  assert.match(o.out[0]!, /^C-ECHO SIM@127\.0\.0\.1:\d+: 0x0000 Success in [\d.]+ ms$/);
});

test('echo: rejected association → exit 3 with the reason', async () => {
  const o = capture();
  assert.is(await main(['echo', '127.0.0.1', String(server.port), '--aec', 'WRONG'], o), 3);
  assert.match(o.err.join('\n'), /called-AE-title-not-recognized.*ERR_ASSOC_REJECTED/);
});

test('echo: nothing listening → exit 3, connect failed', async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  const o = capture();
  assert.is(await main(['echo', '127.0.0.1', String(port)], o), 3);
  assert.match(o.err.join('\n'), /ECONNREFUSED.*ERR_CONNECT_FAILED/);
});

test('find: NDJSON in the DICOM JSON model on stdout, the final status on stderr', async () => {
  const o = capture();
  assert.is(await main(['find', '127.0.0.1', String(server.port), '--aec', 'SIM', '-L', 'SERIES', '-k', 'StudyInstanceUID', '-k', 'PatientName=SYN*'], o), 0);
  assert.is(o.out.length, 3);
  const first = JSON.parse(o.out[0]!);
  assert.equal(first['0020000D'], { vr: 'UI', Value: ['2.25.0'] });
  assert.equal(first['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'SYNTHETIC^ONE' }] });
  assert.match(o.err.at(-1)!, /3 matches, final 0x0000 Success/);
});

test('find: a bad key is a usage error (exit 2)', async () => {
  const o = capture();
  assert.is(await main(['find', '127.0.0.1', String(server.port), '-k', 'NoSuchKeyword=1'], o), 2);
});

test('-k keys: keywords, tags, multi-values, return keys', () => {
  const ds = buildIdentifier(['ModalitiesInStudy=CT\\SR', '(0008,1030)=HEAD*', '00100020', 'StudyDate=20240101-20240131'], 'STUDY');
  assert.equal(getString(ds, 'QueryRetrieveLevel'), 'STUDY');
  assert.is(ds.elements.get(0x00080061)!.value.toString(), 'CT\\SR ');
  assert.is(getString(ds, 'StudyDescription'), 'HEAD*');
  assert.is(getString(ds, 'PatientID'), '');
  assert.is(getString(ds, 'StudyDate'), '20240101-20240131');
});

test('move: success exit 0; unknown destination exit 3', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'qrscu-move-'));
  try {
    const ok = capture();
    assert.is(await main(['move', '127.0.0.1', String(server.port), '--aec', 'SIM', '--dest', 'STORE', '-k', 'StudyInstanceUID=2.25.1'], ok), 0);
    assert.match(ok.out[0]!, /0x0000 Success; sub-operations completed 1 failed 0 warning 0/);
    const bad = capture();
    assert.is(await main(['move', '127.0.0.1', String(server.port), '--aec', 'SIM', '--dest', 'NOWHERE', '--store-port', '0', '--store-dir', dir, '-k', 'StudyInstanceUID=2.25.1'], bad), 3);
    assert.match(bad.out[0]!, /0xA801/);
    assert.equal(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--pcap records the session: our reader and tshark decode the DICOM PDUs', async () => {
  const { readCapture } = await import('../../src/pcap/index.js');
  const { createFramer } = await import('../../src/net/framer.js');
  const { decodePdu } = await import('../../src/net/pdu-codec.js');
  const { readFileSync } = await import('node:fs');
  const { requireProgram } = await import('../support/live.js');
  const { execFileSync } = await import('node:child_process');
  const dir = mkdtempSync(path.join(tmpdir(), 'qrscu-pcap-'));
  try {
    const file = path.join(dir, 'echo.pcap');
    const o = capture();
    assert.is(await main(['echo', '127.0.0.1', String(server.port), '--aec', 'SIM', '--pcap', file], o), 0);
    // Both ends are in this process; the connection is recorded once.
    const { streams, warnings } = readCapture(readFileSync(file));
    assert.equal(warnings, []);
    assert.is(streams.length, 1);
    const s0 = streams[0]!;
    assert.is(s0.server.port, server.port);
    const types: string[] = [];
    const f = createFramer(0, (buf) => void types.push(decodePdu(buf).type));
    for (const c of s0.chunks.filter((x) => x.fromClient)) f.push(c.data);
    assert.equal(types, ['A-ASSOCIATE-RQ', 'P-DATA-TF', 'A-RELEASE-RQ']);
    const back: string[] = [];
    const g = createFramer(0, (buf) => void back.push(decodePdu(buf).type));
    for (const c of s0.chunks.filter((x) => !x.fromClient)) g.push(c.data);
    assert.equal(back, ['A-ASSOCIATE-AC', 'P-DATA-TF', 'A-RELEASE-RP']);
    const tshark = requireProgram('tshark');
    if (tshark) {
      const shown = execFileSync(tshark, ['-r', file, '-d', `tcp.port==${server.port},dicom`, '-Y', 'dicom', '-T', 'fields', '-e', 'dicom.pdu.type'], { encoding: 'utf8' });
      assert.match(shown, /0x01|\b1\b/);
      assert.match(shown, /0x04|\b4\b/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
