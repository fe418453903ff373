// `qrscu echo | find | move | store`: the DIMSE stack from the command line, like dcmtk's echoscu,
// findscu, movescu and storescp.

import path from 'node:path';
import { createDataset, datasetToJson, setValue, lookupTag, tagOfKeyword, parseTag, type Dataset } from '../../dicom/index.js';
import { ConfigError, ErrorCode } from '../../errors.js';
import { connect, type QueryModel } from '../../net/client.js';
import { startStoreScp } from '../../net/store-scp.js';
import { formatStatus, statusClass } from '../../net/status.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { PeerArgs } from '../options.js';


function clientOptions(a: PeerArgs) {
  return { host: a.host, port: a.port, callingAeTitle: a.aet, calledAeTitle: a.aec, dimseTimeoutMs: a['timeout-ms'], maxLength: a['max-pdu'] };
}

/**
 * `qrscu find pacs1 …`: without a port, the host is a configured QR node's id, whose address,
 * AE titles and fallback character set are used (explicit --aet/--aec still win).
 */
async function peer(a: PeerArgs & { home?: string }, argv: readonly string[] = process.argv): Promise<ReturnType<typeof clientOptions> & { fallbackCharacterSet?: string }> {
  if (a.port !== undefined && Number.isFinite(a.port)) return clientOptions(a);
  const { openDatabase } = await import('../../db/index.js');
  const db = await openDatabase({ ...(a.home !== undefined ? { home: a.home } : {}), readOnly: true });
  const n = db.qrNode(a.host);
  await db.close();
  const given = (flag: string) => argv.some((x) => x === `--${flag}` || x.startsWith(`--${flag}=`));
  return {
    host: n.host, port: n.port,
    callingAeTitle: given('aet') ? a.aet : n.callingAeTitle,
    calledAeTitle: given('aec') ? a.aec : n.aeTitle,
    dimseTimeoutMs: a['timeout-ms'], maxLength: a['max-pdu'],
    ...(n.fallbackCharacterSet ? { fallbackCharacterSet: n.fallbackCharacterSet } : {}),
  };
}

export async function runEcho(a: PeerArgs & { count: number }, out: Output): Promise<ExitCode> {
  const client = await connect(clientOptions(a));
  let worst: ExitCode = ExitCode.Ok;
  for (let i = 0; i < Math.max(1, Math.min(a.count, 10000)); i++) {
    const r = await client.echo();
    out.line(`C-ECHO ${a.aec}@${a.host}:${a.port}: ${formatStatus(r.status)} in ${r.elapsedMs.toFixed(2)} ms`);
    if (statusClass(r.status) !== 'success') worst = ExitCode.Network;
  }
  await client.release();
  return worst;
}

export interface FindArgs extends PeerArgs {
  key: string[];
  level: string;
  root: string;
  cancel: number;
}

/** `-k Keyword=value`, `-k (0010,0010)=value`, `-k 00100010=value`; no `=` is a return key (empty). */
export function buildIdentifier(keys: readonly string[], level?: string): Dataset {
  const ds = createDataset();
  if (level) setValue(ds, 'QueryRetrieveLevel', level.toUpperCase());
  for (const k of keys) {
    const eq = k.indexOf('=');
    const name = (eq < 0 ? k : k.slice(0, eq)).trim();
    const value = eq < 0 ? '' : k.slice(eq + 1);
    const t = parseTag(name) ?? tagOfKeyword(name);
    if (t === undefined) throw new ConfigError(ErrorCode.Usage, `-k ${k}: '${name}' is neither a DICOM keyword nor a tag`);
    const vr = lookupTag(t)?.vr ?? 'UN';
    const multi = value.includes('\\') && vr !== 'LT' && vr !== 'ST' && vr !== 'UT';
    setValue(ds, t, value === '' ? null : multi ? value.split('\\') : value);
  }
  return ds;
}

export async function runFind(a: FindArgs, out: Output): Promise<ExitCode> {
  const identifier = buildIdentifier(a.key, a.level);
  const client = await connect(await peer(a));
  const op = client.find(identifier, { model: a.root as QueryModel });
  let n = 0;
  for await (const match of op) {
    out.line(JSON.stringify(datasetToJson(match)));
    n++;
    if (a.cancel > 0 && n >= a.cancel) {
      await op.cancel();
      break;
    }
  }
  const final = op.final;
  out.error(`C-FIND ${a.aec}: ${n} matches, final ${final ? formatStatus(final.status) : 'none'}${final?.errorComment ? `: ${final.errorComment}` : ''}`);
  await client.release();
  return final && statusClass(final.status) === 'failure' ? ExitCode.Network : ExitCode.Ok;
}

export interface MoveArgs extends PeerArgs {
  key: string[];
  level: string;
  root: string;
  dest: string;
  'store-port': number | undefined;
  'store-dir': string;
}

export async function runMove(a: MoveArgs, out: Output): Promise<ExitCode> {
  const identifier = buildIdentifier(a.key, a.level);
  let stored = 0;
  const store = a['store-port'] === undefined ? undefined : await startStoreScp({
    aeTitle: a.dest, port: a['store-port'], directory: path.resolve(a['store-dir']),
    onStored: (o) => { stored++; out.error(`stored ${o.path}`); },
  });
  try {
    const client = await connect(await peer(a));
    const r = await client.move(identifier, {
      destination: a.dest,
      model: a.root as QueryModel,
      onPending: (s) => out.error(`C-MOVE pending: remaining ${s.remaining ?? '?'} completed ${s.completed ?? '?'} failed ${s.failed ?? '?'} warning ${s.warning ?? '?'}`),
    });
    const s = r.subOperations;
    out.line(`C-MOVE ${a.aec} -> ${a.dest}: ${formatStatus(r.status)}${r.errorComment ? ` (${r.errorComment})` : ''}; sub-operations completed ${s.completed ?? '?'} failed ${s.failed ?? '?'} warning ${s.warning ?? '?'}${store ? `; ${stored} stored here` : ''}${r.failedSopInstanceUids.length ? `; failed: ${r.failedSopInstanceUids.join(' ')}` : ''}`);
    await client.release();
    const cls = statusClass(r.status);
    return cls === 'success' ? ExitCode.Ok : cls === 'warning' ? ExitCode.PartialRetrieve : ExitCode.Network;
  } finally {
    await store?.close(5000);
  }
}

export interface StoreArgs {
  port: number;
  dir: string;
  aet: string;
  'allow-aet': string[] | undefined;
  'max-seconds': number;
}

export async function runStore(a: StoreArgs, out: Output): Promise<ExitCode> {
  const dir = path.resolve(a.dir);
  const server = await startStoreScp({
    aeTitle: a.aet, port: a.port, directory: dir,
    ...(a['allow-aet'] ? { allowedCallingAeTitles: a['allow-aet'] } : {}),
    onStored: (o) => out.line(`${o.callingAeTitle}: stored ${o.path} (${o.bytes} bytes)`),
  });
  out.error(`store SCP ${a.aet} listening on 127.0.0.1:${server.port}, writing to ${dir}; Ctrl-C stops it`);
  await waitForStop(a['max-seconds']);
  await server.close();
  return ExitCode.Ok;
}



/** Resolves on SIGINT or SIGTERM, or after `maxSeconds` (0: never). */
export function waitForStop(maxSeconds: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (maxSeconds > 0) setTimeout(stop, maxSeconds * 1000).unref();
  });
}
