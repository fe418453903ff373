// Live interop with Orthanc: our SCU against Orthanc's Q/R SCP, and Orthanc's C-STORE SCU (the
// C-MOVE sub-operations) against our store SCP, on loopback. Expected behaviour is the Orthanc column
// of the table in ../shared/docs/real-pacs.md; each protocol quirk there has an assertion here.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getString, getStrings, readPart10 } from '../../src/dicom/index.js';
import { isDicomError } from '../../src/errors.js';
import { connect, type Client, type FindOperation } from '../../src/net/client.js';
import { startStoreScp, type StoredObject } from '../../src/net/store-scp.js';
import type { Server } from '../../src/net/server.js';
import { requireProgram } from '../support/live.js';
import { delay, findAll, hex, query, release, sorted } from '../support/query.js';
import { startOrthanc, syntheticStudies, waitUntil, withTimeout, type OrthancHandle, type SyntheticSet } from '../support/pacs.js';

const test = suite('live: Orthanc');

const haveServer = requireProgram('Orthanc') !== undefined;
/** A test that needs Orthanc; skipped (outside CI only: requireProgram throws under CI) when it is missing. */
const withServer: (name: string, fn: () => Promise<void>) => void = haveServer ? test : test.skip;

const STUDIES = 4;
const LIMIT = 2;
const AE = 'ORTHANC';
const STORE_AE = 'QRSCU_STORE';
const CALLING_AE = 'QRSCU';
const OP_MS = 15_000;

interface State {
  work: string;
  data: SyntheticSet;
  store: Server;
  stored: StoredObject[];
  pacs: OrthancHandle | undefined;
  /** A second Orthanc, same studies, with LimitFindResults 2 and DicomCheckCalledAet true. */
  limited: OrthancHandle | undefined;
}
const state = {} as State;
let setupError: unknown;

test.before(async () => {
  try {
    state.work = mkdtempSync(path.join(os.tmpdir(), 'qrscu-live-orthanc-'));
    state.data = syntheticStudies(path.join(state.work, 'synthetic'), STUDIES, { seed: 'live-orthanc' });
    state.stored = [];
    state.store = await startStoreScp({
      aeTitle: STORE_AE, port: 0, directory: path.join(state.work, 'store'),
      onStored: (o) => state.stored.push(o),
    });
    if (haveServer) {
      // The calling AE must be a known modality (its port is never used: Orthanc does not call us back as QRSCU).
      const [main, more] = await Promise.allSettled([
        startOrthanc({ files: state.data.files, aeTitle: AE, modalities: { [CALLING_AE]: state.store.port, [STORE_AE]: state.store.port } }),
        startOrthanc({
          files: state.data.files, aeTitle: AE, modalities: { [CALLING_AE]: state.store.port },
          options: { limitFindResults: LIMIT, checkCalledAet: true },
        }),
      ]);
      if (main.status === 'fulfilled') state.pacs = main.value;
      if (more.status === 'fulfilled') state.limited = more.value;
      if (main.status === 'rejected') throw main.reason;
      if (more.status === 'rejected') throw more.reason;
    }
  } catch (e) {
    setupError = e;
  }
});

test.after(async () => {
  await state.pacs?.stop();
  await state.limited?.stop();
  await state.store?.close(1_000);
  if (state.work) rmSync(state.work, { recursive: true, force: true });
});

function ready(): OrthancHandle {
  if (setupError) throw setupError;
  return state.pacs!;
}

async function open(options: { port?: number; calledAeTitle?: string; callingAeTitle?: string } = {}): Promise<Client> {
  const port = options.port ?? ready().port;
  const calledAeTitle = options.calledAeTitle ?? AE;
  return withTimeout(
    connect({ host: '127.0.0.1', port, callingAeTitle: options.callingAeTitle ?? CALLING_AE, calledAeTitle, dimseTimeoutMs: OP_MS }),
    OP_MS, `association with ${calledAeTitle}`,
  );
}






withServer('C-ECHO', async () => {
  const client = await open();
  try {
    const r = await withTimeout(client.echo(), OP_MS, 'C-ECHO');
    assert.is(hex(r.status), hex(0));
    // Orthanc uses DCMTK's network layer: the same implementation identity as dcmqrscp.
    assert.is(client.association.peerImplementation.classUid, '1.2.276.0.7230010.3.0.3.6.7');
    assert.is(client.association.peerImplementation.versionName, 'OFFIS_DCMTK_367');
    assert.is(client.association.peerMaxLength, 16384);
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-FIND study level: exactly the synthetic studies, with ModalitiesInStudy and related counts', async () => {
  const client = await open();
  try {
    const { matches, final } = await findAll(client, query('STUDY', {
      StudyInstanceUID: '', PatientName: '', PatientID: '', StudyDate: '', AccessionNumber: '', ModalitiesInStudy: '',
      NumberOfStudyRelatedSeries: '', NumberOfStudyRelatedInstances: '',
    }), OP_MS);
    assert.is(hex(final.status), hex(0));
    assert.equal(sorted(matches.map((m) => getString(m, 'StudyInstanceUID'))), sorted(state.data.studies.map((s) => s.studyInstanceUid)));
    for (const m of matches) {
      const study = state.data.studies.find((s) => s.studyInstanceUid === getString(m, 'StudyInstanceUID'))!;
      assert.is(getString(m, 'PatientName'), study.patientName);
      assert.is(getString(m, 'PatientID'), study.patientId);
      assert.is(getString(m, 'StudyDate'), study.studyDate);
      assert.is(getString(m, 'AccessionNumber'), study.accessionNumber);
      assert.equal([...(getStrings(m, 'ModalitiesInStudy') ?? [])].sort(), ['CT', 'SR']);
      assert.is(getString(m, 'NumberOfStudyRelatedSeries'), '2');
      assert.is(getString(m, 'NumberOfStudyRelatedInstances'), String(study.series.reduce((n, s) => n + s.instances.length, 0)));
      // real-pacs.md: RetrieveAETitle and SpecificCharacterSet added unasked; always ISO_IR 100.
      assert.is(getString(m, 'RetrieveAETitle'), AE);
      assert.is(getString(m, 'SpecificCharacterSet'), 'ISO_IR 100');
    }
    // ModalitiesInStudy as a matching key: "CT\SR" matches either; PatientName case-insensitive.
    const sr = await findAll(client, query('STUDY', { StudyInstanceUID: '', ModalitiesInStudy: 'SR' }), OP_MS);
    assert.is(sr.matches.length, STUDIES);
    const mg = await findAll(client, query('STUDY', { StudyInstanceUID: '', ModalitiesInStudy: 'MG' }), OP_MS);
    assert.is(mg.matches.length, 0);
    const lower = await findAll(client, query('STUDY', { StudyInstanceUID: '', PatientName: state.data.studies[1]!.patientName.toLowerCase() }), OP_MS);
    assert.equal(lower.matches.map((m) => getString(m, 'StudyInstanceUID')), [state.data.studies[1]!.studyInstanceUid]);
    // StationName as a study-level matching key: 0 matches.
    const station = await findAll(client, query('STUDY', { StudyInstanceUID: '', StationName: state.data.studies[0]!.stationName }), OP_MS);
    assert.is(station.matches.length, 0);
    assert.is(hex(station.final.status), hex(0));
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-FIND series level: both series of a study, StationName returned', async () => {
  const study = state.data.studies[0]!;
  const client = await open();
  try {
    const { matches, final } = await findAll(client, query('SERIES', { StudyInstanceUID: study.studyInstanceUid, SeriesInstanceUID: '', Modality: '', SeriesNumber: '', StationName: '' }), OP_MS);
    assert.is(hex(final.status), hex(0));
    assert.equal(sorted(matches.map((m) => getString(m, 'SeriesInstanceUID'))), sorted(study.series.map((s) => s.seriesInstanceUid)));
    for (const m of matches) {
      const series = study.series.find((s) => s.seriesInstanceUid === getString(m, 'SeriesInstanceUID'))!;
      assert.is(getString(m, 'Modality'), series.modality);
      assert.is(getString(m, 'SeriesNumber'), String(series.seriesNumber));
      assert.is(getString(m, 'StationName'), study.stationName);
    }
    // Unlike dcmqrscp, Orthanc answers a series query without the StudyInstanceUID key.
    const noKey = await findAll(client, query('SERIES', { SeriesInstanceUID: '', Modality: 'SR' }), OP_MS);
    assert.is(hex(noKey.final.status), hex(0));
    assert.is(noKey.matches.length, STUDIES);
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-FIND image level: the SOP Instance UIDs of a series, with SOPClassUID', async () => {
  const study = state.data.studies[2]!;
  const client = await open();
  try {
    for (const series of study.series) {
      const { matches, final } = await findAll(client, query('IMAGE', { StudyInstanceUID: study.studyInstanceUid, SeriesInstanceUID: series.seriesInstanceUid, SOPInstanceUID: '', SOPClassUID: '', InstanceNumber: '' }), OP_MS);
      assert.is(hex(final.status), hex(0));
      assert.equal(sorted(matches.map((m) => getString(m, 'SOPInstanceUID'))), sorted(series.instances.map((i) => i.sopInstanceUid)));
      for (const m of matches) {
        const instance = series.instances.find((i) => i.sopInstanceUid === getString(m, 'SOPInstanceUID'))!;
        assert.is(getString(m, 'SOPClassUID'), instance.sopClassUid);
        assert.is(getString(m, 'InstanceNumber'), String(instance.instanceNumber));
      }
    }
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-MOVE series level to our store SCP: every file arrives (the final C-MOVE-RSP comes before the store association is released)', async () => {
  const study = state.data.studies[0]!;
  const series = study.series[0]!;
  const before = state.stored.length;
  const pendings: Array<{ remaining?: number; completed?: number }> = [];
  const client = await open();
  try {
    const r = await withTimeout(client.move(query('SERIES', { StudyInstanceUID: study.studyInstanceUid, SeriesInstanceUID: series.seriesInstanceUid }), {
      destination: STORE_AE, model: 'study', onPending: (s) => pendings.push(s),
    }), OP_MS, 'C-MOVE');
    const n = series.instances.length;
    assert.is(hex(r.status), hex(0));
    // real-pacs.md: N−1 pending responses for N sub-operations.
    assert.is(r.pendingResponses, n - 1);
    assert.is(r.subOperations.completed, n);
    assert.is(r.subOperations.failed ?? 0, 0);
    assert.equal(r.failedSopInstanceUids, []);
    // The final response may overtake the last C-STORE's bookkeeping: wait, bounded, for every file.
    await waitUntil(() => state.stored.length - before >= n, 5_000, `${n} stored objects`);
    const arrived = state.stored.slice(before);
    assert.equal(sorted(arrived.map((o) => o.sopInstanceUid)), sorted(series.instances.map((i) => i.sopInstanceUid)));
    for (const o of arrived) {
      assert.is(o.callingAeTitle, AE);
      assert.is(o.moveOriginatorAeTitle, CALLING_AE);
      const file = readPart10(readFileSync(o.path));
      assert.is(getString(file.meta, 'MediaStorageSOPInstanceUID'), o.sopInstanceUid);
      assert.is(getString(file.dataset, 'SOPInstanceUID'), o.sopInstanceUid);
      assert.is(getString(file.dataset, 'SeriesInstanceUID'), series.seriesInstanceUid);
      assert.is(getString(file.dataset, 'PatientName'), study.patientName);
    }
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-MOVE study level: CT images and the dose SR', async () => {
  const study = state.data.studies[1]!;
  const before = state.stored.length;
  const client = await open();
  try {
    const r = await withTimeout(client.move(query('STUDY', { StudyInstanceUID: study.studyInstanceUid }), { destination: STORE_AE, model: 'study' }), OP_MS, 'C-MOVE');
    const all = study.series.flatMap((s) => s.instances);
    assert.is(hex(r.status), hex(0));
    assert.is(r.subOperations.completed, all.length);
    await waitUntil(() => state.stored.length - before >= all.length, 5_000, `${all.length} stored objects`);
    assert.equal(sorted(state.stored.slice(before).map((o) => o.sopInstanceUid)), sorted(all.map((i) => i.sopInstanceUid)));
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-MOVE to an unknown destination: 0xC000', async () => {
  const before = state.stored.length;
  const client = await open();
  try {
    const r = await withTimeout(client.move(query('STUDY', { StudyInstanceUID: state.data.studies[0]!.studyInstanceUid }), { destination: 'NOWHERE', model: 'study' }), OP_MS, 'C-MOVE');
    assert.is(hex(r.status), hex(0xc000));
    assert.ok(r.error && r.error.code === 'ERR_DIMSE_STATUS');
    assert.is(state.stored.length, before);
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-MOVE of a study Orthanc does not hold: 0xC000', async () => {
  const client = await open();
  try {
    const r = await withTimeout(client.move(query('STUDY', { StudyInstanceUID: '2.25.1' }), { destination: STORE_AE, model: 'study' }), OP_MS, 'C-MOVE');
    assert.is(hex(r.status), hex(0xc000));
  } finally {
    await release(client, OP_MS);
  }
});

withServer('unknown calling AE: association accepted, C-ECHO allowed, A-ABORT right after the C-FIND request (ERR_ASSOC_ABORTED)', async () => {
  const client = await open({ callingAeTitle: 'STRANGER' });
  try {
    assert.is(hex((await withTimeout(client.echo(), OP_MS, 'C-ECHO')).status), hex(0));
    let error: unknown;
    try {
      await findAll(client, query('STUDY', { StudyInstanceUID: '' }), OP_MS);
    } catch (e) {
      error = e;
    }
    assert.ok(isDicomError(error), `a DicomError, not ${String(error)}`);
    assert.is((error as { code: string }).code, 'ERR_ASSOC_ABORTED');
    const end = await withTimeout(client.association.ended, OP_MS, 'the end of the association');
    assert.is(end.how, 'aborted');
  } finally {
    await release(client, OP_MS);
  }
});

withServer('wrong called AE title: accepted by default (DicomCheckCalledAet false)', async () => {
  const client = await open({ calledAeTitle: 'WRONG_AE' });
  try {
    assert.is(hex((await withTimeout(client.echo(), OP_MS, 'C-ECHO')).status), hex(0));
  } finally {
    await release(client, OP_MS);
  }
});

withServer('cancel() after the first match: nothing more delivered; the association stays usable', async () => {
  const client = await open();
  try {
    const op = client.find(query('IMAGE', { SOPInstanceUID: '' }));
    let seen = 0;
    await withTimeout((async () => {
      for await (const _ of op) {
        seen++;
        if (seen === 1) await op.cancel();
      }
    })(), OP_MS, 'C-FIND with C-CANCEL');
    assert.is(seen, 1, 'no match is delivered after cancel()');
    assert.ok(op.final, 'a final status after C-CANCEL');
    // Orthanc has usually sent every match before the C-CANCEL arrives (0x0000); 0xFE00 otherwise.
    assert.ok([0xfe00, 0].includes(op.final!.status), `final status ${hex(op.final!.status)}`);
    assert.is(hex((await withTimeout(client.echo(), OP_MS, 'C-ECHO')).status), hex(0));
    const again = await findAll(client, query('STUDY', { StudyInstanceUID: '' }), OP_MS);
    assert.is(again.matches.length, STUDIES);
  } finally {
    await release(client, OP_MS);
  }
});

withServer('C-CANCEL while Orthanc works on the C-FIND: final 0xFE00 (with a data set), no match delivered', async () => {
  const pacs = ready();
  const client = await open();
  try {
    // Whether a cancel sent after the request wins against a fast local server is up to the
    // scheduler; with Orthanc paused, the C-FIND-RQ and the C-CANCEL-RQ wait in its socket together.
    // Measured: no pending response, then a final 0xFE00 that carries the first match's identifier
    // (DCMTK's DIMSE_findProvider, Orthanc's network layer, keeps it); the client drops it.
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
    assert.is(hex((await withTimeout(client.echo(), OP_MS, 'C-ECHO')).status), hex(0));
    const again = await findAll(client, query('STUDY', { StudyInstanceUID: '' }), OP_MS);
    assert.is(again.matches.length, STUDIES);
  } finally {
    await release(client, OP_MS);
  }
});

withServer(`LimitFindResults ${LIMIT}: ${LIMIT} matches, then final 0xFE00; a query under the cap ends 0x0000`, async () => {
  ready();
  const client = await open({ port: state.limited!.port });
  try {
    const { matches, final } = await findAll(client, query('STUDY', { StudyInstanceUID: '' }), OP_MS);
    assert.is(matches.length, LIMIT);
    assert.is(hex(final.status), hex(0xfe00));
    assert.is(final.error, undefined);
    const one = await findAll(client, query('STUDY', { StudyInstanceUID: state.data.studies[0]!.studyInstanceUid }), OP_MS);
    assert.is(one.matches.length, 1);
    assert.is(hex(one.final.status), hex(0));
  } finally {
    await release(client, OP_MS);
  }
});

withServer('DicomCheckCalledAet true: wrong called AE title → A-ASSOCIATE-RJ permanent, service-user, reason 7', async () => {
  ready();
  let error: unknown;
  try {
    (await open({ port: state.limited!.port, calledAeTitle: 'WRONG_AE' })).abort();
  } catch (e) {
    error = e;
  }
  assert.ok(isDicomError(error), `a DicomError, not ${String(error)}`);
  assert.is((error as { code: string }).code, 'ERR_ASSOC_REJECTED');
  assert.match((error as Error).message, /permanent, service-user: called-AE-title-not-recognized/);
});

test.run();
