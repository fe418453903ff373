// What the pipeline needs to know of the two nodes of a run. The database keeps more (names, ids);
// these are the fields that go on the wire.

export interface QrNodeConfig {
  readonly id: string;
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
  /** Our AE title towards this node (C-FIND, C-MOVE and C-ECHO). */
  readonly callingAeTitle: string;
  /** Send a universal Modality key at study level (Agfa Impax 6.6). */
  readonly useModalityTag: boolean;
  /** Associations used at once for series/image queries and moves. */
  readonly maxAssociations: number;
  readonly connectTimeoutMs?: number;
  readonly dimseTimeoutMs?: number;
  readonly maxPduLength?: number;
  /** Specific Character Set assumed for responses that name none ("ISO_IR 100"). */
  readonly fallbackCharacterSet?: string;
}

export interface StoreNodeConfig {
  readonly id: string;
  readonly aeTitle: string;
  readonly host: string;
  readonly port: number;
  /** Our own store SCP (started in-process when not already listening) or another application's. */
  readonly own: boolean;
  /** Where our own store SCP writes. */
  readonly directory?: string;
  readonly allowedCallingAeTitles?: readonly string[];
}

export function clientOptionsFor(node: QrNodeConfig) {
  return {
    host: node.host,
    port: node.port,
    callingAeTitle: node.callingAeTitle,
    calledAeTitle: node.aeTitle,
    ...(node.connectTimeoutMs !== undefined ? { connectTimeoutMs: node.connectTimeoutMs } : {}),
    dimseTimeoutMs: node.dimseTimeoutMs ?? 300_000,
    ...(node.maxPduLength !== undefined ? { maxLength: node.maxPduLength } : {}),
    ...(node.fallbackCharacterSet ? { fallbackCharacterSet: node.fallbackCharacterSet } : {}),
  };
}
