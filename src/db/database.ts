// The qrscu database: nodes, query records and the index of held objects in one JSON file
// (<home>/qrscu.json) through lowdb, with a writer lock, batched atomic writes and clear errors.

import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Low } from 'lowdb';
import { ConfigError, ErrorCode } from '../errors.js';
import type { HeldObjects, SelectionResult } from '../rules/model.js';
import { compactSelection, expandSelection } from './compact.js';
import { DatabaseAdapter } from './file.js';
import { acquireLock, type Lock } from './lock.js';
import {
  SCHEMA_VERSION,
  type DatabaseFile,
  type HeldEntry,
  type MoveRecord,
  type NodeKind,
  type QrNode,
  type QueryError,
  type QueryParameters,
  type QueryRecord,
  type QueryStatus,
  type StageTiming,
  type StoreNode,
  type UserRecord,
  type UserRole,
} from './schema.js';
import { checkQrNode, checkStoreNode, checkUser, type QrNodeInput, type StoreNodeInput } from './validate.js';

export const DATABASE_FILE = 'qrscu.json';
export const LOCK_FILE = 'qrscu.lock';

/** The qrscu home: `explicit` (--home), else QRSCU_HOME, else ~/.qrscu; absolute, "~" expanded. */
export function resolveHome(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = explicit !== undefined && explicit !== '' ? explicit : env.QRSCU_HOME !== undefined && env.QRSCU_HOME !== '' ? env.QRSCU_HOME : path.join(homedir(), '.qrscu');
  const expanded = raw === '~' ? homedir() : raw.startsWith('~/') || raw.startsWith('~\\') ? path.join(homedir(), raw.slice(2)) : raw;
  return path.resolve(expanded);
}

export interface OpenOptions {
  /** The qrscu home (--home); resolved by resolveHome (QRSCU_HOME, ~/.qrscu, "~" expanded). */
  readonly home?: string;
  /** Read without the lock; every change throws. A missing file reads as an empty database. */
  readonly readOnly?: boolean;
  /** Written into the lock file for other runs' messages (default: this process's command line). */
  readonly command?: string;
  /** Changes are written at most this long after they are made (default 1000 ms); write() and close() write at once. */
  readonly flushDelayMs?: number;
  /** Warnings (a stale lock taken over, an interrupted run found, a background write that failed). */
  readonly onWarning?: (message: string) => void;
}

/** One object to add to the held index. */
export interface HeldInput {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly file: string;
  readonly queryId?: string;
  /** Default: now. */
  readonly storedAt?: string;
}

export interface HeldCounts {
  readonly studies: number;
  readonly series: number;
  readonly instances: number;
}

/** A query record as the API returns it: the selection expanded to the engine's SelectionResult. */
export type QueryView = Omit<QueryRecord, 'selection'> & { readonly selection?: SelectionResult };

/** A query record without its selection (lists). */
export type QueryListItem = Omit<QueryRecord, 'selection'> & { readonly hasSelection: boolean };

/** What updateQuery may change. Lists replace the stored ones; use appendToQuery to add to them. */
export interface QueryPatch {
  readonly status?: QueryStatus;
  readonly finishedAt?: string;
  readonly stages?: readonly StageTiming[];
  readonly selection?: SelectionResult;
  readonly moves?: readonly MoveRecord[];
  readonly summary?: { readonly [key: string]: number | null };
  readonly errors?: readonly QueryError[];
}

export interface NewQuery {
  readonly parameters: QueryParameters;
  /** Default: a random UUID. */
  readonly id?: string;
  /** Default: now. */
  readonly startedAt?: string;
}

export type NodeEntry = { readonly kind: 'qr'; readonly node: QrNode } | { readonly kind: 'store'; readonly node: StoreNode };

export interface PruneResult {
  readonly removed: number;
  readonly kept: number;
  /** Start time before which records were removed. */
  readonly cutoff: string;
}

function emptyDatabase(): DatabaseFile {
  return { schemaVersion: SCHEMA_VERSION, qrNodes: [], storeNodes: [], queries: [], held: {} };
}

function notFound(what: string, id: string, known: readonly string[]): ConfigError {
  const hint = known.length === 0 ? ' (none configured)' : ` (known: ${known.join(', ')})`;
  return new ConfigError(ErrorCode.ConfigInvalid, `no ${what} ${JSON.stringify(id)}${hint}`);
}

/** Durations for prune: "90d", "36h", "2w" (also "90 days"). Returns milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(w|weeks?|d|days?|h|hours?)\s*$/i.exec(text);
  if (!m) throw new ConfigError(ErrorCode.Usage, `${JSON.stringify(text)} is not a duration: use e.g. 90d (days), 36h (hours) or 2w (weeks)`);
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase()[0];
  const hours = unit === 'w' ? 24 * 7 : unit === 'd' ? 24 : 1;
  return n * hours * 3_600_000;
}

/** The database of one qrscu home. Create with openDatabase. */
export class Database implements HeldObjects {
  readonly home: string;
  readonly file: string;
  readonly readOnly: boolean;
  readonly #low: Low<DatabaseFile>;
  readonly #adapter: DatabaseAdapter;
  readonly #lock: Lock | undefined;
  readonly #flushDelayMs: number;
  readonly #onWarning: (message: string) => void;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<void> | undefined;
  #backgroundError: unknown;
  #closed = false;
  #lastWriteMs = 0;

  /** @internal use openDatabase */
  constructor(home: string, low: Low<DatabaseFile>, adapter: DatabaseAdapter, lock: Lock | undefined, options: OpenOptions) {
    this.home = home;
    this.file = adapter.file;
    this.readOnly = lock === undefined;
    this.#low = low;
    this.#adapter = adapter;
    this.#lock = lock;
    this.#flushDelayMs = options.flushDelayMs ?? 1000;
    this.#onWarning = options.onWarning ?? (() => undefined);
    // A process that exits without close() (process.exit, an uncaught error) still writes its
    // changes, before the lock's own exit handler frees the lock.
    if (lock) process.prependListener('exit', this.#onExit);
  }

  readonly #onExit = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#dirty) this.#adapter.writeSync(this.#low.data);
    } catch (e) {
      process.stderr.write(`qrscu: cannot write the database at exit: ${(e as Error).message}\n`);
    } finally {
      this.#lock?.release();
    }
  };

  get #data(): DatabaseFile {
    return this.#low.data;
  }

  #changed(): void {
    if (this.readOnly) throw new ConfigError(ErrorCode.Usage, 'the database was opened read-only');
    if (this.#closed) throw new ConfigError(ErrorCode.Usage, 'the database is closed');
    this.#dirty = true;
    if (this.#timer === undefined) {
      // A large file takes a while to write: never spend more than about a third of the time writing.
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.write().catch((e: unknown) => {
          this.#backgroundError = e;
          this.#onWarning(`cannot write the database: ${(e as Error).message}`);
        });
      }, Math.max(this.#flushDelayMs, 2 * this.#lastWriteMs));
    }
  }

  #writable(): void {
    if (this.readOnly) throw new ConfigError(ErrorCode.Usage, 'the database was opened read-only');
    if (this.#closed) throw new ConfigError(ErrorCode.Usage, 'the database is closed');
  }

  // ---- nodes ----

  qrNodes(): readonly QrNode[] {
    return this.#data.qrNodes;
  }

  storeNodes(): readonly StoreNode[] {
    return this.#data.storeNodes;
  }

  /** A QR or store node by id. */
  node(id: string): NodeEntry | undefined {
    const qr = this.#data.qrNodes.find((n) => n.id === id);
    if (qr) return { kind: 'qr', node: qr };
    const store = this.#data.storeNodes.find((n) => n.id === id);
    return store ? { kind: 'store', node: store } : undefined;
  }

  /** The QR node `id`, or ConfigError naming the known ones. */
  qrNode(id: string): QrNode {
    const n = this.#data.qrNodes.find((x) => x.id === id);
    if (!n) throw notFound('QR node', id, this.#data.qrNodes.map((x) => x.id));
    return n;
  }

  /** The store node `id`, or ConfigError naming the known ones. */
  storeNode(id: string): StoreNode {
    const n = this.#data.storeNodes.find((x) => x.id === id);
    if (!n) throw notFound('store node', id, this.#data.storeNodes.map((x) => x.id));
    return n;
  }

  #checkUniqueId(id: string, pointer: string): void {
    const existing = this.node(id);
    if (existing) {
      throw new ConfigError(ErrorCode.ConfigInvalid, `a ${existing.kind === 'qr' ? 'QR' : 'store'} node ${JSON.stringify(id)} exists already (node ids are unique over QR and store nodes)`, { pointer: `${pointer}/id` });
    }
  }

  addQrNode(input: QrNodeInput): QrNode {
    this.#writable();
    const pointer = `/qrNodes/${this.#data.qrNodes.length}`;
    const node = checkQrNode(input, { pointer });
    this.#checkUniqueId(node.id, pointer);
    this.#data.qrNodes.push(node);
    this.#changed();
    return node;
  }

  addStoreNode(input: StoreNodeInput): StoreNode {
    this.#writable();
    const pointer = `/storeNodes/${this.#data.storeNodes.length}`;
    const node = checkStoreNode(input, { pointer });
    this.#checkUniqueId(node.id, pointer);
    this.#data.storeNodes.push(node);
    this.#changed();
    return node;
  }

  /** Change settings of a node (either kind; `id` itself cannot change). Returns the new node. */
  editNode(id: string, patch: Partial<Omit<QrNode, 'id'>> | Partial<Omit<StoreNode, 'id'>>): NodeEntry {
    this.#writable();
    const found = this.node(id);
    if (!found) throw notFound('node', id, [...this.#data.qrNodes, ...this.#data.storeNodes].map((n) => n.id));
    if ('id' in patch && (patch as { id?: unknown }).id !== id) throw new ConfigError(ErrorCode.ConfigInvalid, 'a node id cannot be changed (remove and add the node)');
    if (found.kind === 'qr') {
      const i = this.#data.qrNodes.indexOf(found.node);
      const node = checkQrNode(withoutUndefined({ ...found.node, ...patch, id }), { pointer: `/qrNodes/${i}` });
      this.#data.qrNodes[i] = node;
      this.#changed();
      return { kind: 'qr', node };
    }
    const i = this.#data.storeNodes.indexOf(found.node);
    const node = checkStoreNode(withoutUndefined({ ...found.node, ...patch, id }), { pointer: `/storeNodes/${i}` });
    this.#data.storeNodes[i] = node;
    this.#changed();
    return { kind: 'store', node };
  }

  /** Remove a node of either kind; returns its kind. */
  removeNode(id: string): NodeKind {
    this.#writable();
    const found = this.node(id);
    if (!found) throw notFound('node', id, [...this.#data.qrNodes, ...this.#data.storeNodes].map((n) => n.id));
    if (found.kind === 'qr') this.#data.qrNodes = this.#data.qrNodes.filter((n) => n.id !== id);
    else this.#data.storeNodes = this.#data.storeNodes.filter((n) => n.id !== id);
    this.#changed();
    return found.kind;
  }

  // ---- users (the web page's logins) ----

  users(): readonly UserRecord[] {
    return this.#data.users ?? [];
  }

  user(name: string): UserRecord | undefined {
    return this.users().find((u) => u.name === name);
  }

  /** Add a user; `passwordHash` from hashPassword (src/db/users.ts), never a password. */
  addUser(input: { readonly name: string; readonly role: UserRole; readonly passwordHash: string }): UserRecord {
    this.#writable();
    const users = this.users();
    const user = checkUser({ ...input, createdAt: new Date().toISOString() }, { pointer: `/users/${users.length}` });
    if (this.user(user.name)) throw new ConfigError(ErrorCode.ConfigInvalid, `user ${JSON.stringify(user.name)} exists already`);
    this.#data.users = [...users, user];
    this.#changed();
    return user;
  }

  /** Change a user's role or password hash. */
  editUser(name: string, patch: { readonly role?: UserRole; readonly passwordHash?: string }): UserRecord {
    this.#writable();
    const users = this.users();
    const i = users.findIndex((u) => u.name === name);
    if (i < 0) throw notFound('user', name, users.map((u) => u.name));
    const user = checkUser(withoutUndefined({ ...users[i]!, ...patch }), { pointer: `/users/${i}` });
    this.#data.users = users.map((u, j) => (j === i ? user : u));
    this.#changed();
    return user;
  }

  removeUser(name: string): void {
    this.#writable();
    const users = this.users();
    if (!users.some((u) => u.name === name)) throw notFound('user', name, users.map((u) => u.name));
    this.#data.users = users.filter((u) => u.name !== name);
    this.#changed();
  }

  // ---- query records ----

  /** Start a query record (status running). */
  createQuery(q: NewQuery): QueryRecord {
    this.#writable();
    const id = q.id ?? randomUUID();
    if (this.#data.queries.some((r) => r.id === id)) throw new ConfigError(ErrorCode.ConfigInvalid, `query ${id} exists already`);
    const record: QueryRecord = { id, startedAt: q.startedAt ?? new Date().toISOString(), status: 'running', parameters: q.parameters, stages: [], moves: [], summary: {}, errors: [] };
    this.#data.queries.push(record);
    this.#changed();
    return record;
  }

  #index(id: string): number {
    const qs = this.#data.queries;
    for (let i = qs.length - 1; i >= 0; i--) if (qs[i]!.id === id) return i;
    throw new ConfigError(ErrorCode.ConfigInvalid, `no query ${JSON.stringify(id)}`);
  }

  /** Change a query record (exact id). Returns the stored record. */
  updateQuery(id: string, patch: QueryPatch): QueryRecord {
    this.#writable();
    const i = this.#index(id);
    const { selection, ...rest } = patch;
    const next: QueryRecord = withoutUndefined({ ...this.#data.queries[i]!, ...rest, ...(selection !== undefined ? { selection: compactSelection(selection) } : {}) });
    this.#data.queries[i] = next;
    this.#changed();
    return next;
  }

  /** Add stages, moves or errors to a query record. */
  appendToQuery(id: string, add: { readonly stages?: readonly StageTiming[]; readonly moves?: readonly MoveRecord[]; readonly errors?: readonly QueryError[] }): QueryRecord {
    const r = this.#data.queries[this.#index(id)]!;
    return this.updateQuery(id, {
      ...(add.stages ? { stages: [...r.stages, ...add.stages] } : {}),
      ...(add.moves ? { moves: [...r.moves, ...add.moves] } : {}),
      ...(add.errors ? { errors: [...r.errors, ...add.errors] } : {}),
    });
  }

  /** Finish a query record: status, finishedAt now (unless given), optional last changes. */
  finishQuery(id: string, status: Exclude<QueryStatus, 'running'>, patch: QueryPatch = {}): QueryRecord {
    return this.updateQuery(id, { finishedAt: new Date().toISOString(), ...patch, status });
  }

  /** The stored record (compact selection), exact id. */
  queryRecord(id: string): QueryRecord | undefined {
    const qs = this.#data.queries;
    for (let i = qs.length - 1; i >= 0; i--) if (qs[i]!.id === id) return qs[i];
    return undefined;
  }

  /**
   * A query by id or unique id prefix (at least 4 characters), with its selection expanded.
   * undefined when none matches; ConfigError when the prefix is ambiguous.
   */
  getQuery(idOrPrefix: string): QueryView | undefined {
    let r = this.queryRecord(idOrPrefix);
    if (!r && idOrPrefix.length >= 4) {
      const matches = this.#data.queries.filter((q) => q.id.startsWith(idOrPrefix));
      if (matches.length > 1) throw new ConfigError(ErrorCode.Usage, `query id prefix ${JSON.stringify(idOrPrefix)} is ambiguous: ${matches.slice(0, 5).map((q) => q.id).join(', ')}${matches.length > 5 ? ', …' : ''}`);
      r = matches[0];
    }
    if (!r) return undefined;
    const { selection, ...rest } = r;
    return selection === undefined ? rest : { ...rest, selection: expandSelection(selection) };
  }

  /** Query records, newest first (by start time). */
  listQueries(options: { readonly limit?: number; readonly status?: QueryStatus } = {}): QueryListItem[] {
    const out: QueryListItem[] = [];
    const sorted = [...this.#data.queries].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
    for (const q of sorted) {
      if (options.status !== undefined && q.status !== options.status) continue;
      const { selection, ...rest } = q;
      out.push({ ...rest, hasSelection: selection !== undefined });
      if (options.limit !== undefined && out.length >= options.limit) break;
    }
    return out;
  }

  queryCount(): number {
    return this.#data.queries.length;
  }

  /** Remove query records that started before now − olderThanMs (running ones are kept). */
  pruneQueries(options: { readonly olderThanMs: number; readonly now?: Date }): PruneResult {
    this.#writable();
    const cutoffMs = (options.now ?? new Date()).getTime() - options.olderThanMs;
    const cutoff = new Date(cutoffMs).toISOString();
    const before = this.#data.queries.length;
    this.#data.queries = this.#data.queries.filter((q) => q.status === 'running' || Date.parse(q.startedAt) >= cutoffMs);
    const removed = before - this.#data.queries.length;
    if (removed > 0) this.#changed();
    return { removed, kept: this.#data.queries.length, cutoff };
  }

  /**
   * Forget held objects stored before now − olderThanMs (studies and series left empty go too).
   * Their studies are fetched again if a later query finds them.
   */
  pruneHeld(options: { readonly olderThanMs: number; readonly now?: Date }): PruneResult {
    this.#writable();
    const cutoffMs = (options.now ?? new Date()).getTime() - options.olderThanMs;
    const held = this.#data.held;
    let removed = 0;
    let kept = 0;
    for (const study of Object.keys(held)) {
      const series = held[study]!;
      let touched = false;
      for (const se of Object.keys(series)) {
        const sops = series[se]!;
        for (const sop of Object.keys(sops)) {
          const t = Date.parse(sops[sop]!.storedAt);
          if (t < cutoffMs) {
            delete sops[sop];
            removed++;
            touched = true;
          } else kept++;
        }
        if (Object.keys(sops).length === 0) delete series[se];
      }
      if (touched) this.#adapter.cache.touchHeld(study);
      if (Object.keys(series).length === 0) delete held[study];
    }
    if (removed > 0) this.#changed();
    return { removed, kept, cutoff: new Date(cutoffMs).toISOString() };
  }

  // ---- held objects ----

  /** Add (or replace) objects in the held index. Returns how many were new. */
  addHeld(batch: Iterable<HeldInput>): { added: number; replaced: number } {
    this.#writable();
    const held = this.#data.held;
    const now = new Date().toISOString();
    let added = 0;
    let replaced = 0;
    for (const h of batch) {
      for (const k of ['studyInstanceUid', 'seriesInstanceUid', 'sopInstanceUid'] as const) {
        if (typeof h[k] !== 'string' || h[k] === '') throw new ConfigError(ErrorCode.ConfigInvalid, `a held object needs a ${k}`, { field: k });
      }
      const study = Object.hasOwn(held, h.studyInstanceUid) ? held[h.studyInstanceUid]! : (held[h.studyInstanceUid] = {});
      const series = Object.hasOwn(study, h.seriesInstanceUid) ? study[h.seriesInstanceUid]! : (study[h.seriesInstanceUid] = {});
      this.#adapter.cache.touchHeld(h.studyInstanceUid);
      if (Object.hasOwn(series, h.sopInstanceUid)) replaced++;
      else added++;
      const entry: HeldEntry = { sopClassUid: h.sopClassUid, file: h.file, ...(h.queryId !== undefined ? { queryId: h.queryId } : {}), storedAt: h.storedAt ?? now };
      series[h.sopInstanceUid] = entry;
    }
    if (added + replaced > 0) this.#changed();
    return { added, replaced };
  }

  /** SOP Instance UIDs held for a study (every series), or undefined when none is held (HeldObjects). */
  async heldInstances(studyInstanceUid: string): Promise<ReadonlySet<string> | undefined> {
    return this.heldInstancesSync(studyInstanceUid);
  }

  heldInstancesSync(studyInstanceUid: string): ReadonlySet<string> | undefined {
    const held = this.#data.held;
    if (!Object.hasOwn(held, studyInstanceUid)) return undefined;
    const set = new Set<string>();
    for (const sops of Object.values(held[studyInstanceUid]!)) for (const sop of Object.keys(sops)) set.add(sop);
    return set.size === 0 ? undefined : set;
  }

  /** The held objects of a study: series UID → SOP Instance UID → entry; undefined when none. */
  heldStudy(studyInstanceUid: string): Readonly<Record<string, Readonly<Record<string, HeldEntry>>>> | undefined {
    const held = this.#data.held;
    return Object.hasOwn(held, studyInstanceUid) ? held[studyInstanceUid] : undefined;
  }

  /** Forget a held study, or one series of it. Returns how many instances were removed. */
  forgetHeld(studyInstanceUid: string, seriesInstanceUid?: string): number {
    this.#writable();
    const held = this.#data.held;
    if (!Object.hasOwn(held, studyInstanceUid)) return 0;
    const study = held[studyInstanceUid]!;
    this.#adapter.cache.touchHeld(studyInstanceUid);
    let n = 0;
    if (seriesInstanceUid === undefined) {
      for (const s of Object.values(study)) n += Object.keys(s).length;
      delete held[studyInstanceUid];
    } else if (Object.hasOwn(study, seriesInstanceUid)) {
      n = Object.keys(study[seriesInstanceUid]!).length;
      delete study[seriesInstanceUid];
      if (Object.keys(study).length === 0) delete held[studyInstanceUid];
    }
    if (n > 0) this.#changed();
    return n;
  }

  /** Study Instance UIDs of the held index. */
  heldStudyUids(): string[] {
    return Object.keys(this.#data.held);
  }

  heldCounts(): HeldCounts {
    let series = 0;
    let instances = 0;
    const studies = Object.keys(this.#data.held);
    for (const s of studies) {
      for (const sops of Object.values(this.#data.held[s]!)) {
        series++;
        instances += Object.keys(sops).length;
      }
    }
    return { studies: studies.length, series, instances };
  }

  // ---- writing ----

  /** True when changes wait to be written. */
  get pending(): boolean {
    return this.#dirty;
  }

  /** Write pending changes now (atomically); resolves when they are on disk. */
  async write(): Promise<void> {
    if (this.readOnly) return;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    for (;;) {
      if (this.#inflight) {
        await this.#inflight.catch(() => undefined);
        continue;
      }
      if (!this.#dirty) break;
      this.#dirty = false;
      const started = performance.now();
      const p = this.#low.write();
      this.#inflight = p;
      try {
        await p;
        this.#lastWriteMs = performance.now() - started;
      } catch (e) {
        this.#dirty = true;
        throw e;
      } finally {
        this.#inflight = undefined;
      }
    }
    this.#backgroundError = undefined;
  }

  /** Write pending changes and release the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.write();
    } finally {
      this.#closed = true;
      process.removeListener('exit', this.#onExit);
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#lock?.release();
    }
  }

  /** A failed background write not yet retried, if any. */
  get writeError(): unknown {
    return this.#backgroundError;
  }
}

function withoutUndefined<T extends object>(o: T): T {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) r[k] = v;
  return r as T;
}

/**
 * Open the database of a qrscu home. Writable (the default): creates the home, takes the lock
 * (ConfigError ERR_DB_LOCKED when another live run holds it), reads the file, marks records of runs
 * that died as interrupted. A file that does not parse or check throws ConfigError and stays untouched.
 */
export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  const home = resolveHome(options.home);
  const file = path.join(home, DATABASE_FILE);
  const adapter = new DatabaseAdapter(file);
  const low = new Low<DatabaseFile>(adapter, emptyDatabase());
  const warn = options.onWarning ?? (() => undefined);
  if (options.readOnly) {
    adapter.prefill = false;
    await low.read();
    return new Database(home, low, adapter, undefined, options);
  }
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ConfigError(ErrorCode.Io, `cannot create the qrscu home: ${(e as Error).message}`, { file: home, cause: e });
  }
  const lock = acquireLock(path.join(home, LOCK_FILE), options.command ?? defaultCommand(), warn);
  let db: Database;
  try {
    adapter.removeStaleTemps();
    await low.read();
    db = new Database(home, low, adapter, lock, options);
  } catch (e) {
    lock.release();
    throw e;
  }
  const running = low.data.queries.filter((q) => q.status === 'running');
  for (const q of running) {
    warn(`query ${q.id} (started ${q.startedAt}) did not finish: marked interrupted`);
    db.updateQuery(q.id, {
      status: 'interrupted',
      errors: [...q.errors, { at: new Date().toISOString(), stage: 'run', message: 'the run ended without finishing its record (found running by the next writer)' }],
    });
  }
  return db;
}

function defaultCommand(): string {
  const args = process.argv.slice(2);
  return ['qrscu', ...args].join(' ').slice(0, 200);
}
