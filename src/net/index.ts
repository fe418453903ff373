// Public surface of the DICOM network stack.

export { connect, type Client, type ClientOptions, type FindOperation, type MoveResult, type FinalStatus, type SubOperations, type QueryModel, QUERY_RETRIEVE_CONTEXTS } from './client.js';
export { listen, DimseStatusError, type Server, type ServerHandlers, type ServerOptions } from './server.js';
export { startStoreScp, type StoredObject, type StoreScpOptions } from './store-scp.js';
export { createPool, type Pool } from './pool.js';
export { openAssociation, acceptAssociation, type Association, type AssociationEnd } from './association.js';
export { Status, statusClass, statusName, formatStatus } from './status.js';
