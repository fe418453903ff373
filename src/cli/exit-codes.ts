// Process exit codes of the qrscu command (documented in the README).

import { ErrorCode, isDicomError } from '../errors.js';

export const ExitCode = {
  Ok: 0,
  /** An unexpected error (a bug): the message and stack are printed. */
  Unexpected: 1,
  /** Bad arguments or configuration. */
  Usage: 2,
  /** A node is unreachable, an association was rejected or aborted, or a DIMSE request failed. */
  Network: 3,
  /** The retrieve completed only partly: some sub-operations failed or objects did not arrive. */
  PartialRetrieve: 4,
  /** A rule file is invalid. */
  InvalidRules: 5,
  /** An input file (DICOM file, capture) cannot be decoded. */
  InvalidInput: 6,
  /** The database is locked by another live run (overlapping cron runs): nothing was done. */
  Locked: 7,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code for one of our errors, or undefined for an unexpected one. */
export function exitCodeFor(e: unknown): ExitCode | undefined {
  if (!isDicomError(e)) return undefined;
  if (e.code === ErrorCode.Usage || e.code === ErrorCode.ConfigInvalid || e.code === ErrorCode.UnknownKeyword || e.code === ErrorCode.ValueInvalid) return ExitCode.Usage;
  if (e.code.startsWith('ERR_ASSOC') || e.code.startsWith('ERR_CONNECT') || e.code.startsWith('ERR_DIMSE') || e.code === ErrorCode.ArtimTimeout || e.code === ErrorCode.IdleTimeout || e.code === ErrorCode.NoPresentationContext || e.code.startsWith('ERR_PDU')) return ExitCode.Network;
  if (e.code === ErrorCode.Io) return ExitCode.Usage;
  if (e.code === ErrorCode.DatabaseLocked) return ExitCode.Locked;
  if (e.code === ErrorCode.RuleInvalid) return ExitCode.InvalidRules;
  return undefined;
}
