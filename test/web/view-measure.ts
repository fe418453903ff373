// The web page over a large database: a year of hourly runs (8,760 query records, ~115 MiB), one
// admin; the time of GET /history and GET /nodes, the first (the file is read) and the next ones (the
// server answers from what it read while the file is unchanged), then after another run changed it.
// Usage: node --import tsx test/web/view-measure.ts [records]

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashPassword, openDatabase } from '../../src/db/index.js';
import { serializeDatabase } from '../../src/db/file.js';
import { startWebServer } from '../../src/web/server.js';
import { hourlyRuns } from '../db/records.js';
import { logIn } from '../support/web.js';

const count = Number(process.argv[2] ?? 8760);
const home = mkdtempSync(path.join(tmpdir(), 'qrscu-view-'));
try {
  const { data } = hourlyRuns(count, Date.now());
  data.users = [{ name: 'ada', role: 'admin', passwordHash: await hashPassword('password-1'), createdAt: new Date().toISOString() }];
  const file = path.join(home, 'qrscu.json');
  writeFileSync(file, serializeDatabase(data));
  console.log(`${count} query records: ${(statSync(file).size / 2 ** 20).toFixed(1)} MiB`);
  const web = await startWebServer({ home, port: 0 });
  try {
    const session = await logIn(web.url, 'ada', 'password-1');
    const get = async (p: string): Promise<number> => {
      const t = performance.now();
      const r = await fetch(`${web.url}${p}`, { headers: { cookie: session } });
      await r.text();
      if (r.status !== 200) throw new Error(`${p}: ${r.status}`);
      return performance.now() - t;
    };
    const row = async (label: string) => {
      const times = [await get('/history'), await get('/history'), await get('/nodes'), await get('/nodes')];
      console.log(`${label}: GET /history ${times[0]!.toFixed(0)} ms, again ${times[1]!.toFixed(0)} ms; GET /nodes ${times[2]!.toFixed(0)} ms, again ${times[3]!.toFixed(0)} ms`);
    };
    await row('first views (after the login read the file)');
    const cron = await openDatabase({ home });
    cron.addQrNode({ id: 'pacs2', aeTitle: 'PACS2', host: '127.0.0.1', port: 104 });
    await cron.close();
    await row('after another run wrote the file');
  } finally {
    await web.close();
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
