// The DICOM Upper Layer state machine (PS3.8 §9.2) as data: states (Tables 9-1..9-5), events (the
// rows of Table 9-10), actions (Tables 9-6..9-9) and transitions (Table 9-10), with the standard's ids.
// No I/O and no timers here: association.ts runs the actions and logs each step with formatStep.

/** A state of PS3.8 Tables 9-1..9-5. */
export type StateId =
  | 'Sta1'
  | 'Sta2'
  | 'Sta3'
  | 'Sta4'
  | 'Sta5'
  | 'Sta6'
  | 'Sta7'
  | 'Sta8'
  | 'Sta9'
  | 'Sta10'
  | 'Sta11'
  | 'Sta12'
  | 'Sta13';

/** An event of PS3.8 Table 9-10 (first column). */
export type EventId =
  | 'Evt1'
  | 'Evt2'
  | 'Evt3'
  | 'Evt4'
  | 'Evt5'
  | 'Evt6'
  | 'Evt7'
  | 'Evt8'
  | 'Evt9'
  | 'Evt10'
  | 'Evt11'
  | 'Evt12'
  | 'Evt13'
  | 'Evt14'
  | 'Evt15'
  | 'Evt16'
  | 'Evt17'
  | 'Evt18'
  | 'Evt19';

/** An action of PS3.8 Tables 9-6..9-9. */
export type ActionId =
  | 'AE-1'
  | 'AE-2'
  | 'AE-3'
  | 'AE-4'
  | 'AE-5'
  | 'AE-6'
  | 'AE-7'
  | 'AE-8'
  | 'DT-1'
  | 'DT-2'
  | 'AR-1'
  | 'AR-2'
  | 'AR-3'
  | 'AR-4'
  | 'AR-5'
  | 'AR-6'
  | 'AR-7'
  | 'AR-8'
  | 'AR-9'
  | 'AR-10'
  | 'AA-1'
  | 'AA-2'
  | 'AA-3'
  | 'AA-4'
  | 'AA-5'
  | 'AA-6'
  | 'AA-7'
  | 'AA-8';

/** An action's definition and the state(s) it leads to. */
export interface Action {
  readonly description: string;
  readonly next: readonly StateId[];
}

/** The states of PS3.8 §9.2.1, with the standard's definitions. */
export const STATES: Readonly<Record<StateId, string>> = Object.freeze({
  // PS3.8 Table 9-1: No Association
  Sta1: 'Idle',
  // PS3.8 Table 9-2: Association Establishment
  Sta2: 'Transport connection open (Awaiting A-ASSOCIATE-RQ PDU)',
  Sta3: 'Awaiting local A-ASSOCIATE response primitive (from local user)',
  Sta4: 'Awaiting transport connection opening to complete (from local transport service)',
  Sta5: 'Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU',
  // PS3.8 Table 9-3: Data Transfer
  Sta6: 'Association established and ready for data transfer',
  // PS3.8 Table 9-4: Association Release
  Sta7: 'Awaiting A-RELEASE-RP PDU',
  Sta8: 'Awaiting local A-RELEASE response primitive (from local user)',
  Sta9: 'Release collision requestor side; awaiting A-RELEASE response (from local user)',
  Sta10: 'Release collision acceptor side; awaiting A-RELEASE-RP PDU',
  Sta11: 'Release collision requestor side; awaiting A-RELEASE-RP PDU',
  Sta12: 'Release collision acceptor side; awaiting A-RELEASE response primitive (from local user)',
  // PS3.8 Table 9-5: Waiting for Transport Connection Close
  Sta13: 'Awaiting Transport Connection Close Indication (Association no longer exists)',
});

/** The events of PS3.8 Table 9-10, with the standard's wording. */
export const EVENTS: Readonly<Record<EventId, string>> = Object.freeze({
  Evt1: 'A-ASSOCIATE Request (local user)',
  // PS3.8 Table 9-10 abbreviates this one as "Transport Conn. Confirmn".
  Evt2: 'Transport connection confirmation (local transport service)',
  Evt3: 'A-ASSOCIATE-AC PDU (received on transport connection)',
  Evt4: 'A-ASSOCIATE-RJ PDU (received on transport connection)',
  Evt5: 'Transport Connection Indication (local transport service)',
  Evt6: 'A-ASSOCIATE-RQ PDU (received on transport connection)',
  Evt7: 'A-ASSOCIATE response primitive (accept)',
  Evt8: 'A-ASSOCIATE response primitive (reject)',
  Evt9: 'P-DATA request primitive',
  Evt10: 'P-DATA-TF PDU',
  Evt11: 'A-RELEASE Request primitive',
  Evt12: 'A-RELEASE-RQ PDU (received on open transport connection)',
  Evt13: 'A-RELEASE-RP PDU (received on transport connection)',
  Evt14: 'A-RELEASE Response primitive',
  Evt15: 'A-ABORT Request primitive',
  Evt16: 'A-ABORT PDU (received on open transport connection)',
  Evt17: 'Transport connection closed indication (local transport service)',
  Evt18: 'ARTIM timer expired (Association reject/release timer)',
  Evt19: 'Unrecognized or invalid PDU received',
});

const action = (description: string, ...next: StateId[]): Action =>
  Object.freeze({ description, next: Object.freeze(next) });

/** The actions of PS3.8 §9.2.2 and the state(s) each leads to ("Next state is ..."). */
export const ACTIONS: Readonly<Record<ActionId, Action>> = Object.freeze({
  // PS3.8 Table 9-6: Association Establishment Related Actions
  'AE-1': action('Issue TRANSPORT CONNECT request primitive to local transport service', 'Sta4'),
  'AE-2': action('Send A-ASSOCIATE-RQ-PDU', 'Sta5'),
  'AE-3': action('Issue A-ASSOCIATE confirmation (accept) primitive', 'Sta6'),
  'AE-4': action('Issue A-ASSOCIATE confirmation (reject) primitive and close transport connection', 'Sta1'),
  'AE-5': action('Issue Transport connection response primitive; start ARTIM timer', 'Sta2'),
  // The service-provider decides: acceptable → Sta3, otherwise → Sta13.
  'AE-6': action(
    'Stop ARTIM timer and if A-ASSOCIATE-RQ acceptable by service-provider: issue A-ASSOCIATE indication primitive ' +
      '(next state Sta3); otherwise: issue A-ASSOCIATE-RJ-PDU and start ARTIM timer (next state Sta13)',
    'Sta3',
    'Sta13',
  ),
  'AE-7': action('Send A-ASSOCIATE-AC PDU', 'Sta6'),
  'AE-8': action('Send A-ASSOCIATE-RJ PDU and start ARTIM timer', 'Sta13'),
  // PS3.8 Table 9-7: Data Transfer Related Actions
  'DT-1': action('Send P-DATA-TF PDU', 'Sta6'),
  'DT-2': action('Send P-DATA indication primitive', 'Sta6'),
  // PS3.8 Table 9-8: Association Release Related Actions
  'AR-1': action('Send A-RELEASE-RQ PDU', 'Sta7'),
  'AR-2': action('Issue A-RELEASE indication primitive', 'Sta8'),
  'AR-3': action('Issue A-RELEASE confirmation primitive, and close transport connection', 'Sta1'),
  'AR-4': action('Issue A-RELEASE-RP PDU and start ARTIM timer', 'Sta13'),
  'AR-5': action('Stop ARTIM timer', 'Sta1'),
  'AR-6': action('Issue P-DATA indication', 'Sta7'),
  'AR-7': action('Issue P-DATA-TF PDU', 'Sta8'),
  // The role decides: association-requestor → Sta9, acceptor → Sta10.
  'AR-8': action(
    'Issue A-RELEASE indication (release collision): if association-requestor, next state is Sta9; if not, Sta10',
    'Sta9',
    'Sta10',
  ),
  'AR-9': action('Send A-RELEASE-RP PDU', 'Sta11'),
  'AR-10': action('Issue A-RELEASE confirmation primitive', 'Sta12'),
  // PS3.8 Table 9-9: Association Abort Related Actions
  'AA-1': action(
    'Send A-ABORT PDU (service-user source) and start (or restart if already started) ARTIM timer',
    'Sta13',
  ),
  'AA-2': action('Stop ARTIM timer if running. Close transport connection', 'Sta1'),
  'AA-3': action(
    'If (service-user initiated abort): issue A-ABORT indication and close transport connection; ' +
      'otherwise (service-provider initiated abort): issue A-P-ABORT indication and close transport connection',
    'Sta1',
  ),
  'AA-4': action('Issue A-P-ABORT indication primitive', 'Sta1'),
  'AA-5': action('Stop ARTIM timer', 'Sta1'),
  'AA-6': action('Ignore PDU', 'Sta13'),
  'AA-7': action('Send A-ABORT PDU', 'Sta13'),
  'AA-8': action(
    'Send A-ABORT PDU (service-provider source), issue an A-P-ABORT indication, and start ARTIM timer',
    'Sta13',
  ),
});

type Row = Readonly<Partial<Record<EventId, ActionId>>>;
const row = (entries: Partial<Record<EventId, ActionId>>): Row => Object.freeze(entries);

/**
 * PS3.8 Table 9-10, one row per state. A pair missing here is a blank cell of the table:
 * a local primitive the user cannot issue in that state, or a PDU where no connection is open (Sta1, Sta4).
 */
export const TRANSITIONS: Readonly<Partial<Record<StateId, Row>>> = Object.freeze({
  Sta1: row({ Evt1: 'AE-1', Evt5: 'AE-5' }),
  // Acceptor, transport open, no A-ASSOCIATE-RQ yet: nothing to indicate to the user, so AA-1, not AA-8.
  Sta2: row({
    Evt3: 'AA-1', Evt4: 'AA-1', Evt6: 'AE-6', Evt10: 'AA-1', Evt12: 'AA-1', Evt13: 'AA-1',
    Evt16: 'AA-2', Evt17: 'AA-5', Evt18: 'AA-2', Evt19: 'AA-1',
  }),
  Sta3: row({
    Evt3: 'AA-8', Evt4: 'AA-8', Evt6: 'AA-8', Evt7: 'AE-7', Evt8: 'AE-8', Evt10: 'AA-8', Evt12: 'AA-8',
    Evt13: 'AA-8', Evt15: 'AA-1', Evt16: 'AA-3', Evt17: 'AA-4', Evt19: 'AA-8',
  }),
  Sta4: row({ Evt2: 'AE-2', Evt15: 'AA-2', Evt17: 'AA-4' }),
  Sta5: row({
    Evt3: 'AE-3', Evt4: 'AE-4', Evt6: 'AA-8', Evt10: 'AA-8', Evt12: 'AA-8', Evt13: 'AA-8',
    Evt15: 'AA-1', Evt16: 'AA-3', Evt17: 'AA-4', Evt19: 'AA-8',
  }),
  Sta6: row({
    Evt3: 'AA-8', Evt4: 'AA-8', Evt6: 'AA-8', Evt9: 'DT-1', Evt10: 'DT-2', Evt11: 'AR-1', Evt12: 'AR-2',
    Evt13: 'AA-8', Evt15: 'AA-1', Evt16: 'AA-3', Evt17: 'AA-4', Evt19: 'AA-8',
  }),
  Sta7: row({
    Evt3: 'AA-8', Evt4: 'AA-8', Evt6: 'AA-8', Evt10: 'AR-6', Evt12: 'AR-8', Evt13: 'AR-3',
    Evt15: 'AA-1', Evt16: 'AA-3', Evt17: 'AA-4', Evt19: 'AA-8',
  }),
  Sta8: row({
    Evt3: 'AA-8', Evt4: 'AA-8', Evt6: 'AA-8', Evt9: 'AR-7', Evt10: 'AA-8', Evt12: 'AA-8', Evt13: 'AA-8',
    Evt14: 'AR-4', Evt15: 'AA-1', Evt16: 'AA-3', Evt17: 'AA-4', Evt19: 'AA-8',
  }),
  Sta9: row({
    Evt3: 'AA-8', Evt4: 'AA-8', Evt6: 'AA-8', Evt10: 'AA-8', Evt12: 'AA-8', Evt13: 'AA-8',
    Evt14: 'AR-9', Evt15: 'AA-1', Evt16: 'AA-3', Evt17: 'AA-4', Evt19: 'AA-8',
  }),
  Sta10: row({
    Evt3: 'AA-8', Evt4: 'AA-8', Evt6: 'AA-8', Evt10: 'AA-8', Evt12: 'AA-8', Evt13: 'AR-10',
    Evt15: 'AA-1', Evt16: 'AA-3', Evt17: 'AA-4', Evt19: 'AA-8',
  }),
  Sta11: row({
    Evt3: 'AA-8', Evt4: 'AA-8', Evt6: 'AA-8', Evt10: 'AA-8', Evt12: 'AA-8', Evt13: 'AR-3',
    Evt15: 'AA-1', Evt16: 'AA-3', Evt17: 'AA-4', Evt19: 'AA-8',
  }),
  Sta12: row({
    Evt3: 'AA-8', Evt4: 'AA-8', Evt6: 'AA-8', Evt10: 'AA-8', Evt12: 'AA-8', Evt13: 'AA-8',
    Evt14: 'AR-4', Evt15: 'AA-1', Evt16: 'AA-3', Evt17: 'AA-4', Evt19: 'AA-8',
  }),
  // The association is gone: stray PDUs are ignored (AA-6), but an A-ASSOCIATE-RQ or an invalid PDU
  // is answered with an A-ABORT (AA-7).
  Sta13: row({
    Evt3: 'AA-6', Evt4: 'AA-6', Evt6: 'AA-7', Evt10: 'AA-6', Evt12: 'AA-6', Evt13: 'AA-6',
    Evt16: 'AA-2', Evt17: 'AR-5', Evt18: 'AA-2', Evt19: 'AA-7',
  }),
});

/** The PDU types of PS3.8 §9.3 that a peer can send, keyed by the PDU's `type`. */
export type PduTypeName =
  | 'A-ASSOCIATE-RQ'
  | 'A-ASSOCIATE-AC'
  | 'A-ASSOCIATE-RJ'
  | 'P-DATA-TF'
  | 'A-RELEASE-RQ'
  | 'A-RELEASE-RP'
  | 'A-ABORT';

/** The Table 9-10 event raised when a whole, valid PDU of each type is received. */
export const EVENT_FOR_PDU: Readonly<Record<PduTypeName, EventId>> = Object.freeze({
  'A-ASSOCIATE-RQ': 'Evt6',
  'A-ASSOCIATE-AC': 'Evt3',
  'A-ASSOCIATE-RJ': 'Evt4',
  'P-DATA-TF': 'Evt10',
  'A-RELEASE-RQ': 'Evt12',
  'A-RELEASE-RP': 'Evt13',
  'A-ABORT': 'Evt16',
});

/** The receive event for a PDU type; anything that is not one of the seven PDU types is Evt19. */
export function eventForPdu(type: string): EventId {
  // PS3.8 Table 9-10 Evt19: unrecognized or invalid PDU received
  return Object.hasOwn(EVENT_FOR_PDU, type) ? EVENT_FOR_PDU[type as PduTypeName] : 'Evt19';
}

/**
 * The action for (state, event), or undefined where Table 9-10 has no entry. Every blank cell is either a
 * local event (primitive, transport or ARTIM) that cannot occur in that state, or a received PDU in Sta1 or
 * Sta4 where no connection is open; the table gives no action for them, so the caller decides (refuse the
 * local request, or AA-8 where a connection is open; ignore in Sta1).
 */
export function actionFor(state: StateId, event: EventId): ActionId | undefined {
  // own properties only, so that a stray 'constructor' from untyped code cannot reach Object.prototype
  const entries = Object.hasOwn(TRANSITIONS, state) ? TRANSITIONS[state] : undefined;
  return entries !== undefined && Object.hasOwn(entries, event) ? entries[event] : undefined;
}

/** One step for the log: 'Sta6 + Evt10 -> DT-2 -> Sta6' ('none' where Table 9-10 has no action). */
export function formatStep(state: StateId, event: EventId, action: ActionId | undefined, next: StateId): string {
  return `${state} + ${event} -> ${action ?? 'none'} -> ${next}`;
}
