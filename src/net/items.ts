// Variable items of A-ASSOCIATE-RQ/AC (PS3.8 §9.3.2.1–9.3.3.3) and user-information sub-items
// (PS3.8 Annex D, PS3.7 Annex D.3.3): one {length, encode, decode} codec each, big-endian.
// Unknown items and sub-items are skipped; reserved fields are written zero and not tested on receipt.

import {
  ascii,
  bytes,
  createCursor,
  need,
  remaining,
  skip,
  u16be,
  u32be,
  u8,
  writeAscii,
  writeBytes,
  writeU16be,
  writeU32be,
  writeU8,
  writeZeros,
  type Cursor,
  type ErrorFactory,
  type Writer,
} from '../bytes.js';
import { ErrorCode, PduError } from '../errors.js';
import {
  AbortReason,
  ItemType,
  type AsyncOperationsWindow,
  type CommonExtendedNegotiation,
  type ExtendedNegotiation,
  type PresentationContextAc,
  type PresentationContextRq,
  type RoleSelection,
  type UserIdentityAc,
  type UserIdentityRq,
  type UserInformation,
} from './pdu.js';

/**
 * A wire structure: `length` measures (and validates) it, `encode` writes it into a writer sized from the
 * lengths, `decode` reads it. Item codecs write their item header; their `decode` reads the item value from
 * the cursor `readItems` bounds to it (the header decides which codec applies).
 */
export interface Codec<T> {
  length(value: T): number;
  encode(w: Writer, value: T): void;
  decode(c: Cursor): T;
}

/** Item-type, reserved and Item-length fields (PS3.8 Table 9-12 and following). */
export const ITEM_HEADER_LENGTH = 4;

/** A field that runs past the end of its PDU or item: the length fields disagree (PS3.8 Table 9-26 reason 6). */
export const pduTruncated: ErrorFactory = (message, field, offset) =>
  new PduError(ErrorCode.PduTruncated, message, { field, offset, abortReason: AbortReason.InvalidPduParameterValue });

/** A received field whose value is wrong: A-ABORT reason 6, invalid-PDU-parameter-value (PS3.8 Table 9-26). */
export function invalidField(message: string, field: string, offset: number): PduError {
  return new PduError(ErrorCode.PduInvalid, message, { field, offset, abortReason: AbortReason.InvalidPduParameterValue });
}

/** A value we were asked to send that its field cannot carry (nothing was received: reason 0). */
export function unencodable(message: string, field: string): PduError {
  return new PduError(ErrorCode.PduInvalid, message, { field, abortReason: AbortReason.NotSpecified });
}

/** Offset of the cursor's position in the whole stream, for errors. */
export function offsetOf(c: Cursor): number {
  return c.base + c.pos;
}

// ---------------------------------------------------------------------------------------------
// Field helpers

const ITEM_NAMES: Readonly<Record<number, string>> = {
  [ItemType.ApplicationContext]: 'Application Context Item',
  [ItemType.PresentationContextRq]: 'Presentation Context Item',
  [ItemType.PresentationContextAc]: 'Presentation Context Item',
  [ItemType.AbstractSyntax]: 'Abstract Syntax Sub-Item',
  [ItemType.TransferSyntax]: 'Transfer Syntax Sub-Item',
  [ItemType.UserInformation]: 'User Information Item',
  [ItemType.MaximumLength]: 'Maximum Length Sub-Item',
  [ItemType.ImplementationClassUid]: 'Implementation Class UID Sub-Item',
  [ItemType.AsynchronousOperationsWindow]: 'Asynchronous Operations Window Sub-Item',
  [ItemType.ScpScuRoleSelection]: 'SCP/SCU Role Selection Sub-Item',
  [ItemType.ImplementationVersionName]: 'Implementation Version Name Sub-Item',
  [ItemType.SopClassExtendedNegotiation]: 'SOP Class Extended Negotiation Sub-Item',
  [ItemType.SopClassCommonExtendedNegotiation]: 'SOP Class Common Extended Negotiation Sub-Item',
  [ItemType.UserIdentityRq]: 'User Identity Sub-Item',
  [ItemType.UserIdentityAc]: 'User Identity Sub-Item',
};

/** "Presentation Context Item (0x20)" for errors. */
export function itemName(type: number): string {
  return `${ITEM_NAMES[type] ?? 'Item'} (0x${type.toString(16).padStart(2, '0')})`;
}

/** Byte length of a latin1 string; refuses characters that latin1 cannot hold in one byte. */
function textLength(s: string, field: string, max = 0xffff): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) throw unencodable(`${field}: character ${JSON.stringify(s[i])} is not latin1`, field);
  }
  if (s.length > max) throw unencodable(`${field}: ${s.length} bytes, at most ${max}`, field);
  return s.length;
}

/**
 * A UID field (PS3.5 §9 syntax). We send UIDs unpadded, as DCMTK does (its odd lengths are in the captures);
 * the trailing NUL or space some peers add to reach an even length is dropped.
 */
function decodeUid(c: Cursor, n: number, field: string): string {
  const s = ascii(c, n, field);
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 0 || s.charCodeAt(end - 1) === 0x20)) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** A text sub-item value (implementation version name): trailing NUL/space are padding. */
const decodeText = decodeUid;

/** Refuses a number that does not fit an unsigned field of `size` bytes (so writes never throw RangeError). */
export function checkUint(v: number, size: 1 | 2 | 4, field: string): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** (8 * size)) {
    throw unencodable(`${field}: ${v} does not fit ${size} byte(s)`, field);
  }
}

function decodeBoolean(c: Cursor, field: string): boolean {
  const at = offsetOf(c);
  const v = u8(c, field);
  if (v > 1) throw invalidField(`${field}: ${v}, expected 0 or 1`, field, at);
  return v === 1;
}

/** Throws unless the item body was read to its end (a fixed-layout item with a longer Item-length). */
function expectEnd(c: Cursor, field: string): void {
  if (c.pos !== c.end) throw invalidField(`${field}: ${c.end - c.pos} bytes left over`, field, offsetOf(c));
}

/** Write the Item-type, reserved and Item-length fields. */
function writeItemHeader(w: Writer, type: number, bodyLength: number): void {
  writeU8(w, type);
  writeZeros(w, 1);
  writeU16be(w, bodyLength);
}

/** Check that an item body fits the 2-byte Item-length field. */
function itemLength(type: number, bodyLength: number): number {
  if (bodyLength > 0xffff) {
    throw unencodable(`${itemName(type)}: ${bodyLength} bytes, at most 65535`, `${itemName(type)} Item-length`);
  }
  return ITEM_HEADER_LENGTH + bodyLength;
}

/**
 * Read the items filling the rest of `c`, calling `visit(type, body)` with a cursor bounded to each item's value.
 * @throws PduError ERR_PDU_TRUNCATED when an item runs past its parent.
 */
export function readItems(c: Cursor, parent: string, visit: (type: number, body: Cursor) => void): void {
  while (c.pos < c.end) {
    const type = u8(c, `${parent}: Item-type`);
    skip(c, 1, `${parent}: reserved`);
    const field = `${itemName(type)} Item-length`;
    const length = u16be(c, field);
    if (length > remaining(c)) {
      throw c.fail(`${field}: ${length} runs past its parent (${remaining(c)} bytes remain)`, field, offsetOf(c) - 2);
    }
    const body = createCursor(c.buf, c.pos, c.pos + length, c.base, c.fail);
    c.pos += length;
    visit(type, body);
  }
}

// ---------------------------------------------------------------------------------------------
// AE titles: PS3.8 Table 9-11

/** Refuses what PS3.5 Table 6.2-1 (AE) cannot hold: over 16 characters, backslash, control characters. */
function checkAeTitle(title: string, field: string): void {
  if (title.length > 16) {
    throw unencodable(`${field}: ${JSON.stringify(title)} is ${title.length} characters, at most 16`, field);
  }
  for (let i = 0; i < title.length; i++) {
    const ch = title.charCodeAt(i);
    if (ch < 0x20 || ch > 0x7e || ch === 0x5c) {
      throw unencodable(`${field}: ${JSON.stringify(title)} has a character not allowed in an AE title`, field);
    }
  }
}

/** A 16-byte AE title field; `field` names it in errors. */
export function aeTitle(field: string): Codec<string> {
  return {
    length(title) {
      checkAeTitle(title, field);
      return 16;
    },
    encode(w, title) {
      writeAscii(w, title, 16, 0x20);
    },
    decode(c) {
      // PS3.8 Table 9-11: leading and trailing spaces are non-significant; NUL padding seen in the wild too.
      return ascii(c, 16, field).replace(/^[ \0]+|[ \0]+$/g, '');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Items holding one UID: application context (0x10), abstract syntax (0x30), transfer syntax (0x40),
// implementation class UID (0x52); and the implementation version name (0x55).

function uidItem(type: number): Codec<string> {
  const field = itemName(type);
  return {
    length: (uid) => itemLength(type, textLength(uid, field)),
    encode(w, uid) {
      writeItemHeader(w, type, uid.length);
      writeAscii(w, uid);
    },
    decode: (c) => decodeUid(c, remaining(c), field),
  };
}

export const applicationContextItem = uidItem(ItemType.ApplicationContext);
export const abstractSyntaxSubItem = uidItem(ItemType.AbstractSyntax);
export const transferSyntaxSubItem = uidItem(ItemType.TransferSyntax);
export const implementationClassUidSubItem = uidItem(ItemType.ImplementationClassUid);

/** PS3.7 D.3.3.2.3: 1 to 16 characters. */
export const implementationVersionNameSubItem: Codec<string> = {
  length: (name) =>
    itemLength(ItemType.ImplementationVersionName, textLength(name, itemName(ItemType.ImplementationVersionName), 16)),
  encode(w, name) {
    writeItemHeader(w, ItemType.ImplementationVersionName, name.length);
    writeAscii(w, name);
  },
  decode: (c) => decodeText(c, remaining(c), itemName(ItemType.ImplementationVersionName)),
};

// ---------------------------------------------------------------------------------------------
// Presentation context items (PS3.8 Tables 9-13 and 9-18)

/** Presentation context item of an A-ASSOCIATE-RQ (0x20). */
export const presentationContextRqItem: Codec<PresentationContextRq> = {
  length(pc) {
    checkUint(pc.id, 1, 'Presentation-context-ID');
    let n = 4 + abstractSyntaxSubItem.length(pc.abstractSyntax);
    for (const ts of pc.transferSyntaxes) n += transferSyntaxSubItem.length(ts);
    return itemLength(ItemType.PresentationContextRq, n);
  },
  encode(w, pc) {
    writeItemHeader(w, ItemType.PresentationContextRq, presentationContextRqItem.length(pc) - ITEM_HEADER_LENGTH);
    writeU8(w, pc.id);
    writeZeros(w, 3);
    abstractSyntaxSubItem.encode(w, pc.abstractSyntax);
    for (const ts of pc.transferSyntaxes) transferSyntaxSubItem.encode(w, ts);
  },
  decode(c) {
    const id = u8(c, 'Presentation-context-ID');
    skip(c, 3, 'Presentation Context Item reserved');
    // PS3.8 §9.3.2.2: one abstract syntax sub-item and one or more transfer syntax sub-items; an empty
    // abstract syntax or transfer syntax list is left for negotiation to refuse.
    let abstractSyntax = '';
    const transferSyntaxes: string[] = [];
    readItems(c, itemName(ItemType.PresentationContextRq), (type, body) => {
      if (type === ItemType.AbstractSyntax) abstractSyntax = abstractSyntaxSubItem.decode(body);
      else if (type === ItemType.TransferSyntax) transferSyntaxes.push(transferSyntaxSubItem.decode(body));
    });
    return { id, abstractSyntax, transferSyntaxes };
  },
};

/** Presentation context item of an A-ASSOCIATE-AC (0x21). */
export const presentationContextAcItem: Codec<PresentationContextAc> = {
  length(pc) {
    checkUint(pc.id, 1, 'Presentation-context-ID');
    checkUint(pc.result, 1, 'Result/Reason');
    const ts = pc.transferSyntax === undefined ? 0 : transferSyntaxSubItem.length(pc.transferSyntax);
    return itemLength(ItemType.PresentationContextAc, 4 + ts);
  },
  encode(w, pc) {
    writeItemHeader(w, ItemType.PresentationContextAc, presentationContextAcItem.length(pc) - ITEM_HEADER_LENGTH);
    writeU8(w, pc.id);
    writeZeros(w, 1);
    writeU8(w, pc.result);
    writeZeros(w, 1);
    if (pc.transferSyntax !== undefined) transferSyntaxSubItem.encode(w, pc.transferSyntax);
  },
  decode(c) {
    const id = u8(c, 'Presentation-context-ID');
    skip(c, 1, 'Presentation Context Item reserved');
    const result = u8(c, 'Result/Reason');
    skip(c, 1, 'Presentation Context Item reserved');
    // PS3.8 §9.3.3.2: the transfer syntax is not significant when the context is rejected, and some
    // peers then send no sub-item at all; DCMTK sends one.
    let transferSyntax: string | undefined;
    readItems(c, itemName(ItemType.PresentationContextAc), (type, body) => {
      if (type === ItemType.TransferSyntax) transferSyntax = transferSyntaxSubItem.decode(body);
    });
    return transferSyntax === undefined ? { id, result } : { id, result, transferSyntax };
  },
};

// ---------------------------------------------------------------------------------------------
// User information sub-items (PS3.7 Annex D.3.3)

/** Maximum length sub-item (0x51, PS3.8 D.1). */
export const maximumLengthSubItem: Codec<number> = {
  length(maxLength) {
    checkUint(maxLength, 4, 'Maximum-length-received');
    return ITEM_HEADER_LENGTH + 4;
  },
  encode(w, maxLength) {
    writeItemHeader(w, ItemType.MaximumLength, 4);
    writeU32be(w, maxLength);
  },
  decode(c) {
    const v = u32be(c, 'Maximum-length-received');
    expectEnd(c, itemName(ItemType.MaximumLength));
    return v;
  },
};

/** Asynchronous operations window sub-item (0x53, PS3.7 D.3.3.3.1). */
export const asyncOperationsWindowSubItem: Codec<AsyncOperationsWindow> = {
  length(v) {
    checkUint(v.maxOperationsInvoked, 2, 'Maximum-number-operations-invoked');
    checkUint(v.maxOperationsPerformed, 2, 'Maximum-number-operations-performed');
    return ITEM_HEADER_LENGTH + 4;
  },
  encode(w, v) {
    writeItemHeader(w, ItemType.AsynchronousOperationsWindow, 4);
    writeU16be(w, v.maxOperationsInvoked);
    writeU16be(w, v.maxOperationsPerformed);
  },
  decode(c) {
    const maxOperationsInvoked = u16be(c, 'Maximum-number-operations-invoked');
    const maxOperationsPerformed = u16be(c, 'Maximum-number-operations-performed');
    expectEnd(c, itemName(ItemType.AsynchronousOperationsWindow));
    return { maxOperationsInvoked, maxOperationsPerformed };
  },
};

/** SCP/SCU role selection sub-item (0x54, PS3.7 D.3.3.4). */
export const roleSelectionSubItem: Codec<RoleSelection> = {
  length: (v) => itemLength(ItemType.ScpScuRoleSelection, 2 + textLength(v.sopClassUid, 'SOP-class-uid') + 2),
  encode(w, v) {
    writeItemHeader(w, ItemType.ScpScuRoleSelection, 2 + v.sopClassUid.length + 2);
    writeU16be(w, v.sopClassUid.length);
    writeAscii(w, v.sopClassUid);
    writeU8(w, v.scuRole ? 1 : 0);
    writeU8(w, v.scpRole ? 1 : 0);
  },
  decode(c) {
    const uidLength = u16be(c, 'UID-length');
    const sopClassUid = decodeUid(c, uidLength, 'SOP-class-uid');
    const scuRole = decodeBoolean(c, 'SCU-role');
    const scpRole = decodeBoolean(c, 'SCP-role');
    expectEnd(c, itemName(ItemType.ScpScuRoleSelection));
    return { sopClassUid, scuRole, scpRole };
  },
};

/** SOP class extended negotiation sub-item (0x56, PS3.7 D.3.3.5); the application information is a view. */
export const extendedNegotiationSubItem: Codec<ExtendedNegotiation> = {
  length: (v) =>
    itemLength(
      ItemType.SopClassExtendedNegotiation,
      2 + textLength(v.sopClassUid, 'SOP-class-uid') + v.serviceClassApplicationInformation.length,
    ),
  encode(w, v) {
    writeItemHeader(w, ItemType.SopClassExtendedNegotiation, 2 + v.sopClassUid.length + v.serviceClassApplicationInformation.length);
    writeU16be(w, v.sopClassUid.length);
    writeAscii(w, v.sopClassUid);
    writeBytes(w, v.serviceClassApplicationInformation);
  },
  decode(c) {
    const uidLength = u16be(c, 'SOP-class-uid-length');
    const sopClassUid = decodeUid(c, uidLength, 'SOP-class-uid');
    const serviceClassApplicationInformation = bytes(c, remaining(c), 'Service-class-application-information');
    return { sopClassUid, serviceClassApplicationInformation };
  },
};

/** SOP class common extended negotiation sub-item (0x57, PS3.7 D.3.3.6). */
export const commonExtendedNegotiationSubItem: Codec<CommonExtendedNegotiation> = {
  length(v) {
    let related = 0;
    for (const uid of v.relatedGeneralSopClassUids) related += 2 + textLength(uid, 'Related-general-sop-class-uid');
    if (related > 0xffff) {
      const field = 'Related-general-sop-class-identification-length';
      throw unencodable(`${field}: ${related} bytes, at most 65535`, field);
    }
    const body = 2 + textLength(v.sopClassUid, 'SOP-class-uid') + 2 + textLength(v.serviceClassUid, 'Service-class-uid') + 2 + related;
    return itemLength(ItemType.SopClassCommonExtendedNegotiation, body);
  },
  encode(w, v) {
    writeItemHeader(w, ItemType.SopClassCommonExtendedNegotiation, commonExtendedNegotiationSubItem.length(v) - ITEM_HEADER_LENGTH);
    writeU16be(w, v.sopClassUid.length);
    writeAscii(w, v.sopClassUid);
    writeU16be(w, v.serviceClassUid.length);
    writeAscii(w, v.serviceClassUid);
    let related = 0;
    for (const uid of v.relatedGeneralSopClassUids) related += 2 + uid.length;
    writeU16be(w, related);
    for (const uid of v.relatedGeneralSopClassUids) {
      writeU16be(w, uid.length);
      writeAscii(w, uid);
    }
  },
  decode(c) {
    const sopClassUid = decodeUid(c, u16be(c, 'SOP-class-uid-length'), 'SOP-class-uid');
    const serviceClassUid = decodeUid(c, u16be(c, 'Service-class-uid-length'), 'Service-class-uid');
    const relatedLength = u16be(c, 'Related-general-sop-class-identification-length');
    need(c, relatedLength, 'Related-general-sop-class-identification');
    const related = createCursor(c.buf, c.pos, c.pos + relatedLength, c.base, c.fail);
    c.pos += relatedLength;
    const relatedGeneralSopClassUids: string[] = [];
    while (related.pos < related.end) {
      const uidLength = u16be(related, 'Related-general-sop-class-uid-length');
      relatedGeneralSopClassUids.push(decodeUid(related, uidLength, 'Related-general-sop-class-uid'));
    }
    expectEnd(c, itemName(ItemType.SopClassCommonExtendedNegotiation));
    return { sopClassUid, serviceClassUid, relatedGeneralSopClassUids };
  },
};

/** User identity negotiation sub-item of an A-ASSOCIATE-RQ (0x58, PS3.7 D.3.3.7.1). */
export const userIdentityRqSubItem: Codec<UserIdentityRq> = {
  length(v) {
    checkUint(v.userIdentityType, 1, 'User-Identity-Type');
    checkUint(v.primaryField.length, 2, 'Primary-field-length');
    checkUint(v.secondaryField.length, 2, 'Secondary-field-length');
    return itemLength(ItemType.UserIdentityRq, 2 + 2 + v.primaryField.length + 2 + v.secondaryField.length);
  },
  encode(w, v) {
    writeItemHeader(w, ItemType.UserIdentityRq, 6 + v.primaryField.length + v.secondaryField.length);
    writeU8(w, v.userIdentityType);
    writeU8(w, v.positiveResponseRequested ? 1 : 0);
    writeU16be(w, v.primaryField.length);
    writeBytes(w, v.primaryField);
    writeU16be(w, v.secondaryField.length);
    writeBytes(w, v.secondaryField);
  },
  decode(c) {
    const userIdentityType = u8(c, 'User-Identity-Type');
    const positiveResponseRequested = decodeBoolean(c, 'Positive-response-requested');
    const primaryField = bytes(c, u16be(c, 'Primary-field-length'), 'Primary-field');
    const secondaryField = bytes(c, u16be(c, 'Secondary-field-length'), 'Secondary-field');
    expectEnd(c, itemName(ItemType.UserIdentityRq));
    return { userIdentityType, positiveResponseRequested, primaryField, secondaryField };
  },
};

/** User identity negotiation sub-item of an A-ASSOCIATE-AC (0x59, PS3.7 D.3.3.7.2). */
export const userIdentityAcSubItem: Codec<UserIdentityAc> = {
  length(v) {
    checkUint(v.serverResponse.length, 2, 'Server-response-length');
    return itemLength(ItemType.UserIdentityAc, 2 + v.serverResponse.length);
  },
  encode(w, v) {
    writeItemHeader(w, ItemType.UserIdentityAc, 2 + v.serverResponse.length);
    writeU16be(w, v.serverResponse.length);
    writeBytes(w, v.serverResponse);
  },
  decode(c) {
    const serverResponse = bytes(c, u16be(c, 'Server-response-length'), 'Server-response');
    expectEnd(c, itemName(ItemType.UserIdentityAc));
    return { serverResponse };
  },
};

// ---------------------------------------------------------------------------------------------
// User information item (0x50)

function sumLengths<T>(codec: Codec<T>, values: readonly T[] | undefined): number {
  let n = 0;
  if (values !== undefined) for (const v of values) n += codec.length(v);
  return n;
}

/**
 * The user information item, for the RQ (0x58 identity) or the AC (0x59 identity). Sub-items are written
 * in item-type order, as DCMTK 3.6.7 writes them (captured: 0x51, 0x52, 0x54…, 0x55, 0x58), so its PDUs
 * re-encode byte for byte.
 */
function userInformationItem<I>(identityType: number, identity: Codec<I>): Codec<UserInformation<I>> {
  const bodyLength = (u: UserInformation<I>): number =>
    maximumLengthSubItem.length(u.maxLength) +
    (u.implementationClassUid === '' ? 0 : implementationClassUidSubItem.length(u.implementationClassUid)) +
    (u.asyncOperationsWindow === undefined ? 0 : asyncOperationsWindowSubItem.length(u.asyncOperationsWindow)) +
    sumLengths(roleSelectionSubItem, u.roleSelections) +
    (u.implementationVersionName === undefined ? 0 : implementationVersionNameSubItem.length(u.implementationVersionName)) +
    sumLengths(extendedNegotiationSubItem, u.extendedNegotiations) +
    sumLengths(commonExtendedNegotiationSubItem, u.commonExtendedNegotiations) +
    (u.userIdentity === undefined ? 0 : identity.length(u.userIdentity));
  return {
    length: (u) => itemLength(ItemType.UserInformation, bodyLength(u)),
    encode(w, u) {
      writeItemHeader(w, ItemType.UserInformation, bodyLength(u));
      maximumLengthSubItem.encode(w, u.maxLength);
      if (u.implementationClassUid !== '') implementationClassUidSubItem.encode(w, u.implementationClassUid);
      if (u.asyncOperationsWindow !== undefined) asyncOperationsWindowSubItem.encode(w, u.asyncOperationsWindow);
      for (const v of u.roleSelections) roleSelectionSubItem.encode(w, v);
      if (u.implementationVersionName !== undefined) implementationVersionNameSubItem.encode(w, u.implementationVersionName);
      for (const v of u.extendedNegotiations) extendedNegotiationSubItem.encode(w, v);
      for (const v of u.commonExtendedNegotiations ?? []) commonExtendedNegotiationSubItem.encode(w, v);
      if (u.userIdentity !== undefined) identity.encode(w, u.userIdentity);
    },
    decode(c) {
      // PS3.8 D.1: an absent maximum length is no maximum (0); an absent implementation class UID is ''
      // so that the ACSE layer, not the codec, decides to refuse it.
      let maxLength = 0;
      let implementationClassUid = '';
      let implementationVersionName: string | undefined;
      let asyncOperationsWindow: AsyncOperationsWindow | undefined;
      const roleSelections: RoleSelection[] = [];
      const extendedNegotiations: ExtendedNegotiation[] = [];
      const commonExtendedNegotiations: CommonExtendedNegotiation[] = [];
      let userIdentity: I | undefined;
      readItems(c, itemName(ItemType.UserInformation), (type, body) => {
        switch (type) {
          case ItemType.MaximumLength:
            maxLength = maximumLengthSubItem.decode(body);
            break;
          case ItemType.ImplementationClassUid:
            implementationClassUid = implementationClassUidSubItem.decode(body);
            break;
          case ItemType.ImplementationVersionName:
            implementationVersionName = implementationVersionNameSubItem.decode(body);
            break;
          case ItemType.AsynchronousOperationsWindow:
            asyncOperationsWindow = asyncOperationsWindowSubItem.decode(body);
            break;
          case ItemType.ScpScuRoleSelection:
            roleSelections.push(roleSelectionSubItem.decode(body));
            break;
          case ItemType.SopClassExtendedNegotiation:
            extendedNegotiations.push(extendedNegotiationSubItem.decode(body));
            break;
          case ItemType.SopClassCommonExtendedNegotiation:
            commonExtendedNegotiations.push(commonExtendedNegotiationSubItem.decode(body));
            break;
          case identityType:
            userIdentity = identity.decode(body);
            break;
          default:
          // Sub-items of other types are skipped, as DCMTK does (a 0x59 in an RQ, a 0x58 in an AC, unknown ones).
        }
      });
      return {
        maxLength,
        implementationClassUid,
        ...(implementationVersionName === undefined ? {} : { implementationVersionName }),
        ...(asyncOperationsWindow === undefined ? {} : { asyncOperationsWindow }),
        roleSelections,
        extendedNegotiations,
        ...(commonExtendedNegotiations.length === 0 ? {} : { commonExtendedNegotiations }),
        ...(userIdentity === undefined ? {} : { userIdentity }),
      };
    },
  };
}

export const userInformationRqItem = userInformationItem<UserIdentityRq>(ItemType.UserIdentityRq, userIdentityRqSubItem);
export const userInformationAcItem = userInformationItem<UserIdentityAc>(ItemType.UserIdentityAc, userIdentityAcSubItem);
