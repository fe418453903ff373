// `qrscu echo [id] | --all`: C-ECHO the configured nodes and show a status table, like the top of
// OpenREM's query page (its figure 2). Our own store node that is not running is not an error: a
// run starts it.

import { AssociationError } from '../../errors.js';
import { echoNode } from '../../qr/run.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface EchoNodesArgs {
  home?: string;
  target?: string;
  json?: boolean;
}

export interface EchoRow {
  readonly id: string;
  readonly kind: 'qr' | 'store';
  readonly aeTitle: string;
  readonly address: string;
  readonly ok: boolean;
  readonly status: string;
  readonly ms: number | null;
}

export async function runEchoNodes(a: EchoNodesArgs, out: Output): Promise<ExitCode> {
  const { openDatabase, listNodes, formatTable } = await import('../../db/index.js');
  const db = await openDatabase({ ...(a.home !== undefined ? { home: a.home } : {}), readOnly: true });
  const rows = listNodes(db, a.target ? [a.target] : undefined);
  await db.close();
  if (a.target && rows.length === 0) {
    const { ConfigError, ErrorCode } = await import('../../errors.js');
    throw new ConfigError(ErrorCode.ConfigInvalid, `no node ${JSON.stringify(a.target)} (qrscu nodes list shows the configured ones)`);
  }
  if (rows.length === 0) {
    out.line('no nodes configured: add them with qrscu nodes add-qr and qrscu nodes add-store');
    return ExitCode.Ok;
  }
  const results: EchoRow[] = await Promise.all(rows.map(async (r): Promise<EchoRow> => {
    const base = { id: r.id, kind: r.kind, aeTitle: r.aeTitle, address: `${r.host}:${r.port}` };
    try {
      const ms = await echoNode(r.kind === 'qr' ? 'QR' : 'store', {
        id: r.id, aeTitle: r.aeTitle, host: r.host, port: r.port,
        ...(r.kind === 'qr' ? { callingAeTitle: r.node.callingAeTitle, connectTimeoutMs: r.node.connectTimeoutMs } : { connectTimeoutMs: 5000 }),
      });
      return { ...base, ok: true, status: 'responding to DICOM echo', ms };
    } catch (e) {
      const message = e instanceof AssociationError ? String((e.cause as Error | undefined)?.message ?? e.message) : String((e as Error).message);
      if (r.kind === 'store' && r.node.own && /ECONNREFUSED|no TCP connection|refused/i.test(message)) {
        return { ...base, ok: true, status: 'not running (a run starts it in-process)', ms: null };
      }
      return { ...base, ok: false, status: message, ms: null };
    }
  }));
  if (a.json) {
    for (const r of results) out.line(JSON.stringify(r));
  } else {
    for (const l of formatTable([['ID', 'KIND', 'AE TITLE', 'ADDRESS', 'ECHO', 'STATUS'], ...results.map((r) => [r.id, r.kind === 'qr' ? 'QR' : 'store', r.aeTitle, r.address, r.ms === null ? '-' : `${r.ms.toFixed(1)} ms`, r.status])])) out.line(l);
  }
  return results.every((r) => r.ok) ? ExitCode.Ok : ExitCode.Network;
}
