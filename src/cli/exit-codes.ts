// Process exit codes of the qrscu command (documented in the README).

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
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
