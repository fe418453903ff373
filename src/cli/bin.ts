#!/usr/bin/env node
// Entry point of the qrscu executable.

import { hideBin } from 'yargs/helpers';
import { main } from './main.js';

// `qrscu dump … | head`: a closed pipe ends the output quietly, as for any Unix filter.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`qrscu: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
