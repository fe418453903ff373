// The qrscu command: yargs root. One catch maps errors to exit codes; nothing else in src/ exits.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isDicomError } from '../errors.js';
import { dumpBuilder, runDump, type DumpArgs } from './commands/dump.js';
import { ExitCode } from './exit-codes.js';
import { createOutput, type Output } from './output.js';

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], out: Output = createOutput()): Promise<number> {
  let code: number = ExitCode.Ok;
  const parser = yargs(argv)
    .scriptName('qrscu')
    .usage('$0 <command> [options]\n\nDICOM query/retrieve for radiation-dose objects.')
    .command<DumpArgs>('dump <files..>', 'print DICOM files like dcmdump (or --json)', dumpBuilder, async (args) => {
      code = await runDump(args, out);
    })
    .demandCommand(1, 'Name a command (see --help).')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      out.error(`qrscu: ${msg}`);
      out.error('Run qrscu --help for usage.');
      code = ExitCode.Usage;
    });
  try {
    await parser.parseAsync();
  } catch (e) {
    if (isDicomError(e)) {
      out.error(`qrscu: ${e.message} [${e.code}]`);
      return ExitCode.Unexpected;
    }
    out.error(`qrscu: unexpected error: ${(e as Error)?.stack ?? String(e)}`);
    return ExitCode.Unexpected;
  }
  return code;
}
