// The prune measurement: a year of hourly runs (8,760 realistic query records) in one database, then
// open + prune --older-than 90d + write, timed. Also a run's open/write/close before and after.
// Usage: node --expose-gc --import tsx test/db/prune-measure.ts [records]

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/db/database.js';
import { serializeDatabase } from '../../src/db/file.js';
import { hourlyRuns, realisticMoves, realisticParameters, realisticSelection } from './records.js';

const count = Number(process.argv[2] ?? 8760);
const home = mkdtempSync(path.join(tmpdir(), 'qrscu-prune-'));
const file = path.join(home, 'qrscu.json');
const now = Date.now();
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const time = async <T>(fn: () => Promise<T> | T): Promise<[T, number]> => {
  const t = performance.now();
  const v = await fn();
  return [v, performance.now() - t];
};

try {
  const { data, heldCount } = hourlyRuns(count, now);
  const { queries } = data;
  writeFileSync(file, serializeDatabase(data));
  const before = statSync(file).size;
  const studies = queries.reduce((n, q) => n + (q.selection?.studies.length ?? 0), 0);
  console.log(`${count} query records (${studies} studies) and ${heldCount} held objects: ${mib(before)}`);

  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  {
    const [ro, tRo] = await time(() => openDatabase({ home, readOnly: true }));
    console.log(`open read-only (queries list):  ${tRo.toFixed(0)} ms (${ro.queryCount()} records)`);
  }
  gc();

  const [db, tOpen] = await time(() => openDatabase({ home }));
  const [r, tPrune] = await time(() => db.pruneQueries({ olderThanMs: 90 * 86_400_000 }));
  const [, tWrite] = await time(() => db.close());
  const after = statSync(file).size;
  console.log(`open (lock + read + check):     ${tOpen.toFixed(0)} ms`);
  console.log(`prune --older-than 90d:         ${tPrune.toFixed(0)} ms (${r.removed} removed, ${r.kept} kept)`);
  console.log(`write (atomic, fsync):          ${tWrite.toFixed(0)} ms → ${mib(after)}`);
  console.log(`open + prune + write:           ${(tOpen + tPrune + tWrite).toFixed(0)} ms`);
  const { readFileSync } = await import('node:fs');
  const [text, tRead] = await time(() => readFileSync(file, 'utf8'));
  const [, tParse] = await time(() => JSON.parse(text));
  console.log(`(machine reference: readFileSync ${tRead.toFixed(0)} ms + JSON.parse ${tParse.toFixed(0)} ms of the pruned ${mib(after)} file; load ${(await import('node:os')).loadavg()[0]!.toFixed(1)} on ${(await import('node:os')).cpus().length} CPUs)`);

  gc();
  const [db2, tOpen2] = await time(() => openDatabase({ home }));
  const q = db2.createQuery({ parameters: realisticParameters() });
  db2.updateQuery(q.id, { selection: realisticSelection(1, 12) });
  const [, tW2] = await time(() => db2.write());
  db2.finishQuery(q.id, 'complete', { moves: realisticMoves(realisticSelection(1, 12), new Date().toISOString()) });
  const [, tW3] = await time(() => db2.write());
  const [, tClose] = await time(() => db2.close());
  console.log(`after prune, a run: open ${tOpen2.toFixed(0)} ms, first write ${tW2.toFixed(0)} ms, next write ${tW3.toFixed(0)} ms, close ${tClose.toFixed(0)} ms`);
  const [db3, tRo3] = await time(() => openDatabase({ home, readOnly: true }));
  const [list, tList] = await time(() => db3.listQueries({ limit: 20 }));
  const [, tShow] = await time(() => db3.getQuery(list[0]!.id));
  console.log(`queries list after prune: open ${tRo3.toFixed(0)} ms, list ${tList.toFixed(0)} ms, show ${tShow.toFixed(1)} ms`);
} finally {
  rmSync(home, { recursive: true, force: true });
}
