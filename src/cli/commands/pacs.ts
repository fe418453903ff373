// `qrscu pacs serve`: the simulated PACS answering from a snapshot or a folder of files, in the foreground.

import { loadSnapshot } from '../../pacs/snapshot.js';
import { parseDestination, startSimulatedPacs, type SimulatedPacsQuirks } from '../../pacs/simulated.js';
import { ConfigError, ErrorCode } from '../../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { waitForStop } from './net.js';

export interface ServeArgs {
  snapshot: string | undefined;
  files: string | undefined;
  port: number;
  aet: string | undefined;
  dest: string[];
  log: string | undefined;
  'max-seconds': number;
  'ignore-modalities-in-study': boolean;
  'omit-sop-class-uid': boolean;
  'omit-related-counts': boolean;
  'unknown-destination-status': string | undefined;
  'find-limit': number | undefined;
  'known-aet': string[] | undefined;
  'check-called-aet': boolean;
  'never-answer': boolean;
  'pn-case-insensitive': boolean;
  'combined-date-time': boolean;
}

function quirksOf(a: ServeArgs): SimulatedPacsQuirks {
  const q: { -readonly [K in keyof SimulatedPacsQuirks]: SimulatedPacsQuirks[K] } = {};
  if (a['ignore-modalities-in-study']) q.ignoreModalitiesInStudy = true;
  if (a['omit-sop-class-uid']) q.omitSopClassUid = true;
  if (a['omit-related-counts']) q.omitRelatedCounts = true;
  if (a['unknown-destination-status'] !== undefined) {
    const s = a['unknown-destination-status'];
    if (!/^(0x)?[0-9A-Fa-f]{4}$/.test(s)) throw new ConfigError(ErrorCode.Usage, `--unknown-destination-status ${s}: expected 4 hex digits, e.g. C000`);
    q.unknownDestinationStatus = parseInt(s.replace(/^0x/, ''), 16);
  }
  if (a['find-limit'] !== undefined) q.findResultLimit = a['find-limit'];
  if (a['known-aet']) q.knownCallingAeTitles = a['known-aet'];
  if (a['check-called-aet']) q.checkCalledAeTitle = true;
  if (a['never-answer']) q.neverAnswer = true;
  if (a['pn-case-insensitive']) q.caseInsensitivePersonName = true;
  if (a['combined-date-time']) q.combinedDateTime = true;
  return q;
}

export async function runServe(a: ServeArgs, out: Output): Promise<ExitCode> {
  if ((a.snapshot === undefined) === (a.files === undefined)) throw new ConfigError(ErrorCode.Usage, 'give exactly one of --snapshot FILE and --files DIR');
  const pacs = await startSimulatedPacs({
    ...(a.snapshot !== undefined ? { snapshot: loadSnapshot(a.snapshot) } : { files: a.files! }),
    port: a.port,
    ...(a.aet ? { aeTitle: a.aet } : {}),
    destinations: Object.fromEntries(a.dest.map(parseDestination)),
    ...(a.log ? { requestLogFile: a.log } : {}),
    onRequest: (e) => out.line(JSON.stringify(e)),
    quirks: quirksOf(a),
  });
  if (pacs.index) {
    for (const s of pacs.index.skipped) out.error(`skipped ${s.file}: ${s.reason}`);
    out.error(`simulated PACS ${pacs.aeTitle} on 127.0.0.1:${pacs.port} serving ${pacs.index.instances.size} files (${pacs.index.studies.size} studies) from ${a.files}; Ctrl-C stops it`);
  } else {
    out.error(`simulated PACS ${pacs.aeTitle} on 127.0.0.1:${pacs.port} answering from ${a.snapshot}; Ctrl-C stops it`);
  }
  await waitForStop(a['max-seconds']);
  await pacs.close();
  return ExitCode.Ok;
}
