import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compactSelection, expandSelection } from '../../src/db/compact.js';
import { openDatabase, parseDuration, resolveHome } from '../../src/db/database.js';
import { listNodes, nodeTable } from '../../src/db/nodes.js';
import { checkAeTitle } from '../../src/db/validate.js';
import { ErrorCode } from '../../src/errors.js';
import { caught, tempHome } from './helpers.js';
import { realisticMoves, realisticParameters, realisticSelection } from './records.js';

const test = suite('db: nodes, queries, held index');

test('home: --home, then QRSCU_HOME, then ~/.qrscu', () => {
  assert.is(resolveHome('/x/y', { QRSCU_HOME: '/env' }), '/x/y');
  assert.is(resolveHome(undefined, { QRSCU_HOME: '/env' }), '/env');
  assert.ok(resolveHome(undefined, {}).endsWith(`${path.sep}.qrscu`));
  assert.ok(!resolveHome('~/q', {}).includes('~'));
});

test('QR and store nodes: add with defaults, edit, remove; the file holds them after close', async () => {
  const { home, cleanup } = tempHome();
  try {
    const db = await openDatabase({ home });
    const qr = db.addQrNode({ id: 'pacs', aeTitle: 'PACS', host: '10.0.0.5', port: 104 });
    assert.equal(qr, { id: 'pacs', name: 'pacs', aeTitle: 'PACS', host: '10.0.0.5', port: 104, callingAeTitle: 'QRSCU', useModalityTag: false, connectTimeoutMs: 10000, dimseTimeoutMs: 60000, maxPduLength: 65536, maxAssociations: 4 });
    db.addStoreNode({ id: 'store', aeTitle: 'QRSCU_STORE', port: 11113, directory: '/srv/dose', allowedCallingAeTitles: ['PACS'] });
    db.addStoreNode({ id: 'openrem', aeTitle: 'OPENREM', host: 'dose.example', port: 8104, own: false });
    assert.is(db.storeNode('store').host, '127.0.0.1');
    assert.is(db.storeNode('openrem').directory, '');
    const edited = db.editNode('pacs', { port: 11112, useModalityTag: true, fallbackCharacterSet: 'ISO_IR 100' });
    assert.is(edited.kind, 'qr');
    assert.is(db.qrNode('pacs').port, 11112);
    assert.is(db.qrNode('pacs').fallbackCharacterSet, 'ISO_IR 100');
    assert.is(db.removeNode('openrem'), 'store');
    assert.equal(listNodes(db).map((r) => `${r.kind}:${r.id}`), ['qr:pacs', 'store:store']);
    assert.match(nodeTable(listNodes(db))[0]!, /^ID\s+KIND\s+NAME\s+AE TITLE\s+HOST\s+PORT\s+SETTINGS$/);
    await db.close();
    const file = JSON.parse(readFileSync(path.join(home, 'qrscu.json'), 'utf8'));
    assert.is(file.schemaVersion, 1);
    assert.is(file.qrNodes[0].port, 11112);
    assert.is(file.storeNodes.length, 1);
    const again = await openDatabase({ home, readOnly: true });
    assert.equal(again.qrNode('pacs'), db.qrNode('pacs'));
  } finally {
    cleanup();
  }
});

test('node validation: each bad value is a ConfigError with the JSON pointer of the field', async () => {
  const { home, cleanup } = tempHome();
  try {
    const db = await openDatabase({ home });
    db.addQrNode({ id: 'pacs', aeTitle: 'PACS', host: 'h', port: 104 });
    const cases: [() => unknown, string, RegExp][] = [
      [() => db.addQrNode({ id: 'a', aeTitle: 'SEVENTEEN_CHARS_X', host: 'h', port: 1 }), '/qrNodes/1/aeTitle', /longer than 16/],
      [() => db.addQrNode({ id: 'a', aeTitle: 'A\\B', host: 'h', port: 1 }), '/qrNodes/1/aeTitle', /backslash/],
      [() => db.addQrNode({ id: 'a', aeTitle: 'A\nB', host: 'h', port: 1 }), '/qrNodes/1/aeTitle', /control character/],
      [() => db.addQrNode({ id: 'a', aeTitle: '   ', host: 'h', port: 1 }), '/qrNodes/1/aeTitle', /empty/],
      [() => db.addQrNode({ id: 'a', aeTitle: 'A', host: 'h', port: 0 }), '/qrNodes/1/port', /1 to 65535, not 0/],
      [() => db.addQrNode({ id: 'a', aeTitle: 'A', host: 'h', port: 65536 }), '/qrNodes/1/port', /65536/],
      [() => db.addQrNode({ id: 'a', aeTitle: 'A', host: 'h', port: Number.NaN }), '/qrNodes/1/port', /not NaN/],
      [() => db.addQrNode({ id: 'a b', aeTitle: 'A', host: 'h', port: 1 }), '/qrNodes/1/id', /letters, digits/],
      [() => db.addQrNode({ id: 'pacs', aeTitle: 'A', host: 'h', port: 1 }), '/qrNodes/1/id', /exists already/],
      [() => db.addStoreNode({ id: 'pacs', aeTitle: 'A', port: 1, directory: '/d' }), '/storeNodes/0/id', /unique over QR and store/],
      [() => db.addQrNode({ id: 'a', aeTitle: 'A', host: 'h', port: 1, maxAssociations: 0 }), '/qrNodes/1/maxAssociations', /1 to 64/],
      [() => db.addQrNode({ id: 'a', aeTitle: 'A', host: 'h', port: 1, callingAeTitle: 'X'.repeat(17) }), '/qrNodes/1/callingAeTitle', /calling AE title/],
      [() => db.addQrNode({ id: 'a', aeTitle: 'A', host: 'h', port: 1, fallbackCharacterSet: 'KLINGON' }), '/qrNodes/1/fallbackCharacterSet', /unknown term/],
      [() => db.addStoreNode({ id: 's', aeTitle: 'S', port: 1 }), '/storeNodes/0/directory', /storage directory/],
      [() => db.addStoreNode({ id: 's', aeTitle: 'S', port: 1, directory: '/d', allowedCallingAeTitles: ['OK', 'BAD\\AE'] }), '/storeNodes/0/allowedCallingAeTitles/1', /backslash/],
      [() => db.editNode('pacs', { port: 99999 }), '/qrNodes/0/port', /65535/],
    ];
    for (const [fn, pointer, message] of cases) {
      const e = await caught(fn);
      assert.is(e.code, ErrorCode.ConfigInvalid, pointer);
      assert.is(e.pointer, pointer);
      assert.match(e.message, message);
    }
    assert.is(db.qrNodes().length, 1, 'nothing bad was added');
    assert.is(db.qrNode('pacs').port, 104, 'a failed edit changes nothing');
    assert.match((await caught(() => db.qrNode('nope'))).message, /no QR node "nope" \(known: pacs\)/);
    assert.match((await caught(() => db.removeNode('nope'))).message, /no node "nope"/);
    assert.is(checkAeTitle(' PACS '), 'PACS');
    await db.close();
  } finally {
    cleanup();
  }
});

test('read-only: no lock, a missing file reads empty, changes throw', async () => {
  const { home, cleanup } = tempHome();
  try {
    const ro = await openDatabase({ home: path.join(home, 'nothing-here'), readOnly: true });
    assert.equal(ro.qrNodes(), []);
    assert.is(ro.heldCounts().instances, 0);
    const e = await caught(() => ro.addQrNode({ id: 'a', aeTitle: 'A', host: 'h', port: 1 }));
    assert.match(e.message, /read-only/);
    const w = await openDatabase({ home });
    const ro2 = await openDatabase({ home, readOnly: true }); // while a writer holds the lock
    assert.is(ro2.queryCount(), 0);
    await w.close();
  } finally {
    cleanup();
  }
});

test('query records: create, update, append, finish, get by prefix, list newest first', async () => {
  const { home, cleanup } = tempHome();
  try {
    const db = await openDatabase({ home });
    const sel = realisticSelection(7, 12);
    const q = db.createQuery({ parameters: realisticParameters(), startedAt: '2026-01-01T10:00:00.000Z' });
    assert.is(q.status, 'running');
    db.updateQuery(q.id, { selection: sel, summary: { studiesFound: sel.studies.length } });
    db.appendToQuery(q.id, { stages: [{ stage: 'study-query', startedAt: q.startedAt, durationMs: 120, count: 3 }] });
    db.appendToQuery(q.id, { moves: realisticMoves(sel, q.startedAt), errors: [{ at: q.startedAt, stage: 'retrieve', message: 'once' }] });
    db.finishQuery(q.id, 'complete', { summary: { studiesFound: sel.studies.length, instancesArrived: null } });
    const q2 = db.createQuery({ parameters: realisticParameters(), startedAt: '2026-01-01T11:00:00.000Z' });
    await db.close();

    const ro = await openDatabase({ home, readOnly: true });
    const got = ro.getQuery(q.id.slice(0, 8));
    assert.ok(got);
    assert.is(got.status, 'complete');
    assert.ok(got.finishedAt);
    assert.equal(got.selection, sel, 'the selection comes back as the engine returned it');
    assert.is(got.stages.length, 1);
    assert.is(got.moves.length, sel.moves.length);
    assert.equal(got.summary, { studiesFound: sel.studies.length, instancesArrived: null });
    assert.equal(ro.listQueries().map((x) => x.id), [q2.id, q.id]);
    assert.equal(ro.listQueries({ limit: 1 }).map((x) => x.id), [q2.id]);
    assert.is(ro.listQueries()[1]!.hasSelection, true);
    assert.is(ro.getQuery('zzzzzzzz'), undefined);
    // q2 was left running: the next writer marks it interrupted.
    const warnings: string[] = [];
    const w = await openDatabase({ home, onWarning: (m) => warnings.push(m) });
    assert.is(w.getQuery(q2.id)?.status, 'interrupted');
    assert.match(warnings.join('\n'), /did not finish: marked interrupted/);
    await w.close();
  } finally {
    cleanup();
  }
});

test('compact selection is lossless and smaller', () => {
  for (const seed of [1, 2, 3]) {
    const sel = realisticSelection(seed, 10);
    const c = compactSelection(sel);
    assert.equal(expandSelection(JSON.parse(JSON.stringify(c))), sel);
    assert.ok(JSON.stringify(c).length < JSON.stringify(sel).length * 0.8);
  }
  const empty = { studies: [], moves: [], warnings: ['w'], imageQueries: 0, seriesQueries: 0 };
  assert.equal(expandSelection(compactSelection(empty)), empty);
});

test('prune: records older than the duration go, running and recent ones stay', async () => {
  const { home, cleanup } = tempHome();
  try {
    const db = await openDatabase({ home });
    const now = new Date('2026-06-01T00:00:00Z');
    const ids: string[] = [];
    for (let d = 0; d < 200; d += 10) {
      const q = db.createQuery({ parameters: realisticParameters(), startedAt: new Date(now.getTime() - d * 86_400_000).toISOString() });
      if (d !== 190) db.finishQuery(q.id, 'complete');
      ids.push(q.id);
    }
    const r = db.pruneQueries({ olderThanMs: parseDuration('90d'), now });
    // 0,10,…,90 days kept (10), 100…180 removed (9), 190 running kept.
    assert.equal([r.removed, r.kept], [9, 11]);
    assert.is(r.cutoff, '2026-03-03T00:00:00.000Z');
    assert.ok(db.getQuery(ids[19]!), 'the running one stays');
    assert.is(parseDuration('36h'), 36 * 3_600_000);
    assert.is(parseDuration('2w'), 14 * 86_400_000);
    assert.is((await caught(() => parseDuration('90'))).code, ErrorCode.Usage);
    await db.close();
  } finally {
    cleanup();
  }
});

test('held index: add in batches, lookup by study (HeldObjects), counts, forget', async () => {
  const { home, cleanup } = tempHome();
  try {
    const db = await openDatabase({ home });
    const batch = [];
    for (let s = 0; s < 3; s++) for (let se = 0; se < 2; se++) for (let i = 0; i < 5; i++) {
      batch.push({ studyInstanceUid: `1.2.${s}`, seriesInstanceUid: `1.2.${s}.${se}`, sopInstanceUid: `1.2.${s}.${se}.${i}`, sopClassUid: '1.2.840.10008.5.1.4.1.1.88.67', file: `/d/${s}/${se}/${i}.dcm`, queryId: 'q1' });
    }
    assert.equal(db.addHeld(batch), { added: 30, replaced: 0 });
    assert.equal(db.addHeld(batch.slice(0, 2)), { added: 0, replaced: 2 });
    assert.equal(db.heldCounts(), { studies: 3, series: 6, instances: 30 });
    const held = await db.heldInstances('1.2.1');
    assert.is(held?.size, 10);
    assert.ok(held?.has('1.2.1.1.4'));
    assert.is(await db.heldInstances('9.9'), undefined);
    assert.is(await db.heldInstances('__proto__'), undefined);
    assert.is(await db.heldInstances('toString'), undefined);
    assert.is(db.heldStudy('1.2.0')?.['1.2.0.0']?.['1.2.0.0.0']?.queryId, 'q1');
    assert.is(db.forgetHeld('1.2.2', '1.2.2.0'), 5);
    assert.is(db.forgetHeld('1.2.2'), 5);
    assert.is(await db.heldInstances('1.2.2'), undefined);
    assert.is((await caught(() => db.addHeld([{ studyInstanceUid: '', seriesInstanceUid: 'x', sopInstanceUid: 'y', sopClassUid: '', file: '' }]))).code, ErrorCode.ConfigInvalid);
    await db.close();
    const ro = await openDatabase({ home, readOnly: true });
    assert.equal(ro.heldCounts(), { studies: 2, series: 4, instances: 20 });
  } finally {
    cleanup();
  }
});

test('pruneHeld forgets objects stored before the cutoff, and empty series and studies', async () => {
  const { home, cleanup } = tempHome();
  try {
    const db = await openDatabase({ home });
    const at = (days: number) => new Date(Date.parse('2026-06-01T00:00:00Z') - days * 86_400_000).toISOString();
    db.addHeld([
      { studyInstanceUid: '1', seriesInstanceUid: '1.1', sopInstanceUid: '1.1.1', sopClassUid: 'c', file: '', storedAt: at(800) },
      { studyInstanceUid: '1', seriesInstanceUid: '1.2', sopInstanceUid: '1.2.1', sopClassUid: 'c', file: '', storedAt: at(10) },
      { studyInstanceUid: '2', seriesInstanceUid: '2.1', sopInstanceUid: '2.1.1', sopClassUid: 'c', file: '', storedAt: at(900) },
    ]);
    await db.write();
    const r = db.pruneHeld({ olderThanMs: parseDuration('730d'), now: new Date('2026-06-01T00:00:00Z') });
    assert.equal([r.removed, r.kept], [2, 1]);
    assert.equal(db.heldCounts(), { studies: 1, series: 1, instances: 1 });
    await db.close();
    const file = JSON.parse(readFileSync(path.join(home, 'qrscu.json'), 'utf8'));
    assert.equal(Object.keys(file.held), ['1'], 'the cached line of study 1 was refreshed');
    assert.equal(Object.keys(file.held['1']), ['1.2']);
  } finally {
    cleanup();
  }
});

test('batched writes: changes are written once after the delay, not per change; close flushes', async () => {
  const { home, cleanup } = tempHome();
  try {
    const db = await openDatabase({ home, flushDelayMs: 50 });
    const file = path.join(home, 'qrscu.json');
    for (let i = 0; i < 2000; i++) db.addHeld([{ studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: `1.2.3.${i}`, sopClassUid: '1.2.840.10008.5.1.4.1.1.1', file: '' }]);
    assert.ok(db.pending);
    let exists = true;
    try {
      readFileSync(file);
    } catch {
      exists = false;
    }
    assert.is(exists, false, 'nothing written yet');
    await new Promise((r) => setTimeout(r, 200));
    assert.is(db.pending, false);
    assert.is(Object.keys(JSON.parse(readFileSync(file, 'utf8')).held['1.2']['1.2.3']).length, 2000);
    db.addHeld([{ studyInstanceUid: '1.3', seriesInstanceUid: '1.3.1', sopInstanceUid: '1.3.1.1', sopClassUid: 'c', file: '' }]);
    await db.close();
    assert.ok(JSON.parse(readFileSync(file, 'utf8')).held['1.3']);
    assert.match((await caught(() => db.addQrNode({ id: 'a', aeTitle: 'A', host: 'h', port: 1 }))).message, /closed/);
  } finally {
    cleanup();
  }
});

test.run();
