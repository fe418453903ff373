import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../src/db/database.js';
import { findSyntaxError, lineColumn, parseDatabaseText, serializeDatabase } from '../../src/db/file.js';
import { acquireLock, processAlive, processStartTicks } from '../../src/db/lock.js';
import { ErrorCode } from '../../src/errors.js';
import { caught, tempHome } from './helpers.js';

const test = suite('db: file, atomic writes, corrupt files, lock');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function homeWithNode(): Promise<{ home: string; file: string; cleanup(): void }> {
  const t = tempHome();
  const db = await openDatabase({ home: t.home });
  db.addQrNode({ id: 'pacs', aeTitle: 'PACS', host: 'h', port: 104 });
  db.addHeld([{ studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4', sopClassUid: '1.2.840.10008.5.1.4.1.1.88.67', file: '/x.dcm' }]);
  await db.close();
  return { ...t, file: path.join(t.home, 'qrscu.json') };
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  assert.ok(pid > 0 && !processAlive(pid));
  return pid;
}

test('the file is line-oriented JSON that parses back to the same data', async () => {
  const { file, cleanup } = await homeWithNode();
  try {
    const text = readFileSync(file, 'utf8');
    assert.equal(parseDatabaseText(text, file), JSON.parse(text));
    assert.is(serializeDatabase(JSON.parse(text)), text);
    assert.match(text, /\n {4}"1\.2": \{"1\.2\.3":/);
  } finally {
    cleanup();
  }
});

test('a write after open re-serialises only what changed; hand-formatted lines stay valid', async () => {
  const { home, file, cleanup } = await homeWithNode();
  try {
    const db = await openDatabase({ home });
    const q = db.createQuery({ parameters: { qrNodeId: 'pacs', storeNodeId: 's' }, startedAt: '2026-01-01T00:00:00.000Z' });
    db.finishQuery(q.id, 'complete');
    db.addHeld([{ studyInstanceUid: '7.7', seriesInstanceUid: '7.7.1', sopInstanceUid: '7.7.1.1', sopClassUid: 'c', file: '' }]);
    await db.close();
    // Hand-format the query line (spaces), as an editor might; the layout is still one record a line.
    const text = readFileSync(file, 'utf8').replace(`{"id":"${q.id}"`, `{ "id" : "${q.id}"`);
    writeFileSync(file, text);
    const db2 = await openDatabase({ home });
    db2.addHeld([{ studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.5', sopClassUid: 'c', file: '/y.dcm' }]);
    const q2 = db2.createQuery({ parameters: { qrNodeId: 'pacs', storeNodeId: 's' } });
    await db2.close();
    const after = readFileSync(file, 'utf8');
    assert.ok(after.includes(`{ "id" : "${q.id}"`), 'the untouched record line is written as it was read');
    const data = JSON.parse(after);
    assert.equal(data.queries.map((x: { id: string }) => x.id), [q.id, q2.id]);
    assert.equal(Object.keys(data.held['1.2']['1.2.3']), ['1.2.3.4', '1.2.3.5'], 'the changed study line is new');
    assert.ok(data.held['7.7']);
    assert.equal(parseDatabaseText(after, file), data);
  } finally {
    cleanup();
  }
});

test('atomic write: a temp file a crashed writer left behind is ignored and removed; no temp file remains', async () => {
  const { home, file, cleanup } = await homeWithNode();
  try {
    const before = readFileSync(file);
    // A writer died mid-write: half a file under the temp name.
    const temp = path.join(home, '.qrscu.json.99999.tmp');
    writeFileSync(temp, before.subarray(0, before.length >> 1));
    const ro = await openDatabase({ home, readOnly: true });
    assert.is(ro.qrNode('pacs').port, 104, 'readers see the last complete file');
    const db = await openDatabase({ home });
    assert.not.ok(existsSync(temp), 'the writer removed the stale temp file');
    db.editNode('pacs', { port: 105 });
    await db.close();
    assert.is(JSON.parse(readFileSync(file, 'utf8')).qrNodes[0].port, 105);
    assert.equal(readdirSync(home).sort(), ['qrscu.json']);
  } finally {
    cleanup();
  }
});

test('a syntax error names the file, line and column; the file is never overwritten', async () => {
  const { home, file, cleanup } = await homeWithNode();
  try {
    const good = readFileSync(file, 'utf8');
    const broken = good.replace('"port": 104,', '"port": 104,,');
    writeFileSync(file, broken);
    const bytes = readFileSync(file);
    const e = await caught(() => openDatabase({ home }));
    assert.is(e.code, ErrorCode.ConfigInvalid);
    assert.is(e.file, file);
    const at = lineColumn(broken, e.offset!);
    assert.match(e.message, new RegExp(`not valid JSON at line ${at.line}, column ${at.column}`));
    assert.is(broken.split('\n')[at.line - 1]!.trim(), '"port": 104,,');
    assert.match(e.message, /does not overwrite/);
    assert.equal(readFileSync(file), bytes, 'unchanged, byte for byte');
    assert.not.ok(existsSync(path.join(home, 'qrscu.lock')), 'the lock was released');
    // Read-only commands fail the same way; a truncated file too.
    assert.is((await caught(() => openDatabase({ home, readOnly: true }))).code, ErrorCode.ConfigInvalid);
    writeFileSync(file, good.slice(0, 100));
    const t = await caught(() => openDatabase({ home }));
    assert.is(t.offset, 100);
    assert.match(t.message, /not valid JSON at line \d+, column \d+/);
    writeFileSync(file, '');
    assert.is((await caught(() => openDatabase({ home }))).code, ErrorCode.ConfigInvalid);
    assert.is(readFileSync(file, 'utf8'), '');
  } finally {
    cleanup();
  }
});

test('a schema fault names the JSON pointer; a newer schema version is refused; nothing is written', async () => {
  const { home, file, cleanup } = await homeWithNode();
  try {
    const data = JSON.parse(readFileSync(file, 'utf8'));
    type Raw = { [key: string]: unknown; qrNodes: Record<string, unknown>[]; storeNodes: Record<string, unknown>[]; queries: unknown[]; held: Record<string, Record<string, Record<string, Record<string, unknown>>>> };
    const cases: [(d: Raw) => void, string, RegExp][] = [
      [(d) => (d.qrNodes[0].port = '104'), '/qrNodes/0/port', /integer from 1 to 65535/],
      [(d) => (d.qrNodes[0].prot = 104), '/qrNodes/0/prot', /unknown setting "prot"/],
      [(d) => (d.qrNodes[0].aeTitle = 'A\\B'), '/qrNodes/0/aeTitle', /backslash/],
      [(d) => d.storeNodes.push({ id: 'pacs', aeTitle: 'S', port: 1, directory: '/d' }), '/storeNodes/0/id', /used twice \(also at \/qrNodes\/0\)/],
      [(d) => ((d as Record<string, unknown>).queries = {}), '/queries', /must be a list/],
      [(d) => d.queries.push({ id: 'q', startedAt: 'yesterday', status: 'complete', parameters: {}, stages: [], moves: [], summary: {}, errors: [] }), '/queries/0/startedAt', /not an ISO date-time/],
      [(d) => d.queries.push({ id: 'q', startedAt: '2026-01-01T00:00:00Z', status: 'done', parameters: {}, stages: [], moves: [], summary: {}, errors: [] }), '/queries/0/status', /one of running/],
      [(d) => (d.held['1.2']!['1.2.3']!['1.2.3.4']!.file = 7), '/held/1.2/1.2.3/1.2.3.4', /held instance/],
      [(d) => (d.schemaVersion = 2), '/schemaVersion', /newer qrscu/],
      [(d) => delete d.schemaVersion, '/schemaVersion', /must be 1/],
      [(d) => (d.extra = 1), '/extra', /unknown top-level key/],
    ];
    for (const [change, pointer, message] of cases) {
      const d = structuredClone(data) as Raw;
      change(d);
      const text = JSON.stringify(d, null, 2);
      writeFileSync(file, text);
      const e = await caught(() => openDatabase({ home }));
      assert.is(e.pointer, pointer, pointer);
      assert.is(e.file, file);
      assert.match(e.message, message);
      assert.is(readFileSync(file, 'utf8'), text, 'never overwritten');
    }
  } finally {
    cleanup();
  }
});

test('JSON syntax error offsets when the engine names none', () => {
  assert.is(findSyntaxError('[1,2,,3]'), 5);
  assert.is(findSyntaxError('{"a": tru}'), 6);
  assert.is(findSyntaxError('{"a": "x\u0001"}'), 8);
  assert.is(findSyntaxError('{"a": 1} x'), 9);
  assert.is(findSyntaxError('{"a": [1, {"b": "\\u12"}]}'), 18);
  assert.is(findSyntaxError('{"a": [1, {"b": -0.5e3}], "c": null}'), undefined);
  assert.equal(lineColumn('ab\ncd\nef', 7), { line: 3, column: 2 });
});

test('lock: a second writer gets ERR_DB_LOCKED naming the holder; readers are not blocked', async () => {
  const { home, cleanup } = tempHome();
  try {
    const first = await openDatabase({ home, command: 'qrscu pacs store -ct' });
    const e = await caught(() => openDatabase({ home }));
    assert.is(e.code, ErrorCode.DatabaseLocked);
    assert.match(e.message, /already open for writing in this process .*"qrscu pacs store -ct"/);
    assert.is(e.file, path.join(home, 'qrscu.lock'));
    const lock = JSON.parse(readFileSync(path.join(home, 'qrscu.lock'), 'utf8'));
    assert.equal([lock.pid, lock.host, lock.command], [process.pid, hostname(), 'qrscu pacs store -ct']);
    assert.ok(await openDatabase({ home, readOnly: true }));
    await first.close();
    assert.not.ok(existsSync(path.join(home, 'qrscu.lock')));
    const second = await openDatabase({ home });
    await second.close();
  } finally {
    cleanup();
  }
});

test('lock: held by another live process (a real second run) → clear error; free after it exits', async () => {
  const { home, cleanup } = tempHome();
  try {
    const script = `import { openDatabase } from ${JSON.stringify(path.join(ROOT, 'src/db/database.ts'))};
      const db = await openDatabase({ home: ${JSON.stringify(home)}, command: 'qrscu pacs store (child)' });
      process.stdout.write('locked\\n');
      process.stdin.once('data', async () => { await db.close(); process.exit(0); });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      child.on('exit', (c) => reject(new Error(`child exited ${c}`)));
    });
    const e = await caught(() => openDatabase({ home }));
    assert.is(e.code, ErrorCode.DatabaseLocked);
    assert.match(e.message, new RegExp(`pid ${child.pid}\\b`));
    assert.match(e.message, /qrscu pacs store \(child\)/);
    child.stdin.write('x');
    await new Promise((r) => child.on('exit', r));
    const db = await openDatabase({ home });
    await db.close();
  } finally {
    cleanup();
  }
});

test('a run that exits without close() (process.exit) still writes its changes and frees the lock', async () => {
  const { home, cleanup } = tempHome();
  try {
    const script = `import { openDatabase } from ${JSON.stringify(path.join(ROOT, 'src/db/database.ts'))};
      const db = await openDatabase({ home: ${JSON.stringify(home)}, flushDelayMs: 60000 });
      db.addHeld([{ studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4', sopClassUid: 'c', file: '/f.dcm' }]);
      process.exit(3);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    assert.is(r.status, 3, r.stderr);
    assert.equal(readdirSync(home).sort(), ['qrscu.json'], 'no lock, no temp file');
    const db = await openDatabase({ home, readOnly: true });
    assert.ok((await db.heldInstances('1.2'))?.has('1.2.3.4'));
  } finally {
    cleanup();
  }
});

test('overlapping writers in several processes: the lock serialises them, no change is lost, the file stays valid', async () => {
  const { home, cleanup } = tempHome();
  try {
    const writer = (n: number) => `import { openDatabase } from ${JSON.stringify(path.join(ROOT, 'src/db/database.ts'))};
      for (let i = 0; i < 15; i++) {
        for (;;) {
          try {
            const db = await openDatabase({ home: ${JSON.stringify(home)} });
            db.addHeld([{ studyInstanceUid: '1.${n}', seriesInstanceUid: '1.${n}.1', sopInstanceUid: '1.${n}.1.' + i, sopClassUid: 'c', file: '' }]);
            await db.close();
            break;
          } catch (e) {
            if (e.code !== 'ERR_DB_LOCKED') throw e;
            await new Promise((r) => setTimeout(r, 2 + Math.random() * 10));
          }
        }
      }`;
    const children = [1, 2, 3].map((n) => spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writer(n)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] }));
    const codes = await Promise.all(children.map((c) => new Promise((r) => c.on('exit', r))));
    assert.equal(codes, [0, 0, 0]);
    const db = await openDatabase({ home, readOnly: true });
    assert.equal(db.heldCounts(), { studies: 3, series: 3, instances: 45 });
    assert.equal(readdirSync(home).sort(), ['qrscu.json']);
  } finally {
    cleanup();
  }
});

test('lock: a stale lock (dead pid) is taken over with a warning; a crashed lock writer too', async () => {
  const { home, cleanup } = tempHome();
  try {
    const lockFile = path.join(home, 'qrscu.lock');
    const pid = deadPid();
    writeFileSync(lockFile, JSON.stringify({ pid, host: hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'qrscu pacs store' }));
    const warnings: string[] = [];
    const db = await openDatabase({ home, onWarning: (m) => warnings.push(m) });
    assert.match(warnings.join('\n'), new RegExp(`stale lock taken over: process ${pid} \\(qrscu pacs store\\) is no longer running`));
    assert.is(JSON.parse(readFileSync(lockFile, 'utf8')).pid, process.pid);
    await db.close();
    // Empty lock content (its writer died between create and write): stale once old, "starting" while fresh.
    writeFileSync(lockFile, '');
    const fresh = await caught(() => openDatabase({ home }));
    assert.match(fresh.message, /just starting/);
    const { utimesSync } = await import('node:fs');
    utimesSync(lockFile, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const again = await openDatabase({ home });
    await again.close();
    // A live pid that started at another time (reused), or a lock from before a reboot (Linux).
    if (processStartTicks(process.ppid) !== undefined) {
      const live = { pid: process.ppid, host: hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'qrscu old' };
      writeFileSync(lockFile, JSON.stringify({ ...live, processStart: processStartTicks(process.ppid) }));
      assert.match((await caught(() => openDatabase({ home }))).message, new RegExp(`in use by another run: pid ${process.ppid}`));
      writeFileSync(lockFile, JSON.stringify({ ...live, processStart: 1 }));
      const w: string[] = [];
      await (await openDatabase({ home, onWarning: (m) => w.push(m) })).close();
      assert.match(w.join('\n'), /its pid now belongs to another process/);
      writeFileSync(lockFile, JSON.stringify({ ...live, bootId: 'another-boot' }));
      await (await openDatabase({ home, onWarning: (m) => w.push(m) })).close();
      assert.match(w.join('\n'), /before the machine restarted/);
    }
    // Another host's lock cannot be checked: held, with advice.
    writeFileSync(lockFile, JSON.stringify({ pid: 1, host: 'elsewhere.example', startedAt: '2026-01-01T00:00:00Z', command: 'qrscu x' }));
    assert.match((await caught(() => openDatabase({ home }))).message, /on host elsewhere\.example .*delete the lock file/);
  } finally {
    cleanup();
  }
});

test('lock: release only removes our own lock; acquire/release directly', () => {
  const { home, cleanup } = tempHome();
  try {
    const f = path.join(home, 'x.lock');
    const l = acquireLock(f, 'test');
    assert.is(l.info.pid, process.pid);
    writeFileSync(f, 'someone else');
    l.release();
    assert.is(readFileSync(f, 'utf8'), 'someone else');
  } finally {
    cleanup();
  }
});

test.run();
