#!/usr/bin/env node
// After tsc: bundle the CLI that tsc wrote into dist/cli/ (main.js and everything it imports, our
// modules and the runtime dependencies) into dist/cli/main.js plus chunks next to it, with esbuild.
// Usage: node scripts/bundle.mjs [dist/cli]
//
// Why (issue 8, start-up): Node resolves, reads and compiles each of the ~150 modules of a run
// separately — ~110 ms of a 100-study retrieve. One file per lazily loaded command (code splitting)
// keeps `qrscu echo` from compiling the web server or the pcap reader.
//
// What the bundle must keep working, and how:
// - files found relative to a module (the TCP_QUICKACK addon `../../native/…`, the built-in `rules/`,
//   package.json for --version, help.json): every chunk is written into dist/cli/, the same depth as
//   tsc's modules, so `../../` is still the package root;
// - CommonJS dependencies calling require() for Node built-ins (debug): each chunk gets a `require`
//   made by createRequire;
// - string-width (through yargs and cliui) creates an Intl.Segmenter when it is imported: ~21 ms of
//   ICU loading for every command, although only help text is ever measured. The segmenter is made
//   on first use instead (see lazySegmenter below); nothing else in those files changes.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const dir = path.resolve(process.argv[2] ?? 'dist/cli');
const entry = path.join(dir, 'main.js');
if (!existsSync(entry)) throw new Error(`bundle: ${entry} is missing (run tsc first)`);
const BANNER = "import { createRequire as qrscuCreateRequire } from 'node:module'; const require = qrscuCreateRequire(import.meta.url);";
if (readFileSync(entry, 'utf8').startsWith(BANNER)) throw new Error(`bundle: ${entry} is a bundle already (run tsc first)`);

// Chunks of an earlier bundle (their names change with their contents).
for (const name of readdirSync(dir)) if (/^chunk-.*\.js(\.map)?$/.test(name)) rmSync(path.join(dir, name));

const EAGER = 'const segmenter = new Intl.Segmenter();';
const LAZY = 'let eagerSegmenter; const segmenter = { segment: (text) => (eagerSegmenter ??= new Intl.Segmenter()).segment(text) };';
let patched = 0;

/** string-width's import-time Intl.Segmenter, made on first use. */
const lazySegmenter = {
  name: 'lazy-segmenter',
  setup(b) {
    b.onLoad({ filter: /[\\/]string-width[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(EAGER)) return undefined;
      patched++;
      return { contents: source.replace(EAGER, LAZY), loader: 'js' };
    });
  },
};

const result = await build({
  entryPoints: [entry],
  outdir: dir,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  allowOverwrite: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: BANNER },
  plugins: [lazySegmenter],
  metafile: true,
});
const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
console.log(`bundle: ${path.relative(process.cwd(), entry)} and ${outputs.length - 1} chunks, ${(bytes / 1024).toFixed(0)} KB; string-width segmenters made lazy: ${patched}`);
