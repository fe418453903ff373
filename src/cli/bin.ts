#!/usr/bin/env node
// Entry point of the qrscu executable.

import { cachedRootHelp } from './help-cache.js';

// `qrscu dump … | head`: a closed pipe ends the output quietly, as for any Unix filter.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// `qrscu --help`: the text yargs rendered at build time, when it certainly matches (help-cache.ts);
// everything else loads yargs and the CLI.
const argv = process.argv.slice(2);
const help = cachedRootHelp(argv, process.env, process.stdout.isTTY ? process.stdout.columns : undefined);
if (help !== undefined) {
  process.stdout.write(help);
} else {
  const { main } = await import('./main.js');
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`qrscu: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
