// DIMSE status codes (PS3.7 Annex C) with the service-specific meanings of the Storage and
// Query/Retrieve service classes (PS3.4 Table B.2-1, Tables C.4-1, C.4-2, C.4-3): class and name.

/** Status values qrscu sends or tests for, named after PS3.7 Annex C and PS3.4 Annexes B and C. */
export const Status = {
  Success: 0x0000,
  // PS3.7 §C.1: 0001H, the Bxxx range, 0107H and 0116H are warnings
  Warning: 0x0001,
  AttributeListError: 0x0107,
  AttributeValueOutOfRange: 0x0116,
  /** C-STORE (PS3.4 Table B.2-1). */
  CoercionOfDataElements: 0xb000,
  /** C-MOVE, C-GET (PS3.4 Tables C.4-2, C.4-3): one or more sub-operations failed. */
  SubOperationsCompleteWithFailures: 0xb000,
  ElementsDiscarded: 0xb006,
  DataSetDoesNotMatchSopClassWarning: 0xb007,
  Cancel: 0xfe00,
  Pending: 0xff00,
  /** C-FIND (PS3.4 Table C.4-1): one or more Optional Keys were not supported. */
  PendingOptionalKeysNotSupported: 0xff01,
  // PS3.7 C.5: failures
  NoSuchAttribute: 0x0105,
  InvalidAttributeValue: 0x0106,
  ProcessingFailure: 0x0110,
  DuplicateSopInstance: 0x0111,
  NoSuchSopInstance: 0x0112,
  NoSuchEventType: 0x0113,
  NoSuchArgument: 0x0114,
  InvalidArgumentValue: 0x0115,
  InvalidObjectInstance: 0x0117,
  NoSuchSopClass: 0x0118,
  ClassInstanceConflict: 0x0119,
  MissingAttribute: 0x0120,
  MissingAttributeValue: 0x0121,
  SopClassNotSupported: 0x0122,
  NoSuchAction: 0x0123,
  NotAuthorized: 0x0124,
  DuplicateInvocation: 0x0210,
  UnrecognizedOperation: 0x0211,
  MistypedArgument: 0x0212,
  ResourceLimitation: 0x0213,
  // PS3.4 Tables B.2-1, C.4-1 to C.4-3
  OutOfResources: 0xa700,
  OutOfResourcesUnableToCalculateNumberOfMatches: 0xa701,
  OutOfResourcesUnableToPerformSubOperations: 0xa702,
  MoveDestinationUnknown: 0xa801,
  IdentifierDoesNotMatchSopClass: 0xa900,
  UnableToProcess: 0xc000,
} as const;

export type StatusClass = 'success' | 'pending' | 'cancel' | 'warning' | 'failure';

/** The DIMSE-C service whose status table gives a code its meaning (C-STORE differs from Q/R). */
export type DimseService = 'C-ECHO' | 'C-FIND' | 'C-GET' | 'C-MOVE' | 'C-STORE';

/**
 * The class of a status value (PS3.7 §C.1, status classes). Values outside every range listed there
 * (0002H–00FFH, 0300H–9FFFH, Dxxx–Fxxx other than FE00H, FF00H, FF01H) are treated as failures,
 * so that an unknown status never passes for success or keeps an operation pending.
 */
export function statusClass(code: number): StatusClass {
  if (code === 0x0000) return 'success';
  // PS3.7 §C.1: Pending FF00H and FF01H; Cancel FE00H
  if (code === 0xff00 || code === 0xff01) return 'pending';
  if (code === 0xfe00) return 'cancel';
  // PS3.7 §C.1: Warning 0001H, Bxxx, 0107H, 0116H; Failure Axxx, Cxxx, 01xx and 02xx otherwise
  if (code === 0x0001 || code === 0x0107 || code === 0x0116 || (code & 0xf000) === 0xb000) return 'warning';
  return 'failure';
}

// PS3.7 Annex C.4 and C.5: the general statuses, whatever the service.
const GENERAL: ReadonlyMap<number, string> = new Map([
  [0x0000, 'Success'],
  [0x0001, 'Warning: Requested optional Attributes are not supported'], // PS3.4 (N-CREATE, N-SET)
  [0x0107, 'Warning: Attribute list error'],
  [0x0116, 'Warning: Attribute Value Out of Range'],
  [0x0105, 'Failed: No such attribute'],
  [0x0106, 'Failed: Invalid attribute value'],
  [0x0110, 'Failed: Processing failure'],
  [0x0111, 'Failed: Duplicate SOP Instance'],
  [0x0112, 'Failed: No such SOP Instance'],
  [0x0113, 'Failed: No such event type'],
  [0x0114, 'Failed: No such argument'],
  [0x0115, 'Failed: Invalid argument value'],
  [0x0117, 'Failed: Invalid object instance'],
  [0x0118, 'Failed: No such SOP Class'],
  [0x0119, 'Failed: Class-instance conflict'],
  [0x0120, 'Failed: Missing attribute'],
  [0x0121, 'Failed: Missing attribute value'],
  [0x0122, 'Refused: SOP Class not supported'],
  [0x0123, 'Failed: No such action'],
  [0x0124, 'Refused: Not authorized'],
  [0x0210, 'Failed: Duplicate invocation'],
  [0x0211, 'Failed: Unrecognized operation'],
  [0x0212, 'Failed: Mistyped argument'],
  [0x0213, 'Failed: Resource limitation'],
  [0xfe00, 'Cancel'],
  [0xff00, 'Pending'],
  [0xff01, 'Pending: Optional Keys not supported'],
]);

// PS3.4 Tables C.4-1 (C-FIND), C.4-2 (C-MOVE), C.4-3 (C-GET).
const QUERY_RETRIEVE: ReadonlyMap<number, string> = new Map([
  [0xb000, 'Warning: Sub-operations complete, one or more failures'],
  [0xa700, 'Refused: Out of Resources'],
  [0xa701, 'Refused: Out of Resources, unable to calculate number of matches'],
  [0xa702, 'Refused: Out of Resources, unable to perform sub-operations'],
  [0xa801, 'Refused: Move Destination unknown'],
  [0xa900, 'Failed: Identifier does not match SOP Class'],
]);

// PS3.4 Table B.2-1 (C-STORE). A7xx, A9xx and Cxxx are ranges there (see rangeName).
const STORE: ReadonlyMap<number, string> = new Map([
  [0xb000, 'Warning: Coercion of Data Elements'],
  [0xb006, 'Warning: Elements Discarded'],
  [0xb007, 'Warning: Data Set does not match SOP Class'],
]);

/**
 * A short name for a status value, as in dcmtk's traces: 'Pending', 'Refused: Move Destination
 * unknown', 'Failed: Unable to process'. `service` picks the service-specific meaning of codes that
 * C-STORE and Query/Retrieve define differently (B000H, A9xxH, Cxxx); without it, Query/Retrieve's.
 */
export function statusName(code: number, service?: DimseService): string {
  const general = GENERAL.get(code);
  if (general !== undefined) return general;
  const specific = service === 'C-STORE' ? STORE.get(code) : QUERY_RETRIEVE.get(code) ?? STORE.get(code);
  if (specific !== undefined) return specific;
  return rangeName(code, service === 'C-STORE');
}

function rangeName(code: number, store: boolean): string {
  const high = code & 0xf000;
  // PS3.4 Table B.2-1: A7xx out of resources, A9xx data set does not match, Cxxx cannot understand
  if ((code & 0xff00) === 0xa700) return 'Refused: Out of Resources';
  if ((code & 0xff00) === 0xa900) return store ? 'Error: Data Set does not match SOP Class' : 'Failed: Identifier does not match SOP Class';
  // PS3.4 Tables C.4-1 to C.4-3: Cxxx unable to process
  if (high === 0xc000) return store ? 'Error: Cannot understand' : 'Failed: Unable to process';
  switch (statusClass(code)) {
    case 'warning':
      return 'Warning';
    case 'failure':
      return high === 0xa000 || (code & 0xff00) === 0x0100 || (code & 0xff00) === 0x0200 ? 'Failure' : 'Unknown status';
    default:
      return 'Unknown status'; // unreachable: every success, pending and cancel value is in GENERAL
  }
}

/** '0xA801 Refused: Move Destination unknown': the value in hex, then its name. */
export function formatStatus(code: number, service?: DimseService): string {
  return `${hexStatus(code)} ${statusName(code, service)}`;
}

/** '0xFF00': four upper-case hex digits. */
export function hexStatus(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
