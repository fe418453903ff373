// Validation of node settings and of a database file read from disk. Every fault is a ConfigError
// with the JSON pointer of the bad value (and the file, when it came from one).

import { parseSpecificCharacterSet } from '../dicom/charset.js';
import { ConfigError, ErrorCode } from '../errors.js';
import { SCHEMA_VERSION, type DatabaseFile, type HeldIndex, type QrNode, type QueryRecord, type StoreNode, type UserRecord } from './schema.js';

export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const QR_DEFAULTS = {
  callingAeTitle: 'QRSCU',
  useModalityTag: false,
  connectTimeoutMs: 10_000,
  dimseTimeoutMs: 60_000,
  maxPduLength: 65_536,
  maxAssociations: 4,
} as const;

export const STORE_DEFAULTS = { host: '127.0.0.1', allowedCallingAeTitles: [] as readonly string[], own: true } as const;

/** Input of a new QR node: what the user must give, and optional settings (defaults above). */
export type QrNodeInput = Pick<QrNode, 'id' | 'aeTitle' | 'host' | 'port'> & Partial<Omit<QrNode, 'id' | 'aeTitle' | 'host' | 'port'>>;
export type StoreNodeInput = Pick<StoreNode, 'id' | 'aeTitle' | 'port'> & Partial<Omit<StoreNode, 'id' | 'aeTitle' | 'port'>>;

const QR_KEYS: readonly (keyof QrNode)[] = ['id', 'name', 'aeTitle', 'host', 'port', 'callingAeTitle', 'useModalityTag', 'connectTimeoutMs', 'dimseTimeoutMs', 'maxPduLength', 'maxAssociations', 'fallbackCharacterSet'];
const STORE_KEYS: readonly (keyof StoreNode)[] = ['id', 'name', 'aeTitle', 'host', 'port', 'directory', 'allowedCallingAeTitles', 'own'];

export interface Where {
  /** JSON pointer of the object being checked ("/qrNodes/0"). */
  readonly pointer: string;
  readonly file?: string;
}

function fault(where: Where, key: string, message: string): ConfigError {
  return new ConfigError(ErrorCode.ConfigInvalid, message, { pointer: `${where.pointer}/${escapePointer(key)}`, ...(where.file !== undefined ? { file: where.file } : {}) });
}

export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An AE title (PS3.5 AE): 1–16 characters of printable ASCII without backslash, not all spaces. Returns it trimmed. */
export function checkAeTitle(value: unknown, what = 'AE title'): string {
  if (value === undefined) throw new TypeError(`${what} is required`);
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) throw new TypeError(`${what} ${JSON.stringify(value)} contains a control character`);
  if (/[^\x20-\x7e]/.test(value)) throw new TypeError(`${what} ${JSON.stringify(value)} has a character outside ASCII`);
  if (value.includes('\\')) throw new TypeError(`${what} ${JSON.stringify(value)} contains a backslash`);
  const t = value.trim();
  if (t === '') throw new TypeError(`${what} must not be empty`);
  if (t.length > 16) throw new TypeError(`${what} ${JSON.stringify(t)} is longer than 16 characters (${t.length})`);
  return t;
}

function check<T>(where: Where, key: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw fault(where, key, e.message);
    throw e;
  }
}

function int(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer from ${min} to ${max}, not ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`);
  }
  return value;
}

function str(value: unknown, what: string, pattern?: RegExp, hint?: string): string {
  if (value === undefined) throw new TypeError(`${what} is required`);
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string, not ${JSON.stringify(value)}`);
  if (value === '') throw new TypeError(`${what} must not be empty`);
  if (pattern && !pattern.test(value)) throw new TypeError(`${what} ${JSON.stringify(value)} is not valid${hint ? `: ${hint}` : ''}`);
  return value;
}

function bool(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${what} must be true or false, not ${JSON.stringify(value)}`);
  return value;
}

const HOST = /^[^\s/\\]{1,253}$/;

function unknownKeys(where: Where, o: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw fault(where, k, `unknown setting ${JSON.stringify(k)} (known: ${known.join(', ')})`);
}

/** A QR node from user input or the file: defaults applied, every value checked. */
export function checkQrNode(input: unknown, where: Where): QrNode {
  if (!isRecord(input)) throw new ConfigError(ErrorCode.ConfigInvalid, 'a QR node must be an object', { pointer: where.pointer, ...(where.file !== undefined ? { file: where.file } : {}) });
  unknownKeys(where, input, QR_KEYS);
  const id = check(where, 'id', () => str(input.id, 'node id', NODE_ID_PATTERN, 'use 1-64 letters, digits, "_" or "-"'));
  const node: QrNode = {
    id,
    name: check(where, 'name', () => (input.name === undefined ? id : str(input.name, 'name'))),
    aeTitle: check(where, 'aeTitle', () => checkAeTitle(input.aeTitle, 'AE title')),
    host: check(where, 'host', () => str(input.host, 'host', HOST, 'a host name or IP address')),
    port: check(where, 'port', () => int(input.port, 'port', 1, 65535)),
    callingAeTitle: check(where, 'callingAeTitle', () => checkAeTitle(input.callingAeTitle ?? QR_DEFAULTS.callingAeTitle, 'calling AE title')),
    useModalityTag: check(where, 'useModalityTag', () => bool(input.useModalityTag ?? QR_DEFAULTS.useModalityTag, 'useModalityTag')),
    connectTimeoutMs: check(where, 'connectTimeoutMs', () => int(input.connectTimeoutMs ?? QR_DEFAULTS.connectTimeoutMs, 'connect timeout (ms)', 1, 3_600_000)),
    dimseTimeoutMs: check(where, 'dimseTimeoutMs', () => int(input.dimseTimeoutMs ?? QR_DEFAULTS.dimseTimeoutMs, 'DIMSE timeout (ms)', 1, 86_400_000)),
    maxPduLength: check(where, 'maxPduLength', () => int(input.maxPduLength ?? QR_DEFAULTS.maxPduLength, 'maximum PDU length', 4096, 0xffffffff)),
    maxAssociations: check(where, 'maxAssociations', () => int(input.maxAssociations ?? QR_DEFAULTS.maxAssociations, 'maximum parallel associations', 1, 64)),
  };
  if (input.fallbackCharacterSet !== undefined) {
    const cs = check(where, 'fallbackCharacterSet', () => {
      const v = str(input.fallbackCharacterSet, 'fallback character set');
      const unknown = parseSpecificCharacterSet(v).unknownTerms;
      if (unknown.length > 0) throw new TypeError(`fallback character set ${JSON.stringify(v)}: unknown term ${unknown.map((t) => JSON.stringify(t)).join(', ')} (e.g. "ISO_IR 100", "ISO_IR 192")`);
      return v;
    });
    return { ...node, fallbackCharacterSet: cs };
  }
  return node;
}

/** A store node from user input or the file: defaults applied, every value checked. */
export function checkStoreNode(input: unknown, where: Where): StoreNode {
  if (!isRecord(input)) throw new ConfigError(ErrorCode.ConfigInvalid, 'a store node must be an object', { pointer: where.pointer, ...(where.file !== undefined ? { file: where.file } : {}) });
  unknownKeys(where, input, STORE_KEYS);
  const id = check(where, 'id', () => str(input.id, 'node id', NODE_ID_PATTERN, 'use 1-64 letters, digits, "_" or "-"'));
  const allowed = input.allowedCallingAeTitles ?? STORE_DEFAULTS.allowedCallingAeTitles;
  if (!Array.isArray(allowed)) throw fault(where, 'allowedCallingAeTitles', 'allowed calling AE titles must be a list');
  return {
    id,
    name: check(where, 'name', () => (input.name === undefined ? id : str(input.name, 'name'))),
    aeTitle: check(where, 'aeTitle', () => checkAeTitle(input.aeTitle, 'AE title')),
    host: check(where, 'host', () => str(input.host ?? STORE_DEFAULTS.host, 'host', HOST, 'a host name or IP address')),
    port: check(where, 'port', () => int(input.port, 'port', 1, 65535)),
    // An external node's folder is informative only and may be left empty.
    directory: check(where, 'directory', () => (input.own === false && (input.directory === undefined || input.directory === '') ? '' : str(input.directory, 'storage directory'))),
    allowedCallingAeTitles: allowed.map((a: unknown, i: number) => check({ ...where, pointer: `${where.pointer}/allowedCallingAeTitles` }, String(i), () => checkAeTitle(a, 'allowed calling AE title'))),
    own: check(where, 'own', () => bool(input.own ?? STORE_DEFAULTS.own, 'own')),
  };
}

const STATUSES = new Set(['running', 'complete', 'failed', 'interrupted']);

function checkQuery(q: unknown, where: Where): void {
  if (!isRecord(q)) throw new ConfigError(ErrorCode.ConfigInvalid, 'a query record must be an object', { pointer: where.pointer, ...(where.file !== undefined ? { file: where.file } : {}) });
  check(where, 'id', () => str(q.id, 'query id'));
  check(where, 'startedAt', () => {
    const s = str(q.startedAt, 'startedAt');
    if (Number.isNaN(Date.parse(s))) throw new TypeError(`startedAt ${JSON.stringify(s)} is not an ISO date-time`);
  });
  if (q.finishedAt !== undefined) check(where, 'finishedAt', () => str(q.finishedAt, 'finishedAt'));
  if (typeof q.status !== 'string' || !STATUSES.has(q.status)) throw fault(where, 'status', `status must be one of ${[...STATUSES].join(', ')}, not ${JSON.stringify(q.status)}`);
  if (!isRecord(q.parameters)) throw fault(where, 'parameters', 'parameters must be an object');
  for (const k of ['stages', 'moves', 'errors'] as const) if (!Array.isArray(q[k])) throw fault(where, k, `${k} must be a list`);
  if (!isRecord(q.summary)) throw fault(where, 'summary', 'summary must be an object');
  if (q.selection !== undefined) {
    const s = q.selection;
    if (!isRecord(s) || !Array.isArray(s.decisions) || !Array.isArray(s.studies) || !Array.isArray(s.moves)) throw fault(where, 'selection', 'selection must be an object with decisions, studies and moves lists');
  }
}

function checkHeld(held: unknown, where: Where): void {
  const here = (p: string) => ({ ...where, pointer: p });
  if (!isRecord(held)) throw new ConfigError(ErrorCode.ConfigInvalid, 'held must be an object (study UID → series UID → SOP Instance UID → entry)', { pointer: where.pointer, ...(where.file !== undefined ? { file: where.file } : {}) });
  for (const [study, series] of Object.entries(held)) {
    const ps = `${where.pointer}/${escapePointer(study)}`;
    if (!isRecord(series)) throw fault(where, study, 'a held study must be an object of series');
    for (const [se, sops] of Object.entries(series)) {
      const pse = `${ps}/${escapePointer(se)}`;
      if (!isRecord(sops)) throw fault(here(ps), se, 'a held series must be an object of instances');
      for (const [sop, e] of Object.entries(sops)) {
        if (!isRecord(e) || typeof e.sopClassUid !== 'string' || typeof e.file !== 'string' || typeof e.storedAt !== 'string' || (e.queryId !== undefined && typeof e.queryId !== 'string')) {
          throw fault(here(pse), sop, 'a held instance must be {sopClassUid, file, storedAt[, queryId]} with string values');
        }
      }
    }
  }
}

/** Check a parsed database file; returns it typed. Throws ConfigError naming the file and the JSON pointer of the first fault. */
export function checkDatabaseFile(data: unknown, file: string): DatabaseFile {
  const root: Where = { pointer: '', file };
  if (!isRecord(data)) throw new ConfigError(ErrorCode.ConfigInvalid, 'the database must be a JSON object', { pointer: '', file });
  if (data.schemaVersion !== SCHEMA_VERSION) {
    const newer = typeof data.schemaVersion === 'number' && data.schemaVersion > SCHEMA_VERSION;
    throw fault(root, 'schemaVersion', newer
      ? `schema version ${data.schemaVersion} was written by a newer qrscu (this one reads ${SCHEMA_VERSION}); the file is left as it is`
      : `schemaVersion must be ${SCHEMA_VERSION}, not ${JSON.stringify(data.schemaVersion)}`);
  }
  for (const k of ['qrNodes', 'storeNodes', 'queries'] as const) if (!Array.isArray(data[k])) throw fault(root, k, `${k} must be a list`);
  const ids = new Map<string, string>();
  const unique = (pointer: string, id: string) => {
    const prev = ids.get(id);
    if (prev !== undefined) throw new ConfigError(ErrorCode.ConfigInvalid, `node id ${JSON.stringify(id)} is used twice (also at ${prev})`, { pointer: `${pointer}/id`, file });
    ids.set(id, pointer);
  };
  const qrNodes = (data.qrNodes as unknown[]).map((n, i) => {
    const node = checkQrNode(n, { pointer: `/qrNodes/${i}`, file });
    unique(`/qrNodes/${i}`, node.id);
    return node;
  });
  const storeNodes = (data.storeNodes as unknown[]).map((n, i) => {
    const node = checkStoreNode(n, { pointer: `/storeNodes/${i}`, file });
    unique(`/storeNodes/${i}`, node.id);
    return node;
  });
  const queries = data.queries as unknown[];
  const queryIds = new Set<string>();
  queries.forEach((q, i) => {
    checkQuery(q, { pointer: `/queries/${i}`, file });
    const id = (q as QueryRecord).id;
    if (queryIds.has(id)) throw new ConfigError(ErrorCode.ConfigInvalid, `query id ${JSON.stringify(id)} is used twice`, { pointer: `/queries/${i}/id`, file });
    queryIds.add(id);
  });
  checkHeld(data.held, { pointer: '/held', file });
  let users: UserRecord[] | undefined;
  if (data.users !== undefined) {
    if (!Array.isArray(data.users)) throw fault(root, 'users', 'users must be a list');
    const names = new Set<string>();
    users = (data.users as unknown[]).map((u, i) => {
      const user = checkUser(u, { pointer: `/users/${i}`, file });
      if (names.has(user.name)) throw new ConfigError(ErrorCode.ConfigInvalid, `user ${JSON.stringify(user.name)} is listed twice`, { pointer: `/users/${i}/name`, file });
      names.add(user.name);
      return user;
    });
  }
  for (const k of Object.keys(data)) if (!['schemaVersion', 'qrNodes', 'storeNodes', 'queries', 'held', 'users'].includes(k)) throw fault(root, k, `unknown top-level key ${JSON.stringify(k)}`);
  return { schemaVersion: SCHEMA_VERSION, qrNodes, storeNodes, queries: queries as QueryRecord[], held: data.held as HeldIndex, ...(users ? { users } : {}) };
}

export const USER_NAME_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
export const USER_ROLES = ['admin', 'user', 'viewer'] as const;
const PASSWORD_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

/** A user record from the file (or built by Database.addUser): name, role, a scrypt hash, a date. */
export function checkUser(input: unknown, where: Where): UserRecord {
  if (!isRecord(input)) throw new ConfigError(ErrorCode.ConfigInvalid, 'a user must be an object', { pointer: where.pointer, ...(where.file !== undefined ? { file: where.file } : {}) });
  unknownKeys(where, input, ['name', 'role', 'passwordHash', 'createdAt']);
  const name = check(where, 'name', () => str(input.name, 'user name', USER_NAME_PATTERN, 'use 1-64 letters, digits, "_", ".", "@" or "-"'));
  const role = input.role;
  if (typeof role !== 'string' || !(USER_ROLES as readonly string[]).includes(role)) throw fault(where, 'role', `role must be one of ${USER_ROLES.join(', ')}, not ${JSON.stringify(role)}`);
  const passwordHash = check(where, 'passwordHash', () => str(input.passwordHash, 'password hash', PASSWORD_HASH, 'a scrypt hash written by qrscu users'));
  const createdAt = check(where, 'createdAt', () => str(input.createdAt, 'createdAt'));
  return { name, role: role as UserRecord['role'], passwordHash, createdAt };
}
