// Association negotiation (PS3.8 §7.1, §9.3.2–9.3.4; PS3.7 Annex D): building the A-ASSOCIATE-RQ,
// answering one as acceptor, and reading the accepted contexts from an A-ASSOCIATE-AC. Pure.

import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, TransferSyntaxUid } from '../dicom/uids.js';
import {
  AssociateRjReason, AssociateRjResult, AssociateRjSource, PresentationContextResult, PROTOCOL_VERSION,
  type AssociateAc, type AssociateRj, type AssociateRq, type PresentationContextAc, type RoleSelection,
} from './pdu.js';

/** PS3.7 Annex A.2.1: the DICOM application context name. */
export const APPLICATION_CONTEXT_NAME = '1.2.840.10008.3.1.1.1';

/** Implicit VR LE first: every SCP must accept it (PS3.5 §10.1); explicit LE next. */
export const DEFAULT_TRANSFER_SYNTAXES: readonly string[] = [TransferSyntaxUid.ImplicitVrLittleEndian, TransferSyntaxUid.ExplicitVrLittleEndian];

/** The largest P-DATA-TF variable field we accept by default (PS3.8 D.1). */
export const DEFAULT_MAX_LENGTH = 16384 * 4;

/** A presentation context both sides agreed on. */
export interface AcceptedContext {
  readonly id: number;
  readonly abstractSyntax: string;
  readonly transferSyntax: string;
}

export interface ProposedContext {
  readonly abstractSyntax: string;
  readonly transferSyntaxes?: readonly string[];
}

export interface RequestOptions {
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  readonly contexts: readonly ProposedContext[];
  readonly maxLength?: number;
  readonly roleSelections?: readonly RoleSelection[];
  readonly implementationClassUid?: string;
  readonly implementationVersionName?: string;
}

/** An A-ASSOCIATE-RQ proposing each context once, with odd ids 1, 3, 5… (PS3.8 §9.3.2.2). */
export function buildAssociateRq(o: RequestOptions): AssociateRq {
  return {
    type: 'A-ASSOCIATE-RQ',
    protocolVersion: PROTOCOL_VERSION,
    calledAeTitle: o.calledAeTitle,
    callingAeTitle: o.callingAeTitle,
    applicationContextName: APPLICATION_CONTEXT_NAME,
    presentationContexts: o.contexts.map((c, i) => ({
      id: 2 * i + 1,
      abstractSyntax: c.abstractSyntax,
      transferSyntaxes: c.transferSyntaxes ?? DEFAULT_TRANSFER_SYNTAXES,
    })),
    userInformation: {
      maxLength: o.maxLength ?? DEFAULT_MAX_LENGTH,
      implementationClassUid: o.implementationClassUid ?? IMPLEMENTATION_CLASS_UID,
      implementationVersionName: o.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
      roleSelections: o.roleSelections ?? [],
      extendedNegotiations: [],
    },
  };
}

/** The contexts the acceptor accepted, matched to what we proposed by id (PS3.8 §9.3.3.2). */
export function acceptedContexts(rq: AssociateRq, ac: AssociateAc): AcceptedContext[] {
  const proposed = new Map(rq.presentationContexts.map((c) => [c.id, c]));
  const out: AcceptedContext[] = [];
  for (const c of ac.presentationContexts) {
    const p = proposed.get(c.id);
    // A context accepted with a transfer syntax we did not propose is not usable.
    if (c.result !== PresentationContextResult.Acceptance || !p || !c.transferSyntax || !p.transferSyntaxes.includes(c.transferSyntax)) continue;
    out.push({ id: c.id, abstractSyntax: p.abstractSyntax, transferSyntax: c.transferSyntax });
  }
  return out;
}

export interface AcceptorPolicy {
  /** Our AE title; with `checkCalledAeTitle` a request to another title is rejected (reason 7). */
  readonly aeTitle: string;
  readonly checkCalledAeTitle?: boolean;
  /** When given, only these calling AE titles are accepted (reason 3 otherwise). */
  readonly allowedCallingAeTitles?: readonly string[];
  /**
   * Abstract syntax → transfer syntaxes we accept, in our order of preference; the function form
   * also sees what the peer proposed for it.
   */
  readonly abstractSyntaxes: ReadonlyMap<string, readonly string[]> | ((abstractSyntax: string, proposed: readonly string[]) => readonly string[] | undefined);
  readonly maxLength?: number;
  readonly implementationClassUid?: string;
  readonly implementationVersionName?: string;
}

export type Negotiation =
  | { readonly accepted: true; readonly ac: AssociateAc; readonly contexts: AcceptedContext[] }
  | { readonly accepted: false; readonly rj: AssociateRj; readonly why: string };

/** Answer an A-ASSOCIATE-RQ: reject it (PS3.8 Table 9-21) or accept it with a result per context. */
export function negotiateAsAcceptor(rq: AssociateRq, policy: AcceptorPolicy): Negotiation {
  const reject = (source: number, reason: number, why: string): Negotiation => ({
    accepted: false,
    rj: { type: 'A-ASSOCIATE-RJ', result: AssociateRjResult.RejectedPermanent, source, reason },
    why,
  });
  // PS3.8 §9.3.2: only bit 0 of the protocol version is tested.
  if ((rq.protocolVersion & 1) === 0) {
    return reject(AssociateRjSource.ServiceProviderAcse, AssociateRjReason.ServiceProviderAcse.ProtocolVersionNotSupported, `protocol version ${rq.protocolVersion} not supported`);
  }
  if (rq.applicationContextName !== APPLICATION_CONTEXT_NAME) {
    return reject(AssociateRjSource.ServiceUser, AssociateRjReason.ServiceUser.ApplicationContextNameNotSupported, `application context '${rq.applicationContextName}' not supported`);
  }
  if (policy.checkCalledAeTitle && rq.calledAeTitle !== policy.aeTitle) {
    return reject(AssociateRjSource.ServiceUser, AssociateRjReason.ServiceUser.CalledAeTitleNotRecognized, `called AE title '${rq.calledAeTitle}' is not '${policy.aeTitle}'`);
  }
  if (policy.allowedCallingAeTitles && !policy.allowedCallingAeTitles.includes(rq.callingAeTitle)) {
    return reject(AssociateRjSource.ServiceUser, AssociateRjReason.ServiceUser.CallingAeTitleNotRecognized, `calling AE title '${rq.callingAeTitle}' is not allowed`);
  }
  const lookup = typeof policy.abstractSyntaxes === 'function'
    ? policy.abstractSyntaxes
    : (a: string, _proposed: readonly string[]) => (policy.abstractSyntaxes as ReadonlyMap<string, readonly string[]>).get(a);
  const contexts: AcceptedContext[] = [];
  const results: PresentationContextAc[] = rq.presentationContexts.map((c) => {
    const ours = lookup(c.abstractSyntax, c.transferSyntaxes);
    if (!ours) return { id: c.id, result: PresentationContextResult.AbstractSyntaxNotSupported, transferSyntax: c.transferSyntaxes[0] ?? TransferSyntaxUid.ImplicitVrLittleEndian };
    const ts = ours.find((t) => c.transferSyntaxes.includes(t));
    if (!ts) return { id: c.id, result: PresentationContextResult.TransferSyntaxesNotSupported, transferSyntax: c.transferSyntaxes[0] ?? TransferSyntaxUid.ImplicitVrLittleEndian };
    contexts.push({ id: c.id, abstractSyntax: c.abstractSyntax, transferSyntax: ts });
    return { id: c.id, result: PresentationContextResult.Acceptance, transferSyntax: ts };
  });
  return {
    accepted: true,
    contexts,
    ac: {
      type: 'A-ASSOCIATE-AC',
      protocolVersion: PROTOCOL_VERSION,
      calledAeTitle: rq.calledAeTitle,
      callingAeTitle: rq.callingAeTitle,
      applicationContextName: APPLICATION_CONTEXT_NAME,
      presentationContexts: results,
      userInformation: {
        maxLength: policy.maxLength ?? DEFAULT_MAX_LENGTH,
        implementationClassUid: policy.implementationClassUid ?? IMPLEMENTATION_CLASS_UID,
        implementationVersionName: policy.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
        roleSelections: [],
        extendedNegotiations: [],
      },
    },
  };
}
