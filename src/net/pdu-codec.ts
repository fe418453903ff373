// Encode and decode whole upper-layer PDUs (PS3.8 §9.3): one {length, encode, decode} codec per PDU
// type over the 6-byte header, big-endian. Encoding measures, allocates once, writes; decoding returns
// views into the input and throws PduError naming the field and its offset.

import {
  bytes,
  createCursor,
  createWriter,
  need,
  skip,
  u16be,
  u32be,
  u8,
  writeBytes,
  writeU16be,
  writeU32be,
  writeU8,
  writeZeros,
  type Cursor,
  type Writer,
} from '../bytes.js';
import { ErrorCode, PduError } from '../errors.js';
import {
  aeTitle,
  applicationContextItem,
  checkUint,
  invalidField,
  unencodable,
  offsetOf,
  presentationContextAcItem,
  presentationContextRqItem,
  pduTruncated,
  readItems,
  userInformationAcItem,
  userInformationRqItem,
  type Codec,
} from './items.js';
import {
  AbortReason,
  ItemType,
  PDU_HEADER_LENGTH,
  PDU_NAMES,
  PduType,
  isPduType,
  type Abort,
  type AssociateAc,
  type AssociateRj,
  type AssociateRq,
  type PDataTf,
  type Pdu,
  type Pdv,
  type PresentationContextAc,
  type PresentationContextRq,
  type UserIdentityAc,
  type UserIdentityRq,
  type UserInformation,
} from './pdu.js';

/** PDU header (6) + PDV Item-length (4) + Presentation-context-ID (1) + Message Control Header (1). */
export const P_DATA_TF_HEADER_LENGTH = 12;

/** PDV Item-length (4) + Presentation-context-ID (1) + Message Control Header (1) (PS3.8 Table 9-23). */
export const PDV_HEADER_LENGTH = 6;

// PS3.8 Annex E.2: Message Control Header bit 0 = command (1) / data set (0), bit 1 = last fragment.
const MCH_COMMAND = 0x01;
const MCH_LAST = 0x02;

const calledAeTitle = aeTitle('Called-AE-title');
const callingAeTitle = aeTitle('Calling-AE-title');

// ---------------------------------------------------------------------------------------------
// A-ASSOCIATE-RQ and A-ASSOCIATE-AC: same fixed fields (PS3.8 Tables 9-11 and 9-17), different items.

interface AssociateFields<Pc, Identity> {
  readonly protocolVersion: number;
  readonly calledAeTitle: string;
  readonly callingAeTitle: string;
  readonly applicationContextName: string;
  readonly presentationContexts: readonly Pc[];
  readonly userInformation: UserInformation<Identity>;
}

function associateBody<Pc, Identity>(
  name: 'A-ASSOCIATE-RQ' | 'A-ASSOCIATE-AC',
  contextType: number,
  contextItem: Codec<Pc>,
  userItem: Codec<UserInformation<Identity>>,
): Codec<AssociateFields<Pc, Identity>> {
  return {
    length(p) {
      checkUint(p.protocolVersion, 2, 'Protocol-version');
      let n = 2 + 2 + calledAeTitle.length(p.calledAeTitle) + callingAeTitle.length(p.callingAeTitle) + 32;
      n += applicationContextItem.length(p.applicationContextName);
      for (const pc of p.presentationContexts) n += contextItem.length(pc);
      return n + userItem.length(p.userInformation);
    },
    encode(w, p) {
      writeU16be(w, p.protocolVersion);
      writeZeros(w, 2);
      calledAeTitle.encode(w, p.calledAeTitle);
      callingAeTitle.encode(w, p.callingAeTitle);
      writeZeros(w, 32);
      applicationContextItem.encode(w, p.applicationContextName);
      for (const pc of p.presentationContexts) contextItem.encode(w, pc);
      userItem.encode(w, p.userInformation);
    },
    decode(c) {
      const versionAt = offsetOf(c);
      const protocolVersion = u16be(c, 'Protocol-version');
      // PS3.8 §9.3.3: a requestor receiving an A-ASSOCIATE-AC tests only bit 0. An RQ without it is
      // decoded all the same: the acceptor answers A-ASSOCIATE-RJ (ACSE, protocol-version-not-supported),
      // PS3.8 Table 9-21, which it cannot do from an exception.
      if (name === 'A-ASSOCIATE-AC' && (protocolVersion & 0x0001) === 0) {
        const message = `Protocol-version: 0x${protocolVersion.toString(16)} lacks bit 0 (version 1)`;
        throw invalidField(message, 'Protocol-version', versionAt);
      }
      skip(c, 2, `${name} reserved`);
      const called = calledAeTitle.decode(c);
      const calling = callingAeTitle.decode(c);
      skip(c, 32, `${name} reserved`);
      // Items of other types are skipped. A missing application context or user information item decodes
      // to '' and defaults, so that the ACSE layer, not the codec, decides to refuse it.
      let applicationContextName = '';
      const presentationContexts: Pc[] = [];
      let userInformation: UserInformation<Identity> | undefined;
      readItems(c, name, (type, body) => {
        if (type === ItemType.ApplicationContext) applicationContextName = applicationContextItem.decode(body);
        else if (type === contextType) presentationContexts.push(contextItem.decode(body));
        else if (type === ItemType.UserInformation) userInformation = userItem.decode(body);
      });
      return {
        protocolVersion,
        calledAeTitle: called,
        callingAeTitle: calling,
        applicationContextName,
        presentationContexts,
        userInformation: userInformation ?? { maxLength: 0, implementationClassUid: '', roleSelections: [], extendedNegotiations: [] },
      };
    },
  };
}

const associateRqFields = associateBody<PresentationContextRq, UserIdentityRq>(
  'A-ASSOCIATE-RQ',
  ItemType.PresentationContextRq,
  presentationContextRqItem,
  userInformationRqItem,
);
const associateAcFields = associateBody<PresentationContextAc, UserIdentityAc>(
  'A-ASSOCIATE-AC',
  ItemType.PresentationContextAc,
  presentationContextAcItem,
  userInformationAcItem,
);

const associateRqBody: Codec<AssociateRq> = {
  length: associateRqFields.length,
  encode: associateRqFields.encode,
  decode: (c) => ({ type: 'A-ASSOCIATE-RQ', ...associateRqFields.decode(c) }),
};

const associateAcBody: Codec<AssociateAc> = {
  length: associateAcFields.length,
  encode: associateAcFields.encode,
  decode: (c) => ({ type: 'A-ASSOCIATE-AC', ...associateAcFields.decode(c) }),
};

// ---------------------------------------------------------------------------------------------
// A-ASSOCIATE-RJ (PS3.8 Table 9-21) and A-ABORT (Table 9-26): reserved, then three/two bytes.

const associateRjBody: Codec<AssociateRj> = {
  length(p) {
    checkUint(p.result, 1, 'Result');
    checkUint(p.source, 1, 'Source');
    checkUint(p.reason, 1, 'Reason/Diag.');
    return 4;
  },
  encode(w, p) {
    writeZeros(w, 1);
    writeU8(w, p.result);
    writeU8(w, p.source);
    writeU8(w, p.reason);
  },
  decode(c) {
    skip(c, 1, 'A-ASSOCIATE-RJ reserved');
    const result = u8(c, 'Result');
    const source = u8(c, 'Source');
    const reason = u8(c, 'Reason/Diag.');
    return { type: 'A-ASSOCIATE-RJ', result, source, reason };
  },
};

const abortBody: Codec<Abort> = {
  length(p) {
    checkUint(p.source, 1, 'Source');
    checkUint(p.reason, 1, 'Reason/Diag.');
    return 4;
  },
  encode(w, p) {
    writeZeros(w, 2);
    writeU8(w, p.source);
    writeU8(w, p.reason);
  },
  decode(c) {
    skip(c, 2, 'A-ABORT reserved');
    const source = u8(c, 'Source');
    const reason = u8(c, 'Reason/Diag.');
    return { type: 'A-ABORT', source, reason };
  },
};

// A-RELEASE-RQ/RP (PS3.8 Tables 9-24, 9-25): four reserved bytes.
function releaseBody<P extends { readonly type: 'A-RELEASE-RQ' | 'A-RELEASE-RP' }>(pdu: P): Codec<P> {
  return {
    length: () => 4,
    encode: (w) => writeZeros(w, 4),
    decode(c) {
      skip(c, 4, `${pdu.type} reserved`);
      return pdu;
    },
  };
}
const releaseRqBody = releaseBody({ type: 'A-RELEASE-RQ' } as const);
const releaseRpBody = releaseBody({ type: 'A-RELEASE-RP' } as const);

// ---------------------------------------------------------------------------------------------
// P-DATA-TF (PS3.8 Table 9-22) and its PDV items (Table 9-23, Annex E.2)

function writePdvHeader(w: Writer, presentationContextId: number, isCommand: boolean, isLast: boolean, dataLength: number): void {
  writeU32be(w, 2 + dataLength);
  writeU8(w, presentationContextId);
  writeU8(w, (isCommand ? MCH_COMMAND : 0) | (isLast ? MCH_LAST : 0));
}

function decodePdv(c: Cursor): Pdv {
  const lengthAt = offsetOf(c);
  const itemLength = u32be(c, 'PDV Item-length');
  // The item length counts the context ID and the message control header (PS3.8 Table 9-23).
  if (itemLength < 2) throw invalidField(`PDV Item-length: ${itemLength}, at least 2`, 'PDV Item-length', lengthAt);
  need(c, itemLength, 'PDV Item-length');
  const presentationContextId = u8(c, 'Presentation-context-ID');
  const header = u8(c, 'Message Control Header'); // bits 2-7 are reserved: not tested
  const data = bytes(c, itemLength - 2, 'Presentation-data-value');
  return { presentationContextId, isCommand: (header & MCH_COMMAND) !== 0, isLast: (header & MCH_LAST) !== 0, data };
}

const pDataTfBody: Codec<PDataTf> = {
  length(p) {
    let n = 0;
    for (const pdv of p.pdvs) {
      checkUint(pdv.presentationContextId, 1, 'Presentation-context-ID');
      n += PDV_HEADER_LENGTH + pdv.data.length;
    }
    return n;
  },
  encode(w, p) {
    for (const pdv of p.pdvs) {
      writePdvHeader(w, pdv.presentationContextId, pdv.isCommand, pdv.isLast, pdv.data.length);
      writeBytes(w, pdv.data);
    }
  },
  decode(c) {
    // PS3.8 §9.3.5: one or more PDV items; an empty list is left to the DIMSE layer.
    const pdvs: Pdv[] = [];
    while (c.pos < c.end) pdvs.push(decodePdv(c));
    return { type: 'P-DATA-TF', pdvs };
  },
};

// ---------------------------------------------------------------------------------------------
// Whole PDUs

function bodyLength(pdu: Pdu): number {
  switch (pdu.type) {
    case 'A-ASSOCIATE-RQ':
      return associateRqBody.length(pdu);
    case 'A-ASSOCIATE-AC':
      return associateAcBody.length(pdu);
    case 'A-ASSOCIATE-RJ':
      return associateRjBody.length(pdu);
    case 'P-DATA-TF':
      return pDataTfBody.length(pdu);
    case 'A-RELEASE-RQ':
      return releaseRqBody.length(pdu);
    case 'A-RELEASE-RP':
      return releaseRpBody.length(pdu);
    case 'A-ABORT':
      return abortBody.length(pdu);
  }
}

function typeCode(pdu: Pdu): number {
  switch (pdu.type) {
    case 'A-ASSOCIATE-RQ':
      return PduType.AssociateRq;
    case 'A-ASSOCIATE-AC':
      return PduType.AssociateAc;
    case 'A-ASSOCIATE-RJ':
      return PduType.AssociateRj;
    case 'P-DATA-TF':
      return PduType.PDataTf;
    case 'A-RELEASE-RQ':
      return PduType.ReleaseRq;
    case 'A-RELEASE-RP':
      return PduType.ReleaseRp;
    case 'A-ABORT':
      return PduType.Abort;
  }
}

/**
 * Bytes `encodePdu(pdu)` will produce, header included.
 * @throws PduError ERR_PDU_INVALID for a value the PDU cannot carry (an AE title over 16 characters, …).
 */
export function pduLength(pdu: Pdu): number {
  const n = bodyLength(pdu);
  checkUint(n, 4, 'PDU-length');
  return PDU_HEADER_LENGTH + n;
}

/**
 * One PDU, header included, in one allocation.
 * @throws PduError ERR_PDU_INVALID for a value the PDU cannot carry.
 */
export function encodePdu(pdu: Pdu): Buffer {
  const total = pduLength(pdu);
  const w = createWriter(total);
  writeU8(w, typeCode(pdu));
  writeZeros(w, 1);
  writeU32be(w, total - PDU_HEADER_LENGTH);
  switch (pdu.type) {
    case 'A-ASSOCIATE-RQ':
      associateRqBody.encode(w, pdu);
      break;
    case 'A-ASSOCIATE-AC':
      associateAcBody.encode(w, pdu);
      break;
    case 'A-ASSOCIATE-RJ':
      associateRjBody.encode(w, pdu);
      break;
    case 'P-DATA-TF':
      pDataTfBody.encode(w, pdu);
      break;
    case 'A-RELEASE-RQ':
      releaseRqBody.encode(w, pdu);
      break;
    case 'A-RELEASE-RP':
      releaseRpBody.encode(w, pdu);
      break;
    case 'A-ABORT':
      abortBody.encode(w, pdu);
      break;
  }
  return w.buf;
}

/**
 * Decode one whole PDU (`buf` holds exactly its header and body); `base` is its offset in the stream, for errors.
 * Binary values (PDV data, extended negotiation, user identity) are views into `buf`.
 * @throws PduError ERR_PDU_UNKNOWN_TYPE (abort reason 1), ERR_PDU_TRUNCATED or ERR_PDU_INVALID (reason 6).
 */
export function decodePdu(buf: Buffer, base = 0): Pdu {
  const head = createCursor(buf, 0, buf.length, base, pduTruncated);
  const type = u8(head, 'PDU-type');
  if (!isPduType(type)) {
    throw new PduError(ErrorCode.PduUnknownType, `PDU-type: 0x${type.toString(16).padStart(2, '0')} is not a PDU type`, {
      field: 'PDU-type',
      offset: base,
      abortReason: AbortReason.UnrecognizedPdu,
    });
  }
  skip(head, 1, 'PDU reserved');
  const length = u32be(head, 'PDU-length');
  const end = PDU_HEADER_LENGTH + length;
  if (end > buf.length) {
    throw pduTruncated(`PDU-length: ${length} but ${buf.length - PDU_HEADER_LENGTH} bytes follow the header`, 'PDU-length', base + 2);
  }
  if (end < buf.length) {
    throw invalidField(`PDU-length: ${length} but ${buf.length - PDU_HEADER_LENGTH} bytes follow the header`, 'PDU-length', base + 2);
  }
  const fixed = type === PduType.AssociateRj || type === PduType.ReleaseRq || type === PduType.ReleaseRp || type === PduType.Abort;
  if (fixed && length !== 4) {
    throw invalidField(`PDU-length: ${PDU_NAMES[type]} has 4 bytes, not ${length}`, 'PDU-length', base + 2);
  }
  const c = createCursor(buf, PDU_HEADER_LENGTH, end, base, pduTruncated);
  switch (type) {
    case PduType.AssociateRq:
      return associateRqBody.decode(c);
    case PduType.AssociateAc:
      return associateAcBody.decode(c);
    case PduType.AssociateRj:
      return associateRjBody.decode(c);
    case PduType.PDataTf:
      return pDataTfBody.decode(c);
    case PduType.ReleaseRq:
      return releaseRqBody.decode(c);
    case PduType.ReleaseRp:
      return releaseRpBody.decode(c);
    case PduType.Abort:
      return abortBody.decode(c);
  }
}

/** The parts of a PDV that its header carries. */
export interface PdvHeader {
  readonly presentationContextId: number;
  readonly isCommand: boolean;
  readonly isLast: boolean;
}

/**
 * Write the 12-byte header of a P-DATA-TF holding one PDV of `dataLength` bytes at `buf[offset]`;
 * the caller writes (or sends) the data after it. Returns the offset after the header.
 * @throws PduError ERR_PDU_INVALID when the header does not fit or the values do not fit their fields.
 */
export function encodePDataHeaderInto(buf: Buffer, offset: number, pdv: PdvHeader, dataLength: number): number {
  checkUint(pdv.presentationContextId, 1, 'Presentation-context-ID');
  checkUint(dataLength + PDV_HEADER_LENGTH, 4, 'PDU-length');
  if (offset < 0 || offset + P_DATA_TF_HEADER_LENGTH > buf.length) {
    throw unencodable(`P-DATA-TF header: no room at ${offset} in ${buf.length} bytes`, 'P-DATA-TF header');
  }
  const w: Writer = { buf, pos: offset };
  writeU8(w, PduType.PDataTf);
  writeU8(w, 0);
  writeU32be(w, PDV_HEADER_LENGTH + dataLength);
  writePdvHeader(w, pdv.presentationContextId, pdv.isCommand, pdv.isLast, dataLength);
  return w.pos;
}
