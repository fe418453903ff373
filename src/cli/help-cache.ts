// `qrscu --help` without loading yargs: the root help text is rendered by yargs itself at build time
// (scripts/gen-help.mjs, after tsc) into help.json next to this module, for the widths yargs would
// use, and printed from there. Loading yargs, cliui and string-width costs more than the rest of the
// start-up (issue 8); the text is the same bytes (test/cli/startup.test.ts).
//
// The cache is used only when it certainly matches what yargs would print: exactly one argument,
// `--help` or `-h`; an English (or C/POSIX/unset) locale, as yargs detects it; a width it holds; and
// a stamp of the CLI's compiled modules (helpStamp: contents and sizes, not times: npm packs every
// file with the same date) equal to the one written with the text, so any rebuild without regenerating
// it falls back to yargs. QRSCU_HELP_CACHE=0 turns it off.
// Only node:fs here: this module is loaded by bin.ts before anything else.

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const HELP_CACHE_FILE = 'help.json';
/** Widths the cache holds: yargs wraps at min(110, columns || 100) (main.ts). */
export const HELP_WIDTHS: readonly number[] = [80, 100, 110];

export interface HelpCache {
  readonly stamp: string;
  readonly text: Readonly<Record<string, string>>;
}

/** The width main.ts gives yargs for this terminal (100 when not a terminal). */
export function helpWidth(columns: number | undefined): number {
  return Math.min(110, columns || 100);
}

/** The locale yargs would detect (its own rule), without encoding. */
function yargsLocale(env: NodeJS.ProcessEnv): string {
  return (env.LC_ALL || env.LC_MESSAGES || env.LANG || env.LANGUAGE || 'en_US').replace(/[.:].*/, '');
}

/** FNV-1a of `bytes`, taken four at a time (platform byte order), then the odd tail byte by byte. */
function fnv(bytes: Buffer): string {
  const whole = bytes.length & ~3;
  const words = bytes.byteOffset % 4 === 0
    ? new Uint32Array(bytes.buffer, bytes.byteOffset, whole >> 2)
    : new Uint32Array(Uint8Array.prototype.slice.call(bytes, 0, whole).buffer);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
  for (let i = whole; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return (h >>> 0).toString(16);
}

/**
 * The stamp of the CLI's compiled modules in `dir` (their own extension only: `.js` in dist/).
 * Bundled (scripts/bundle.mjs wrote chunk-*.js next to main.js, as in dist/cli): name, size and hash
 * of bin, help-cache and main, and the names of the chunks. That is exact: main.js holds the whole
 * command tree and names each chunk it loads, and a chunk's name is a hash of its contents; the
 * modules tsc left beside them are not run. ~4 ms. Not bundled (src/cli, a bare tsc build): name,
 * size and hash of every module in `dir` and `dir/commands`.
 */
export function helpStamp(dir: string, ext = '.js'): string {
  const list = (sub: string): string[] => {
    try {
      return readdirSync(`${dir}/${sub}`).filter((n) => n.endsWith(ext)).sort();
    } catch {
      return [];
    }
  };
  const top = list('');
  const chunks = top.filter((n) => n.startsWith('chunk-'));
  const hashed = chunks.length > 0
    ? top.filter((n) => ['bin', 'help-cache', 'main'].includes(n.slice(0, -ext.length)))
    : [...top, ...list('commands/').map((n) => `commands/${n}`)];
  const parts = hashed.map((n) => {
    const bytes = readFileSync(`${dir}/${n}`);
    return `${n}:${bytes.length}:${fnv(bytes)}`;
  });
  return [...parts, ...chunks].join(';');
}

/** The cached root help for these arguments and this terminal, or undefined (then ask yargs). */
export function cachedRootHelp(argv: readonly string[], env: NodeJS.ProcessEnv, columns: number | undefined, dir = fileURLToPath(new URL('.', import.meta.url))): string | undefined {
  if (argv.length !== 1 || (argv[0] !== '--help' && argv[0] !== '-h')) return undefined;
  if (env.QRSCU_HELP_CACHE === '0') return undefined;
  if (!/^(en([_-].*)?|C|POSIX)$/.test(yargsLocale(env))) return undefined;
  let cache: HelpCache;
  try {
    cache = JSON.parse(readFileSync(`${dir}/${HELP_CACHE_FILE}`, 'utf8')) as HelpCache;
  } catch {
    return undefined;
  }
  const text = cache.text?.[String(helpWidth(columns))];
  if (typeof text !== 'string') return undefined;
  const ext = fileURLToPath(import.meta.url).endsWith('.ts') ? '.ts' : '.js';
  return cache.stamp === helpStamp(dir, ext) ? text : undefined;
}
