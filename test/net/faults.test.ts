import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type Client } from '../../src/net/client.js';
import { createDataset, encodeDataset, IMPLICIT_LE, setValue } from '../../src/dicom/index.js';
import { encodeCommand } from '../../src/net/dimse.js';
import { APPLICATION_CONTEXT_NAME } from '../../src/net/negotiate.js';
import { fragmentMessage } from '../../src/net/pdv.js';
import type { AssociateRq } from '../../src/net/pdu.js';
import { isDicomError, type DicomError } from '../../src/errors.js';
import { startPeer, type Peer, type PeerConnection } from '../support/peer.js';

// Faults from the wire during DIMSE operations: every one ends in a typed error, never a hang or an
// unhandled rejection.
const test = suite('faults during C-FIND and C-MOVE');
let peer: Peer;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => void unhandled.push(e);
test.before(async () => {
  peer = await startPeer();
  process.on('unhandledRejection', onUnhandled);
});
test.after(async () => {
  process.off('unhandledRejection', onUnhandled);
  await peer.close();
});

async function session(o: { idleTimeoutMs?: number; dimseTimeoutMs?: number } = {}): Promise<{ client: Client; conn: PeerConnection }> {
  const opening = connect({ host: '127.0.0.1', port: peer.port, calledAeTitle: 'PEER', ...o });
  const conn = await peer.accept();
  const rq = (await conn.next()) as AssociateRq;
  conn.send({
    type: 'A-ASSOCIATE-AC', protocolVersion: 1, calledAeTitle: rq.calledAeTitle, callingAeTitle: rq.callingAeTitle, applicationContextName: APPLICATION_CONTEXT_NAME,
    presentationContexts: rq.presentationContexts.map((c) => ({ id: c.id, result: 0, transferSyntax: '1.2.840.10008.1.2' })),
    userInformation: { maxLength: 16384, implementationClassUid: '1.2.3', roleSelections: [], extendedNegotiations: [] },
  });
  return { client: await opening, conn };
}

function pendingFindRsp(messageId: number, contextId: number): Buffer {
  const ds = createDataset();
  setValue(ds, 'StudyInstanceUID', '2.25.1');
  return fragmentMessage(contextId, encodeCommand({ type: 'C-FIND-RSP', messageIdBeingRespondedTo: messageId, affectedSopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', status: 0xff00, hasDataset: true }), encodeDataset(ds, IMPLICIT_LE), 0);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(isDicomError(e), String(e));
    return (e as DicomError).code;
  }
  return 'none';
}

/** A C-FIND-RQ or C-MOVE-RQ arrives as two P-DATA-TF PDUs: command, then identifier. */
async function request(conn: PeerConnection): Promise<void> {
  assert.is((await conn.next()).type, 'P-DATA-TF');
  assert.is((await conn.next()).type, 'P-DATA-TF');
}

const query = () => {
  const q = createDataset();
  setValue(q, 'QueryRetrieveLevel', 'STUDY');
  return q;
};

test('the peer aborts in the middle of a C-FIND: the iteration throws ERR_ASSOC_ABORTED after the first match', async () => {
  const { client, conn } = await session();
  const op = client.find(query());
  await request(conn);
  conn.send(pendingFindRsp(op.messageId, 3));
  conn.send({ type: 'A-ABORT', source: 0, reason: 0 });
  const got: unknown[] = [];
  const code = await codeOf((async () => { for await (const m of op) got.push(m); })());
  assert.is(got.length, 1);
  assert.is(code, 'ERR_ASSOC_ABORTED');
});

test('the peer closes the connection during a C-MOVE: the move rejects with ERR_ASSOC_CLOSED', async () => {
  const { client, conn } = await session();
  const moving = client.move(query(), { destination: 'X' });
  await request(conn);
  conn.socket.destroy();
  assert.is(await codeOf(moving), 'ERR_ASSOC_CLOSED');
});

test('garbage in the middle of a C-FIND: A-ABORT sent, the iteration fails', async () => {
  const { client, conn } = await session();
  const op = client.find(query());
  await request(conn);
  conn.send(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
  assert.is(await codeOf((async () => { for await (const _ of op) { /* drain */ } })()), 'ERR_ASSOC_ABORTED');
  assert.is((await conn.next()).type, 'A-ABORT');
});

test('a response that is not a DIMSE command set: A-ABORT, typed error', async () => {
  const { client, conn } = await session();
  const op = client.find(query());
  await request(conn);
  conn.send(fragmentMessage(1, Buffer.from([1, 2, 3, 4]), undefined, 0));
  const code = await codeOf((async () => { for await (const _ of op) { /* drain */ } })());
  assert.ok(code.startsWith('ERR_'), code);
});

test('no response at all: the DIMSE timer fires (ERR_DIMSE_TIMEOUT), A-ABORT sent', async () => {
  const { client, conn } = await session({ dimseTimeoutMs: 150 });
  const op = client.find(query());
  await request(conn);
  assert.is(await codeOf((async () => { for await (const _ of op) { /* drain */ } })()), 'ERR_DIMSE_TIMEOUT');
  assert.is((await conn.next()).type, 'A-ABORT');
});

test('pending responses restart the DIMSE timer', async () => {
  const { client, conn } = await session({ dimseTimeoutMs: 200 });
  const op = client.find(query());
  await request(conn);
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 120));
    conn.send(pendingFindRsp(op.messageId, 3));
  }
  conn.send(fragmentMessage(3, encodeCommand({ type: 'C-FIND-RSP', messageIdBeingRespondedTo: op.messageId, affectedSopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', status: 0, hasDataset: false }), undefined, 0));
  let n = 0;
  for await (const _ of op) n++;
  assert.is(n, 4);
  assert.is(op.final!.status, 0);
  client.abort();
});

test('the idle timer aborts a silent association', async () => {
  const { client } = await session({ idleTimeoutMs: 150 });
  const end = await client.association.ended;
  assert.is(end.error!.code, 'ERR_IDLE_TIMEOUT');
});

test('no unhandled rejections came out of any of this', async () => {
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(unhandled, []);
});

test.run();
