// `qrscu echo | find | move | store`: the DIMSE stack from the command line, like dcmtk's echoscu,
// findscu, movescu and storescp.

import path from 'node:path';
import { createDataset, datasetToJson, setValue, lookupTag, tagOfKeyword, parseTag, type Dataset } from '../../dicom/index.js';
import { ConfigError, ErrorCode, isDicomError } from '../../errors.js';
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
  node?: string;
  home?: string;
  port?: number;
  dir?: string;
  aet?: string;
  'allow-aet': string[] | undefined;
  'max-seconds': number;
}

/**
 * `qrscu store [node]`: our store SCP in the foreground. With a store node id it takes the node's
 * port, folder, AE title and allowed callers, and indexes what arrives into the database in batches
 * whenever no run holds the lock (a run that finds this store node listening uses it).
 */
export async function runStore(a: StoreArgs, out: Output): Promise<ExitCode> {
  let node: { aeTitle: string; port: number; directory: string; allowedCallingAeTitles: readonly string[] } | undefined;
  if (a.node) {
    const { openDatabase } = await import('../../db/index.js');
    const db = await openDatabase({ ...(a.home !== undefined ? { home: a.home } : {}), readOnly: true });
    node = db.storeNode(a.node);
    await db.close();
  }
  const port = a.port ?? node?.port;
  if (port === undefined) throw new ConfigError(ErrorCode.Usage, 'give a store node id (qrscu nodes list) or --port');
  const aet = a.aet ?? node?.aeTitle ?? 'QRSCU_STORE';
  const dir = path.resolve(a.dir ?? node?.directory ?? '.');
  const allowed = a['allow-aet'] ?? (node?.allowedCallingAeTitles.length ? [...node.allowedCallingAeTitles] : undefined);
  const pending: Array<{ studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string; sopClassUid: string; file: string }> = [];
  const flush = async (): Promise<void> => {
    if (!a.node || pending.length === 0) return;
    const { openDatabase } = await import('../../db/index.js');
    try {
      const db = await openDatabase({ ...(a.home !== undefined ? { home: a.home } : {}), command: `qrscu store ${a.node} (indexing)` });
      try {
        db.addHeld(pending.splice(0));
      } finally {
        await db.close();
      }
    } catch (e) {
      if (!(isDicomError(e) && e.code === ErrorCode.DatabaseLocked)) throw e;
      // A run holds the database: index later.
    }
  };
  const server = await startStoreScp({
    aeTitle: aet, port, directory: dir,
    ...(allowed ? { allowedCallingAeTitles: allowed } : {}),
    onStored: (o) => {
      out.line(`${o.callingAeTitle}: stored ${o.path} (${o.bytes} bytes)`);
      if (o.studyInstanceUid && o.seriesInstanceUid) pending.push({ studyInstanceUid: o.studyInstanceUid, seriesInstanceUid: o.seriesInstanceUid, sopInstanceUid: o.sopInstanceUid, sopClassUid: o.sopClassUid, file: o.path });
    },
  });
  out.error(`store SCP ${aet} listening on 127.0.0.1:${server.port}, writing to ${dir}${a.node ? `, indexing into the database of store node ${a.node}` : ''}; Ctrl-C stops it`);
  const timer = a.node ? setInterval(() => void flush().catch((e: Error) => out.error(`qrscu: indexing failed: ${e.message}`)), 2000) : undefined;
  await waitForStop(a['max-seconds']);
  if (timer) clearInterval(timer);
  await server.close();
  for (let i = 0; i < 50 && pending.length > 0; i++) {
    await flush();
    if (pending.length > 0) await new Promise((r) => setTimeout(r, 200));
  }
  if (pending.length > 0) out.error(`qrscu: ${pending.length} objects not indexed (the database stayed locked); qrscu db index ${dir} adds them`);
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
