// DIMSE status values: class (PS3.7 §C.1) and name (PS3.7 Annex C; PS3.4 Table B.2-1 for C-STORE,
// Tables C.4-1 to C.4-3 for C-FIND, C-MOVE, C-GET), table-driven; the table below is transcribed
// from the standard, not from src/net/status.ts.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Status, formatStatus, hexStatus, statusClass, statusName, type DimseService, type StatusClass } from '../../src/net/status.js';

const test = suite('net/status');

// [code, class, name without a service (Query/Retrieve meanings)]
const TABLE: ReadonlyArray<readonly [number, StatusClass, string]> = [
  [0x0000, 'success', 'Success'],
  [0xff00, 'pending', 'Pending'],
  [0xff01, 'pending', 'Pending: Optional Keys not supported'],
  [0xfe00, 'cancel', 'Cancel'],
  [0x0001, 'warning', 'Warning: Requested optional Attributes are not supported'],
  [0x0107, 'warning', 'Warning: Attribute list error'],
  [0x0116, 'warning', 'Warning: Attribute Value Out of Range'],
  [0xb000, 'warning', 'Warning: Sub-operations complete, one or more failures'],
  [0xb006, 'warning', 'Warning: Elements Discarded'],
  [0xb007, 'warning', 'Warning: Data Set does not match SOP Class'],
  [0xb123, 'warning', 'Warning'],
  [0xbfff, 'warning', 'Warning'],
  [0xa700, 'failure', 'Refused: Out of Resources'],
  [0xa701, 'failure', 'Refused: Out of Resources, unable to calculate number of matches'],
  [0xa702, 'failure', 'Refused: Out of Resources, unable to perform sub-operations'],
  [0xa7ff, 'failure', 'Refused: Out of Resources'],
  [0xa801, 'failure', 'Refused: Move Destination unknown'],
  [0xa900, 'failure', 'Failed: Identifier does not match SOP Class'],
  [0xa9ff, 'failure', 'Failed: Identifier does not match SOP Class'],
  [0xa000, 'failure', 'Failure'],
  [0xafff, 'failure', 'Failure'],
  [0xc000, 'failure', 'Failed: Unable to process'],
  [0xc001, 'failure', 'Failed: Unable to process'],
  [0xcfff, 'failure', 'Failed: Unable to process'],
  [0x0105, 'failure', 'Failed: No such attribute'],
  [0x0106, 'failure', 'Failed: Invalid attribute value'],
  [0x0110, 'failure', 'Failed: Processing failure'],
  [0x0111, 'failure', 'Failed: Duplicate SOP Instance'],
  [0x0112, 'failure', 'Failed: No such SOP Instance'],
  [0x0113, 'failure', 'Failed: No such event type'],
  [0x0114, 'failure', 'Failed: No such argument'],
  [0x0115, 'failure', 'Failed: Invalid argument value'],
  [0x0117, 'failure', 'Failed: Invalid object instance'],
  [0x0118, 'failure', 'Failed: No such SOP Class'],
  [0x0119, 'failure', 'Failed: Class-instance conflict'],
  [0x0120, 'failure', 'Failed: Missing attribute'],
  [0x0121, 'failure', 'Failed: Missing attribute value'],
  [0x0122, 'failure', 'Refused: SOP Class not supported'],
  [0x0123, 'failure', 'Failed: No such action'],
  [0x0124, 'failure', 'Refused: Not authorized'],
  [0x0210, 'failure', 'Failed: Duplicate invocation'],
  [0x0211, 'failure', 'Failed: Unrecognized operation'],
  [0x0212, 'failure', 'Failed: Mistyped argument'],
  [0x0213, 'failure', 'Failed: Resource limitation'],
  [0x0100, 'failure', 'Failure'],
  [0x01ff, 'failure', 'Failure'],
  [0x02ff, 'failure', 'Failure'],
  // outside every range of PS3.7 §C.1: a failure, so it never passes for success or pending
  [0x0002, 'failure', 'Unknown status'],
  [0x0300, 'failure', 'Unknown status'],
  [0x9fff, 'failure', 'Unknown status'],
  [0xd000, 'failure', 'Unknown status'],
  [0xfe01, 'failure', 'Unknown status'],
  [0xff02, 'failure', 'Unknown status'],
  [0xffff, 'failure', 'Unknown status'],
];

for (const [code, cls, name] of TABLE) {
  test(`${hexStatus(code)}: ${cls}, '${name}'`, () => {
    assert.is(statusClass(code), cls);
    assert.is(statusName(code), name);
  });
}

// Codes whose meaning depends on the service: [code, service, name]
const BY_SERVICE: ReadonlyArray<readonly [number, DimseService, string]> = [
  [0xb000, 'C-STORE', 'Warning: Coercion of Data Elements'],
  [0xb000, 'C-MOVE', 'Warning: Sub-operations complete, one or more failures'],
  [0xb000, 'C-GET', 'Warning: Sub-operations complete, one or more failures'],
  [0xb007, 'C-STORE', 'Warning: Data Set does not match SOP Class'],
  [0xa700, 'C-STORE', 'Refused: Out of Resources'],
  [0xa7c5, 'C-STORE', 'Refused: Out of Resources'],
  [0xa900, 'C-STORE', 'Error: Data Set does not match SOP Class'],
  [0xa9a1, 'C-STORE', 'Error: Data Set does not match SOP Class'],
  [0xa900, 'C-FIND', 'Failed: Identifier does not match SOP Class'],
  [0xc000, 'C-STORE', 'Error: Cannot understand'],
  [0xc211, 'C-STORE', 'Error: Cannot understand'],
  [0xc000, 'C-FIND', 'Failed: Unable to process'],
  [0xc000, 'C-MOVE', 'Failed: Unable to process'],
  [0xa801, 'C-MOVE', 'Refused: Move Destination unknown'],
  [0xff01, 'C-FIND', 'Pending: Optional Keys not supported'],
  [0x0122, 'C-ECHO', 'Refused: SOP Class not supported'],
  [0x0000, 'C-STORE', 'Success'],
  [0xfe00, 'C-MOVE', 'Cancel'],
];

for (const [code, service, name] of BY_SERVICE) {
  test(`${hexStatus(code)} for ${service}: '${name}'`, () => {
    assert.is(statusName(code, service), name);
  });
}

test('formatStatus: hex, then the name', () => {
  assert.is(formatStatus(0xa801), '0xA801 Refused: Move Destination unknown');
  assert.is(formatStatus(0xff00), '0xFF00 Pending');
  assert.is(formatStatus(0xc000), '0xC000 Failed: Unable to process');
  assert.is(formatStatus(0xc000, 'C-STORE'), '0xC000 Error: Cannot understand');
  assert.is(formatStatus(0x0000), '0x0000 Success');
  assert.is(hexStatus(0x1), '0x0001');
});

test('Status constants carry the values of the standard', () => {
  assert.is(Status.Success, 0x0000);
  assert.is(Status.Pending, 0xff00);
  assert.is(Status.PendingOptionalKeysNotSupported, 0xff01);
  assert.is(Status.Cancel, 0xfe00);
  assert.is(Status.CoercionOfDataElements, 0xb000);
  assert.is(Status.SubOperationsCompleteWithFailures, 0xb000);
  assert.is(Status.ElementsDiscarded, 0xb006);
  assert.is(Status.DataSetDoesNotMatchSopClassWarning, 0xb007);
  assert.is(Status.OutOfResources, 0xa700);
  assert.is(Status.OutOfResourcesUnableToCalculateNumberOfMatches, 0xa701);
  assert.is(Status.OutOfResourcesUnableToPerformSubOperations, 0xa702);
  assert.is(Status.MoveDestinationUnknown, 0xa801);
  assert.is(Status.IdentifierDoesNotMatchSopClass, 0xa900);
  assert.is(Status.UnableToProcess, 0xc000);
  assert.is(Status.SopClassNotSupported, 0x0122);
  assert.is(Status.NotAuthorized, 0x0124);
  assert.is(Status.ProcessingFailure, 0x0110);
  assert.is(Status.UnrecognizedOperation, 0x0211);
  assert.is(Status.MistypedArgument, 0x0212);
  assert.is(Status.ResourceLimitation, 0x0213);
});

test('every named constant has the class its name implies', () => {
  for (const [name, code] of Object.entries(Status)) {
    const expected: StatusClass = name === 'Success' ? 'success'
      : name.startsWith('Pending') ? 'pending'
        : name === 'Cancel' ? 'cancel'
          : /Warning|Coercion|Discarded|SubOperationsComplete|AttributeListError|AttributeValueOutOfRange/.test(name) ? 'warning'
            : 'failure';
    assert.is(statusClass(code), expected, name);
  }
});

test('every 16-bit value has a class and a non-empty name, for every service', () => {
  const services: (DimseService | undefined)[] = [undefined, 'C-ECHO', 'C-FIND', 'C-GET', 'C-MOVE', 'C-STORE'];
  const counts: Record<StatusClass, number> = { success: 0, pending: 0, cancel: 0, warning: 0, failure: 0 };
  for (let code = 0; code <= 0xffff; code++) {
    counts[statusClass(code)]++;
    for (const s of services) assert.ok(statusName(code, s).length > 0);
  }
  // PS3.7 §C.1: one success, two pending, one cancel; warnings 0001, 0107, 0116 and the 4096 of Bxxx
  assert.equal(counts, { success: 1, pending: 2, cancel: 1, warning: 4099, failure: 0x10000 - 4103 });
});

test.run();
