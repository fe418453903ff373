#!/usr/bin/env node
// After tsc: render `qrscu --help` with yargs for each width the cache holds and write
// <dir>/help.json (see src/cli/help-cache.ts). Usage: node scripts/gen-help.mjs [dist/cli]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = path.resolve(process.argv[2] ?? 'dist/cli');
const cache = await import(pathToFileURL(path.join(dir, 'help-cache.js')).href);
const { main } = await import(pathToFileURL(path.join(dir, 'main.js')).href);

/** What `qrscu --help` writes to stdout on a terminal of `columns` (undefined: not a terminal). */
async function render(columns) {
  const saved = Object.getOwnPropertyDescriptor(process.stdout, 'columns');
  const write = process.stdout.write;
  let text = '';
  Object.defineProperty(process.stdout, 'columns', { value: columns, configurable: true, writable: true });
  process.stdout.write = (chunk, ...rest) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const cb = rest.find((r) => typeof r === 'function');
    if (cb) cb();
    return true;
  };
  try {
    const code = await main(['--help']);
    if (code !== 0) throw new Error(`qrscu --help exited ${code}`);
  } finally {
    process.stdout.write = write;
    if (saved) Object.defineProperty(process.stdout, 'columns', saved);
    else delete process.stdout.columns;
  }
  return text;
}

const env = { ...process.env };
for (const k of ['LC_ALL', 'LC_MESSAGES', 'LANG', 'LANGUAGE']) delete process.env[k];
const text = {};
for (const width of cache.HELP_WIDTHS) text[width] = await render(width === 100 ? undefined : width);
Object.assign(process.env, env);
writeFileSync(path.join(dir, cache.HELP_CACHE_FILE), `${JSON.stringify({ stamp: cache.helpStamp(dir, '.js'), text })}\n`);
console.log(`gen-help: ${path.join(dir, cache.HELP_CACHE_FILE)} (${cache.HELP_WIDTHS.join(', ')} columns)`);
