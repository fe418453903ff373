// `qrscu db index|prune|info`: maintenance of the qrscu database.

import type { CommandModule } from 'yargs';
import { ConfigError, ErrorCode } from '../../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { HomeArgs } from './nodes.js';

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

export function dbCommand(out: Output, done: (code: number) => void): CommandModule<HomeArgs, HomeArgs> {
  return {
    command: 'db',
    describe: 'the qrscu database: index existing DICOM files, prune old query records, show where it is',
    builder: (y) =>
      y
        .command<HomeArgs & { dir: string; 'max-depth': number; 'show-skipped': boolean; json: boolean }>(
          'index <dir>',
          'add the DICOM files under a folder to the index of held objects (so runs do not fetch them again)',
          (g) =>
            g.positional('dir', { type: 'string', demandOption: true, describe: 'a folder of DICOM files (walked recursively)' })
              .option('max-depth', { type: 'number', default: 32, describe: 'deepest sub-folder level walked' })
              .option('show-skipped', { type: 'boolean', default: false, describe: 'name each file skipped, with the reason (stderr)' })
              .option('json', { type: 'boolean', default: false, describe: 'print the counts as JSON' })
              .example('$0 db index /srv/dose', 'objects already stored by an earlier tool')
              .example('$0 db index /srv/dose --show-skipped', 'and say which files were not DICOM') as never,
          async (a) => {
            const { stat } = await import('node:fs/promises');
            try {
              if (!(await stat(a.dir)).isDirectory()) throw new Error('not a folder');
            } catch (e) {
              throw new ConfigError(ErrorCode.Usage, `cannot index ${a.dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as Error).message}`);
            }
            const { openDatabase, resolveHome } = await import('../../db/database.js');
            const { indexFolder } = await import('../../db/index-folder.js');
            const db = await openDatabase({ home: resolveHome(a.home), flushDelayMs: 5000 });
            try {
              const started = Date.now();
              const c = await indexFolder(db, a.dir, { maxDepth: a['max-depth'], ...(a['show-skipped'] ? { onSkip: (f: string, why: string) => out.error(`skipped ${f}: ${why}`) } : {}) });
              await db.write();
              const totals = db.heldCounts();
              if (a.json) out.line(JSON.stringify({ ...c, held: totals, ms: Date.now() - started }));
              else {
                const skipped = c.notDicom + c.missingUids + c.unreadable;
                out.line(`indexed ${a.dir}: ${plural(c.files, 'file')}, ${c.added} added, ${c.alreadyHeld} already held, ${skipped} skipped (not DICOM ${c.notDicom}, without UIDs ${c.missingUids}, unreadable ${c.unreadable})${c.skippedFolders > 0 ? `, ${plural(c.skippedFolders, 'folder')} not entered` : ''}`);
                out.line(`held: ${plural(totals.studies, 'study', 'studies')}, ${totals.series} series, ${plural(totals.instances, 'instance')}`);
              }
            } finally {
              await db.close();
            }
            done(ExitCode.Ok);
          },
        )
        .command<HomeArgs & { 'older-than': string; 'held-older-than'?: string; 'dry-run': boolean }>(
          'prune',
          'remove query records older than a duration (running ones are kept); optionally forget old held objects',
          (g) =>
            g.option('older-than', { type: 'string', demandOption: true, describe: 'query records: e.g. 90d (days), 36h (hours), 2w (weeks)' })
              .option('held-older-than', { type: 'string', describe: 'also forget held objects stored longer ago than this (e.g. 730d); a later query that finds their studies fetches them again' })
              .option('dry-run', { type: 'boolean', default: false, describe: 'say how many would go, change nothing' })
              .example('$0 db prune --older-than 90d', 'keep three months of runs (a daily cron line)')
              .example('$0 db prune --older-than 90d --held-older-than 730d', 'and the index of the last two years')
              .example('$0 db prune --older-than 90d --dry-run', 'count only') as never,
          async (a) => {
            const { openDatabase, parseDuration, resolveHome } = await import('../../db/database.js');
            const olderThanMs = parseDuration(a['older-than']);
            const heldOlderThanMs = a['held-older-than'] !== undefined ? parseDuration(a['held-older-than']) : undefined;
            if (a['dry-run']) {
              const db = await openDatabase({ home: resolveHome(a.home), readOnly: true });
              const cutoff = Date.now() - olderThanMs;
              const n = db.listQueries().filter((q) => q.status !== 'running' && Date.parse(q.startedAt) < cutoff).length;
              out.line(`would remove ${plural(n, 'query record')} started before ${new Date(cutoff).toISOString()}; ${db.queryCount() - n} would be kept`);
              if (heldOlderThanMs !== undefined) {
                // A read-only database cannot prune: count on the side.
                const heldCutoff = Date.now() - heldOlderThanMs;
                let old = 0;
                for (const uid of db.heldStudyUids()) for (const sops of Object.values(db.heldStudy(uid) ?? {})) for (const e of Object.values(sops)) if (Date.parse(e.storedAt) < heldCutoff) old++;
                out.line(`would forget ${plural(old, 'held object')} stored before ${new Date(heldCutoff).toISOString()}; ${db.heldCounts().instances - old} would be kept`);
              }
            } else {
              const db = await openDatabase({ home: resolveHome(a.home) });
              try {
                const r = db.pruneQueries({ olderThanMs });
                out.line(`removed ${plural(r.removed, 'query record')} started before ${r.cutoff}; ${r.kept} kept`);
                if (heldOlderThanMs !== undefined) {
                  const h = db.pruneHeld({ olderThanMs: heldOlderThanMs });
                  out.line(`forgot ${plural(h.removed, 'held object')} stored before ${h.cutoff}; ${h.kept} kept`);
                }
              } finally {
                await db.close();
              }
            }
            done(ExitCode.Ok);
          },
        )
        .command<HomeArgs & { json: boolean }>(
          'info',
          'where the database is, its size and what it holds, and who holds the lock',
          (g) => g.option('json', { type: 'boolean', default: false, describe: 'as JSON' }).example('$0 db info', '') as never,
          async (a) => {
            const { stat } = await import('node:fs/promises');
            const path = await import('node:path');
            const { openDatabase, resolveHome, LOCK_FILE } = await import('../../db/database.js');
            const { lockOwner } = await import('../../db/lock.js');
            const db = await openDatabase({ home: resolveHome(a.home), readOnly: true });
            const size = await stat(db.file).then((s) => s.size, () => 0);
            const lock = lockOwner(path.join(db.home, LOCK_FILE));
            const info = { home: db.home, file: db.file, bytes: size, qrNodes: db.qrNodes().length, storeNodes: db.storeNodes().length, queries: db.queryCount(), held: db.heldCounts(), lock: lock ?? null };
            if (a.json) out.line(JSON.stringify(info, null, 2));
            else {
              out.line(`home:     ${info.home}`);
              out.line(`database: ${info.file} (${size === 0 ? 'not created yet' : `${(size / 1024).toFixed(1)} KiB`})`);
              out.line(`nodes:    ${info.qrNodes} QR, ${info.storeNodes} store`);
              out.line(`queries:  ${info.queries}`);
              out.line(`held:     ${info.held.studies} studies, ${info.held.series} series, ${info.held.instances} instances`);
              out.line(`lock:     ${lock ? `pid ${lock.pid} on ${lock.host} since ${lock.startedAt}: ${lock.command}` : 'free'}`);
            }
            done(ExitCode.Ok);
          },
        )
        .demandCommand(1, 'Name a db command (see qrscu db --help).') as never,
    handler: () => undefined,
  };
}
