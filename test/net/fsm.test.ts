// PS3.8 Table 9-10 transcribed here as printed (one row per event, one column per state, each cell
// "action next-state"), independently of src/net/fsm.ts, and compared with it for every pair.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ACTIONS,
  EVENTS,
  EVENT_FOR_PDU,
  STATES,
  TRANSITIONS,
  actionFor,
  eventForPdu,
  formatStep,
  type ActionId,
  type EventId,
  type StateId,
} from '../../src/net/fsm.js';

const test = suite('net/fsm');

const COLUMNS = [
  'Sta1', 'Sta2', 'Sta3', 'Sta4', 'Sta5', 'Sta6', 'Sta7', 'Sta8', 'Sta9', 'Sta10', 'Sta11', 'Sta12', 'Sta13',
] as const satisfies readonly StateId[];

const _ = ''; // a blank cell

// PS3.8 Table 9-10 (2016a and 2020c editions are identical). Columns: Sta1 … Sta13.
// "Sta3/13" and "Sta9/10" are the table's "Sta3 or 13" and "Sta9 or 10".
const TABLE_9_10: Readonly<Record<EventId, readonly string[]>> = {
  //        Sta1         Sta2          Sta3          Sta4          Sta5          Sta6          Sta7             Sta8          Sta9          Sta10          Sta11         Sta12         Sta13
  Evt1:  ['AE-1 Sta4', _,            _,            _,            _,            _,            _,               _,            _,            _,             _,            _,            _],
  Evt2:  [_,           _,            _,            'AE-2 Sta5',  _,            _,            _,               _,            _,            _,             _,            _,            _],
  Evt3:  [_,           'AA-1 Sta13', 'AA-8 Sta13', _,            'AE-3 Sta6',  'AA-8 Sta13', 'AA-8 Sta13',    'AA-8 Sta13', 'AA-8 Sta13', 'AA-8 Sta13',  'AA-8 Sta13', 'AA-8 Sta13', 'AA-6 Sta13'],
  Evt4:  [_,           'AA-1 Sta13', 'AA-8 Sta13', _,            'AE-4 Sta1',  'AA-8 Sta13', 'AA-8 Sta13',    'AA-8 Sta13', 'AA-8 Sta13', 'AA-8 Sta13',  'AA-8 Sta13', 'AA-8 Sta13', 'AA-6 Sta13'],
  Evt5:  ['AE-5 Sta2', _,            _,            _,            _,            _,            _,               _,            _,            _,             _,            _,            _],
  Evt6:  [_,           'AE-6 Sta3/13', 'AA-8 Sta13', _,          'AA-8 Sta13', 'AA-8 Sta13', 'AA-8 Sta13',    'AA-8 Sta13', 'AA-8 Sta13', 'AA-8 Sta13',  'AA-8 Sta13', 'AA-8 Sta13', 'AA-7 Sta13'],
  Evt7:  [_,           _,            'AE-7 Sta6',  _,            _,            _,            _,               _,            _,            _,             _,            _,            _],
  Evt8:  [_,           _,            'AE-8 Sta13', _,            _,            _,            _,               _,            _,            _,             _,            _,            _],
  Evt9:  [_,           _,            _,            _,            _,            'DT-1 Sta6',  _,               'AR-7 Sta8',  _,            _,             _,            _,            _],
  Evt10: [_,           'AA-1 Sta13', 'AA-8 Sta13', _,            'AA-8 Sta13', 'DT-2 Sta6',  'AR-6 Sta7',     'AA-8 Sta13', 'AA-8 Sta13', 'AA-8 Sta13',  'AA-8 Sta13', 'AA-8 Sta13', 'AA-6 Sta13'],
  Evt11: [_,           _,            _,            _,            _,            'AR-1 Sta7',  _,               _,            _,            _,             _,            _,            _],
  Evt12: [_,           'AA-1 Sta13', 'AA-8 Sta13', _,            'AA-8 Sta13', 'AR-2 Sta8',  'AR-8 Sta9/10',  'AA-8 Sta13', 'AA-8 Sta13', 'AA-8 Sta13',  'AA-8 Sta13', 'AA-8 Sta13', 'AA-6 Sta13'],
  Evt13: [_,           'AA-1 Sta13', 'AA-8 Sta13', _,            'AA-8 Sta13', 'AA-8 Sta13', 'AR-3 Sta1',     'AA-8 Sta13', 'AA-8 Sta13', 'AR-10 Sta12', 'AR-3 Sta1',  'AA-8 Sta13', 'AA-6 Sta13'],
  Evt14: [_,           _,            _,            _,            _,            _,            _,               'AR-4 Sta13', 'AR-9 Sta11', _,             _,            'AR-4 Sta13', _],
  Evt15: [_,           _,            'AA-1 Sta13', 'AA-2 Sta1',  'AA-1 Sta13', 'AA-1 Sta13', 'AA-1 Sta13',    'AA-1 Sta13', 'AA-1 Sta13', 'AA-1 Sta13',  'AA-1 Sta13', 'AA-1 Sta13', _],
  Evt16: [_,           'AA-2 Sta1',  'AA-3 Sta1',  _,            'AA-3 Sta1',  'AA-3 Sta1',  'AA-3 Sta1',     'AA-3 Sta1',  'AA-3 Sta1',  'AA-3 Sta1',   'AA-3 Sta1',  'AA-3 Sta1',  'AA-2 Sta1'],
  Evt17: [_,           'AA-5 Sta1',  'AA-4 Sta1',  'AA-4 Sta1',  'AA-4 Sta1',  'AA-4 Sta1',  'AA-4 Sta1',     'AA-4 Sta1',  'AA-4 Sta1',  'AA-4 Sta1',   'AA-4 Sta1',  'AA-4 Sta1',  'AR-5 Sta1'],
  Evt18: [_,           'AA-2 Sta1',  _,            _,            _,            _,            _,               _,            _,            _,             _,            _,            'AA-2 Sta1'],
  Evt19: [_,           'AA-1 Sta13', 'AA-8 Sta13', _,            'AA-8 Sta13', 'AA-8 Sta13', 'AA-8 Sta13',    'AA-8 Sta13', 'AA-8 Sta13', 'AA-8 Sta13',  'AA-8 Sta13', 'AA-8 Sta13', 'AA-7 Sta13'],
};

// PS3.8 Tables 9-6..9-9, "Next state is …" of each action.
const NEXT_STATES: Readonly<Record<ActionId, readonly StateId[]>> = {
  'AE-1': ['Sta4'], 'AE-2': ['Sta5'], 'AE-3': ['Sta6'], 'AE-4': ['Sta1'],
  'AE-5': ['Sta2'], 'AE-6': ['Sta3', 'Sta13'], 'AE-7': ['Sta6'], 'AE-8': ['Sta13'],
  'DT-1': ['Sta6'], 'DT-2': ['Sta6'],
  'AR-1': ['Sta7'], 'AR-2': ['Sta8'], 'AR-3': ['Sta1'], 'AR-4': ['Sta13'], 'AR-5': ['Sta1'],
  'AR-6': ['Sta7'], 'AR-7': ['Sta8'], 'AR-8': ['Sta9', 'Sta10'], 'AR-9': ['Sta11'], 'AR-10': ['Sta12'],
  'AA-1': ['Sta13'], 'AA-2': ['Sta1'], 'AA-3': ['Sta1'], 'AA-4': ['Sta1'],
  'AA-5': ['Sta1'], 'AA-6': ['Sta13'], 'AA-7': ['Sta13'], 'AA-8': ['Sta13'],
};

const EVENT_IDS = Object.keys(TABLE_9_10) as EventId[];
const ACTION_IDS = Object.keys(NEXT_STATES) as ActionId[];

/** 'AE-6 Sta3/13' → { action: 'AE-6', next: ['Sta3', 'Sta13'] }; '' → undefined. */
function parseCell(cell: string): { action: ActionId; next: StateId[] } | undefined {
  if (cell === '') return undefined;
  const [action, next] = cell.split(' ');
  const [first, ...others] = next.split('/');
  return { action: action as ActionId, next: [first, ...others.map((n) => `Sta${n}`)] as StateId[] };
}

test('the transcription has 19 event rows of 13 state columns', () => {
  assert.equal(EVENT_IDS, Array.from({ length: 19 }, (_v, i) => `Evt${i + 1}`));
  for (const event of EVENT_IDS) assert.is(TABLE_9_10[event].length, 13, event);
});

for (const event of Object.keys(TABLE_9_10) as EventId[]) {
  test(`Table 9-10 row ${event}: the action for every state, blank cells included`, () => {
    TABLE_9_10[event].forEach((cell, column) => {
      const state = COLUMNS[column];
      const expected = parseCell(cell);
      const where = `${state} + ${event}`;
      assert.is(actionFor(state, event), expected?.action, where);
      assert.is(TRANSITIONS[state]?.[event], expected?.action, where);
      if (expected !== undefined) assert.equal([...ACTIONS[expected.action].next], expected.next, `next of ${where}`);
    });
  });
}

test('TRANSITIONS holds exactly the non-blank cells and nothing else', () => {
  const cells = EVENT_IDS.flatMap((event) => TABLE_9_10[event].filter((cell) => cell !== ''));
  assert.is(cells.length, 123);
  const states = Object.keys(TRANSITIONS);
  assert.equal(states.filter((s) => !(COLUMNS as readonly string[]).includes(s)), []);
  let entries = 0;
  for (const state of states as StateId[]) {
    const row = TRANSITIONS[state] ?? {};
    for (const event of Object.keys(row)) {
      assert.ok(event in TABLE_9_10, `${state} has unknown event ${event}`);
      assert.ok(row[event as EventId] !== undefined, `${state} + ${event} is present but undefined`);
      entries += 1;
    }
  }
  assert.is(entries, 123);
});

test('every action leads to the next state(s) of Tables 9-6..9-9', () => {
  assert.equal(Object.keys(ACTIONS).sort(), [...ACTION_IDS].sort());
  for (const action of ACTION_IDS) {
    assert.equal([...ACTIONS[action].next], NEXT_STATES[action], action);
    assert.ok(ACTIONS[action].description.length > 0, action);
  }
  assert.match(ACTIONS['AE-6'].description, /Stop ARTIM timer/);
  assert.match(ACTIONS['AR-8'].description, /release collision/);
  assert.match(ACTIONS['AA-8'].description, /service-provider source/);
});

test('every action used in the table exists, and every action is used', () => {
  const used = new Set<string>();
  for (const row of Object.values(TRANSITIONS)) for (const action of Object.values(row ?? {})) used.add(action);
  for (const action of used) assert.ok(Object.hasOwn(ACTIONS, action), `${action} is not in ACTIONS`);
  assert.equal([...used].sort(), [...ACTION_IDS].sort());
});

test('a PDU, a closed connection or an invalid PDU always has an action while a connection is open', () => {
  const received: EventId[] = ['Evt3', 'Evt4', 'Evt6', 'Evt10', 'Evt12', 'Evt13', 'Evt16', 'Evt17', 'Evt19'];
  for (const state of COLUMNS) {
    if (state === 'Sta1' || state === 'Sta4') continue;
    for (const event of received) assert.ok(actionFor(state, event) !== undefined, `${state} + ${event}`);
    // PS3.8 Table 9-10 Evt19: an invalid PDU ends in an A-ABORT PDU being sent
    assert.ok(['AA-1', 'AA-7', 'AA-8'].includes(actionFor(state, 'Evt19') ?? ''), `${state} + Evt19`);
  }
  for (const event of received) assert.is(actionFor('Sta1', event), undefined, `Sta1 + ${event}`);
});

test('STATES and EVENTS carry the standard descriptions', () => {
  assert.equal(Object.keys(STATES), [...COLUMNS]);
  assert.equal(Object.keys(EVENTS), EVENT_IDS);
  for (const text of [...Object.values(STATES), ...Object.values(EVENTS)]) assert.ok(text.length > 0);
  assert.is(STATES.Sta1, 'Idle');
  assert.is(STATES.Sta6, 'Association established and ready for data transfer');
  assert.is(STATES.Sta13, 'Awaiting Transport Connection Close Indication (Association no longer exists)');
  assert.is(EVENTS.Evt1, 'A-ASSOCIATE Request (local user)');
  assert.match(EVENTS.Evt2, /^Transport connection confirmation/);
  assert.is(EVENTS.Evt17, 'Transport connection closed indication (local transport service)');
  assert.is(EVENTS.Evt18, 'ARTIM timer expired (Association reject/release timer)');
  assert.is(EVENTS.Evt19, 'Unrecognized or invalid PDU received');
});

test('EVENT_FOR_PDU maps each received PDU type to its event; anything else is Evt19', () => {
  assert.equal({ ...EVENT_FOR_PDU }, {
    'A-ASSOCIATE-RQ': 'Evt6',
    'A-ASSOCIATE-AC': 'Evt3',
    'A-ASSOCIATE-RJ': 'Evt4',
    'P-DATA-TF': 'Evt10',
    'A-RELEASE-RQ': 'Evt12',
    'A-RELEASE-RP': 'Evt13',
    'A-ABORT': 'Evt16',
  });
  for (const [type, event] of Object.entries(EVENT_FOR_PDU)) assert.is(eventForPdu(type), event, type);
  for (const type of ['', 'a-abort', 'A-ASSOCIATE', 'constructor', 'toString', '__proto__']) {
    assert.is(eventForPdu(type), 'Evt19', JSON.stringify(type));
  }
});

test('actionFor ignores names inherited from Object.prototype', () => {
  assert.is(actionFor('Sta6', 'constructor' as EventId), undefined);
  assert.is(actionFor('toString' as StateId, 'Evt1'), undefined);
  assert.is(actionFor('Sta14' as StateId, 'Evt17'), undefined);
});

test('formatStep writes one log line per step', () => {
  assert.is(formatStep('Sta6', 'Evt10', 'DT-2', 'Sta6'), 'Sta6 + Evt10 -> DT-2 -> Sta6');
  assert.is(formatStep('Sta2', 'Evt6', 'AE-6', 'Sta13'), 'Sta2 + Evt6 -> AE-6 -> Sta13');
  assert.is(formatStep('Sta1', 'Evt17', undefined, 'Sta1'), 'Sta1 + Evt17 -> none -> Sta1');
});

test('the tables are frozen', () => {
  for (const value of [STATES, EVENTS, ACTIONS, TRANSITIONS, EVENT_FOR_PDU, ACTIONS['AE-6'], ACTIONS['AE-6'].next]) {
    assert.ok(Object.isFrozen(value));
  }
  for (const row of Object.values(TRANSITIONS)) assert.ok(Object.isFrozen(row));
});

test.run();
