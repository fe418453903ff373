import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';

const test = suite('cli: pacs serve');
const SNAPSHOT = fileURLToPath(new URL('../fixtures/snapshots/contract-example.json', import.meta.url));

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, line: (t) => void out.push(t), error: (t) => void err.push(t) };
}

test('serves a snapshot: findscu-like queries get its answers, every request is logged on stdout', async () => {
  const served = capture();
  const serving = main(['pacs', 'serve', '--snapshot', SNAPSHOT, '--port', '0', '--max-seconds', '4'], served);
  let port: number | undefined;
  for (let i = 0; i < 100 && port === undefined; i++) {
    const m = served.err.map((l) => /127\.0\.0\.1:(\d+)/.exec(l)).find(Boolean);
    if (m) port = Number(m[1]);
    else await new Promise((r) => setTimeout(r, 30));
  }
  assert.ok(port, 'the simulated PACS printed its port');
  const found = capture();
  assert.is(await main(['find', '127.0.0.1', String(port), '--aec', 'SIMPACS', '-k', 'ModalitiesInStudy=CT', '-k', 'StudyInstanceUID'], found), 0);
  assert.is(found.out.length, 1);
  assert.equal(JSON.parse(found.out[0]!)['0020000D'], { vr: 'UI', Value: ['2.25.1'] });
  assert.is(await serving, 0);
  const log = served.out.map((l) => JSON.parse(l));
  assert.equal(log.map((e) => [e.type, e.level, e.keys.ModalitiesInStudy]), [['C-FIND', 'STUDY', 'CT']]);
});

test('a bad --dest or snapshot is a usage/config error, not a crash', async () => {
  const o = capture();
  assert.is(await main(['pacs', 'serve', '--snapshot', SNAPSHOT, '--port', '0', '--dest', 'nonsense'], o), 2);
  const p = capture();
  assert.is(await main(['pacs', 'serve', '--snapshot', '/nonexistent/snap.json', '--port', '0'], p), 2);
  assert.match(p.err.join('\n'), /snap\.json/);
});

test.run();
