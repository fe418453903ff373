// Node listings shared by `qrscu nodes list` and `qrscu echo` (a status column can be added).

import type { Database } from './database.js';
import type { QrNode, StoreNode } from './schema.js';

export type NodeRow =
  | { readonly kind: 'qr'; readonly id: string; readonly name: string; readonly aeTitle: string; readonly host: string; readonly port: number; readonly node: QrNode }
  | { readonly kind: 'store'; readonly id: string; readonly name: string; readonly aeTitle: string; readonly host: string; readonly port: number; readonly node: StoreNode };

/** Every node, QR nodes first, each kind in the order configured. `ids` narrows to these (in that order). */
export function listNodes(db: Pick<Database, 'qrNodes' | 'storeNodes'>, ids?: readonly string[]): NodeRow[] {
  const rows: NodeRow[] = [
    ...db.qrNodes().map((n): NodeRow => ({ kind: 'qr', id: n.id, name: n.name, aeTitle: n.aeTitle, host: n.host, port: n.port, node: n })),
    ...db.storeNodes().map((n): NodeRow => ({ kind: 'store', id: n.id, name: n.name, aeTitle: n.aeTitle, host: n.host, port: n.port, node: n })),
  ];
  if (ids === undefined) return rows;
  return ids.map((id) => rows.find((r) => r.id === id)).filter((r): r is NodeRow => r !== undefined);
}

/** A short description of a node's other settings, for tables. */
export function nodeDetails(row: NodeRow): string {
  if (row.kind === 'qr') {
    const n = row.node;
    const parts = [`calling ${n.callingAeTitle}`, `${n.maxAssociations} assoc`];
    if (n.useModalityTag) parts.push('modality tag');
    if (n.fallbackCharacterSet) parts.push(`charset ${n.fallbackCharacterSet}`);
    return parts.join(', ');
  }
  const n = row.node;
  const parts = [n.own ? `own, ${n.directory}` : 'external'];
  if (n.allowedCallingAeTitles.length > 0) parts.push(`allows ${n.allowedCallingAeTitles.join(' ')}`);
  return parts.join(', ');
}

/** Render rows as an aligned text table; `extra` adds columns (e.g. echo status) after the fixed ones. */
export function nodeTable(rows: readonly NodeRow[], extra?: { readonly header: readonly string[]; readonly cells: (row: NodeRow) => readonly string[] }): string[] {
  const header = ['ID', 'KIND', 'NAME', 'AE TITLE', 'HOST', 'PORT', ...(extra?.header ?? []), 'SETTINGS'];
  const body = rows.map((r) => [r.id, r.kind === 'qr' ? 'QR' : 'store', r.name, r.aeTitle, r.host, String(r.port), ...(extra?.cells(r) ?? []), nodeDetails(r)]);
  return formatTable([header, ...body]);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i + 1 < r.length ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd());
}
