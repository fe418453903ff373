// `qrscu dump FILE…`: print DICOM files like dcmtk's dcmdump, or as the DICOM JSON model.

import { readFile } from 'node:fs/promises';
import { DatasetError } from '../../errors.js';
import { datasetToJson, dumpDataset, readPart10, TransferSyntaxUid } from '../../dicom/index.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { DumpArgs } from '../options.js';


/** dcmdump's names of the native transfer syntaxes (others are printed as their UID). */
const SYNTAX_NAMES: Readonly<Record<string, string>> = {
  [TransferSyntaxUid.ImplicitVrLittleEndian]: 'Little Endian Implicit',
  [TransferSyntaxUid.ExplicitVrLittleEndian]: 'Little Endian Explicit',
  [TransferSyntaxUid.ExplicitVrBigEndian]: 'Big Endian Explicit',
  [TransferSyntaxUid.DeflatedExplicitVrLittleEndian]: 'Deflated Explicit VR Little Endian',
};

/** Dump each file; a file that cannot be read is reported with its offset and makes the exit code non-zero. */
export async function runDump(args: DumpArgs, out: Output): Promise<ExitCode> {
  // yargs still runs this handler after it reported a usage error (main's fail() does not throw), so
  // `qrscu dump` without files must not end with exit code 0.
  if (args.files.length === 0) return ExitCode.Usage;
  let code: ExitCode = ExitCode.Ok;
  for (const file of args.files) {
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch (e) {
      out.error(`${file}: cannot read: ${(e as Error).message}`);
      code = ExitCode.InvalidInput;
      continue;
    }
    try {
      const f = readPart10(buf, { partial: true });
      if (args.json) {
        out.line(JSON.stringify(datasetToJson(f.dataset)));
      } else {
        if (args.files.length > 1) out.line(`# ${file}`);
        out.line('');
        out.line('# Dicom-File-Format');
        out.line('');
        out.line('# Dicom-Meta-Information-Header');
        out.line('# Used TransferSyntax: Little Endian Explicit');
        for (const l of dumpDataset(f.meta, { maxValueLength: args['max-length'] })) out.line(l);
        out.line('');
        out.line('# Dicom-Data-Set');
        out.line(`# Used TransferSyntax: ${SYNTAX_NAMES[f.transferSyntax.uid] ?? f.transferSyntax.uid}`);
        for (const l of dumpDataset(f.dataset, { maxValueLength: args['max-length'] })) out.line(l);
      }
      for (const w of f.warnings) out.error(`${file}: warning: ${w.message}${w.tag ? ` ${w.tag}` : ''}${w.offset !== undefined ? ` at offset ${w.offset}` : ''}`);
      if (f.error) {
        out.error(`${file}: error: ${f.error.message} [${f.error.code}]`);
        code = ExitCode.InvalidInput;
      }
    } catch (e) {
      if (!(e instanceof DatasetError)) throw e;
      out.error(`${file}: error: ${e.message} [${e.code}]`);
      code = ExitCode.InvalidInput;
    }
  }
  return code;
}

