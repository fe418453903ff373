// Upper-layer PDUs as data: the seven PDU types of PS3.8 §9.3, the item types of their variable
// fields (PS3.8 §9.3.2–9.3.4, PS3.7 Annex D.3.3), the result/source/reason codes and their names.

/** PDU-type field (PS3.8 Table 9-11 … 9-26). */
export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PDataTf: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;
export type PduTypeCode = (typeof PduType)[keyof typeof PduType];

/** Item-type field of variable items (PS3.8 §9.3.2.x) and user-information sub-items (PS3.7 D.3.3). */
export const ItemType = {
  ApplicationContext: 0x10,
  PresentationContextRq: 0x20,
  PresentationContextAc: 0x21,
  AbstractSyntax: 0x30,
  TransferSyntax: 0x40,
  UserInformation: 0x50,
  MaximumLength: 0x51,
  ImplementationClassUid: 0x52,
  AsynchronousOperationsWindow: 0x53,
  ScpScuRoleSelection: 0x54,
  ImplementationVersionName: 0x55,
  SopClassExtendedNegotiation: 0x56,
  SopClassCommonExtendedNegotiation: 0x57,
  UserIdentityRq: 0x58,
  UserIdentityAc: 0x59,
} as const;

/** PS3.8 §9.3.2: bit 0 set is version 1, the only version. */
export const PROTOCOL_VERSION = 0x0001;

/** Length of the PDU-type, reserved and PDU-length fields that start every PDU (PS3.8 §9.3.1). */
export const PDU_HEADER_LENGTH = 6;

/** Result/Reason of a presentation context in an A-ASSOCIATE-AC (PS3.8 Table 9-18). */
export const PresentationContextResult = {
  Acceptance: 0,
  UserRejection: 1,
  NoReason: 2,
  AbstractSyntaxNotSupported: 3,
  TransferSyntaxesNotSupported: 4,
} as const;

/** A-ASSOCIATE-RJ Result (PS3.8 Table 9-21). */
export const AssociateRjResult = { RejectedPermanent: 1, RejectedTransient: 2 } as const;

/** A-ASSOCIATE-RJ Source (PS3.8 Table 9-21). */
export const AssociateRjSource = { ServiceUser: 1, ServiceProviderAcse: 2, ServiceProviderPresentation: 3 } as const;

/** A-ASSOCIATE-RJ Reason/Diag., whose meaning depends on the source (PS3.8 Table 9-21). */
export const AssociateRjReason = {
  ServiceUser: { NoReasonGiven: 1, ApplicationContextNameNotSupported: 2, CallingAeTitleNotRecognized: 3, CalledAeTitleNotRecognized: 7 },
  ServiceProviderAcse: { NoReasonGiven: 1, ProtocolVersionNotSupported: 2 },
  ServiceProviderPresentation: { TemporaryCongestion: 1, LocalLimitExceeded: 2 },
} as const;

/** A-ABORT Source (PS3.8 Table 9-26); 1 is reserved. */
export const AbortSource = { ServiceUser: 0, ServiceProvider: 2 } as const;

/** A-ABORT Reason/Diag., significant when the source is the service-provider (PS3.8 Table 9-26). */
export const AbortReason = {
  NotSpecified: 0,
  UnrecognizedPdu: 1,
  UnexpectedPdu: 2,
  UnrecognizedPduParameter: 4,
  UnexpectedPduParameter: 5,
  InvalidPduParameterValue: 6,
} as const;

/** User-Identity-Type of the user identity negotiation sub-item (PS3.7 Table D.3-14). */
export const UserIdentityType = { Username: 1, UsernameAndPasscode: 2, Kerberos: 3, Saml: 4, Jwt: 5 } as const;

// ---------------------------------------------------------------------------------------------
// Items and sub-items

/** Presentation context item of an A-ASSOCIATE-RQ (PS3.8 Table 9-13). */
export interface PresentationContextRq {
  readonly id: number;
  readonly abstractSyntax: string;
  readonly transferSyntaxes: readonly string[];
}

/** Presentation context item of an A-ASSOCIATE-AC (PS3.8 Table 9-18). */
export interface PresentationContextAc {
  readonly id: number;
  /** PresentationContextResult: 0 acceptance … 4 transfer-syntaxes-not-supported. */
  readonly result: number;
  /** Absent when a rejecting peer sends no transfer syntax sub-item (PS3.8 §9.3.3.2: not significant unless accepted). */
  readonly transferSyntax?: string;
}

/** Asynchronous operations window sub-item (PS3.7 D.3.3.3). */
export interface AsyncOperationsWindow {
  readonly maxOperationsInvoked: number;
  readonly maxOperationsPerformed: number;
}

/** SCP/SCU role selection sub-item (PS3.7 D.3.3.4): in an RQ, support; in an AC, acceptance. */
export interface RoleSelection {
  readonly sopClassUid: string;
  readonly scuRole: boolean;
  readonly scpRole: boolean;
}

/** SOP class extended negotiation sub-item (PS3.7 D.3.3.5); the information is a view. */
export interface ExtendedNegotiation {
  readonly sopClassUid: string;
  readonly serviceClassApplicationInformation: Buffer;
}

/** SOP class common extended negotiation sub-item (PS3.7 D.3.3.6), A-ASSOCIATE-RQ only. */
export interface CommonExtendedNegotiation {
  readonly sopClassUid: string;
  readonly serviceClassUid: string;
  readonly relatedGeneralSopClassUids: readonly string[];
}

/** User identity negotiation sub-item of an A-ASSOCIATE-RQ (PS3.7 D.3.3.7.1); fields are views. */
export interface UserIdentityRq {
  /** UserIdentityType: 1 username, 2 username and passcode, 3 Kerberos, 4 SAML, 5 JWT. */
  readonly userIdentityType: number;
  readonly positiveResponseRequested: boolean;
  readonly primaryField: Buffer;
  /** Passcode for type 2; empty otherwise. */
  readonly secondaryField: Buffer;
}

/** User identity negotiation sub-item of an A-ASSOCIATE-AC (PS3.7 D.3.3.7.2); a view. */
export interface UserIdentityAc {
  readonly serverResponse: Buffer;
}

/** User information item (PS3.8 §9.3.2.3, PS3.7 D.3.3). */
export interface UserInformation<Identity> {
  /** Maximum length of the P-DATA-TF variable field this side receives; 0 = no maximum (PS3.8 D.1). */
  readonly maxLength: number;
  /** '' when the peer sent no implementation class UID sub-item; nothing is written for ''. */
  readonly implementationClassUid: string;
  readonly implementationVersionName?: string;
  readonly asyncOperationsWindow?: AsyncOperationsWindow;
  readonly roleSelections: readonly RoleSelection[];
  readonly extendedNegotiations: readonly ExtendedNegotiation[];
  readonly commonExtendedNegotiations?: readonly CommonExtendedNegotiation[];
  readonly userIdentity?: Identity;
}

/** One presentation data value (PS3.8 §9.3.5.1, Annex E.2); `data` is a view into the PDU. */
export interface Pdv {
  readonly presentationContextId: number;
  readonly isCommand: boolean;
  readonly isLast: boolean;
  readonly data: Buffer;
}

// ---------------------------------------------------------------------------------------------
// PDUs

export interface AssociateRq {
  readonly type: 'A-ASSOCIATE-RQ';
  /** PS3.8 §9.3.2: receivers test bit 0 only; a version without it is answered with an A-ASSOCIATE-RJ. */
  readonly protocolVersion: number;
  readonly calledAeTitle: string;
  readonly callingAeTitle: string;
  readonly applicationContextName: string;
  readonly presentationContexts: readonly PresentationContextRq[];
  readonly userInformation: UserInformation<UserIdentityRq>;
}

export interface AssociateAc {
  readonly type: 'A-ASSOCIATE-AC';
  readonly protocolVersion: number;
  /** PS3.8 §9.3.3: returned as received in the RQ, not tested. */
  readonly calledAeTitle: string;
  readonly callingAeTitle: string;
  readonly applicationContextName: string;
  readonly presentationContexts: readonly PresentationContextAc[];
  readonly userInformation: UserInformation<UserIdentityAc>;
}

export interface AssociateRj {
  readonly type: 'A-ASSOCIATE-RJ';
  /** AssociateRjResult: 1 rejected-permanent, 2 rejected-transient. */
  readonly result: number;
  /** AssociateRjSource: 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation). */
  readonly source: number;
  readonly reason: number;
}

export interface PDataTf {
  readonly type: 'P-DATA-TF';
  readonly pdvs: readonly Pdv[];
}

export interface ReleaseRq {
  readonly type: 'A-RELEASE-RQ';
}

export interface ReleaseRp {
  readonly type: 'A-RELEASE-RP';
}

export interface Abort {
  readonly type: 'A-ABORT';
  /** AbortSource: 0 service-user, 2 service-provider. */
  readonly source: number;
  /** AbortReason; significant when the source is 2. */
  readonly reason: number;
}

export type Pdu = AssociateRq | AssociateAc | AssociateRj | PDataTf | ReleaseRq | ReleaseRp | Abort;
export type PduName = Pdu['type'];

/** PDU-type code → discriminant. */
export const PDU_NAMES: Readonly<Record<number, PduName>> = {
  [PduType.AssociateRq]: 'A-ASSOCIATE-RQ',
  [PduType.AssociateAc]: 'A-ASSOCIATE-AC',
  [PduType.AssociateRj]: 'A-ASSOCIATE-RJ',
  [PduType.PDataTf]: 'P-DATA-TF',
  [PduType.ReleaseRq]: 'A-RELEASE-RQ',
  [PduType.ReleaseRp]: 'A-RELEASE-RP',
  [PduType.Abort]: 'A-ABORT',
};

/** True for the seven PDU-type codes of PS3.8 §9.3. */
export function isPduType(code: number): code is PduTypeCode {
  return code >= PduType.AssociateRq && code <= PduType.Abort;
}

// ---------------------------------------------------------------------------------------------
// Names for traces: the standard's wording, shortened where it repeats "DICOM UL".

const CONTEXT_RESULT_NAMES: Readonly<Record<number, string>> = {
  0: 'acceptance',
  1: 'user-rejection',
  2: 'no-reason',
  3: 'abstract-syntax-not-supported',
  4: 'transfer-syntaxes-not-supported',
};

const RJ_RESULT_NAMES: Readonly<Record<number, string>> = { 1: 'permanent', 2: 'transient' };

const RJ_SOURCE_NAMES: Readonly<Record<number, string>> = {
  1: 'service-user',
  2: 'service-provider (ACSE)',
  3: 'service-provider (presentation)',
};

const RJ_REASON_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: {
    1: 'no-reason-given',
    2: 'application-context-name-not-supported',
    3: 'calling-AE-title-not-recognized',
    7: 'called-AE-title-not-recognized',
  },
  2: { 1: 'no-reason-given', 2: 'protocol-version-not-supported' },
  3: { 1: 'temporary-congestion', 2: 'local-limit-exceeded' },
};

const ABORT_SOURCE_NAMES: Readonly<Record<number, string>> = { 0: 'service-user', 1: 'reserved', 2: 'service-provider' };

const ABORT_REASON_NAMES: Readonly<Record<number, string>> = {
  0: 'reason-not-specified',
  1: 'unrecognized-PDU',
  2: 'unexpected-PDU',
  4: 'unrecognized-PDU-parameter',
  5: 'unexpected-PDU-parameter',
  6: 'invalid-PDU-parameter-value',
};

function nameOf(names: Readonly<Record<number, string>> | undefined, code: number): string {
  return names?.[code] ?? `reserved (${code})`;
}

/** "abstract-syntax-not-supported" for 3 (PS3.8 Table 9-18). */
export function describeContextResult(result: number): string {
  return nameOf(CONTEXT_RESULT_NAMES, result);
}

/** "A-ASSOCIATE-RJ permanent, service-user: called-AE-title-not-recognized" (PS3.8 Table 9-21). */
export function describeReject(pdu: Pick<AssociateRj, 'result' | 'source' | 'reason'>): string {
  const reason = nameOf(RJ_REASON_NAMES[pdu.source], pdu.reason);
  return `A-ASSOCIATE-RJ ${nameOf(RJ_RESULT_NAMES, pdu.result)}, ${nameOf(RJ_SOURCE_NAMES, pdu.source)}: ${reason}`;
}

/** "A-ABORT service-provider: invalid-PDU-parameter-value" (PS3.8 Table 9-26; the reason only for source 2). */
export function describeAbort(pdu: Pick<Abort, 'source' | 'reason'>): string {
  const source = nameOf(ABORT_SOURCE_NAMES, pdu.source);
  return pdu.source === AbortSource.ServiceProvider ? `A-ABORT ${source}: ${nameOf(ABORT_REASON_NAMES, pdu.reason)}` : `A-ABORT ${source}`;
}

/** One line per PDU for the `qrscu:net:pdu` trace. */
export function describePdu(pdu: Pdu): string {
  switch (pdu.type) {
    case 'A-ASSOCIATE-RQ':
      return (
        `A-ASSOCIATE-RQ ${pdu.callingAeTitle} -> ${pdu.calledAeTitle}, ${pdu.presentationContexts.length} contexts, ` +
        `max ${pdu.userInformation.maxLength}, ${pdu.userInformation.implementationClassUid}` +
        (pdu.userInformation.implementationVersionName === undefined ? '' : ` ${pdu.userInformation.implementationVersionName}`)
      );
    case 'A-ASSOCIATE-AC': {
      const accepted = pdu.presentationContexts.filter((pc) => pc.result === PresentationContextResult.Acceptance).length;
      return (
        `A-ASSOCIATE-AC ${pdu.calledAeTitle}, ${accepted}/${pdu.presentationContexts.length} contexts accepted, ` +
        `max ${pdu.userInformation.maxLength}, ${pdu.userInformation.implementationClassUid}` +
        (pdu.userInformation.implementationVersionName === undefined ? '' : ` ${pdu.userInformation.implementationVersionName}`)
      );
    }
    case 'A-ASSOCIATE-RJ':
      return describeReject(pdu);
    case 'P-DATA-TF':
      return `P-DATA-TF ${pdu.pdvs
        .map((v) => `[${v.presentationContextId} ${v.isCommand ? 'command' : 'dataset'}${v.isLast ? ' last' : ''} ${v.data.length}]`)
        .join(' ')}`;
    case 'A-ABORT':
      return describeAbort(pdu);
    case 'A-RELEASE-RQ':
    case 'A-RELEASE-RP':
      return pdu.type;
  }
}
