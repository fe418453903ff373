import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { openDatabase } from '../../src/db/database.js';
import { capture, tempHome } from './helpers.js';
import { realisticMoves, realisticParameters, realisticSelection } from './records.js';

const test = suite('cli: nodes, db, queries');
const SAMPLES = fileURLToPath(new URL('../fixtures/dicom-samples/', import.meta.url));

async function run(home: string, ...argv: string[]) {
  const o = capture();
  const code = await main([...argv, '--home', home], o);
  return { code, out: o.out.join('\n'), err: o.err.join('\n') };
}

test('nodes add-qr, add-store, list, edit, remove', async () => {
  const { home, cleanup } = tempHome();
  try {
    let r = await run(home, 'nodes', 'add-qr', 'pacs', '--aet', 'PACS', '--host', '10.0.0.5', '--port', '104', '--max-associations', '2', '--use-modality-tag');
    assert.is(r.code, 0, r.err);
    assert.is(r.out, 'added QR node pacs: PACS@10.0.0.5:104 (calling AE QRSCU)');
    r = await run(home, 'nodes', 'add-store', 'store', '--aet', 'QRSCU_STORE', '--port', '11113', '--dir', 'incoming', '--allow-aet', 'PACS', 'PACS2');
    assert.is(r.code, 0, r.err);
    assert.match(r.out, /added store node store: QRSCU_STORE@127\.0\.0\.1:11113 \(own, writes to \/.*incoming\)/);
    r = await run(home, 'nodes', 'add-store', 'openrem', '--aet', 'OPENREM', '--host', 'dose.example', '--port', '8104', '--external');
    assert.is(r.code, 0, r.err);
    r = await run(home, 'nodes', 'list');
    const lines = r.out.split('\n');
    assert.is(lines.length, 4);
    assert.match(lines[1]!, /^pacs\s+QR\s+pacs\s+PACS\s+10\.0\.0\.5\s+104\s+calling QRSCU, 2 assoc, modality tag$/);
    assert.match(lines[2]!, /^store\s+store\s+store\s+QRSCU_STORE\s+127\.0\.0\.1\s+11113\s+own, .*incoming, allows PACS PACS2$/);
    assert.match(lines[3]!, /^openrem\s+store\s+openrem\s+OPENREM\s+dose\.example\s+8104\s+external$/);
    r = await run(home, 'nodes', 'edit', 'pacs', '--port', '11112', '--no-use-modality-tag', '--calling-aet', 'DOSE');
    assert.is(r.code, 0, r.err);
    assert.is(r.out, 'changed QR node pacs: PACS@10.0.0.5:11112: port, callingAeTitle, useModalityTag');
    r = await run(home, 'nodes', 'edit', 'store', '--allow-any');
    assert.is(r.code, 0, r.err);
    r = await run(home, 'nodes', 'list', '--json');
    const json = JSON.parse(r.out);
    assert.equal([json.qrNodes[0].port, json.qrNodes[0].useModalityTag, json.qrNodes[0].callingAeTitle], [11112, false, 'DOSE']);
    assert.equal(json.storeNodes[0].allowedCallingAeTitles, []);
    assert.is(json.storeNodes[1].own, false);
    r = await run(home, 'nodes', 'remove', 'openrem');
    assert.equal([r.code, r.out], [0, 'removed store node openrem']);
  } finally {
    cleanup();
  }
});

test('nodes: bad values and unknown ids are usage/config errors (exit 2) with the pointer; nothing changes', async () => {
  const { home, cleanup } = tempHome();
  try {
    await run(home, 'nodes', 'add-qr', 'pacs', '--aet', 'PACS', '--host', 'h', '--port', '104');
    const before = readFileSync(path.join(home, 'qrscu.json'));
    const cases: [string[], RegExp][] = [
      [['nodes', 'add-qr', 'x', '--aet', 'A_VERY_LONG_AE_TITLE', '--host', 'h', '--port', '104'], /longer than 16 characters .*at \/qrNodes\/1\/aeTitle.*\[ERR_CONFIG_INVALID\]/],
      [['nodes', 'add-qr', 'x', '--aet', 'A', '--host', 'h', '--port', 'abc'], /port must be an integer from 1 to 65535, not NaN/],
      [['nodes', 'add-qr', 'x', '--aet', 'A', '--host', 'h'], /Missing required argument: port/],
      [['nodes', 'add-qr', 'pacs', '--aet', 'A', '--host', 'h', '--port', '1'], /exists already/],
      [['nodes', 'add-store', 's', '--aet', 'S', '--port', '1'], /storage directory is required .*\/storeNodes\/0\/directory/],
      [['nodes', 'edit', 'pacs', '--dir', '/x'], /pacs is a QR node: --dir does not apply/],
      [['nodes', 'edit', 'pacs'], /nothing to change/],
      [['nodes', 'edit', 'nope', '--port', '1'], /no node "nope" \(known: pacs\)/],
      [['nodes', 'remove', 'nope'], /no node "nope"/],
      [['nodes'], /Name a nodes command/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(home, ...argv);
      assert.is(r.code, ExitCode.Usage, argv.join(' '));
      assert.match(r.err, message);
    }
    assert.equal(readFileSync(path.join(home, 'qrscu.json')), before);
  } finally {
    cleanup();
  }
});

test('db index: counts; db info; a missing folder is exit 2', async () => {
  const { home, cleanup } = tempHome();
  try {
    let r = await run(home, 'db', 'index', SAMPLES);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, /^indexed .*dicom-samples.*: 41 files, 40 added, 0 already held, 1 skipped \(not DICOM 1, without UIDs 0, unreadable 0\)\nheld: 32 studies, 38 series, 40 instances$/);
    r = await run(home, 'db', 'index', SAMPLES, '--json', '--show-skipped');
    assert.equal([JSON.parse(r.out).added, JSON.parse(r.out).alreadyHeld], [0, 40]);
    assert.match(r.err, /skipped .*README\.md: not DICOM/);
    r = await run(home, 'db', 'index', path.join(home, 'missing'));
    assert.is(r.code, ExitCode.Usage);
    assert.match(r.err, /cannot index .*missing: no such folder/);
    r = await run(home, 'db', 'info');
    assert.is(r.code, 0);
    assert.match(r.out, /held: {5}32 studies, 38 series, 40 instances/);
    assert.match(r.out, /lock: {5}free/);
  } finally {
    cleanup();
  }
});

test('db prune --older-than: removes old records; --dry-run counts; a bad duration is exit 2', async () => {
  const { home, cleanup } = tempHome();
  try {
    const db = await openDatabase({ home });
    for (let d = 0; d < 200; d += 10) {
      const q = db.createQuery({ parameters: realisticParameters(), startedAt: new Date(Date.now() - d * 86_400_000 - 1000).toISOString() });
      db.finishQuery(q.id, 'complete');
    }
    await db.close();
    let r = await run(home, 'db', 'prune', '--older-than', '90d', '--dry-run');
    assert.is(r.code, 0, r.err);
    assert.match(r.out, /^would remove 11 query records started before .*; 9 would be kept$/);
    r = await run(home, 'db', 'prune', '--older-than', '90d');
    assert.match(r.out, /^removed 11 query records started before \d{4}-.*Z; 9 kept$/);
    const db2 = await openDatabase({ home });
    db2.addHeld([
      { studyInstanceUid: '1', seriesInstanceUid: '1.1', sopInstanceUid: '1.1.1', sopClassUid: 'c', file: '', storedAt: new Date(Date.now() - 800 * 86_400_000).toISOString() },
      { studyInstanceUid: '1', seriesInstanceUid: '1.1', sopInstanceUid: '1.1.2', sopClassUid: 'c', file: '' },
    ]);
    await db2.close();
    r = await run(home, 'db', 'prune', '--older-than', '90d', '--held-older-than', '730d', '--dry-run');
    assert.match(r.out, /\nwould forget 1 held object stored before .*; 1 would be kept$/);
    r = await run(home, 'db', 'prune', '--older-than', '90d', '--held-older-than', '730d');
    assert.match(r.out, /^removed 0 query records .*\nforgot 1 held object stored before .*; 1 kept$/);
    r = await run(home, 'db', 'prune', '--older-than', '2400h');
    assert.match(r.out, /^removed 0 query records/);
    r = await run(home, 'db', 'prune', '--older-than', 'ninety days');
    assert.is(r.code, ExitCode.Usage);
    assert.match(r.err, /not a duration: use e\.g\. 90d/);
    r = await run(home, 'db', 'prune');
    assert.is(r.code, ExitCode.Usage);
  } finally {
    cleanup();
  }
});

test('the lock held by a live run: exit 7 with the holder named; a corrupt database: exit 2, file unchanged', async () => {
  const { home, cleanup } = tempHome();
  try {
    await run(home, 'nodes', 'add-qr', 'pacs', '--aet', 'PACS', '--host', 'h', '--port', '104');
    const lockFile = path.join(home, 'qrscu.lock');
    writeFileSync(lockFile, JSON.stringify({ pid: process.ppid, host: hostname(), startedAt: '2026-01-01T10:00:00.000Z', command: 'qrscu pacs store -ct' }));
    let r = await run(home, 'nodes', 'remove', 'pacs');
    assert.is(r.code, ExitCode.Locked);
    assert.match(r.err, /in use by another run: pid \d+, started 2026-01-01T10:00:00\.000Z, command "qrscu pacs store -ct"; wait for it to finish .*\[ERR_DB_LOCKED\]/);
    r = await run(home, 'nodes', 'list');
    assert.is(r.code, 0, 'reading needs no lock');
    r = await run(home, 'db', 'info');
    assert.match(r.out, /lock: {5}pid \d+ on .* since 2026-01-01T10:00:00\.000Z: qrscu pacs store -ct/);
    writeFileSync(lockFile, '');
    const { unlinkSync } = await import('node:fs');
    unlinkSync(lockFile);
    const file = path.join(home, 'qrscu.json');
    writeFileSync(file, '{\n  "schemaVersion": 1,\n  "qrNodes": [\n    {"id": "pacs" "aeTitle": "PACS"}\n  ]\n}\n');
    const bytes = readFileSync(file);
    for (const argv of [['nodes', 'list'], ['nodes', 'remove', 'pacs'], ['queries', 'list'], ['db', 'prune', '--older-than', '1d']]) {
      r = await run(home, ...argv);
      assert.is(r.code, ExitCode.Usage, argv.join(' '));
      assert.match(r.err, /the database is not valid JSON at line 4, column 19: .*qrscu\.json, offset \d+\) \[ERR_CONFIG_INVALID\]/);
    }
    assert.equal(readFileSync(file), bytes);
  } finally {
    cleanup();
  }
});

test('queries list and show', async () => {
  const { home, cleanup } = tempHome();
  try {
    let r = await run(home, 'queries');
    assert.equal([r.code, r.out], [0, 'no query records']);
    const db = await openDatabase({ home });
    const sel = realisticSelection(3, 12);
    const q = db.createQuery({ parameters: realisticParameters(), startedAt: '2026-01-02T10:00:00.000Z' });
    db.appendToQuery(q.id, { stages: [{ stage: 'study-query', startedAt: q.startedAt, durationMs: 1234, count: sel.studies.length }] });
    const moves = realisticMoves(sel, q.startedAt);
    moves[0] = { ...moves[0]!, status: 'warning', dimseStatus: 0xb000, completed: 0, failed: 1, failedSopInstanceUids: ['1.2.3.4'], attempts: 1 };
    db.finishQuery(q.id, 'complete', { selection: sel, moves, summary: { studiesFound: sel.studies.length, studiesKept: sel.studies.length, arrived: moves.length - 1, subOperationsFailed: 1 } });
    const failed = db.createQuery({ parameters: realisticParameters(), startedAt: '2026-01-02T11:00:00.000Z' });
    db.finishQuery(failed.id, 'failed', { finishedAt: '2026-01-02T11:00:03.000Z', errors: [{ at: '2026-01-02T11:00:03.000Z', stage: 'echo', message: 'connection refused', code: 'ERR_CONNECT_FAILED' }] });
    await db.close();

    r = await run(home, 'queries', 'list');
    assert.is(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.match(lines[0]!, /^ID\s+STARTED\s+STATUS\s+NODES\s+STUDIES\s+MOVES OK\s+ARRIVED\s+SUB-OPS FAILED\s+DURATION$/);
    assert.match(lines[1]!, new RegExp(`^${failed.id.slice(0, 8)}\\s+2026-01-02T11:00:00Z\\s+failed\\s+pacs→store\\s+-\\s+-\\s+-\\s+-\\s+3\\.0 s$`));
    assert.match(lines[2]!, new RegExp(`^${q.id.slice(0, 8)}\\s+2026-01-02T10:00:00Z\\s+complete\\s+pacs→store\\s+${sel.studies.length}/${sel.studies.length}\\s+${moves.length - 1}/${moves.length}\\s+${moves.length - 1}\\s+1\\s`));
    r = await run(home, 'queries', 'list', '--json', '--limit', '1');
    assert.is(JSON.parse(r.out).id, failed.id);
    r = await run(home, 'queries', 'list', '--status', 'complete');
    assert.is(r.out.split('\n').length, 2);

    r = await run(home, 'queries', 'show', q.id.slice(0, 8));
    assert.is(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^query ${q.id}\n  status:   complete`));
    assert.match(r.out, /command:  qrscu pacs store -ct -mg -fl -dx/);
    assert.match(r.out, /stages:\n {2}study-query {2}1\.23 s/);
    assert.match(r.out, new RegExp(`selection: ${sel.studies.length} studies \\(${sel.studies.length} kept\\)`));
    assert.match(r.out, /kept {4}study .* \[(CT|MG|DX)\]/);
    assert.match(r.out, /dropped series .*: /);
    assert.match(r.out, /warning SERIES .* 0xB000 {2}completed 0 failed 1/);
    assert.match(r.out, / {10}failed: 1\.2\.3\.4/);
    r = await run(home, 'queries', 'show', failed.id);
    assert.match(r.out, /errors:\n {2}2026-01-02T11:00:03\.000Z echo: connection refused \[ERR_CONNECT_FAILED\]/);
    r = await run(home, 'queries', 'show', q.id, '--json');
    assert.equal(JSON.parse(r.out).selection, sel);
    r = await run(home, 'queries', 'show', 'ffffffff-nope');
    assert.is(r.code, ExitCode.Usage);
    assert.match(r.err, /no query "ffffffff-nope"/);
    r = await run(home, 'queries', 'list', '--limit', '-1');
    assert.is(r.code, ExitCode.Usage);
  } finally {
    cleanup();
  }
});

test('--help of every command has examples', async () => {
  for (const argv of [['nodes', 'add-qr'], ['nodes', 'add-store'], ['nodes', 'list'], ['nodes', 'edit'], ['nodes', 'remove'], ['db', 'index'], ['db', 'prune'], ['db', 'info'], ['queries', 'list'], ['queries', 'show']]) {
    const printed: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void printed.push(a.join(' '));
    try {
      assert.is(await main([...argv, '--help'], capture()), 0, argv.join(' '));
    } finally {
      console.log = log;
    }
    assert.match(printed.join('\n'), /Examples:/, argv.join(' '));
  }
});

test.run();
