// The retrieve half of a run: one C-MOVE per planned move (series, or image where the rules said
// so), over up to the node's maxAssociations at once, to the store node's AE title (behaviour
// reference §4 with the decisions of §9 Q12, Q13, Q17).

import createDebug from 'debug';
import { isDicomError } from '../errors.js';
import { connect, type Client, type MoveResult } from '../net/client.js';
import type { Pool } from '../net/pool.js';
import { formatStatus, hexStatus, statusClass, Status } from '../net/status.js';
import type { PlannedMove } from '../rules/model.js';
import { moveIdentifier } from './identifiers.js';
import { clientOptionsFor, type QrNodeConfig } from './nodes.js';

const log = createDebug('qrscu:run');

export type MoveOutcome = 'success' | 'warning' | 'failed' | 'skipped';

export interface MoveRecord {
  readonly move: PlannedMove;
  readonly outcome: MoveOutcome;
  /** Final status of the last attempt; null when no final response came. */
  readonly status: number | null;
  readonly statusText: string;
  /** Sub-operation counts of the final response; null where the PACS did not send them (allowed, §9 Q12). */
  readonly completed: number | null;
  readonly failed: number | null;
  readonly warning: number | null;
  readonly failedSopInstanceUids: readonly string[];
  readonly attempts: number;
  readonly elapsedMs: number;
  readonly error?: string;
}

export interface RetrieveEvents {
  moveStarted?(move: PlannedMove, index: number): void;
  moveDone?(record: MoveRecord, index: number): void;
  warning?(message: string): void;
}

export interface RetrieveOptions {
  readonly node: QrNodeConfig;
  readonly destination: string;
  readonly pool: Pool;
  readonly events?: RetrieveEvents;
  /** For tests: how the retry opens its fresh association. */
  readonly open?: typeof connect;
}

type Attempt = { readonly result: MoveResult } | { readonly error: string };

function classify(a: Attempt): MoveOutcome {
  if ('error' in a) return 'failed';
  const c = statusClass(a.result.status);
  return c === 'success' ? 'success' : c === 'warning' ? 'warning' : 'failed';
}

function record(move: PlannedMove, a: Attempt, attempts: number, started: number): MoveRecord {
  const base = { move, attempts, elapsedMs: performance.now() - started };
  if ('error' in a) {
    return { ...base, outcome: 'failed', status: null, statusText: 'no final response', completed: null, failed: null, warning: null, failedSopInstanceUids: [], error: a.error };
  }
  const r = a.result;
  return {
    ...base,
    outcome: classify(a),
    status: r.status,
    statusText: formatStatus(r.status, 'C-MOVE'),
    completed: r.subOperations.completed ?? null,
    failed: r.subOperations.failed ?? null,
    warning: r.subOperations.warning ?? null,
    failedSopInstanceUids: r.failedSopInstanceUids,
    ...(r.errorComment ? { error: r.errorComment } : {}),
  };
}

/**
 * Make every move. Success and warning (0xB000: partial, its failed sub-operations recorded) are
 * final; a failure status or no final response gets one retry on a fresh association; then the
 * run goes on with the next move. A move destination the PACS does not know fails every move
 * alike, so the first 0xA801 after its retry skips the rest.
 */
export async function retrieve(moves: readonly PlannedMove[], options: RetrieveOptions): Promise<MoveRecord[]> {
  const { node, destination, pool, events = {} } = options;
  const open = options.open ?? connect;
  const records: MoveRecord[] = new Array(moves.length);
  let unknownDestination = false;
  let next = 0;

  const attempt = async (move: PlannedMove, client?: Client): Promise<Attempt> => {
    const run = async (c: Client) => ({ result: await c.move(moveIdentifier(move), { destination }) });
    try {
      return client ? await run(client) : await pool.run(run);
    } catch (e) {
      if (isDicomError(e)) return { error: `${e.message} [${e.code}]` };
      throw e;
    }
  };

  const fresh = async (move: PlannedMove): Promise<Attempt> => {
    let client: Client;
    try {
      client = await open(clientOptionsFor(node));
    } catch (e) {
      if (isDicomError(e)) return { error: `${e.message} [${e.code}]` };
      throw e;
    }
    try {
      return await attempt(move, client);
    } finally {
      if (client.association.state() === 'Sta6') await client.release().catch(() => undefined);
    }
  };

  const one = async (index: number): Promise<void> => {
    const move = moves[index]!;
    const started = performance.now();
    if (unknownDestination) {
      records[index] = { move, outcome: 'skipped', status: null, statusText: 'not requested', completed: null, failed: null, warning: null, failedSopInstanceUids: [], attempts: 0, elapsedMs: 0, error: `the PACS does not know move destination ${destination}` };
      events.moveDone?.(records[index]!, index);
      return;
    }
    events.moveStarted?.(move, index);
    let a = await attempt(move);
    let attempts = 1;
    if (classify(a) === 'failed') {
      const why = 'error' in a ? a.error : formatStatus(a.result.status, 'C-MOVE');
      events.warning?.(`C-MOVE of ${describeMove(move)} failed (${why}); retrying once on a new association`);
      a = await fresh(move);
      attempts = 2;
    }
    const r = record(move, a, attempts, started);
    if (r.status === Status.MoveDestinationUnknown && !unknownDestination) {
      unknownDestination = true;
      events.warning?.(`the PACS does not know move destination ${destination} (${hexStatus(Status.MoveDestinationUnknown)}): add it, with this store node's host and port, to the PACS's AE table; the remaining moves are skipped`);
    }
    log('%s: %s (%s completed, %s failed)', describeMove(move), r.statusText, r.completed ?? '?', r.failed ?? '?');
    records[index] = r;
    events.moveDone?.(r, index);
  };

  const workers = Array.from({ length: Math.max(1, Math.min(node.maxAssociations, moves.length)) }, async () => {
    while (next < moves.length) await one(next++);
  });
  await Promise.all(workers);
  return records;
}

export function describeMove(m: PlannedMove): string {
  return m.level === 'IMAGE' ? `image ${m.sopInstanceUid} of series ${m.seriesInstanceUid}` : `series ${m.seriesInstanceUid}`;
}
