#!/usr/bin/env node
// Entry point of the qrscu executable.

import { hideBin } from 'yargs/helpers';
import { main } from './main.js';

main(hideBin(process.argv)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`qrscu: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
