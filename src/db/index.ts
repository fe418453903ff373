// The qrscu database: nodes, query records, the held-objects index (see database.ts).

export * from './schema.js';
export { compactSelection, expandSelection } from './compact.js';
export {
  DATABASE_FILE,
  Database,
  LOCK_FILE,
  openDatabase,
  parseDuration,
  resolveHome,
  type HeldCounts,
  type HeldInput,
  type NewQuery,
  type NodeEntry,
  type OpenOptions,
  type PruneResult,
  type QueryListItem,
  type QueryPatch,
  type QueryView,
} from './database.js';
export { indexFolder, readUids, type IndexCounts, type IndexOptions } from './index-folder.js';
export { acquireLock, lockOwner, processAlive, type Lock, type LockInfo } from './lock.js';
export { checkAeTitle, checkQrNode, checkStoreNode, NODE_ID_PATTERN, QR_DEFAULTS, STORE_DEFAULTS, type QrNodeInput, type StoreNodeInput } from './validate.js';
export { formatTable, listNodes, nodeDetails, nodeTable, type NodeRow } from './nodes.js';
export { checkPassword, hashPassword, MIN_PASSWORD, verifyPassword } from './users.js';
export { USER_NAME_PATTERN, USER_ROLES } from './validate.js';
