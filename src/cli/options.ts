// Command-line options and their argument types, kept apart from the commands so that `--help`
// and argument errors load no codec or network module (start-up time).

import type { Argv } from 'yargs';

export interface DumpArgs {
  files: string[];
  json: boolean;
  'max-length': number;
}

export function dumpBuilder(y: Argv): Argv<DumpArgs> {
  return y
    .positional('files', { type: 'string', array: true, demandOption: true, describe: 'DICOM Part-10 files' })
    .option('json', { type: 'boolean', default: false, describe: 'print the DICOM JSON model (PS3.18 Annex F), one object per file' })
    .option('max-length', { type: 'number', default: 64, describe: 'cut values longer than this many characters (0: never)' })
    .example('$0 dump study/*.dcm', 'dump every file like dcmdump')
    .example('$0 dump --json rdsr.dcm | jq .', 'the DICOM JSON model') as unknown as Argv<DumpArgs>;
}

export interface PeerArgs {
  host: string;
  port: number;
  aet: string;
  aec: string;
  'timeout-ms': number;
  'max-pdu': number;
}

export function peerOptions(y: Argv): Argv<PeerArgs> {
  return y
    .positional('host', { type: 'string', demandOption: true, describe: 'peer host (loopback or your PACS)' })
    .positional('port', { type: 'number', describe: 'peer port (omit it when <host> is a configured QR node id)' })
    .option('aet', { type: 'string', default: 'QRSCU', describe: 'our (calling) AE title' })
    .option('aec', { type: 'string', default: 'ANY-SCP', describe: "the peer's (called) AE title" })
    .option('timeout-ms', { type: 'number', default: 60000, describe: 'DIMSE timeout per response (ms); connect 10 s, ARTIM 30 s' })
    .option('max-pdu', { type: 'number', default: 65536, describe: 'maximum P-DATA length we receive' }) as unknown as Argv<PeerArgs>;
}
