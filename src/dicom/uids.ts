// Well-known UIDs: transfer syntaxes (PS3.5 §10, Annex A), the SOP classes qrscu names, and
// qrscu's own implementation identity.

import { DatasetError, ErrorCode } from '../errors.js';

export const TransferSyntaxUid = {
  ImplicitVrLittleEndian: '1.2.840.10008.1.2',
  ExplicitVrLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVrLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVrBigEndian: '1.2.840.10008.1.2.2',
} as const;

/** How a transfer syntax lays out a dataset. Encapsulated syntaxes are explicit VR little endian. */
export interface TransferSyntax {
  readonly uid: string;
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
  readonly deflated: boolean;
}

export const IMPLICIT_LE: TransferSyntax = { uid: TransferSyntaxUid.ImplicitVrLittleEndian, explicitVr: false, littleEndian: true, deflated: false };
export const EXPLICIT_LE: TransferSyntax = { uid: TransferSyntaxUid.ExplicitVrLittleEndian, explicitVr: true, littleEndian: true, deflated: false };
export const EXPLICIT_BE: TransferSyntax = { uid: TransferSyntaxUid.ExplicitVrBigEndian, explicitVr: true, littleEndian: false, deflated: false };
export const DEFLATED_LE: TransferSyntax = { uid: TransferSyntaxUid.DeflatedExplicitVrLittleEndian, explicitVr: true, littleEndian: true, deflated: true };

/**
 * The layout of a transfer syntax UID. Every syntax other than the four native ones is an
 * encapsulated (compressed pixel data) syntax whose dataset is explicit VR little endian (PS3.5 §A.4).
 * @throws DatasetError ERR_UNSUPPORTED_TRANSFER_SYNTAX for a value that is not a UID.
 */
export function transferSyntaxOf(uid: string): TransferSyntax {
  switch (uid) {
    case IMPLICIT_LE.uid: return IMPLICIT_LE;
    case EXPLICIT_LE.uid: return EXPLICIT_LE;
    case EXPLICIT_BE.uid: return EXPLICIT_BE;
    case DEFLATED_LE.uid: return DEFLATED_LE;
  }
  if (!/^[0-9]+(\.[0-9]+)*$/.test(uid)) {
    throw new DatasetError(ErrorCode.UnsupportedTransferSyntax, `not a transfer syntax UID: '${uid}'`);
  }
  // PS3.5 §10.3: 1.2.840.10008.1.2.1.99 is the only deflated native syntax; JPIP deflate variants
  // reference pixel data and carry an explicit LE dataset.
  return { uid, explicitVr: true, littleEndian: true, deflated: false };
}

export const SopClassUid = {
  Verification: '1.2.840.10008.1.1',
  StudyRootQueryRetrieveFind: '1.2.840.10008.5.1.4.1.2.2.1',
  StudyRootQueryRetrieveMove: '1.2.840.10008.5.1.4.1.2.2.2',
  PatientRootQueryRetrieveFind: '1.2.840.10008.5.1.4.1.2.1.1',
  PatientRootQueryRetrieveMove: '1.2.840.10008.5.1.4.1.2.1.2',
  SecondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7',
} as const;

/** qrscu's Implementation Class UID (a UUID-derived UID under 2.25, PS3.5 §B.2) and version name. */
export const IMPLEMENTATION_CLASS_UID = '2.25.135616797911173066825233196935929751727';
export const IMPLEMENTATION_VERSION_NAME = 'QRSCU_010';
