import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { acceptAssociation, openAssociation, type Association } from '../../src/net/association.js';
import { AssociationError, type DicomError } from '../../src/errors.js';
import { APPLICATION_CONTEXT_NAME } from '../../src/net/negotiate.js';
import type { AssociateAc, AssociateRq } from '../../src/net/pdu.js';
import { dial, startPeer, type Peer } from '../support/peer.js';

const test = suite('association state machine on sockets');
const VERIFICATION = '1.2.840.10008.1.1';
const IMPLICIT = '1.2.840.10008.1.2';

let peer: Peer;
test.before(async () => { peer = await startPeer(); });
test.after(async () => { await peer.close(); });

function acFor(rq: AssociateRq, overrides: Partial<AssociateAc> = {}): AssociateAc {
  return {
    type: 'A-ASSOCIATE-AC', protocolVersion: 1, calledAeTitle: rq.calledAeTitle, callingAeTitle: rq.callingAeTitle,
    applicationContextName: APPLICATION_CONTEXT_NAME,
    presentationContexts: rq.presentationContexts.map((c) => ({ id: c.id, result: 0, transferSyntax: IMPLICIT })),
    userInformation: { maxLength: 16384, implementationClassUid: '1.2.3.4', implementationVersionName: 'PEER', roleSelections: [], extendedNegotiations: [] },
    ...overrides,
  };
}

const open = (artimTimeoutMs = 2000) => openAssociation({
  host: '127.0.0.1', port: peer.port, callingAeTitle: 'QRSCU', calledAeTitle: 'PEER', contexts: [{ abstractSyntax: VERIFICATION }], artimTimeoutMs,
});

async function expectError(p: Promise<unknown>, code: string): Promise<DicomError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, AssociationError);
    assert.is((e as DicomError).code, code, (e as Error).message);
    return e as DicomError;
  }
  throw new Error(`expected ${code}`);
}

test('requestor: A-ASSOCIATE-RQ, AC, release: Sta1 → Sta6 → Sta1 (released)', async () => {
  const opening = open();
  const conn = await peer.accept();
  const rq = (await conn.next()) as AssociateRq;
  assert.is(rq.type, 'A-ASSOCIATE-RQ');
  assert.is(rq.callingAeTitle, 'QRSCU');
  assert.is(rq.presentationContexts[0]!.abstractSyntax, VERIFICATION);
  conn.send(acFor(rq));
  const a = await opening;
  assert.is(a.state(), 'Sta6');
  assert.equal(a.contexts, [{ id: 1, abstractSyntax: VERIFICATION, transferSyntax: IMPLICIT }]);
  assert.is(a.peerMaxLength, 16384);
  assert.equal(a.peerImplementation, { classUid: '1.2.3.4', versionName: 'PEER' });
  const releasing = a.release();
  assert.is((await conn.next()).type, 'A-RELEASE-RQ');
  assert.is(a.state(), 'Sta7');
  conn.send({ type: 'A-RELEASE-RP' });
  const end = await releasing;
  assert.is(end.how, 'released');
  assert.is(a.state(), 'Sta1');
  await conn.closed;
});

test('requestor: A-ASSOCIATE-RJ becomes ERR_ASSOC_REJECTED naming the reason', async () => {
  const opening = open();
  const conn = await peer.accept();
  await conn.next();
  conn.send({ type: 'A-ASSOCIATE-RJ', result: 1, source: 1, reason: 7 });
  const e = await expectError(opening, 'ERR_ASSOC_REJECTED');
  assert.match(e.message, /permanent/);
  assert.match(e.message, /called-AE-title-not-recognized/);
});

test('requestor: no answer to the A-ASSOCIATE-RQ → ARTIM timeout and A-ABORT', async () => {
  const opening = open(150);
  const conn = await peer.accept();
  await conn.next();
  await expectError(opening, 'ERR_ARTIM_TIMEOUT');
  const abort = await conn.next();
  assert.is(abort.type, 'A-ABORT');
});

test('requestor: connection refused → ERR_CONNECT_FAILED', async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  await expectError(openAssociation({ host: '127.0.0.1', port, callingAeTitle: 'A', calledAeTitle: 'B', contexts: [{ abstractSyntax: VERIFICATION }] }), 'ERR_CONNECT_FAILED');
});

async function established(): Promise<{ a: Association; conn: Awaited<ReturnType<Peer['accept']>> }> {
  const opening = open();
  const conn = await peer.accept();
  const rq = (await conn.next()) as AssociateRq;
  conn.send(acFor(rq));
  return { a: await opening, conn };
}

test('garbage after the AC: Evt19 → AA-8, A-ABORT (provider, reason 1), association aborted', async () => {
  const { a, conn } = await established();
  conn.send(Buffer.from([0x4d, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00]));
  const abort = await conn.next();
  assert.equal(abort, { type: 'A-ABORT', source: 2, reason: 1 });
  const end = await a.ended;
  assert.is(end.how, 'aborted');
  assert.match(end.error!.message, /unknown|unrecognized|PDU/i);
});

test('a PDU longer than our maximum is refused before it is buffered (reason 6)', async () => {
  const { a, conn } = await established();
  const header = Buffer.from([0x04, 0x00, 0x7f, 0xff, 0xff, 0xff]);
  conn.send(header);
  const abort = await conn.next();
  assert.equal(abort, { type: 'A-ABORT', source: 2, reason: 6 });
  assert.is((await a.ended).how, 'aborted');
});

test('the peer closes mid-PDU: A-P-ABORT indication, ERR_ASSOC_CLOSED', async () => {
  const { a, conn } = await established();
  conn.socket.end(Buffer.from([0x04, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00]));
  const end = await a.ended;
  assert.is(end.how, 'closed');
  assert.is(end.error!.code, 'ERR_ASSOC_CLOSED');
});

test('the peer aborts: AA-3, ERR_ASSOC_ABORTED with the source', async () => {
  const { a, conn } = await established();
  conn.send({ type: 'A-ABORT', source: 0, reason: 0 });
  const end = await a.ended;
  assert.is(end.error!.code, 'ERR_ASSOC_ABORTED');
  assert.match(end.error!.message, /service-user/);
});

test('the peer asks to release: AR-2, AR-4: A-RELEASE-RP, then Sta1 when it closes', async () => {
  const { a, conn } = await established();
  conn.send({ type: 'A-RELEASE-RQ' });
  assert.is((await conn.next()).type, 'A-RELEASE-RP');
  conn.socket.end();
  const end = await a.ended;
  assert.is(end.how, 'released');
});

test('release collision as requestor: AR-8 → Sta9 → AR-9 → Sta11 → AR-3', async () => {
  const { a, conn } = await established();
  const releasing = a.release();
  assert.is((await conn.next()).type, 'A-RELEASE-RQ');
  conn.send({ type: 'A-RELEASE-RQ' });
  assert.is((await conn.next()).type, 'A-RELEASE-RP');
  assert.is(a.state(), 'Sta11');
  conn.send({ type: 'A-RELEASE-RP' });
  assert.is((await releasing).how, 'released');
});

test('send() when not established is a typed error, not a crash', async () => {
  const { a, conn } = await established();
  conn.send({ type: 'A-ABORT', source: 0, reason: 0 });
  await a.ended;
  assert.throws(() => a.send(1, Buffer.alloc(2)), (e: DicomError) => e.code === 'ERR_ASSOC_CLOSED');
});

// ---- acceptor ---------------------------------------------------------------------------------

function acceptor(policy: Parameters<typeof acceptAssociation>[1]['policy'], artimTimeoutMs = 2000): Promise<{ port: number; result: Promise<Association>; server: net.Server }> {
  return new Promise((resolve) => {
    let settle!: (p: Promise<Association>) => void;
    const result = new Promise<Association>((r) => { settle = (p) => r(p); });
    result.catch(() => undefined); // awaited later by the test
    const server = net.createServer((s) => settle(acceptAssociation(s, { policy, artimTimeoutMs })));
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, result, server }));
  });
}

const rqTo = (called: string, abstractSyntax = VERIFICATION): AssociateRq => ({
  type: 'A-ASSOCIATE-RQ', protocolVersion: 1, calledAeTitle: called, callingAeTitle: 'PEER', applicationContextName: APPLICATION_CONTEXT_NAME,
  presentationContexts: [{ id: 1, abstractSyntax, transferSyntaxes: [IMPLICIT] }, { id: 3, abstractSyntax: '1.2.3.999', transferSyntaxes: [IMPLICIT] }],
  userInformation: { maxLength: 0, implementationClassUid: '1.2.3', roleSelections: [], extendedNegotiations: [] },
});

test('acceptor: accepts known abstract syntaxes, rejects the others per context', async () => {
  const { port, result, server } = await acceptor({ aeTitle: 'US', checkCalledAeTitle: true, abstractSyntaxes: new Map([[VERIFICATION, [IMPLICIT]]]) });
  const conn = await dial(port);
  conn.send(rqTo('US'));
  const ac = (await conn.next()) as AssociateAc;
  assert.is(ac.type, 'A-ASSOCIATE-AC');
  assert.equal(ac.presentationContexts.map((c) => c.result), [0, 3]);
  const a = await result;
  assert.is(a.callingAeTitle, 'PEER');
  assert.is(a.peerMaxLength, 0);
  conn.send({ type: 'A-RELEASE-RQ' });
  assert.is((await conn.next()).type, 'A-RELEASE-RP');
  conn.socket.end();
  assert.is((await a.ended).how, 'released');
  server.close();
});

test('acceptor: wrong called AE title → A-ASSOCIATE-RJ permanent, service-user, reason 7', async () => {
  const { port, result, server } = await acceptor({ aeTitle: 'US', checkCalledAeTitle: true, abstractSyntaxes: new Map([[VERIFICATION, [IMPLICIT]]]) });
  const conn = await dial(port);
  conn.send(rqTo('SOMEONE'));
  assert.equal(await conn.next(), { type: 'A-ASSOCIATE-RJ', result: 1, source: 1, reason: 7 });
  await expectError(result, 'ERR_ASSOC_REJECTED');
  await conn.closed;
  server.close();
});

test('acceptor: nothing arrives → ARTIM closes the connection (Sta2 + Evt18 → AA-2)', async () => {
  const { port, result, server } = await acceptor({ aeTitle: 'US', abstractSyntaxes: new Map() }, 150);
  const conn = await dial(port);
  await conn.closed;
  await expectError(result, 'ERR_ARTIM_TIMEOUT');
  server.close();
});

test('acceptor: a P-DATA-TF before the association is set up → A-ABORT', async () => {
  const { port, result, server } = await acceptor({ aeTitle: 'US', abstractSyntaxes: new Map() });
  const conn = await dial(port);
  conn.send({ type: 'P-DATA-TF', pdvs: [] });
  const abort = await conn.next();
  assert.is(abort.type, 'A-ABORT');
  await expectError(result, 'ERR_ASSOC_ABORTED');
  server.close();
});

test.run();
