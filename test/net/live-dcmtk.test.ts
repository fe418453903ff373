// Live interop with DCMTK (dcmqrscp, storescu, echoscu, findscu): our SCU against dcmqrscp, and
// dcmtk's SCUs against our store SCP, on loopback. Expected behaviour is the dcmqrscp column of the
// table in ../shared/docs/real-pacs.md; each protocol quirk there has an assertion here.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getString, readPart10 } from '../../src/dicom/index.js';
import { isDicomError } from '../../src/errors.js';
import { connect, type Client, type FindOperation } from '../../src/net/client.js';
import { startStoreScp, type StoredObject } from '../../src/net/store-scp.js';
import type { Server } from '../../src/net/server.js';
import { requireProgram } from '../support/live.js';
import { delay, findAll, hex, query, release, sorted } from '../support/query.js';
import { runTool, startDcmqrscp, syntheticStudies, waitUntil, withTimeout, type PacsHandle, type SyntheticSet } from '../support/pacs.js';

const test = suite('live: dcmqrscp and dcmtk tools');

const programs = {
  dcmqrscp: requireProgram('dcmqrscp'),
  dcmqridx: requireProgram('dcmqridx'),
  storescu: requireProgram('storescu'),
  echoscu: requireProgram('echoscu'),
  findscu: requireProgram('findscu'),
};
const haveServer = programs.dcmqrscp !== undefined && programs.dcmqridx !== undefined;
/** A test that needs dcmqrscp; skipped (outside CI only: requireProgram throws under CI) when it is missing. */
type It = (name: string, fn: () => Promise<void>) => void;
const withServer: It = haveServer ? test : test.skip;
const withTool = (name: keyof typeof programs): It => (programs[name] !== undefined ? test : test.skip);

const STUDIES = 3;
const AE = 'DCMQRSCP';
const STORE_AE = 'QRSCU_STORE';
const OP_MS = 15_000;

interface State {
  work: string;
  data: SyntheticSet;
  store: Server;
  stored: StoredObject[];
  pacs: PacsHandle | undefined;
}
const state = {} as State;
let setupError: unknown;

test.before(async () => {
  try {
    state.work = mkdtempSync(path.join(os.tmpdir(), 'qrscu-live-dcmtk-'));
    state.data = syntheticStudies(path.join(state.work, 'synthetic'), STUDIES, { seed: 'live-dcmtk' });
    state.stored = [];
    state.store = await startStoreScp({
      aeTitle: STORE_AE, port: 0, directory: path.join(state.work, 'store'),
      onStored: (o) => state.stored.push(o),
    });
    if (haveServer) {
      state.pacs = await startDcmqrscp({ files: state.data.files, moveDestinations: { [STORE_AE]: state.store.port }, aeTitle: AE });
    }
  } catch (e) {
    setupError = e;
  }
});

test.after(async () => {
  await state.pacs?.stop();
  await state.store?.close(1_000);
  if (state.work) rmSync(state.work, { recursive: true, force: true });
});

function ready(): PacsHandle {
  if (setupError) throw setupError;
  return state.pacs!;
}

async function open(calledAeTitle = AE, callingAeTitle = 'QRSCU'): Promise<Client> {
  const pacs = ready();
  return withTimeout(connect({ host: '127.0.0.1', port: pacs.port, callingAeTitle, calledAeTitle, dimseTimeoutMs: OP_MS }), OP_MS, `association with ${calledAeTitle}`);
}

/** A-RELEASE unless the association already ended (so a failing test reports its own error). */





withServer('C-ECHO', async () => {
  const client = await open();
  try {
    const r = await withTimeout(client.echo(), OP_MS, 'C-ECHO');
    assert.is(hex(r.status), hex(0));
    assert.ok(r.elapsedMs >= 0);
    assert.is(client.association.peerImplementation.classUid, '1.2.276.0.7230010.3.0.3.6.7');
    assert.is(client.association.peerImplementation.versionName, 'OFFIS_DCMTK_367');
    assert.is(client.association.peerMaxLength, 16384);
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-FIND study level: exactly the synthetic studies; ModalitiesInStudy not returned, RetrieveAETitle added', async () => {
  const client = await open();
  try {
    const { matches, final } = await findAll(client, query('STUDY', { StudyInstanceUID: '', PatientName: '', PatientID: '', StudyDate: '', AccessionNumber: '', ModalitiesInStudy: '' }), OP_MS);
    assert.is(hex(final.status), hex(0));
    assert.equal(sorted(matches.map((m) => getString(m, 'StudyInstanceUID'))), sorted(state.data.studies.map((s) => s.studyInstanceUid)));
    for (const m of matches) {
      const study = state.data.studies.find((s) => s.studyInstanceUid === getString(m, 'StudyInstanceUID'))!;
      assert.is(getString(m, 'PatientName'), study.patientName);
      assert.is(getString(m, 'PatientID'), study.patientId);
      assert.is(getString(m, 'StudyDate'), study.studyDate);
      assert.is(getString(m, 'AccessionNumber'), study.accessionNumber);
      // real-pacs.md: ModalitiesInStudy is ignored and not returned; RetrieveAETitle is added unasked.
      assert.is(getString(m, 'ModalitiesInStudy'), undefined);
      assert.is(getString(m, 'RetrieveAETitle'), AE);
    }
    // Several C-FINDs on one association.
    const one = await findAll(client, query('STUDY', { StudyInstanceUID: '', PatientName: state.data.studies[1]!.patientName }), OP_MS);
    assert.equal(one.matches.map((m) => getString(m, 'StudyInstanceUID')), [state.data.studies[1]!.studyInstanceUid]);
    // PatientName matching is case-sensitive on dcmqrscp.
    const lower = await findAll(client, query('STUDY', { StudyInstanceUID: '', PatientName: state.data.studies[1]!.patientName.toLowerCase() }), OP_MS);
    assert.is(lower.matches.length, 0);
    assert.is(hex(lower.final.status), hex(0));
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-FIND series level: both series of a study; without the StudyInstanceUID key 0xC000', async () => {
  const study = state.data.studies[0]!;
  const client = await open();
  try {
    const { matches, final } = await findAll(client, query('SERIES', { StudyInstanceUID: study.studyInstanceUid, SeriesInstanceUID: '', Modality: '', SeriesNumber: '' }), OP_MS);
    assert.is(hex(final.status), hex(0));
    assert.equal(sorted(matches.map((m) => getString(m, 'SeriesInstanceUID'))), sorted(study.series.map((s) => s.seriesInstanceUid)));
    for (const m of matches) {
      const series = study.series.find((s) => s.seriesInstanceUid === getString(m, 'SeriesInstanceUID'))!;
      assert.is(getString(m, 'Modality'), series.modality);
      assert.is(getString(m, 'SeriesNumber'), String(series.seriesNumber));
    }
    // real-pacs.md: series query with the StudyInstanceUID key absent → 0xC000.
    const noKey = await findAll(client, query('SERIES', { SeriesInstanceUID: '', Modality: '' }), OP_MS);
    assert.is(noKey.matches.length, 0);
    assert.is(hex(noKey.final.status), hex(0xc000));
    assert.ok(noKey.final.error, 'a failure status carries an error');
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-FIND image level: the SOP Instance UIDs of a series; SOPClassUID never returned', async () => {
  const study = state.data.studies[2]!;
  const client = await open();
  try {
    for (const series of study.series) {
      const { matches, final } = await findAll(client, query('IMAGE', { StudyInstanceUID: study.studyInstanceUid, SeriesInstanceUID: series.seriesInstanceUid, SOPInstanceUID: '', SOPClassUID: '', InstanceNumber: '' }), OP_MS);
      assert.is(hex(final.status), hex(0));
      assert.equal(sorted(matches.map((m) => getString(m, 'SOPInstanceUID'))), sorted(series.instances.map((i) => i.sopInstanceUid)));
      for (const m of matches) assert.is(getString(m, 'SOPClassUID'), undefined);
    }
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-FIND patient root, patient level', async () => {
  const client = await open();
  try {
    const { matches, final } = await findAll(client, query('PATIENT', { PatientID: '', PatientName: '' }), OP_MS, 'patient');
    assert.is(hex(final.status), hex(0));
    assert.equal(sorted(matches.map((m) => getString(m, 'PatientID'))), sorted(state.data.studies.map((s) => s.patientId)));
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-MOVE series level to our store SCP: every file arrives as valid Part 10 before the final response', async () => {
  const study = state.data.studies[0]!;
  const series = study.series[0]!;
  const before = state.stored.length;
  const pendings: Array<{ remaining?: number; completed?: number }> = [];
  const client = await open();
  let storedAtFinal = -1;
  try {
    const r = await withTimeout(client.move(query('SERIES', { StudyInstanceUID: study.studyInstanceUid, SeriesInstanceUID: series.seriesInstanceUid }), {
      destination: STORE_AE, model: 'study', onPending: (s) => pendings.push(s),
    }), OP_MS, 'C-MOVE');
    storedAtFinal = state.stored.length - before;
    assert.is(hex(r.status), hex(0));
    const n = series.instances.length;
    // real-pacs.md: N pending responses for N sub-operations, the final one after the store association's release.
    assert.is(r.pendingResponses, n);
    assert.equal(pendings.map((p) => p.remaining), Array.from({ length: n }, (_, i) => n - 1 - i));
    assert.is(r.subOperations.completed, n);
    assert.is(r.subOperations.failed ?? 0, 0);
    assert.is(r.subOperations.warning ?? 0, 0);
    assert.equal(r.failedSopInstanceUids, []);
    assert.is(storedAtFinal, n, 'dcmqrscp sends the final C-MOVE-RSP after the store association ended');
    const arrived = state.stored.slice(before);
    assert.equal(sorted(arrived.map((o) => o.sopInstanceUid)), sorted(series.instances.map((i) => i.sopInstanceUid)));
    for (const o of arrived) {
      assert.is(o.callingAeTitle, AE);
      assert.is(o.moveOriginatorAeTitle, 'QRSCU');
      const file = readPart10(readFileSync(o.path));
      assert.is(getString(file.meta, 'MediaStorageSOPInstanceUID'), o.sopInstanceUid);
      assert.is(getString(file.dataset, 'SOPInstanceUID'), o.sopInstanceUid);
      assert.is(getString(file.dataset, 'SeriesInstanceUID'), series.seriesInstanceUid);
      assert.is(getString(file.dataset, 'PatientName'), study.patientName);
      const original = readPart10(readFileSync(series.instances.find((i) => i.sopInstanceUid === o.sopInstanceUid)!.file));
      assert.equal(file.dataset.elements.get(0x7fe00010)?.value, original.dataset.elements.get(0x7fe00010)?.value);
    }
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-MOVE study level of the dose SR and CT of one study', async () => {
  const study = state.data.studies[1]!;
  const before = state.stored.length;
  const client = await open();
  try {
    const r = await withTimeout(client.move(query('STUDY', { StudyInstanceUID: study.studyInstanceUid }), { destination: STORE_AE, model: 'study' }), OP_MS, 'C-MOVE');
    assert.is(hex(r.status), hex(0));
    const all = study.series.flatMap((s) => s.instances);
    assert.is(r.subOperations.completed, all.length);
    assert.equal(sorted(state.stored.slice(before).map((o) => o.sopInstanceUid)), sorted(all.map((i) => i.sopInstanceUid)));
    const sr = state.stored.slice(before).find((o) => o.sopClassUid === '1.2.840.10008.5.1.4.1.1.88.67');
    assert.ok(sr, 'the X-Ray Radiation Dose SR arrived');
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-MOVE to a destination not in the HostTable: 0xA801, nothing sent', async () => {
  const study = state.data.studies[0]!;
  const before = state.stored.length;
  const client = await open();
  try {
    const r = await withTimeout(client.move(query('STUDY', { StudyInstanceUID: study.studyInstanceUid }), { destination: 'NOWHERE', model: 'study' }), OP_MS, 'C-MOVE');
    assert.is(hex(r.status), hex(0xa801));
    assert.ok(r.error && r.error.code === 'ERR_DIMSE_STATUS');
    assert.is(r.pendingResponses, 0);
    assert.is(state.stored.length, before);
    // The association is still usable after a failed C-MOVE.
    assert.is(hex((await withTimeout(client.echo(), OP_MS, 'C-ECHO')).status), hex(0));
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-MOVE of a study dcmqrscp does not hold: 0x0000 with 0 sub-operations', async () => {
  const client = await open();
  try {
    const r = await withTimeout(client.move(query('STUDY', { StudyInstanceUID: '2.25.1' }), { destination: STORE_AE, model: 'study' }), OP_MS, 'C-MOVE');
    assert.is(hex(r.status), hex(0));
    assert.is(r.subOperations.completed ?? 0, 0);
    assert.is(r.pendingResponses, 0);
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-MOVE series level without StudyInstanceUID: 0x0000 with 0 sub-operations', async () => {
  const series = state.data.studies[0]!.series[0]!;
  const client = await open();
  try {
    const r = await withTimeout(client.move(query('SERIES', { SeriesInstanceUID: series.seriesInstanceUid }), { destination: STORE_AE, model: 'study' }), OP_MS, 'C-MOVE');
    assert.is(hex(r.status), hex(0));
    assert.is(r.subOperations.completed ?? 0, 0);
    assert.is(r.pendingResponses, 0);
  } finally {
    await release(client, OP_MS);
  }
});

withServer('wrong called AE title: A-ASSOCIATE-RJ permanent, service-user, reason 7 (ERR_ASSOC_REJECTED)', async () => {
  ready();
  let error: unknown;
  try {
    const client = await open('WRONG_AE');
    client.abort();
  } catch (e) {
    error = e;
  }
  assert.ok(isDicomError(error), `a DicomError, not ${String(error)}`);
  assert.is((error as { code: string }).code, 'ERR_ASSOC_REJECTED');
  assert.match((error as Error).message, /permanent, service-user: called-AE-title-not-recognized/);
});

withServer('C-CANCEL while dcmqrscp works on the C-FIND: final 0xFE00, no match delivered, association still usable', async () => {
  const pacs = ready();
  const client = await open();
  try {
    // Whether a cancel sent after the request wins against a fast local server is up to the
    // scheduler; with the server paused, the C-FIND-RQ and the C-CANCEL-RQ wait in its socket
    // together, which is the "cancel during matching" case, every time.
    let op: FindOperation;
    let cancelled: Promise<void>;
    pacs.pause();
    try {
      op = client.find(query('STUDY', { StudyInstanceUID: '', PatientName: '' }));
      cancelled = op.cancel();
      await delay(50);
    } finally {
      pacs.resume();
    }
    let seen = 0;
    await withTimeout((async () => { for await (const _ of op) seen++; })(), OP_MS, 'C-FIND with C-CANCEL');
    await withTimeout(cancelled, OP_MS, 'cancel()');
    assert.is(seen, 0, 'no match is delivered after cancel()');
    assert.ok(op.final, 'a final status after C-CANCEL');
    assert.is(hex(op.final!.status), hex(0xfe00));
    assert.is(op.final!.error, undefined, 'cancel is not a failure');
    // The association survives a C-CANCEL: a whole C-FIND afterwards.
    const again = await findAll(client, query('STUDY', { StudyInstanceUID: '' }), OP_MS);
    assert.is(again.matches.length, STUDIES);
    assert.is(hex(again.final.status), hex(0));
  } finally {
    await release(client, OP_MS);
  }
});

withServer('cancel() after the first match: nothing more delivered (dcmqrscp has sent everything by then: 0x0000)', async () => {
  const client = await open();
  try {
    const op = client.find(query('IMAGE', { StudyInstanceUID: state.data.studies[0]!.studyInstanceUid, SeriesInstanceUID: state.data.studies[0]!.series[0]!.seriesInstanceUid, SOPInstanceUID: '' }));
    let seen = 0;
    await withTimeout((async () => {
      for await (const _ of op) {
        seen++;
        if (seen === 1) await op.cancel();
      }
    })(), OP_MS, 'C-FIND with C-CANCEL');
    assert.is(seen, 1, 'no match is delivered after cancel()');
    assert.ok(op.final, 'a final status');
    assert.ok([0xfe00, 0].includes(op.final!.status), `final status ${hex(op.final!.status)}`);
    assert.is(hex((await withTimeout(client.echo(), OP_MS, 'C-ECHO')).status), hex(0));
  } finally {
    await release(client, OP_MS);
  }
});

(haveServer ? withTool('findscu') : test.skip)('findscu against dcmqrscp answers the same studies as our C-FIND', async () => {
  const pacs = ready();
  const out = mkdtempSync(path.join(state.work, 'findscu-'));
  const run = await runTool(programs.findscu!, ['-S', '-aet', 'QRSCU', '-aec', AE, '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID', '-X', '-od', out, '127.0.0.1', String(pacs.port)], OP_MS);
  assert.is(run.code, 0, run.output);
  const uids = readdirSync(out).map((f) => getString(readPart10(readFileSync(path.join(out, f))).dataset, 'StudyInstanceUID'));
  assert.equal(sorted(uids), sorted(state.data.studies.map((s) => s.studyInstanceUid)));
});

withTool('echoscu')('echoscu → our store SCP: exit 0', async () => {
  ready();
  const run = await runTool(programs.echoscu!, ['-aet', 'ECHOSCU', '-aec', STORE_AE, '127.0.0.1', String(state.store.port)], OP_MS);
  assert.is(run.code, 0, run.output);
});

withTool('storescu')('storescu → our store SCP: every file arrives, storescu exits 0', async () => {
  ready();
  const before = state.stored.length;
  const study = state.data.studies[2]!;
  const files = study.series.flatMap((s) => s.instances.map((i) => i.file));
  // storescu proposes the SOP class of each file with its default transfer syntaxes (+ a context per class).
  const run = await runTool(programs.storescu!, ['-aet', 'STORESCU', '-aec', STORE_AE, '127.0.0.1', String(state.store.port), ...files], OP_MS);
  assert.is(run.code, 0, run.output);
  await waitUntil(() => state.stored.length - before >= files.length, 5_000, 'the stored objects');
  const arrived = state.stored.slice(before);
  assert.equal(sorted(arrived.map((o) => o.sopInstanceUid)), sorted(study.series.flatMap((s) => s.instances.map((i) => i.sopInstanceUid))));
  for (const o of arrived) {
    assert.is(o.callingAeTitle, 'STORESCU');
    assert.is(o.moveOriginatorAeTitle, undefined);
    const file = readPart10(readFileSync(o.path));
    assert.is(getString(file.dataset, 'SOPInstanceUID'), o.sopInstanceUid);
    assert.is(getString(file.meta, 'SourceApplicationEntityTitle'), 'STORESCU');
  }
});

test.run();
