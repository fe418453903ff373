// `qrscu replay FILE.pcap`: play the SCP side of a recorded session (and the store sub-associations of
// its C-MOVEs towards --store-port) on 127.0.0.1, reporting where the client departs from the recording.

import { readFileSync } from 'node:fs';
import { isDicomError } from '../../errors.js';
import { readCapture } from '../../pcap/index.js';
import { startReplay, type Divergence } from '../../pcap/replay.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface ReplayArgs {
  file: string;
  port: number;
  'store-port'?: number | undefined;
  'store-host'?: string | undefined;
  /** Give up after this many seconds (0: no limit); default 600. */
  'max-seconds'?: number | undefined;
  /** Called with the listening port once bound (tests; the port is also printed on stderr). */
  onListening?: ((port: number) => void) | undefined;
}

function describeDivergence(d: Divergence): string[] {
  return [
    `divergence in ${d.side === 'scp' ? 'association' : 'store sub-association'} ${d.association}, PDU ${d.pdu}: ${d.reason}`,
    `  recorded: ${d.expected}`,
    `  received: ${d.actual}`,
  ];
}

/** Exit 0 when the client followed the recording, 6 for an unreadable capture, 3 on a divergence or timeout. */
export async function runReplay(a: ReplayArgs, out: Output): Promise<ExitCode> {
  let replay;
  try {
    const { streams, warnings } = readCapture(readFileSync(a.file));
    for (const w of warnings) out.error(`${a.file}: ${w}`);
    replay = await startReplay({
      capture: streams,
      port: a.port,
      ...(a['store-port'] !== undefined ? { storeTarget: { host: a['store-host'] ?? '127.0.0.1', port: a['store-port'] } } : {}),
      onAssociation: (e) => out.line(`${e.side === 'scp' ? 'association' : 'store sub-association'} ${e.association}: ${e.ok ? 'played' : 'stopped'} (${e.pdus} client PDUs recorded)`),
      onDivergence: (d) => describeDivergence(d).forEach((l) => out.line(l)),
    });
  } catch (e) {
    if (isDicomError(e) && (e.code === 'ERR_PCAP_INVALID' || e.code === 'ERR_PCAP_TRUNCATED')) {
      out.error(`qrscu: ${a.file}: ${e.message} [${e.code}]`);
      return ExitCode.InvalidInput;
    }
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') {
      out.error(`qrscu: ${a.file}: ${(e as Error).message}`);
      return ExitCode.InvalidInput;
    }
    throw e;
  }
  for (const w of replay.warnings) out.error(`${a.file}: ${w}`);
  out.error(`replay of ${a.file} listening on 127.0.0.1:${replay.port}`);
  if (a['store-port'] === undefined && replay.storeAssociations > 0) {
    out.error(`replay: the capture holds ${replay.storeAssociations} store sub-association(s); without --store-port they are not played`);
  }
  a.onListening?.(replay.port);
  const seconds = a['max-seconds'] ?? 600;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (seconds > 0) timer = setTimeout(() => resolve('timeout'), seconds * 1000);
  });
  const result = await Promise.race([replay.done(), timedOut]);
  if (timer) clearTimeout(timer);
  await replay.close();
  if (result === 'timeout') {
    out.error(`qrscu: replay: not every recorded association was played within ${seconds} s`);
    return ExitCode.Network;
  }
  out.error(`replay: ${result.played}/${result.associations} associations and ${result.storePlayed}/${result.storeAssociations} store sub-associations played, ${result.divergences.length} divergence(s)`);
  return result.divergences.length > 0 || result.played < result.associations ? ExitCode.Network : ExitCode.Ok;
}
