// The root `--help` cache (src/cli/help-cache.ts, written by scripts/gen-help.mjs at build time) prints
// exactly what yargs prints, and only when it certainly matches: one argument --help/-h, an English
// locale, a cached width, and a stamp equal to the compiled CLI modules.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.js';
import { cachedRootHelp, helpStamp, helpWidth, HELP_CACHE_FILE, HELP_WIDTHS } from '../../src/cli/help-cache.js';

const test = suite('cli: start-up, the --help cache');

/** What main(['--help']) writes to stdout with this many terminal columns (undefined: a pipe). */
async function yargsHelp(columns: number | undefined): Promise<string> {
  const saved = Object.getOwnPropertyDescriptor(process.stdout, 'columns');
  const write = process.stdout.write;
  let text = '';
  Object.defineProperty(process.stdout, 'columns', { value: columns, configurable: true, writable: true });
  process.stdout.write = ((chunk: string | Uint8Array) => { text += String(chunk); return true; }) as typeof process.stdout.write;
  try {
    assert.is(await main(['--help']), 0);
  } finally {
    process.stdout.write = write;
    if (saved) Object.defineProperty(process.stdout, 'columns', saved);
    else delete (process.stdout as { columns?: number }).columns;
  }
  return text;
}

const cliDir = path.dirname(fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url)));
let dir = '';
const texts: Record<string, string> = {};

test.before(async () => {
  // A copy of the CLI modules' folder (the stamp reads their bytes) with a cache rendered by yargs.
  dir = mkdtempSync(path.join(tmpdir(), 'qrscu-help-'));
  mkdirSync(path.join(dir, 'commands'));
  for (const f of ['main.ts', 'options.ts', 'help-cache.ts']) copyFileSync(path.join(cliDir, f), path.join(dir, f));
  copyFileSync(path.join(cliDir, 'commands', 'nodes.ts'), path.join(dir, 'commands', 'nodes.ts'));
  for (const w of HELP_WIDTHS) texts[w] = await yargsHelp(w === 100 ? undefined : w);
  writeFileSync(path.join(dir, HELP_CACHE_FILE), JSON.stringify({ stamp: helpStamp(dir, '.ts'), text: texts }));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const EN = { LANG: 'en_US.UTF-8' };

test('the cached text is what yargs prints, for each width and for -h', async () => {
  assert.ok(texts['100']!.includes('qrscu <command> [options]'));
  assert.is(cachedRootHelp(['--help'], EN, undefined, dir), await yargsHelp(undefined));
  assert.is(cachedRootHelp(['-h'], EN, 200, dir), await yargsHelp(200));
  assert.is(cachedRootHelp(['--help'], {}, 80, dir), await yargsHelp(80));
  assert.is(helpWidth(undefined), 100);
  assert.is(helpWidth(300), 110);
});

test('anything else goes to yargs: other arguments, other locales, other widths, a stale stamp, QRSCU_HELP_CACHE=0', () => {
  assert.is(cachedRootHelp(['echo', '--help'], EN, undefined, dir), undefined);
  assert.is(cachedRootHelp(['--help', '--verbose'], EN, undefined, dir), undefined);
  assert.is(cachedRootHelp(['--help'], { LANG: 'de_DE.UTF-8' }, undefined, dir), undefined);
  assert.is(cachedRootHelp(['--help'], { LC_ALL: 'fr_FR', LANG: 'en_US' }, undefined, dir), undefined);
  assert.ok(cachedRootHelp(['--help'], { LANG: 'C.UTF-8' }, undefined, dir));
  assert.is(cachedRootHelp(['--help'], EN, 90, dir), undefined);
  assert.is(cachedRootHelp(['--help'], { ...EN, QRSCU_HELP_CACHE: '0' }, undefined, dir), undefined);
  // Every module's bytes count: an edit that keeps the size is seen.
  const main = readFileSync(path.join(dir, 'main.ts'), 'utf8');
  writeFileSync(path.join(dir, 'main.ts'), main.replace("scriptName('qrscu')", "scriptName('qrscv')"));
  assert.is(cachedRootHelp(['--help'], EN, undefined, dir), undefined, 'an edit of main that keeps its size invalidates the cache');
  writeFileSync(path.join(dir, 'main.ts'), main);
  assert.ok(cachedRootHelp(['--help'], EN, undefined, dir), 'and undoing it makes the cache valid again');
  writeFileSync(path.join(dir, 'options.ts'), '// changed\n', { flag: 'a' });
  assert.is(cachedRootHelp(['--help'], EN, undefined, dir), undefined, 'a changed module invalidates the cache');
  assert.is(cachedRootHelp(['--help'], EN, undefined, path.join(dir, 'missing')), undefined);
});

test('a bundled folder: the entry modules by their bytes, the chunks by their names (a hash of their contents); tsc leftovers do not count', () => {
  const b = mkdtempSync(path.join(tmpdir(), 'qrscu-help-bundle-'));
  try {
    for (const [f, text] of [['bin.js', 'bin'], ['help-cache.js', 'cache'], ['main.js', 'import "./chunk-AAAA.js"'], ['chunk-AAAA.js', 'a'], ['options.js', 'tsc output']]) writeFileSync(path.join(b, f), text);
    const before = helpStamp(b);
    assert.match(before, /chunk-AAAA\.js/);
    writeFileSync(path.join(b, 'options.js'), 'another tsc output');
    assert.is(helpStamp(b), before, 'a module beside the bundle is not run: not counted');
    rmSync(path.join(b, 'chunk-AAAA.js'));
    writeFileSync(path.join(b, 'chunk-BBBB.js'), 'b');
    assert.is.not(helpStamp(b), before, 'a chunk with other contents has another name');
    writeFileSync(path.join(b, 'main.js'), 'import "./chunk-BBBB.js"');
    const after = helpStamp(b);
    writeFileSync(path.join(b, 'main.js'), 'import "./chunk-BBBC.js"');
    assert.is.not(helpStamp(b), after, 'main.js counts by its bytes');
  } finally {
    rmSync(b, { recursive: true, force: true });
  }
});

test.run();
