import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDataset, getString, setValue, type Dataset } from '../../src/dicom/index.js';
import { connect } from '../../src/net/client.js';
import { DimseStatusError, listen, type Server } from '../../src/net/server.js';
import { QUERY_RETRIEVE_CONTEXTS } from '../../src/net/client.js';
import type { DicomError } from '../../src/errors.js';

const test = suite('our SCU against our SCP on loopback');
const TS = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1'];
let server: Server;
let hang = false;

function study(i: number): Dataset {
  const ds = createDataset();
  setValue(ds, 'QueryRetrieveLevel', 'STUDY');
  setValue(ds, 'StudyInstanceUID', `2.25.${1000 + i}`);
  setValue(ds, 'ModalitiesInStudy', ['CT', 'SR']);
  return ds;
}

test.before(async () => {
  server = await listen(
    { port: 0, policy: { aeTitle: 'SIM', abstractSyntaxes: new Map(QUERY_RETRIEVE_CONTEXTS.map((c) => [c.abstractSyntax, TS])) } },
    {
      async *find(identifier, req) {
        const n = Number(getString(identifier, 'StudyID') || '3');
        if (getString(identifier, 'StudyDescription') === 'BAD') throw new DimseStatusError(0xa900, 'Identifier does not match SOP Class');
        for (let i = 0; i < n; i++) {
          if (req.isCancelled()) return;
          if (i % 50 === 0) await new Promise((r) => setImmediate(r));
          yield study(i);
        }
      },
      async move(_identifier, req) {
        if (hang) await new Promise((r) => setTimeout(r, 5000));
        if (req.destination !== 'STORE') throw new DimseStatusError(0xa801, 'Move Destination unknown');
        for (let i = 3; i > 0; i--) req.progress({ remaining: i, completed: 3 - i, failed: 0, warning: 0 });
        return { status: 0xb000, subOperations: { remaining: 0, completed: 2, failed: 1, warning: 0 }, failedSopInstanceUids: ['2.25.9'] };
      },
    },
  );
});
test.after(async () => { await server.close(100); });

const open = (o: { dimseTimeoutMs?: number } = {}) => connect({ host: '127.0.0.1', port: server.port, calledAeTitle: 'SIM', ...o });

test('C-ECHO', async () => {
  const c = await open();
  const r = await c.echo();
  assert.is(r.status, 0);
  assert.ok(r.elapsedMs < 1000);
  await c.release();
});

test('C-FIND: every match arrives in order, final success; many C-FINDs on one association', async () => {
  const c = await open();
  for (let round = 0; round < 3; round++) {
    const q = createDataset();
    setValue(q, 'QueryRetrieveLevel', 'STUDY');
    setValue(q, 'StudyID', '1000');
    setValue(q, 'StudyInstanceUID', null);
    const op = c.find(q);
    const uids: string[] = [];
    for await (const m of op) uids.push(getString(m, 'StudyInstanceUID')!);
    assert.is(uids.length, 1000);
    assert.is(uids[999], '2.25.1999');
    assert.is(op.final!.status, 0);
  }
  await c.release();
});

test('C-FIND failure status surfaces with its error comment', async () => {
  const c = await open();
  const q = createDataset();
  setValue(q, 'StudyDescription', 'BAD');
  const op = c.find(q);
  for await (const _ of op) assert.unreachable();
  assert.is(op.final!.status, 0xa900);
  assert.is(op.final!.errorComment, 'Identifier does not match SOP Class');
  assert.is(op.final!.error!.code, 'ERR_DIMSE_STATUS');
  await c.release();
});

test('C-CANCEL: the SCP stops, the final status is 0xFE00, the association stays usable', async () => {
  const c = await open();
  const q = createDataset();
  setValue(q, 'StudyID', '100000');
  const op = c.find(q);
  let n = 0;
  for await (const _ of op) {
    if (++n === 10) break; // return() sends C-CANCEL
  }
  assert.is(op.final!.status, 0xfe00);
  assert.is((await c.echo()).status, 0);
  await c.release();
});

test('C-MOVE: pending counts, warning final, failed SOP Instance UID list', async () => {
  const c = await open();
  const seen: number[] = [];
  const r = await c.move(study(1), { destination: 'STORE', onPending: (s) => seen.push(s.remaining!) });
  assert.equal(seen, [3, 2, 1]);
  assert.is(r.status, 0xb000);
  assert.equal(r.subOperations, { remaining: 0, completed: 2, failed: 1, warning: 0 });
  assert.equal(r.failedSopInstanceUids, ['2.25.9']);
  const bad = await c.move(study(1), { destination: 'NOWHERE' });
  assert.is(bad.status, 0xa801);
  await c.release();
});

test('DIMSE timeout: typed error, the association is aborted, no hang', async () => {
  hang = true;
  const c = await open({ dimseTimeoutMs: 200 });
  try {
    await c.move(study(1), { destination: 'STORE' });
    assert.unreachable();
  } catch (e) {
    assert.is((e as DicomError).code, 'ERR_DIMSE_TIMEOUT');
  } finally {
    hang = false;
  }
  const end = await c.association.ended;
  assert.is(end.how, 'aborted');
});

test('C-STORE SCU → our store SCP: Part-10 file on disk, Move Originator passed on', async () => {
  const { startStoreScp } = await import('../../src/net/store-scp.js');
  const { readPart10, writePart10, encodeDataset, EXPLICIT_LE } = await import('../../src/dicom/index.js');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(`${tmpdir()}/qrscu-store-`);
  const stored: import('../../src/net/store-scp.js').StoredObject[] = [];
  const scp = await startStoreScp({ aeTitle: 'STORE', port: 0, directory: dir, onStored: (o) => stored.push(o) });
  try {
    const ds = createDataset();
    setValue(ds, 'SOPClassUID', '1.2.840.10008.5.1.4.1.1.88.67');
    setValue(ds, 'SOPInstanceUID', '2.25.77');
    setValue(ds, 'Modality', 'SR');
    const c = await connect({ host: '127.0.0.1', port: scp.port, calledAeTitle: 'STORE', contexts: [{ abstractSyntax: '1.2.840.10008.5.1.4.1.1.88.67', transferSyntaxes: ['1.2.840.10008.1.2.1'] }] });
    const r = await c.store({ sopClassUid: '1.2.840.10008.5.1.4.1.1.88.67', sopInstanceUid: '2.25.77', dataset: encodeDataset(ds, EXPLICIT_LE), moveOriginatorAeTitle: 'PACS', moveOriginatorMessageId: 7 });
    assert.is(r.status, 0);
    await c.release();
    assert.is(stored.length, 1);
    assert.is(stored[0]!.moveOriginatorAeTitle, 'PACS');
    assert.is(stored[0]!.moveOriginatorMessageId, 7);
    const file = readFileSync(stored[0]!.path);
    assert.ok(file.equals(writePart10(ds, { transferSyntax: EXPLICIT_LE, sourceApplicationEntityTitle: 'QRSCU' })));
    assert.is(getString(readPart10(file).dataset, 'Modality'), 'SR');
  } finally {
    await scp.close(100);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store SCP file names cannot escape the directory', async () => {
  const { fileNameFor } = await import('../../src/net/store-scp.js');
  assert.is(fileNameFor('1.2.3'), '1.2.3.dcm');
  assert.match(fileNameFor('../../etc/passwd'), /^invalid-uid-[0-9a-f]{32}\.dcm$/);
  assert.match(fileNameFor('1.2/3'), /^invalid-uid-/);
});

test('a pool runs N associations in parallel and reuses them', async () => {
  const { createPool } = await import('../../src/net/pool.js');
  const pool = createPool({ host: '127.0.0.1', port: server.port, calledAeTitle: 'SIM' }, 3);
  const ids = new Set<unknown>();
  let concurrent = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 12 }, () => pool.run(async (c) => {
    ids.add(c);
    peak = Math.max(peak, ++concurrent);
    const q = createDataset();
    setValue(q, 'StudyID', '20');
    let n = 0;
    for await (const _ of c.find(q)) n++;
    concurrent--;
    assert.is(n, 20);
  })));
  assert.is(ids.size, 3);
  assert.is(peak, 3);
  assert.is(pool.open(), 3);
  await pool.close();
  assert.is(pool.open(), 0);
});

test('a pool replaces an aborted association', async () => {
  const { createPool } = await import('../../src/net/pool.js');
  const pool = createPool({ host: '127.0.0.1', port: server.port, calledAeTitle: 'SIM' }, 1);
  const first = await pool.run(async (c) => { c.abort(); await c.association.ended; return c; });
  const second = await pool.run(async (c) => { assert.is((await c.echo()).status, 0); return c; });
  assert.is.not(first, second);
  await pool.close();
});

test('a capture tap sees every byte of both sides of both associations, oriented client → server', async () => {
  const { setCaptureTap } = await import('../../src/net/capture.js');
  const { createFramer } = await import('../../src/net/framer.js');
  const { decodePdu } = await import('../../src/net/pdu-codec.js');
  const conns: Array<{ clientPort: number; serverPort: number; toServer: Buffer[]; toClient: Buffer[]; closed: boolean }> = [];
  setCaptureTap({
    open: (e) => conns.push({ clientPort: e.clientPort, serverPort: e.serverPort, toServer: [], toClient: [], closed: false }) - 1,
    data: (id, fromClient, bytes) => void (fromClient ? conns[id]!.toServer : conns[id]!.toClient).push(Buffer.from(bytes)),
    close: (id) => { conns[id]!.closed = true; },
  });
  try {
    const c = await open();
    await c.echo();
    await c.release();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    setCaptureTap(undefined);
  }
  // Our client and our server are in one process: two views of one TCP connection.
  assert.is(conns.length, 2);
  const [a, b] = conns;
  assert.is(a!.serverPort, server.port);
  assert.is(b!.serverPort, server.port);
  assert.is(a!.clientPort, b!.clientPort);
  assert.ok(Buffer.concat(a!.toServer).equals(Buffer.concat(b!.toServer)));
  assert.ok(Buffer.concat(a!.toClient).equals(Buffer.concat(b!.toClient)));
  const types = (chunks: Buffer[]) => { const out: string[] = []; const f = createFramer(0, (buf) => void out.push(decodePdu(buf).type)); chunks.forEach((x) => f.push(x)); return out; };
  assert.equal(types(a!.toServer), ['A-ASSOCIATE-RQ', 'P-DATA-TF', 'A-RELEASE-RQ']);
  assert.equal(types(a!.toClient), ['A-ASSOCIATE-AC', 'P-DATA-TF', 'A-RELEASE-RP']);
  assert.ok(a!.closed && b!.closed);
});

test.run();
