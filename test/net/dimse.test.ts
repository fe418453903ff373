// DIMSE-C command sets (PS3.7 §9.3): parse, generate and mirror over golden bytes for every message
// type; the elements each type carries, transcribed from PS3.7 Tables 9.3-1 to 9.3-13 independently of
// src/net/dimse.ts; tolerant decoding; missing and malformed elements with their exact errors; a seeded
// fuzz of random and mutated command sets (only DimseError may come out).
//
// Golden bytes are never made by our encoder. "Captured" ones come from DCMTK 3.6.7 on loopback in a
// network namespace with nothing else in it:
//   unshare --net sh -c 'ip link set lo up; dumpcap -i lo -w cap.pcapng & dcmqrscp -c qr.cfg 11112 &
//     echoscu -aet ECHOSCU -aec DCMQRSCP 127.0.0.1 11112
//     findscu -S -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=<uid> -k PatientName … (and --cancel 1)
//     movescu -S -aem MOVESCU +P 11113 -k QueryRetrieveLevel=STUDY -k StudyInstanceUID=<uid> …  (3 objects)
//     movescu -S -aem NOWHERE …;  getscu -S …;  findscu -S -k QueryRetrieveLevel=SERIES …  (0xC000)'
// with dcmqrscp's storage area indexed by dcmqridx from test/fixtures/dicom-samples (CT-RDSR-Siemens-Multi-*
// and CT-RDSR-GEPixelMed). The command PDVs were reassembled from `tshark -T fields -e tcp.payload` by a
// separate Python script, and the per-line comments were printed by that script and checked against
// `dcmdump -f -ti` of each command set. "Hand-written" ones were typed byte by byte.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDataset, decodeDataset, IMPLICIT_LE, setValue } from '../../src/dicom/index.js';
import { DicomError, DimseError } from '../../src/errors.js';
import {
  CommandDataSetType, CommandField, Priority, decodeCommand, describeMessage, encodeCommand,
  getFailedSopInstanceUidList, serviceOf, type DimseMessage, type DimseType,
} from '../../src/net/dimse.js';
import { hex } from '../support/hex.js';
import { createRandom as prng } from '../support/random.js';

const test = suite('net/dimse');

const VERIFICATION = '1.2.840.10008.1.1';
const STUDY_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
const STUDY_MOVE = '1.2.840.10008.5.1.4.1.2.2.2';
const STUDY_GET = '1.2.840.10008.5.1.4.1.2.2.3';
const RDSR = '1.2.840.10008.5.1.4.1.1.88.67';
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

// =============================================================================================
// Captured from DCMTK 3.6.7
// =============================================================================================

/** echoscu → dcmqrscp, context 1: C-ECHO-RQ, message 1, Verification, no data set. */
const ECHO_RQ = hex(`
  00 00 00 00  04 00 00 00  38 00 00 00             # (0000,0000) UL CommandGroupLength 56
  00 00 02 00  12 00 00 00  '1.2.840.10008.1.1' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  30 00                   # (0000,0100) US CommandField 0x0030 C-ECHO-RQ
  00 00 10 01  02 00 00 00  01 00                   # (0000,0110) US MessageID 1
  00 00 00 08  02 00 00 00  01 01                   # (0000,0800) US CommandDataSetType 0x0101 (no data set)
`);

/** dcmqrscp → echoscu: C-ECHO-RSP to message 1, status 0x0000. */
const ECHO_RSP = hex(`
  00 00 00 00  04 00 00 00  42 00 00 00             # (0000,0000) UL CommandGroupLength 66
  00 00 02 00  12 00 00 00  '1.2.840.10008.1.1' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  30 80                   # (0000,0100) US CommandField 0x8030 C-ECHO-RSP
  00 00 20 01  02 00 00 00  01 00                   # (0000,0120) US MessageIDBeingRespondedTo 1
  00 00 00 08  02 00 00 00  01 01                   # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  00 00                   # (0000,0900) US Status 0x0000
`);

/** findscu -S → dcmqrscp: C-FIND-RQ, message 1, Study Root FIND, priority medium, identifier follows. */
const FIND_RQ = hex(`
  00 00 00 00  04 00 00 00  4c 00 00 00                       # (0000,0000) UL CommandGroupLength 76
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.1' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  20 00                             # (0000,0100) US CommandField 0x0020 C-FIND-RQ
  00 00 10 01  02 00 00 00  01 00                             # (0000,0110) US MessageID 1
  00 00 00 07  02 00 00 00  00 00                             # (0000,0700) US Priority 0
  00 00 00 08  02 00 00 00  01 00                             # (0000,0800) US CommandDataSetType 0x0001 (data set follows)
`);

/** dcmqrscp → findscu: C-FIND-RSP to message 1, status 0xFF00 (pending), a match follows. */
const FIND_RSP_PENDING = hex(`
  00 00 00 00  04 00 00 00  4c 00 00 00                       # (0000,0000) UL CommandGroupLength 76
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.1' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  20 80                             # (0000,0100) US CommandField 0x8020 C-FIND-RSP
  00 00 20 01  02 00 00 00  01 00                             # (0000,0120) US MessageIDBeingRespondedTo 1
  00 00 00 08  02 00 00 00  01 00                             # (0000,0800) US CommandDataSetType 0x0001 (data set follows)
  00 00 00 09  02 00 00 00  00 ff                             # (0000,0900) US Status 0xFF00
`);

/** dcmqrscp → findscu: final C-FIND-RSP to message 1, status 0x0000, no data set. */
const FIND_RSP_SUCCESS = hex(`
  00 00 00 00  04 00 00 00  4c 00 00 00                       # (0000,0000) UL CommandGroupLength 76
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.1' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  20 80                             # (0000,0100) US CommandField 0x8020 C-FIND-RSP
  00 00 20 01  02 00 00 00  01 00                             # (0000,0120) US MessageIDBeingRespondedTo 1
  00 00 00 08  02 00 00 00  01 01                             # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  00 00                             # (0000,0900) US Status 0x0000
`);

/** dcmqrscp → findscu (series query without a study UID): final C-FIND-RSP, status 0xC000, no Error Comment. */
const FIND_RSP_UNABLE_TO_PROCESS = hex(`
  00 00 00 00  04 00 00 00  4c 00 00 00                       # (0000,0000) UL CommandGroupLength 76
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.1' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  20 80                             # (0000,0100) US CommandField 0x8020 C-FIND-RSP
  00 00 20 01  02 00 00 00  01 00                             # (0000,0120) US MessageIDBeingRespondedTo 1
  00 00 00 08  02 00 00 00  01 01                             # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  00 c0                             # (0000,0900) US Status 0xC000
`);

/** findscu --cancel 1 → dcmqrscp: C-CANCEL-RQ for message 1 (no Affected SOP Class UID, PS3.7 Table 9.3-5). */
const CANCEL_RQ = hex(`
  00 00 00 00  04 00 00 00  1e 00 00 00  # (0000,0000) UL CommandGroupLength 30
  00 00 00 01  02 00 00 00  ff 0f        # (0000,0100) US CommandField 0x0FFF C-CANCEL-RQ
  00 00 20 01  02 00 00 00  01 00        # (0000,0120) US MessageIDBeingRespondedTo 1
  00 00 00 08  02 00 00 00  01 01        # (0000,0800) US CommandDataSetType 0x0101 (no data set)
`);

/** movescu -S -aem MOVESCU → dcmqrscp, context 3: C-MOVE-RQ, message 1, destination "MOVESCU" (AE, space-padded to 8). */
const MOVE_RQ = hex(`
  00 00 00 00  04 00 00 00  5c 00 00 00                       # (0000,0000) UL CommandGroupLength 92
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.2' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  21 00                             # (0000,0100) US CommandField 0x0021 C-MOVE-RQ
  00 00 10 01  02 00 00 00  01 00                             # (0000,0110) US MessageID 1
  00 00 00 06  08 00 00 00  'MOVESCU '                        # (0000,0600) AE MoveDestination
  00 00 00 07  02 00 00 00  00 00                             # (0000,0700) US Priority 0
  00 00 00 08  02 00 00 00  01 00                             # (0000,0800) US CommandDataSetType 0x0001 (data set follows)
`);

/** dcmqrscp → movescu: pending C-MOVE-RSP after the first of three sub-operations: remaining 2, completed 1, failed 0, warning 0. */
const MOVE_RSP_PENDING = hex(`
  00 00 00 00  04 00 00 00  74 00 00 00                       # (0000,0000) UL CommandGroupLength 116
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.2' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  21 80                             # (0000,0100) US CommandField 0x8021 C-MOVE-RSP
  00 00 20 01  02 00 00 00  01 00                             # (0000,0120) US MessageIDBeingRespondedTo 1
  00 00 00 08  02 00 00 00  01 01                             # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  00 ff                             # (0000,0900) US Status 0xFF00
  00 00 20 10  02 00 00 00  02 00                             # (0000,1020) US NumberOfRemainingSuboperations 2
  00 00 21 10  02 00 00 00  01 00                             # (0000,1021) US NumberOfCompletedSuboperations 1
  00 00 22 10  02 00 00 00  00 00                             # (0000,1022) US NumberOfFailedSuboperations 0
  00 00 23 10  02 00 00 00  00 00                             # (0000,1023) US NumberOfWarningSuboperations 0
`);

/** dcmqrscp → movescu: final C-MOVE-RSP, status 0x0000, completed 3, failed 0, warning 0, no Number of Remaining Sub-operations (conditional, PS3.7 Table 9.3-10). */
const MOVE_RSP_SUCCESS = hex(`
  00 00 00 00  04 00 00 00  6a 00 00 00                       # (0000,0000) UL CommandGroupLength 106
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.2' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  21 80                             # (0000,0100) US CommandField 0x8021 C-MOVE-RSP
  00 00 20 01  02 00 00 00  01 00                             # (0000,0120) US MessageIDBeingRespondedTo 1
  00 00 00 08  02 00 00 00  01 01                             # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  00 00                             # (0000,0900) US Status 0x0000
  00 00 21 10  02 00 00 00  03 00                             # (0000,1021) US NumberOfCompletedSuboperations 3
  00 00 22 10  02 00 00 00  00 00                             # (0000,1022) US NumberOfFailedSuboperations 0
  00 00 23 10  02 00 00 00  00 00                             # (0000,1023) US NumberOfWarningSuboperations 0
`);

/** dcmqrscp → movescu -aem NOWHERE: final C-MOVE-RSP, status 0xA801, counts 0/0/0. */
const MOVE_RSP_DESTINATION_UNKNOWN = hex(`
  00 00 00 00  04 00 00 00  6a 00 00 00                       # (0000,0000) UL CommandGroupLength 106
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.2' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  21 80                             # (0000,0100) US CommandField 0x8021 C-MOVE-RSP
  00 00 20 01  02 00 00 00  01 00                             # (0000,0120) US MessageIDBeingRespondedTo 1
  00 00 00 08  02 00 00 00  01 01                             # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  01 a8                             # (0000,0900) US Status 0xA801
  00 00 21 10  02 00 00 00  00 00                             # (0000,1021) US NumberOfCompletedSuboperations 0
  00 00 22 10  02 00 00 00  00 00                             # (0000,1022) US NumberOfFailedSuboperations 0
  00 00 23 10  02 00 00 00  00 00                             # (0000,1023) US NumberOfWarningSuboperations 0
`);

/** dcmqrscp → movescu's store SCP (port 11113), context 209: C-STORE-RQ, message 1, X-Ray Radiation Dose SR, with Move Originator "MOVESCU" / message 1. */
const STORE_RQ_MOVE_SUBOPERATION = hex(`
  00 00 00 00  04 00 00 00  ae 00 00 00                                                         # (0000,0000) UL CommandGroupLength 174
  00 00 02 00  1e 00 00 00  '1.2.840.10008.5.1.4.1.1.88.67' 00                                  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  01 00                                                               # (0000,0100) US CommandField 0x0001 C-STORE-RQ
  00 00 10 01  02 00 00 00  01 00                                                               # (0000,0110) US MessageID 1
  00 00 00 07  02 00 00 00  00 00                                                               # (0000,0700) US Priority 0
  00 00 00 08  02 00 00 00  01 00                                                               # (0000,0800) US CommandDataSetType 0x0001 (data set follows)
  00 00 00 10  3e 00 00 00  '1.3.6.1.4.1.5962.99.1.792239193.1702185591.1516915727449.11.0' 00  # (0000,1000) UI AffectedSOPInstanceUID
  00 00 30 10  08 00 00 00  'MOVESCU '                                                          # (0000,1030) AE MoveOriginatorApplicationEntityTitle
  00 00 31 10  02 00 00 00  01 00                                                               # (0000,1031) US MoveOriginatorMessageID 1
`);

/** movescu's store SCP → dcmqrscp: C-STORE-RSP to message 1, status 0x0000, with Affected SOP Instance UID. */
const STORE_RSP = hex(`
  00 00 00 00  04 00 00 00  94 00 00 00                                                         # (0000,0000) UL CommandGroupLength 148
  00 00 02 00  1e 00 00 00  '1.2.840.10008.5.1.4.1.1.88.67' 00                                  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  01 80                                                               # (0000,0100) US CommandField 0x8001 C-STORE-RSP
  00 00 20 01  02 00 00 00  01 00                                                               # (0000,0120) US MessageIDBeingRespondedTo 1
  00 00 00 08  02 00 00 00  01 01                                                               # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  00 00                                                               # (0000,0900) US Status 0x0000
  00 00 00 10  3e 00 00 00  '1.3.6.1.4.1.5962.99.1.792239193.1702185591.1516915727449.11.0' 00  # (0000,1000) UI AffectedSOPInstanceUID
`);

/** getscu -S → dcmqrscp: C-GET-RQ, message 1, Study Root GET. */
const GET_RQ = hex(`
  00 00 00 00  04 00 00 00  4c 00 00 00                       # (0000,0000) UL CommandGroupLength 76
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.3' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  10 00                             # (0000,0100) US CommandField 0x0010 C-GET-RQ
  00 00 10 01  02 00 00 00  01 00                             # (0000,0110) US MessageID 1
  00 00 00 07  02 00 00 00  00 00                             # (0000,0700) US Priority 0
  00 00 00 08  02 00 00 00  01 00                             # (0000,0800) US CommandDataSetType 0x0001 (data set follows)
`);

/** dcmqrscp → getscu on the same association, context 211: C-STORE-RQ, message 1, no Move Originator. */
const STORE_RQ_GET_SUBOPERATION = hex(`
  00 00 00 00  04 00 00 00  92 00 00 00                                                     # (0000,0000) UL CommandGroupLength 146
  00 00 02 00  1e 00 00 00  '1.2.840.10008.5.1.4.1.1.88.67' 00                              # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  01 00                                                           # (0000,0100) US CommandField 0x0001 C-STORE-RQ
  00 00 10 01  02 00 00 00  01 00                                                           # (0000,0110) US MessageID 1
  00 00 00 07  02 00 00 00  00 00                                                           # (0000,0700) US Priority 0
  00 00 00 08  02 00 00 00  01 00                                                           # (0000,0800) US CommandDataSetType 0x0001 (data set follows)
  00 00 00 10  3c 00 00 00  '1.3.6.1.4.1.5962.99.1.3581082065.863539667.1365085747665.7.0'  # (0000,1000) UI AffectedSOPInstanceUID
`);

/** dcmqrscp → getscu: pending C-GET-RSP: remaining 0, completed 1, failed 0, warning 0. */
const GET_RSP_PENDING = hex(`
  00 00 00 00  04 00 00 00  74 00 00 00                       # (0000,0000) UL CommandGroupLength 116
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.3' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  10 80                             # (0000,0100) US CommandField 0x8010 C-GET-RSP
  00 00 20 01  02 00 00 00  01 00                             # (0000,0120) US MessageIDBeingRespondedTo 1
  00 00 00 08  02 00 00 00  01 01                             # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  00 ff                             # (0000,0900) US Status 0xFF00
  00 00 20 10  02 00 00 00  00 00                             # (0000,1020) US NumberOfRemainingSuboperations 0
  00 00 21 10  02 00 00 00  01 00                             # (0000,1021) US NumberOfCompletedSuboperations 1
  00 00 22 10  02 00 00 00  00 00                             # (0000,1022) US NumberOfFailedSuboperations 0
  00 00 23 10  02 00 00 00  00 00                             # (0000,1023) US NumberOfWarningSuboperations 0
`);

/** dcmqrscp → getscu: final C-GET-RSP, status 0x0000, completed 1, failed 0, warning 0. */
const GET_RSP_SUCCESS = hex(`
  00 00 00 00  04 00 00 00  6a 00 00 00                       # (0000,0000) UL CommandGroupLength 106
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.3' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  10 80                             # (0000,0100) US CommandField 0x8010 C-GET-RSP
  00 00 20 01  02 00 00 00  01 00                             # (0000,0120) US MessageIDBeingRespondedTo 1
  00 00 00 08  02 00 00 00  01 01                             # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  00 00                             # (0000,0900) US Status 0x0000
  00 00 21 10  02 00 00 00  01 00                             # (0000,1021) US NumberOfCompletedSuboperations 1
  00 00 22 10  02 00 00 00  00 00                             # (0000,1022) US NumberOfFailedSuboperations 0
  00 00 23 10  02 00 00 00  00 00                             # (0000,1023) US NumberOfWarningSuboperations 0
`);

// =============================================================================================
// Hand-written
// =============================================================================================

/**
 * C-FIND-RSP to message 7, status 0xA900 with all three status-related fields of PS3.7 Annex C:
 * Offending Element (0008,0052), Error Comment 'Unknown QueryRetrieveLevel' (26 bytes), Error ID 5.
 * Group length 36 + 5 × 10 + 12 + 34 = 132.
 */
const FIND_RSP_REFUSED_WITH_DETAIL = hex(`
  00 00 00 00  04 00 00 00  84 00 00 00                       # (0000,0000) UL CommandGroupLength 132
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.1' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  20 80                             # (0000,0100) US CommandField 0x8020 C-FIND-RSP
  00 00 20 01  02 00 00 00  07 00                             # (0000,0120) US MessageIDBeingRespondedTo 7
  00 00 00 08  02 00 00 00  01 01                             # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  00 a9                             # (0000,0900) US Status 0xA900
  00 00 01 09  04 00 00 00  08 00 52 00                       # (0000,0901) AT OffendingElement (0008,0052)
  00 00 02 09  1a 00 00 00  'Unknown QueryRetrieveLevel'      # (0000,0902) LO ErrorComment
  00 00 03 09  02 00 00 00  05 00                             # (0000,0903) US ErrorID 5
`);

/**
 * C-STORE-RSP to message 3, status 0xB000 (C-STORE: coercion of data elements), Offending Element
 * (0010,0010) and (0010,0020), Error Comment 'Coerced PatientName' (19 characters, space-padded to 20),
 * Affected SOP Instance UID 1.2.3.4 (NUL-padded to 8). Group length 34 + 4 × 10 + 16 + 28 + 16 = 134.
 */
const STORE_RSP_WARNING = hex(`
  00 00 00 00  04 00 00 00  86 00 00 00                       # (0000,0000) UL CommandGroupLength 134
  00 00 02 00  1a 00 00 00  '1.2.840.10008.5.1.4.1.1.7' 00    # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  01 80                             # (0000,0100) US CommandField 0x8001 C-STORE-RSP
  00 00 20 01  02 00 00 00  03 00                             # (0000,0120) US MessageIDBeingRespondedTo 3
  00 00 00 08  02 00 00 00  01 01                             # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  00 b0                             # (0000,0900) US Status 0xB000
  00 00 01 09  08 00 00 00  10 00 10 00  10 00 20 00          # (0000,0901) AT OffendingElement (0010,0010) and (0010,0020)
  00 00 02 09  14 00 00 00  'Coerced PatientName '            # (0000,0902) LO ErrorComment
  00 00 00 10  08 00 00 00  '1.2.3.4' 00                      # (0000,1000) UI AffectedSOPInstanceUID
`);

/**
 * C-MOVE-RQ, message 5, priority HIGH, destination 'QRSCU_STORE' (11 characters, space-padded to 12).
 * Group length 36 + 10 + 10 + 20 + 10 + 10 = 96.
 */
const MOVE_RQ_HIGH = hex(`
  00 00 00 00  04 00 00 00  60 00 00 00                       # (0000,0000) UL CommandGroupLength 96
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.2' 00  # (0000,0002) UI AffectedSOPClassUID
  00 00 00 01  02 00 00 00  21 00                             # (0000,0100) US CommandField 0x0021 C-MOVE-RQ
  00 00 10 01  02 00 00 00  05 00                             # (0000,0110) US MessageID 5
  00 00 00 06  0c 00 00 00  'QRSCU_STORE '                    # (0000,0600) AE MoveDestination
  00 00 00 07  02 00 00 00  01 00                             # (0000,0700) US Priority 1 (high)
  00 00 00 08  02 00 00 00  01 00                             # (0000,0800) US CommandDataSetType 0x0001 (data set follows)
`);

/** C-ECHO-RSP to message 2, status 0x0000, without the optional Affected SOP Class UID. Group length 40. */
const ECHO_RSP_MINIMAL = hex(`
  00 00 00 00  04 00 00 00  28 00 00 00                       # (0000,0000) UL CommandGroupLength 40
  00 00 00 01  02 00 00 00  30 80                             # (0000,0100) US CommandField 0x8030 C-ECHO-RSP
  00 00 20 01  02 00 00 00  02 00                             # (0000,0120) US MessageIDBeingRespondedTo 2
  00 00 00 08  02 00 00 00  01 01                             # (0000,0800) US CommandDataSetType 0x0101 (no data set)
  00 00 00 09  02 00 00 00  00 00                             # (0000,0900) US Status 0x0000
`);

/**
 * FIND_RSP_PENDING as a sloppy peer might send it: Command Group Length 0 (wrong), elements out of
 * order, the UID padded with a space instead of a NUL, the retired (0000,0850) Number of Matches, an
 * element of group 0008 (not allowed in a command set), Command Data Set Type 0x0102 (any value but
 * 0x0101 means a data set follows). It decodes to the same message as FIND_RSP_PENDING.
 */
const FIND_RSP_PENDING_SLOPPY = hex(`
  00 00 00 00  04 00 00 00  00 00 00 00                       # (0000,0000) UL CommandGroupLength 0 (wrong)
  00 00 00 09  02 00 00 00  00 ff                             # (0000,0900) US Status 0xFF00, out of order
  00 00 02 00  1c 00 00 00  '1.2.840.10008.5.1.4.1.2.2.1 '    # (0000,0002) UI AffectedSOPClassUID, space-padded
  00 00 00 01  02 00 00 00  20 80                             # (0000,0100) US CommandField 0x8020 C-FIND-RSP
  00 00 50 08  02 00 00 00  03 00                             # (0000,0850) US NumberOfMatches (retired) 3
  00 00 20 01  02 00 00 00  01 00                             # (0000,0120) US MessageIDBeingRespondedTo 1
  08 00 05 00  0a 00 00 00  'ISO_IR 100'                      # (0008,0005) CS SpecificCharacterSet
  00 00 00 08  02 00 00 00  02 01                             # (0000,0800) US CommandDataSetType 0x0102 (data set follows)
`);

// =============================================================================================
// The messages in the goldens, written out by hand
// =============================================================================================

const GOLDENS: ReadonlyArray<readonly [name: string, bytes: Buffer, message: DimseMessage]> = [
  ['C-ECHO-RQ (echoscu)', ECHO_RQ, { type: 'C-ECHO-RQ', affectedSopClassUid: VERIFICATION, messageId: 1, hasDataset: false }],
  ['C-ECHO-RSP (dcmqrscp)', ECHO_RSP, { type: 'C-ECHO-RSP', affectedSopClassUid: VERIFICATION, messageIdBeingRespondedTo: 1, hasDataset: false, status: 0x0000 }],
  ['C-ECHO-RSP without Affected SOP Class UID', ECHO_RSP_MINIMAL, { type: 'C-ECHO-RSP', messageIdBeingRespondedTo: 2, hasDataset: false, status: 0x0000 }],
  ['C-FIND-RQ (findscu)', FIND_RQ, { type: 'C-FIND-RQ', affectedSopClassUid: STUDY_FIND, messageId: 1, priority: Priority.Medium, hasDataset: true }],
  ['C-FIND-RSP pending, with a data set', FIND_RSP_PENDING, { type: 'C-FIND-RSP', affectedSopClassUid: STUDY_FIND, messageIdBeingRespondedTo: 1, hasDataset: true, status: 0xff00 }],
  ['C-FIND-RSP final success, no data set', FIND_RSP_SUCCESS, { type: 'C-FIND-RSP', affectedSopClassUid: STUDY_FIND, messageIdBeingRespondedTo: 1, hasDataset: false, status: 0x0000 }],
  ['C-FIND-RSP 0xC000', FIND_RSP_UNABLE_TO_PROCESS, { type: 'C-FIND-RSP', affectedSopClassUid: STUDY_FIND, messageIdBeingRespondedTo: 1, hasDataset: false, status: 0xc000 }],
  ['C-FIND-RSP 0xA900 with status detail', FIND_RSP_REFUSED_WITH_DETAIL, {
    type: 'C-FIND-RSP', affectedSopClassUid: STUDY_FIND, messageIdBeingRespondedTo: 7, hasDataset: false, status: 0xa900,
    offendingElement: [0x00080052], errorComment: 'Unknown QueryRetrieveLevel', errorId: 5,
  }],
  ['C-CANCEL-RQ (findscu --cancel)', CANCEL_RQ, { type: 'C-CANCEL-RQ', messageIdBeingRespondedTo: 1, hasDataset: false }],
  ['C-MOVE-RQ (movescu)', MOVE_RQ, { type: 'C-MOVE-RQ', affectedSopClassUid: STUDY_MOVE, messageId: 1, moveDestination: 'MOVESCU', priority: Priority.Medium, hasDataset: true }],
  ['C-MOVE-RQ high priority', MOVE_RQ_HIGH, { type: 'C-MOVE-RQ', affectedSopClassUid: STUDY_MOVE, messageId: 5, moveDestination: 'QRSCU_STORE', priority: Priority.High, hasDataset: true }],
  ['C-MOVE-RSP pending with counts', MOVE_RSP_PENDING, {
    type: 'C-MOVE-RSP', affectedSopClassUid: STUDY_MOVE, messageIdBeingRespondedTo: 1, hasDataset: false, status: 0xff00,
    numberOfRemainingSuboperations: 2, numberOfCompletedSuboperations: 1, numberOfFailedSuboperations: 0, numberOfWarningSuboperations: 0,
  }],
  ['C-MOVE-RSP final success without Remaining', MOVE_RSP_SUCCESS, {
    type: 'C-MOVE-RSP', affectedSopClassUid: STUDY_MOVE, messageIdBeingRespondedTo: 1, hasDataset: false, status: 0x0000,
    numberOfCompletedSuboperations: 3, numberOfFailedSuboperations: 0, numberOfWarningSuboperations: 0,
  }],
  ['C-MOVE-RSP 0xA801', MOVE_RSP_DESTINATION_UNKNOWN, {
    type: 'C-MOVE-RSP', affectedSopClassUid: STUDY_MOVE, messageIdBeingRespondedTo: 1, hasDataset: false, status: 0xa801,
    numberOfCompletedSuboperations: 0, numberOfFailedSuboperations: 0, numberOfWarningSuboperations: 0,
  }],
  ['C-STORE-RQ with Move Originator', STORE_RQ_MOVE_SUBOPERATION, {
    type: 'C-STORE-RQ', affectedSopClassUid: RDSR, messageId: 1, priority: Priority.Medium, hasDataset: true,
    affectedSopInstanceUid: '1.3.6.1.4.1.5962.99.1.792239193.1702185591.1516915727449.11.0',
    moveOriginatorApplicationEntityTitle: 'MOVESCU', moveOriginatorMessageId: 1,
  }],
  ['C-STORE-RQ of a C-GET', STORE_RQ_GET_SUBOPERATION, {
    type: 'C-STORE-RQ', affectedSopClassUid: RDSR, messageId: 1, priority: Priority.Medium, hasDataset: true,
    affectedSopInstanceUid: '1.3.6.1.4.1.5962.99.1.3581082065.863539667.1365085747665.7.0',
  }],
  ['C-STORE-RSP (storescp)', STORE_RSP, {
    type: 'C-STORE-RSP', affectedSopClassUid: RDSR, messageIdBeingRespondedTo: 1, hasDataset: false, status: 0x0000,
    affectedSopInstanceUid: '1.3.6.1.4.1.5962.99.1.792239193.1702185591.1516915727449.11.0',
  }],
  ['C-STORE-RSP 0xB000 with status detail', STORE_RSP_WARNING, {
    type: 'C-STORE-RSP', affectedSopClassUid: SECONDARY_CAPTURE, messageIdBeingRespondedTo: 3, hasDataset: false, status: 0xb000,
    offendingElement: [0x00100010, 0x00100020], errorComment: 'Coerced PatientName', affectedSopInstanceUid: '1.2.3.4',
  }],
  ['C-GET-RQ (getscu)', GET_RQ, { type: 'C-GET-RQ', affectedSopClassUid: STUDY_GET, messageId: 1, priority: Priority.Medium, hasDataset: true }],
  ['C-GET-RSP pending with counts', GET_RSP_PENDING, {
    type: 'C-GET-RSP', affectedSopClassUid: STUDY_GET, messageIdBeingRespondedTo: 1, hasDataset: false, status: 0xff00,
    numberOfRemainingSuboperations: 0, numberOfCompletedSuboperations: 1, numberOfFailedSuboperations: 0, numberOfWarningSuboperations: 0,
  }],
  ['C-GET-RSP final success', GET_RSP_SUCCESS, {
    type: 'C-GET-RSP', affectedSopClassUid: STUDY_GET, messageIdBeingRespondedTo: 1, hasDataset: false, status: 0x0000,
    numberOfCompletedSuboperations: 1, numberOfFailedSuboperations: 0, numberOfWarningSuboperations: 0,
  }],
];

// =============================================================================================
// Helpers over golden bytes: an independent walk of Implicit VR LE elements (not our decoder)
// =============================================================================================

interface RawElement { readonly tag: number; readonly offset: number; readonly length: number }

function elementsOf(buf: Buffer): RawElement[] {
  const out: RawElement[] = [];
  for (let pos = 0; pos < buf.length;) {
    const tag = ((buf.readUInt16LE(pos) << 16) | buf.readUInt16LE(pos + 2)) >>> 0;
    const length = buf.readUInt32LE(pos + 4);
    out.push({ tag, offset: pos, length });
    pos += 8 + length;
  }
  return out;
}

function elementOf(buf: Buffer, tag: number): RawElement {
  const e = elementsOf(buf).find((x) => x.tag === tag);
  if (!e) throw new Error(`no element ${tag.toString(16)} in golden`);
  return e;
}

/** The golden without one element (Command Group Length left as it was: the decoder ignores it). */
function withoutElement(buf: Buffer, tag: number): Buffer {
  const e = elementOf(buf, tag);
  return Buffer.concat([buf.subarray(0, e.offset), buf.subarray(e.offset + 8 + e.length)]);
}

/** The golden with one element's value replaced (and its length field with it). */
function withValue(buf: Buffer, tag: number, value: Buffer): Buffer {
  const e = elementOf(buf, tag);
  const header = Buffer.from(buf.subarray(e.offset, e.offset + 8));
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([buf.subarray(0, e.offset), header, value, buf.subarray(e.offset + 8 + e.length)]);
}

function thrown(fn: () => unknown): DimseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DimseError) return e;
    throw new Error(`expected a DimseError, got ${String(e)}`);
  }
  throw new Error('expected a DimseError, nothing was thrown');
}

const us = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);

// =============================================================================================
// Parse, generate, mirror
// =============================================================================================

for (const [name, bytes, message] of GOLDENS) {
  test(`parse: ${name}`, () => {
    assert.equal(decodeCommand(bytes), message);
  });
  test(`generate: ${name}`, () => {
    assert.equal(encodeCommand(message).toString('hex'), bytes.toString('hex'));
  });
  test(`mirror: ${name}`, () => {
    assert.equal(encodeCommand(decodeCommand(bytes)).toString('hex'), bytes.toString('hex'));
  });
}

test('every golden states its Command Group Length correctly', () => {
  for (const [name, bytes] of GOLDENS) assert.is(bytes.readUInt32LE(8), bytes.length - 12, name);
});

test('CommandField and CommandDataSetType constants match PS3.7 Table E.1-1', () => {
  assert.equal(CommandField, {
    CStoreRq: 0x0001, CStoreRsp: 0x8001, CGetRq: 0x0010, CGetRsp: 0x8010, CFindRq: 0x0020, CFindRsp: 0x8020,
    CMoveRq: 0x0021, CMoveRsp: 0x8021, CEchoRq: 0x0030, CEchoRsp: 0x8030, CCancelRq: 0x0fff,
  });
  assert.equal(Priority, { Medium: 0, High: 1, Low: 2 });
  assert.equal(CommandDataSetType, { NoDataSet: 0x0101, DataSetPresent: 0x0001 });
});

// =============================================================================================
// Exactly the elements PS3.7 lists per message type
// =============================================================================================

// Transcribed from PS3.7 Tables 9.3-1 to 9.3-13 (and Annex C's status-related fields, 0901–0903, for
// responses), element numbers of group 0000 in tag order, Command Group Length first.
const STATUS_DETAIL = [0x0901, 0x0902, 0x0903];
const PS37_ELEMENTS: Readonly<Record<DimseType, readonly number[]>> = {
  'C-STORE-RQ': [0x0000, 0x0002, 0x0100, 0x0110, 0x0700, 0x0800, 0x1000, 0x1030, 0x1031], // Table 9.3-1
  'C-STORE-RSP': [0x0000, 0x0002, 0x0100, 0x0120, 0x0800, 0x0900, ...STATUS_DETAIL, 0x1000], // Table 9.3-2
  'C-FIND-RQ': [0x0000, 0x0002, 0x0100, 0x0110, 0x0700, 0x0800], // Table 9.3-3
  'C-FIND-RSP': [0x0000, 0x0002, 0x0100, 0x0120, 0x0800, 0x0900, ...STATUS_DETAIL], // Table 9.3-4
  'C-CANCEL-RQ': [0x0000, 0x0100, 0x0120, 0x0800], // Tables 9.3-5, 9.3-8, 9.3-11
  'C-GET-RQ': [0x0000, 0x0002, 0x0100, 0x0110, 0x0700, 0x0800], // Table 9.3-6
  'C-GET-RSP': [0x0000, 0x0002, 0x0100, 0x0120, 0x0800, 0x0900, ...STATUS_DETAIL, 0x1020, 0x1021, 0x1022, 0x1023], // Table 9.3-7
  'C-MOVE-RQ': [0x0000, 0x0002, 0x0100, 0x0110, 0x0600, 0x0700, 0x0800], // Table 9.3-9
  'C-MOVE-RSP': [0x0000, 0x0002, 0x0100, 0x0120, 0x0800, 0x0900, ...STATUS_DETAIL, 0x1020, 0x1021, 0x1022, 0x1023], // Table 9.3-10
  'C-ECHO-RQ': [0x0000, 0x0002, 0x0100, 0x0110, 0x0800], // Table 9.3-12
  'C-ECHO-RSP': [0x0000, 0x0002, 0x0100, 0x0120, 0x0800, 0x0900, ...STATUS_DETAIL], // Table 9.3-13
};

/** Every field of every message type at once: the encoder must pick out only its type's. */
const EVERYTHING = {
  affectedSopClassUid: STUDY_FIND, messageId: 9, messageIdBeingRespondedTo: 8, moveDestination: 'DEST', priority: Priority.Low,
  hasDataset: true, status: 0xff00, offendingElement: [0x00100010], errorComment: 'comment', errorId: 3,
  affectedSopInstanceUid: '1.2.3', numberOfRemainingSuboperations: 4, numberOfCompletedSuboperations: 5,
  numberOfFailedSuboperations: 6, numberOfWarningSuboperations: 7, moveOriginatorApplicationEntityTitle: 'ORIGIN',
  moveOriginatorMessageId: 2,
};

for (const type of Object.keys(PS37_ELEMENTS) as DimseType[]) {
  test(`${type} carries exactly the elements of PS3.7, in tag order, group length first and right`, () => {
    const bytes = encodeCommand({ ...EVERYTHING, type } as unknown as DimseMessage);
    const elements = elementsOf(bytes);
    assert.equal(elements.map((e) => e.tag >>> 16), elements.map(() => 0x0000));
    assert.equal(elements.map((e) => e.tag & 0xffff), [...PS37_ELEMENTS[type]]);
    assert.is(bytes.readUInt32LE(8), bytes.length - 12);
    for (const e of elements) assert.is(e.length % 2, 0, `odd length at ${e.tag.toString(16)}`);
  });
}

test('Priority only in C-FIND-RQ, C-MOVE-RQ, C-GET-RQ and C-STORE-RQ', () => {
  const withPriority = (Object.keys(PS37_ELEMENTS) as DimseType[])
    .filter((type) => elementsOf(encodeCommand({ ...EVERYTHING, type } as unknown as DimseMessage)).some((e) => e.tag === 0x00000700));
  assert.equal(withPriority.sort(), ['C-FIND-RQ', 'C-GET-RQ', 'C-MOVE-RQ', 'C-STORE-RQ']);
});

test('fields that do not belong to a type are not written', () => {
  const echo = { ...GOLDENS[0]![2], priority: Priority.Low, status: 5, moveDestination: 'X' } as unknown as DimseMessage;
  assert.equal(encodeCommand(echo), ECHO_RQ);
  const find = { ...GOLDENS[5]![2], numberOfRemainingSuboperations: 3, affectedSopInstanceUid: '1.2' } as unknown as DimseMessage;
  assert.equal(encodeCommand(find), FIND_RSP_SUCCESS);
});

test('C-CANCEL-RQ without hasDataset writes Command Data Set Type 0x0101', () => {
  assert.equal(encodeCommand({ type: 'C-CANCEL-RQ', messageIdBeingRespondedTo: 1 }), CANCEL_RQ);
});

test('optional fields left out are not written: a success C-MOVE-RSP without counts', () => {
  const bytes = encodeCommand({ type: 'C-MOVE-RSP', messageIdBeingRespondedTo: 4, hasDataset: false, status: 0 });
  assert.equal(elementsOf(bytes).map((e) => e.tag), [0x00000000, 0x00000100, 0x00000120, 0x00000800, 0x00000900]);
});

// =============================================================================================
// Value encoding: AE and UID padding, Error Comment, Offending Element
// =============================================================================================

const moveRq = (moveDestination: string): DimseMessage =>
  ({ type: 'C-MOVE-RQ', affectedSopClassUid: STUDY_MOVE, messageId: 1, moveDestination, priority: 0, hasDataset: true });

test('AE titles: trimmed, space-padded to even length, up to 16 characters', () => {
  const destination = (m: DimseMessage): string => {
    const bytes = encodeCommand(m);
    const e = elementOf(bytes, 0x00000600);
    return bytes.toString('latin1', e.offset + 8, e.offset + 8 + e.length);
  };
  assert.is(destination(moveRq('MOVESCU')), 'MOVESCU ');
  assert.is(destination(moveRq(' AB ')), 'AB');
  assert.is(destination(moveRq('ABCDEFGHIJKLMNOP')), 'ABCDEFGHIJKLMNOP');
  assert.is(destination(moveRq('A B')), 'A B ');
});

test('UIDs are NUL-padded to even length', () => {
  const bytes = encodeCommand({ type: 'C-STORE-RSP', messageIdBeingRespondedTo: 1, hasDataset: false, status: 0, affectedSopInstanceUid: '1.2.345' });
  const e = elementOf(bytes, 0x00001000);
  assert.is(bytes.subarray(e.offset + 8, e.offset + 8 + e.length).toString('hex'), Buffer.from('1.2.345\0', 'latin1').toString('hex'));
});

test('Error Comment: cut to 64 characters, non-ASCII and backslash become ?', () => {
  const rsp = (errorComment: string): DimseMessage => ({ type: 'C-FIND-RSP', messageIdBeingRespondedTo: 1, hasDataset: false, status: 0xc000, errorComment });
  assert.is((decodeCommand(encodeCommand(rsp('Fehler: Größe a\\b'))) as { errorComment?: string }).errorComment, 'Fehler: Gr??e a?b');
  assert.is((decodeCommand(encodeCommand(rsp('x'.repeat(70)))) as { errorComment?: string }).errorComment, 'x'.repeat(64));
  assert.not.ok('errorComment' in decodeCommand(encodeCommand(rsp(''))));
});

test('an empty Offending Element list is left out', () => {
  const bytes = encodeCommand({ type: 'C-FIND-RSP', messageIdBeingRespondedTo: 1, hasDataset: false, status: 0xa900, offendingElement: [] });
  assert.not.ok(elementsOf(bytes).some((e) => e.tag === 0x00000901));
});

// =============================================================================================
// Tolerant decoding
// =============================================================================================

test('sloppy peer: wrong group length, any order, space-padded UID, unknown and foreign elements', () => {
  const expected = GOLDENS[4]![2];
  assert.equal(decodeCommand(FIND_RSP_PENDING_SLOPPY), expected);
  assert.equal(encodeCommand(decodeCommand(FIND_RSP_PENDING_SLOPPY)), FIND_RSP_PENDING);
});

test('no Command Group Length at all', () => {
  assert.equal(decodeCommand(FIND_RQ.subarray(12)), GOLDENS[3]![2]);
});

test('Command Group Length too large or too small is ignored', () => {
  for (const n of [0, 1, 75, 77, 0xffffffff]) {
    assert.equal(decodeCommand(withValue(FIND_RQ, 0x00000000, Buffer.from([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]))), GOLDENS[3]![2]);
  }
});

test('trailing NULs and spaces are stripped from UIDs and AE titles, leading spaces from AE titles', () => {
  const uid = withValue(FIND_RQ, 0x00000002, Buffer.from(`${STUDY_FIND}\0 \0\0`, 'latin1'));
  assert.is((decodeCommand(uid) as { affectedSopClassUid: string }).affectedSopClassUid, STUDY_FIND);
  const ae = withValue(MOVE_RQ, 0x00000600, Buffer.from('  MOVESCU       \0', 'latin1'));
  assert.is((decodeCommand(ae) as { moveDestination: string }).moveDestination, 'MOVESCU');
});

test('Command Data Set Type: 0x0101 means none, any other value a data set', () => {
  for (const [value, hasDataset] of [[0x0101, false], [0x0000, true], [0x0001, true], [0x0102, true], [0xfefe, true]] as const) {
    assert.is(decodeCommand(withValue(FIND_RSP_PENDING, 0x00000800, us(value))).hasDataset, hasDataset, value.toString(16));
  }
});

test('optional elements may be absent: a C-FIND-RSP without Affected SOP Class UID', () => {
  const { affectedSopClassUid: _, ...rest } = GOLDENS[5]![2] as { affectedSopClassUid?: string };
  assert.equal(decodeCommand(withoutElement(FIND_RSP_SUCCESS, 0x00000002)), rest);
});

test('a repeated element: the last one counts', () => {
  const twice = Buffer.concat([FIND_RQ, hex(`00 00 10 01  02 00 00 00  09 00`)]);
  assert.is((decodeCommand(twice) as { messageId: number }).messageId, 9);
});

test('elements a message type does not define are ignored, even malformed ones', () => {
  // Priority (0000,0700) with 3 bytes in a C-ECHO-RQ: not a C-ECHO-RQ element, so never read
  const echo = Buffer.concat([ECHO_RQ, hex(`00 00 00 07  04 00 00 00  01 02 03 04`)]);
  assert.equal(decodeCommand(echo), GOLDENS[0]![2]);
});

// =============================================================================================
// Missing and malformed elements: exact errors
// =============================================================================================

const MISSING: ReadonlyArray<readonly [Buffer, number, string]> = [
  [ECHO_RQ, 0x00000100, 'command set: missing CommandField (tag (0000,0100))'],
  [ECHO_RQ, 0x00000002, 'C-ECHO-RQ: missing AffectedSOPClassUID (tag (0000,0002))'],
  [ECHO_RQ, 0x00000800, 'C-ECHO-RQ: missing CommandDataSetType (tag (0000,0800))'],
  [FIND_RQ, 0x00000110, 'C-FIND-RQ: missing MessageID (tag (0000,0110))'],
  [FIND_RQ, 0x00000700, 'C-FIND-RQ: missing Priority (tag (0000,0700))'],
  [FIND_RSP_PENDING, 0x00000900, 'C-FIND-RSP: missing Status (tag (0000,0900))'],
  [FIND_RSP_PENDING, 0x00000120, 'C-FIND-RSP: missing MessageIDBeingRespondedTo (tag (0000,0120))'],
  [CANCEL_RQ, 0x00000120, 'C-CANCEL-RQ: missing MessageIDBeingRespondedTo (tag (0000,0120))'],
  [MOVE_RQ, 0x00000600, 'C-MOVE-RQ: missing MoveDestination (tag (0000,0600))'],
  [MOVE_RSP_PENDING, 0x00000900, 'C-MOVE-RSP: missing Status (tag (0000,0900))'],
  [STORE_RQ_MOVE_SUBOPERATION, 0x00001000, 'C-STORE-RQ: missing AffectedSOPInstanceUID (tag (0000,1000))'],
  [STORE_RSP, 0x00000120, 'C-STORE-RSP: missing MessageIDBeingRespondedTo (tag (0000,0120))'],
  [GET_RQ, 0x00000002, 'C-GET-RQ: missing AffectedSOPClassUID (tag (0000,0002))'],
];

for (const [bytes, tag, message] of MISSING) {
  test(`missing: ${message}`, () => {
    const e = thrown(() => decodeCommand(withoutElement(bytes, tag)));
    assert.is(e.code, 'ERR_DIMSE_INVALID');
    assert.is(e.message, message);
    assert.is(e.tag, message.slice(-12, -1));
  });
}

test('missing: an empty buffer has no Command Field', () => {
  const e = thrown(() => decodeCommand(Buffer.alloc(0)));
  assert.is(e.code, 'ERR_DIMSE_INVALID');
  assert.is(e.message, 'command set: missing CommandField (tag (0000,0100))');
});

test('missing: an empty value counts as absent', () => {
  const e = thrown(() => decodeCommand(withValue(MOVE_RQ, 0x00000600, Buffer.alloc(0))));
  assert.is(e.message, 'C-MOVE-RQ: missing MoveDestination (tag (0000,0600))');
  const blank = thrown(() => decodeCommand(withValue(MOVE_RQ, 0x00000600, Buffer.from('        '))));
  assert.is(blank.message, 'C-MOVE-RQ: missing MoveDestination (tag (0000,0600))');
});

test('malformed: a US value of 4 bytes', () => {
  const e = thrown(() => decodeCommand(withValue(FIND_RQ, 0x00000110, hex(`01 00 00 00`))));
  assert.is(e.code, 'ERR_DIMSE_INVALID');
  assert.is(e.message, 'C-FIND-RQ: MessageID has 4 bytes, US needs 2 (tag (0000,0110), offset 66)');
});

test('malformed: an AT value of 3 bytes', () => {
  const e = thrown(() => decodeCommand(withValue(FIND_RSP_REFUSED_WITH_DETAIL, 0x00000901, hex(`08 00 52`))));
  assert.is(e.message, 'C-FIND-RSP: OffendingElement has 3 bytes, AT needs a multiple of 4 (tag (0000,0901), offset 96)');
});

test('malformed: a value running past the end', () => {
  const e = thrown(() => decodeCommand(FIND_RQ.subarray(0, FIND_RQ.length - 1)));
  assert.is(e.code, 'ERR_DIMSE_INVALID');
  assert.is(e.message, 'command set: value length 2 exceeds the 1 bytes left (tag (0000,0800), offset 78)');
});

test('malformed: a truncated element header', () => {
  const e = thrown(() => decodeCommand(FIND_RQ.subarray(0, 81)));
  assert.is(e.message, 'command set: truncated element header, 3 bytes left (offset 78)');
});

test('malformed: undefined length', () => {
  const e = thrown(() => decodeCommand(hex(`00 00 00 01  ff ff ff ff  20 00`)));
  assert.is(e.message, 'command set: undefined length, not allowed in a command set (tag (0000,0100), offset 0)');
});

test('unsupported Command Field: DIMSE-N named, others in hex', () => {
  const n = thrown(() => decodeCommand(withValue(ECHO_RQ, 0x00000100, us(0x0100))));
  assert.is(n.code, 'ERR_DIMSE_INVALID');
  assert.is(n.message, 'command set: unsupported CommandField 0x0100 (N-EVENT-REPORT-RQ) (tag (0000,0100))');
  const x = thrown(() => decodeCommand(withValue(ECHO_RQ, 0x00000100, us(0x1234))));
  assert.is(x.message, 'command set: unsupported CommandField 0x1234 (tag (0000,0100))');
});

// =============================================================================================
// Encoder validation
// =============================================================================================

const ENCODE_ERRORS: ReadonlyArray<readonly [string, unknown, string]> = [
  ['mandatory field missing', { type: 'C-MOVE-RQ', affectedSopClassUid: STUDY_MOVE, messageId: 1, priority: 0, hasDataset: true },
    'C-MOVE-RQ: missing MoveDestination (tag (0000,0600))'],
  ['mandatory UID missing', { type: 'C-STORE-RQ', affectedSopClassUid: RDSR, messageId: 1, priority: 0, hasDataset: true },
    'C-STORE-RQ: missing AffectedSOPInstanceUID (tag (0000,1000))'],
  ['US out of range', { type: 'C-FIND-RQ', affectedSopClassUid: STUDY_FIND, messageId: 70000, priority: 0, hasDataset: true },
    'C-FIND-RQ: MessageID 70000 is not a US value (0-65535) (tag (0000,0110))'],
  ['US not an integer', { type: 'C-FIND-RSP', messageIdBeingRespondedTo: 1, status: 1.5, hasDataset: false },
    'C-FIND-RSP: Status 1.5 is not a US value (0-65535) (tag (0000,0900))'],
  ['priority 3', { type: 'C-FIND-RQ', affectedSopClassUid: STUDY_FIND, messageId: 1, priority: 3, hasDataset: true },
    'C-FIND-RQ: Priority 3 is not 0 (medium), 1 (high) or 2 (low) (tag (0000,0700))'],
  ['UID with letters', { type: 'C-FIND-RQ', affectedSopClassUid: '1.2.abc', messageId: 1, priority: 0, hasDataset: true },
    'C-FIND-RQ: AffectedSOPClassUID "1.2.abc" is not a UID (tag (0000,0002))'],
  ['UID over 64 characters', { type: 'C-ECHO-RQ', affectedSopClassUid: '1.'.repeat(33) + '1', messageId: 1, hasDataset: false },
    `C-ECHO-RQ: AffectedSOPClassUID "${'1.'.repeat(33)}1" is not a UID (tag (0000,0002))`],
  ['AE over 16 characters', moveRq('THIS_AE_IS_TOO_LONG'),
    'C-MOVE-RQ: MoveDestination "THIS_AE_IS_TOO_LONG" is not an AE title (1-16 characters, no backslash or control characters) (tag (0000,0600))'],
  ['AE of spaces', moveRq('   '),
    'C-MOVE-RQ: MoveDestination "   " is not an AE title (1-16 characters, no backslash or control characters) (tag (0000,0600))'],
  ['AE with a backslash', moveRq('A\\B'),
    'C-MOVE-RQ: MoveDestination "A\\\\B" is not an AE title (1-16 characters, no backslash or control characters) (tag (0000,0600))'],
  ['Offending Element not tags', { type: 'C-FIND-RSP', messageIdBeingRespondedTo: 1, status: 0xa900, hasDataset: false, offendingElement: [-1] },
    'C-FIND-RSP: OffendingElement is not a list of tags (tag (0000,0901))'],
  ['unknown type', { type: 'N-GET-RQ', messageId: 1 }, "cannot encode a command of type 'N-GET-RQ'"],
];

for (const [name, message, expected] of ENCODE_ERRORS) {
  test(`encode error: ${name}`, () => {
    const e = thrown(() => encodeCommand(message as DimseMessage));
    assert.is(e.code, 'ERR_DIMSE_INVALID');
    assert.is(e.message, expected);
  });
}

// =============================================================================================
// Failed SOP Instance UID List, service of a message, traces
// =============================================================================================

test('Failed SOP Instance UID List from a decoded response identifier', () => {
  // Hand-written Implicit VR LE identifier: (0008,0052) CS 'STUDY ', (0008,0058) UI 2 values, 13 bytes + NUL
  const identifier = decodeDataset(hex(`
    08 00 52 00  06 00 00 00  'STUDY '
    08 00 58 00  0e 00 00 00  '1.2.3\\1.2.4.5' 00
  `), IMPLICIT_LE);
  assert.equal(getFailedSopInstanceUidList(identifier), ['1.2.3', '1.2.4.5']);
});

test('Failed SOP Instance UID List: built, and absent', () => {
  const ds = createDataset();
  assert.equal(getFailedSopInstanceUidList(ds), []);
  setValue(ds, 'FailedSOPInstanceUIDList', ['1.2.840.1']);
  assert.equal(getFailedSopInstanceUidList(ds), ['1.2.840.1']);
});

test('serviceOf', () => {
  assert.is(serviceOf('C-STORE-RSP'), 'C-STORE');
  assert.is(serviceOf('C-MOVE-RQ'), 'C-MOVE');
  assert.is(serviceOf('C-CANCEL-RQ'), undefined);
});

const byName = (bytes: Buffer): DimseMessage => GOLDENS.find((g) => g[1] === bytes)![2];

test('describeMessage: one line per message', () => {
  assert.is(describeMessage({ ...byName(FIND_RSP_PENDING), messageIdBeingRespondedTo: 3 } as DimseMessage, { contextId: 1 }), 'C-FIND-RSP id=3 ctx=1 status=0xFF00 Pending');
  assert.is(describeMessage({
    type: 'C-MOVE-RSP', messageIdBeingRespondedTo: 5, hasDataset: false, status: 0xff00,
    numberOfRemainingSuboperations: 3, numberOfCompletedSuboperations: 7, numberOfFailedSuboperations: 0, numberOfWarningSuboperations: 0,
  }), 'C-MOVE-RSP id=5 status=0xFF00 Pending remaining=3 completed=7 failed=0 warning=0');
  assert.is(describeMessage(byName(MOVE_RSP_DESTINATION_UNKNOWN)), 'C-MOVE-RSP id=1 status=0xA801 Refused: Move Destination unknown completed=0 failed=0 warning=0');
  assert.is(describeMessage(byName(FIND_RSP_UNABLE_TO_PROCESS)), 'C-FIND-RSP id=1 status=0xC000 Failed: Unable to process');
  assert.is(describeMessage(byName(FIND_RQ), { contextId: 1 }), `C-FIND-RQ id=1 ctx=1 sop=${STUDY_FIND}`);
  assert.is(describeMessage(byName(MOVE_RQ_HIGH)), `C-MOVE-RQ id=5 sop=${STUDY_MOVE} priority=high dest=QRSCU_STORE`);
  assert.is(describeMessage(byName(STORE_RQ_MOVE_SUBOPERATION), { contextId: 209 }),
    `C-STORE-RQ id=1 ctx=209 sop=${RDSR} iuid=1.3.6.1.4.1.5962.99.1.792239193.1702185591.1516915727449.11.0 origin=MOVESCU/1`);
  assert.is(describeMessage(byName(STORE_RSP_WARNING)),
    'C-STORE-RSP id=3 status=0xB000 Warning: Coercion of Data Elements iuid=1.2.3.4 comment="Coerced PatientName" offending=(0010,0010),(0010,0020)');
  assert.is(describeMessage(byName(FIND_RSP_REFUSED_WITH_DETAIL)),
    'C-FIND-RSP id=7 status=0xA900 Failed: Identifier does not match SOP Class comment="Unknown QueryRetrieveLevel" offending=(0008,0052) errorId=5');
  assert.is(describeMessage(byName(CANCEL_RQ)), 'C-CANCEL-RQ id=1');
  assert.is(describeMessage(byName(ECHO_RQ)), `C-ECHO-RQ id=1 sop=${VERIFICATION}`);
  assert.is(describeMessage(byName(ECHO_RSP), { elapsedMs: 0.1234 }), 'C-ECHO-RSP id=1 status=0x0000 Success (0.12 ms)');
  assert.is(describeMessage(byName(GET_RSP_PENDING)), 'C-GET-RSP id=1 status=0xFF00 Pending remaining=0 completed=1 failed=0 warning=0');
});

// =============================================================================================
// Seeded fuzz: only DimseError comes out of decodeCommand, and what decodes re-encodes faithfully
// =============================================================================================


const FUZZ_TAGS = [0x0000, 0x0002, 0x0100, 0x0110, 0x0120, 0x0600, 0x0700, 0x0800, 0x0900, 0x0901, 0x0902, 0x0903, 0x1000, 0x1020, 0x1021, 0x1022, 0x1023, 0x1030, 0x1031, 0x0850];
const FUZZ_FIELDS = Object.values(CommandField);

/** A plausible command set: random known elements, mostly with lengths their VR allows. */
function randomCommandSet(rand: () => number): Buffer {
  const parts: Buffer[] = [];
  const count = Math.floor(rand() * 12);
  const int = (n: number): number => Math.floor(rand() * n);
  if (rand() < 0.9) parts.push(hex(`00 00 00 01  02 00 00 00`), us(rand() < 0.9 ? FUZZ_FIELDS[int(FUZZ_FIELDS.length)]! : int(0x10000)));
  for (let i = 0; i < count; i++) {
    const element = rand() < 0.95 ? FUZZ_TAGS[int(FUZZ_TAGS.length)]! : int(0x10000);
    const group = rand() < 0.95 ? 0 : int(0x10000);
    const text = element === 0x0002 || element === 0x1000 || element === 0x0600 || element === 0x1030 || element === 0x0902;
    const length = rand() < 0.8 ? (text ? int(70) : element === 0x0901 ? 4 * int(4) : 2) : int(12);
    const value = Buffer.alloc(length);
    for (let j = 0; j < length; j++) value[j] = text && rand() < 0.9 ? 0x2e + int(12) : int(256);
    const header = Buffer.alloc(8);
    header.writeUInt16LE(group, 0);
    header.writeUInt16LE(element, 2);
    header.writeUInt32LE(rand() < 0.97 ? length : int(0x100000000), 4);
    parts.push(header, value);
  }
  return Buffer.concat(parts);
}

function mutate(rand: () => number, src: Buffer): Buffer {
  const b = Buffer.from(src);
  const int = (n: number): number => Math.floor(rand() * n);
  switch (int(4)) {
    case 0: // flip a few bytes
      for (let i = 1 + int(4); i > 0; i--) b[int(b.length)] = int(256);
      return b;
    case 1: // truncate
      return b.subarray(0, int(b.length));
    case 2: // splice random bytes in
      return Buffer.concat([b.subarray(0, int(b.length)), Buffer.from(Array.from({ length: 1 + int(12) }, () => int(256))), b.subarray(int(b.length))]);
    default: // corrupt a length field
      b.writeUInt32LE(int(0x100000000), 4 + 8 * int(Math.max(1, Math.floor(b.length / 16))));
      return b;
  }
}

/** The message without its Error Comment, which the encoder may legitimately rewrite. */
function comparable(m: DimseMessage): unknown {
  const { errorComment: _, ...rest } = m as DimseMessage & { errorComment?: string };
  return rest;
}

test('fuzz: random, structured and mutated command sets give a message or a DimseError, nothing else', () => {
  const rand = prng(0x5eed_d1a5);
  const goldens = [...GOLDENS.map((g) => g[1]), FIND_RSP_PENDING_SLOPPY];
  let decoded = 0;
  let rejected = 0;
  for (let i = 0; i < 60_000; i++) {
    const kind = i % 3;
    const input = kind === 0
      ? Buffer.from(Array.from({ length: Math.floor(rand() * 120) }, () => Math.floor(rand() * 256)))
      : kind === 1 ? randomCommandSet(rand) : mutate(rand, goldens[i % goldens.length]!);
    let message: DimseMessage;
    try {
      message = decodeCommand(input);
    } catch (e) {
      if (!(e instanceof DicomError) || e.code !== 'ERR_DIMSE_INVALID') {
        throw new Error(`iteration ${i}: ${String(e)} for ${input.toString('hex')}`);
      }
      rejected++;
      continue;
    }
    decoded++;
    // What decodes re-encodes, or is refused with a DimseError (a peer's value our encoder will not write)
    let again: Buffer;
    try {
      again = encodeCommand(message);
    } catch (e) {
      if (!(e instanceof DimseError)) throw new Error(`iteration ${i}: encode threw ${String(e)}`);
      continue;
    }
    assert.equal(comparable(decodeCommand(again)), comparable(message), `iteration ${i}: ${input.toString('hex')}`);
  }
  assert.ok(decoded > 1000, `only ${decoded} inputs decoded`);
  assert.ok(rejected > 1000, `only ${rejected} inputs rejected`);
});

test.run();
