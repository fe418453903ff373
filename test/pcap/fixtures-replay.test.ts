// Every capture of a real PACS in pcap-fixtures/ (dcmtk's tools or qrscu as the client) replayed to our
// client: the client's DIMSE requests are decoded from the capture (A-ASSOCIATE-RQ: AE titles, presentation
// contexts, max PDU; each request: command and identifier) and sent again with src/net/client.ts against
// `startReplay`, so that our requests are the recorded ones whatever client made the recording. The
// responses our client receives must equal the recorded responses (statuses, identifiers, sub-operation
// counts), the replay must report no divergence, and the store sub-associations it plays towards our store
// SCP must write the recorded objects. Rejected and aborted associations end as recorded, and so do
// associations the server closed instead of answering the A-RELEASE-RQ.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { datasetToJson, decodeDataset, readPart10, transferSyntaxOf, type Dataset } from '../../src/dicom/index.js';
import { SopClassUid } from '../../src/dicom/uids.js';
import { isDicomError } from '../../src/errors.js';
import { connect, type Client, type QueryModel } from '../../src/net/client.js';
import { decodeCommand, encodeCommand, type DimseMessage } from '../../src/net/dimse.js';
import { describeAbort, describeReject, type Pdu } from '../../src/net/pdu.js';
import { createMessageAssembler } from '../../src/net/pdv.js';
import { startStoreScp } from '../../src/net/store-scp.js';
import { readCapture } from '../../src/pcap/index.js';
import { planReplay, startReplay, type RecordedAssociation } from '../../src/pcap/replay.js';

const test = suite('pcap-fixtures: replayed to our client with the recorded requests');
const FIXTURES = fileURLToPath(new URL('../../pcap-fixtures/', import.meta.url));
const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.pcap')).sort();

/** A DIMSE message of the recording: its command and, decoded in the accepted transfer syntax, its data set. */
interface Message {
  readonly command: DimseMessage;
  readonly dataset?: Dataset;
  readonly bytes?: Buffer;
}

/** What one recorded association holds, as our client needs it and as its results must be. */
interface Recording {
  readonly rq: Extract<Pdu, { type: 'A-ASSOCIATE-RQ' }>;
  readonly requests: Message[];
  readonly responses: Message[];
  /** The PDU that ended the association from the server's side: A-ASSOCIATE-RJ, A-ABORT or A-RELEASE-RP. */
  readonly end: Pdu | undefined;
  readonly released: boolean;
}

function decodeAssociation(a: RecordedAssociation): Recording {
  const rq = a.steps[0]!.request.pdu;
  assert.is(rq.type, 'A-ASSOCIATE-RQ');
  const syntaxes = new Map<number, string>();
  const fromClient = createMessageAssembler();
  const fromServer = createMessageAssembler();
  const requests: Message[] = [];
  const responses: Message[] = [];
  let end: Pdu | undefined;
  let released = false;
  for (const step of a.steps) {
    for (const p of [step.request, ...step.answers]) {
      const pdu = p.pdu;
      if (pdu.type === 'A-ASSOCIATE-AC') for (const pc of pdu.presentationContexts) if (pc.result === 0 && pc.transferSyntax) syntaxes.set(pc.id, pc.transferSyntax);
      if (pdu.type === 'A-RELEASE-RQ' && p.fromClient) released = true;
      if (!p.fromClient && (pdu.type === 'A-ASSOCIATE-RJ' || pdu.type === 'A-ABORT' || pdu.type === 'A-RELEASE-RP')) end = pdu;
      if (pdu.type !== 'P-DATA-TF') continue;
      for (const m of (p.fromClient ? fromClient : fromServer).push(pdu)) {
        const command = decodeCommand(m.command);
        const msg: Message = m.dataset === undefined ? { command } : { command, dataset: decodeDataset(m.dataset, transferSyntaxOf(syntaxes.get(m.contextId)!)), bytes: m.dataset };
        (p.fromClient ? requests : responses).push(msg);
      }
    }
  }
  return { rq: rq as Recording['rq'], requests, responses, end, released };
}

const MODEL_OF: Readonly<Record<string, QueryModel>> = {
  [SopClassUid.StudyRootQueryRetrieveFind]: 'study',
  [SopClassUid.StudyRootQueryRetrieveMove]: 'study',
  [SopClassUid.PatientRootQueryRetrieveFind]: 'patient',
  [SopClassUid.PatientRootQueryRetrieveMove]: 'patient',
};

const status = (m: Message): number => ('status' in m.command ? m.command.status : -1);
const json = (ds: Dataset | undefined): string => JSON.stringify(ds === undefined ? null : datasetToJson(ds));
const isPending = (s: number): boolean => s === 0xff00 || s === 0xff01;
const respondsTo = (rq: Message) => (m: Message): boolean =>
  'messageIdBeingRespondedTo' in m.command && 'messageId' in rq.command && m.command.messageIdBeingRespondedTo === rq.command.messageId && m.command.type !== 'C-CANCEL-RQ';

/** What our client got for one request, in the shape of the recording. */
interface Outcome {
  readonly request: string;
  readonly pending: string[];
  readonly final: string;
}

function recordedOutcome(rq: Message, responses: readonly Message[]): Outcome {
  const mine = responses.filter(respondsTo(rq));
  const last = mine.at(-1);
  const counts = (m: Message | undefined): string => {
    if (m === undefined || !('numberOfCompletedSuboperations' in m.command || 'numberOfRemainingSuboperations' in m.command)) return '';
    const c = m.command as { numberOfRemainingSuboperations?: number; numberOfCompletedSuboperations?: number; numberOfFailedSuboperations?: number; numberOfWarningSuboperations?: number };
    return ` remaining=${c.numberOfRemainingSuboperations} completed=${c.numberOfCompletedSuboperations} failed=${c.numberOfFailedSuboperations} warning=${c.numberOfWarningSuboperations}`;
  };
  return {
    request: rq.command.type,
    pending: mine.filter((m) => isPending(status(m))).map((m) => (rq.command.type === 'C-MOVE-RQ' ? `pending${counts(m)}` : json(m.dataset))),
    final: last === undefined || isPending(status(last)) ? '(no final response)' : `0x${status(last).toString(16)}${counts(last)}`,
  };
}

/**
 * Send `rq` as recorded with our client; `cancel`: the recorded C-CANCEL-RQ, sent after the first match.
 * When the final response is already in (the recording's server had sent every answer before the
 * client's C-CANCEL-RQ, as findscu's captures show), FindOperation.cancel() rightly sends nothing, so
 * the recorded C-CANCEL-RQ goes out as recorded on the association, naming our request.
 */
async function ourOutcome(client: Client, rq: Message, cancel: Message | undefined): Promise<Outcome> {
  const c = rq.command;
  if (c.type === 'C-ECHO-RQ') {
    const r = await client.echo();
    return { request: c.type, pending: [], final: `0x${r.status.toString(16)}` };
  }
  if (c.type === 'C-FIND-RQ') {
    const op = client.find(rq.dataset!, { model: MODEL_OF[c.affectedSopClassUid]!, priority: c.priority });
    const pending: string[] = [];
    for await (const ds of op) {
      pending.push(json(ds));
      if (cancel === undefined || pending.length > 1) continue;
      if (op.final === undefined) {
        await op.cancel();
        continue;
      }
      const ctx = client.association.contexts.find((x) => x.abstractSyntax === c.affectedSopClassUid)!;
      client.association.send(ctx.id, encodeCommand({ ...(cancel.command as Extract<DimseMessage, { type: 'C-CANCEL-RQ' }>), messageIdBeingRespondedTo: op.messageId }));
      break;
    }
    return { request: c.type, pending, final: op.final === undefined ? '(no final response)' : `0x${op.final.status.toString(16)}` };
  }
  if (c.type === 'C-MOVE-RQ') {
    const pending: string[] = [];
    const counts = (s: { remaining?: number; completed?: number; failed?: number; warning?: number }): string =>
      ` remaining=${s.remaining} completed=${s.completed} failed=${s.failed} warning=${s.warning}`;
    const r = await client.move(rq.dataset!, { destination: c.moveDestination, model: MODEL_OF[c.affectedSopClassUid]!, priority: c.priority, onPending: (s) => void pending.push(`pending${counts(s)}`) });
    const hasCounts = Object.values(r.subOperations).some((v) => v !== undefined);
    return { request: c.type, pending, final: `0x${r.status.toString(16)}${hasCounts ? counts(r.subOperations) : ''}` };
  }
  throw new Error(`no way to send a recorded ${c.type}`);
}

let work: string;
/** What the replays covered, reported (and checked) by the last test. */
const covered = { files: 0, requests: 0, responses: 0, rejected: 0, aborted: 0, closedOnRelease: 0, stored: 0, fromDcmtk: 0 };
test.before(() => {
  work = mkdtempSync(path.join(tmpdir(), 'qrscu-fixtures-replay-'));
});
test.after(() => rmSync(work, { recursive: true, force: true }));

test('every fixture is replayed here', () => {
  assert.ok(files.length >= 40, `${files.length} fixtures`);
  assert.ok(files.some((f) => f.endsWith('-dcmtk.pcap')) && files.some((f) => f.endsWith('-qrscu.pcap')));
});

for (const file of files) {
  test(`${file}: our client sending the recorded requests gets the recorded results`, async () => {
    const bytes = readFileSync(path.join(FIXTURES, file));
    const streams = readCapture(bytes).streams;
    const plan = planReplay(streams);
    assert.equal(plan.warnings, []);
    const recordings = plan.scp.map(decodeAssociation);
    const recordedStores = plan.store.flatMap((a) => decodeAssociation(a).requests.filter((m) => m.command.type === 'C-STORE-RQ'));
    const recv = mkdtempSync(path.join(work, `${file}-`));
    const store = await startStoreScp({ aeTitle: 'QRSCU_STORE', port: 0, directory: recv });
    const replay = await startReplay({ capture: streams, port: 0, pduTimeoutMs: 5000, storeTarget: { host: '127.0.0.1', port: store.port } });
    try {
      for (const rec of recordings) {
        const options = {
          host: '127.0.0.1', port: replay.port,
          callingAeTitle: rec.rq.callingAeTitle, calledAeTitle: rec.rq.calledAeTitle,
          contexts: rec.rq.presentationContexts.map((pc) => ({ abstractSyntax: pc.abstractSyntax, transferSyntaxes: pc.transferSyntaxes })),
          ...(rec.rq.userInformation.maxLength !== undefined ? { maxLength: rec.rq.userInformation.maxLength } : {}),
          dimseTimeoutMs: 10_000,
        };
        if (rec.end?.type === 'A-ASSOCIATE-RJ') {
          // Rejected: our client's connect fails with the recorded result, source and reason.
          const e = await connect(options).then(() => undefined, (x: unknown) => x);
          assert.ok(isDicomError(e), 'connect rejected');
          assert.is((e as { code: string }).code, 'ERR_ASSOC_REJECTED');
          assert.ok((e as Error).message.includes(describeReject(rec.end)), `${(e as Error).message} names ${describeReject(rec.end)}`);
          assert.is(rec.requests.length, 0);
          covered.rejected++;
          continue;
        }
        const client = await connect(options);
        const aborted = rec.end?.type === 'A-ABORT';
        for (let i = 0; i < rec.requests.length; i++) {
          const rq = rec.requests[i]!;
          if (rq.command.type === 'C-CANCEL-RQ') continue; // sent by ourOutcome for the request before it
          const next = rec.requests[i + 1];
          // The recorded C-CANCEL-RQ followed the first match (findscu and qrscu --cancel 1).
          const cancel = next?.command.type === 'C-CANCEL-RQ' ? next : undefined;
          const cancelAfter = cancel === undefined ? undefined : 1;
          const expected = recordedOutcome(rq, rec.responses);
          if (aborted && expected.final === '(no final response)') {
            // The server aborted the association after this request: our client sees the abort.
            const e = await ourOutcome(client, rq, cancel).then(() => undefined, (x: unknown) => x);
            assert.ok(isDicomError(e), `${rq.command.type} ends in an error`);
            assert.is((e as { code: string }).code, 'ERR_ASSOC_ABORTED', (e as Error).message);
            assert.ok((e as Error).message.includes(describeAbort(rec.end as Extract<Pdu, { type: 'A-ABORT' }>)), `${(e as Error).message} names ${describeAbort(rec.end as Extract<Pdu, { type: 'A-ABORT' }>)}`);
            assert.equal(expected.pending, [], 'no response before the abort');
            covered.aborted++;
            covered.requests++;
            continue;
          }
          const got = await ourOutcome(client, rq, cancel);
          covered.requests += cancel === undefined ? 1 : 2;
          covered.responses += got.pending.length + 1;
          if (cancelAfter !== undefined) {
            // Matches after the C-CANCEL-RQ are dropped by the client: the first is the recorded first.
            assert.equal(got.pending, expected.pending.slice(0, cancelAfter), `${file}: matches before the C-CANCEL`);
            assert.equal([got.request, got.final], [expected.request, expected.final], `${file}: final status after the C-CANCEL`);
          } else {
            assert.equal(got, expected, `${file}: ${rq.command.type} results`);
          }
        }
        if (rec.released && rec.end?.type !== 'A-RELEASE-RP' && !aborted) {
          // The server closed the connection instead of answering the A-RELEASE-RQ (PixelMed after a
          // C-CANCEL-RQ): our client's release ends in the closed-connection error.
          const e = await client.release().then(() => undefined, (x: unknown) => x);
          assert.ok(isDicomError(e), 'release fails: the connection was closed without A-RELEASE-RP');
          assert.is((e as { code: string }).code, 'ERR_ASSOC_CLOSED', (e as Error).message);
          covered.closedOnRelease++;
        } else if (rec.released) await client.release();
        else if (!aborted) client.abort();
      }
      const report = await replay.done();
      assert.equal(report.divergences, [], 'the replay saw the recorded requests');
      assert.is(report.played, report.associations);
      assert.is(report.storePlayed, report.storeAssociations, 'every store sub-association played');
      // Our store SCP wrote the recorded objects: one file per recorded C-STORE-RQ, holding its data set as sent.
      const written = readdirSync(recv).filter((f) => f.endsWith('.dcm')).sort();
      const expectedFiles = recordedStores.map((m) => `${(m.command as Extract<DimseMessage, { type: 'C-STORE-RQ' }>).affectedSopInstanceUid}.dcm`).sort();
      assert.equal(written, expectedFiles, 'the objects written');
      for (const m of recordedStores) {
        const name = `${(m.command as Extract<DimseMessage, { type: 'C-STORE-RQ' }>).affectedSopInstanceUid}.dcm`;
        const stored = readFileSync(path.join(recv, name));
        assert.ok(stored.subarray(stored.length - m.bytes!.length).equals(m.bytes!), `${name} holds the recorded data set`);
        assert.is(json(readPart10(stored).dataset), json(m.dataset), `${name} decodes to the recorded object`);
      }
      if (/-move-(series|image)-/.test(file)) assert.ok(recordedStores.length > 0, 'the capture has C-STORE sub-operations');
      covered.files++;
      covered.stored += recordedStores.length;
      if (file.endsWith('-dcmtk.pcap')) covered.fromDcmtk++;
    } catch (e) {
      // Name what the replay saw, if it saw something else than the recording.
      const d = replay.divergences();
      if (d.length > 0 && e instanceof Error) e.message += `\nreplay divergences: ${JSON.stringify(d, null, 1)}`;
      throw e;
    } finally {
      await replay.close();
      await store.close(100);
    }
  });
}

test('every fixture was replayed', () => {
  assert.is(covered.files, files.length);
  assert.ok(covered.fromDcmtk > 0 && covered.rejected > 0 && covered.aborted > 0 && covered.stored > 0);
  console.log(`  replayed ${covered.files} fixtures (${covered.fromDcmtk} recorded with dcmtk's tools): ${covered.requests} requests sent, ${covered.responses} responses compared, ${covered.rejected} rejections, ${covered.aborted} aborts, ${covered.closedOnRelease} closed instead of released, ${covered.stored} objects stored`);
});

test.run();
