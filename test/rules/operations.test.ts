// The json-logic dialect: qrscu's added operations, and the compiled closures agreeing with
// json-logic-js's interpreter on every operator, edge cases included.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import jsonLogic from 'json-logic-js';
import { compiled } from '../../src/rules/compile.js';
import { KNOWN_OPERATORS, registerOperations } from '../../src/rules/operations.js';

const test = suite('rules operations');
registerOperations();

const data = {
  a: 1, b: '2', s: '  Dose INFO ', n: null, z: 0, e: '', list: ['CT', 'SR'], none: [], nested: { x: { y: 'deep' } },
  series: [{ modality: 'CT', categories: [] }, { modality: 'SR', categories: ['rdsr'] }],
};

const expressions: unknown[] = [
  { var: 'a' }, { var: 'nested.x.y' }, { var: 'nested.q.y' }, { var: ['missing', 'dflt'] }, { var: '' }, { var: ['n', 5] }, { var: 'z' }, { var: ['z', 9] },
  { var: 1 }, { var: [{ cat: ['a'] }] }, { var: 'list.1' },
  { '==': [{ var: 'a' }, '1'] }, { '===': [{ var: 'a' }, '1'] }, { '!=': [{ var: 'n' }, null] }, { '!==': [{ var: 'z' }, 0] },
  { '>': [{ var: 'a' }, 0] }, { '>=': [{ var: 'n' }, 0] }, { '<': [1, { var: 'a' }, 3] }, { '<=': [{ var: 'n' }, 5] },
  { '!': [[]] }, { '!': { var: 'none' } }, { '!!': ['0'] }, { '!!': { var: 'e' } },
  { and: [] }, { and: [1, 'x', 0, 2] }, { and: [1, 'x'] }, { or: [0, '', []] }, { or: [0, 'x', 1] },
  { if: [] }, { if: [true] }, { if: [false, 1] }, { if: [false, 1, 2] }, { if: [0, 'a', '', 'b', 'c'] }, { '?:': [{ var: 'a' }, 'y', 'n'] },
  { in: ['SR', { var: 'list' }] }, { in: ['Dose', { var: 's' }] }, { in: ['x', { var: 'n' }] }, { in: [null, ['a']] },
  { some: [{ var: 'series' }, { in: ['rdsr', { var: 'categories' }] }] }, { some: [{ var: 'none' }, true] }, { some: [{ var: 'n' }, true] },
  { all: [{ var: 'list' }, { '==': [{ var: '' }, 'SR'] }] }, { all: [[], true] }, { none: [{ var: 'list' }, { '==': [{ var: '' }, 'MR'] }] }, { none: [[], true] },
  { merge: [[1], 2, [[3]]] }, { merge: [] }, { merge: [{ var: 'list' }, ['NM']] }, { cat: ['a', { var: 'a' }] }, { '+': [1, '2'] }, { '-': [3] }, { '%': [7, 3] },
  { missing: ['a', 'q'] }, { filter: [{ var: 'list' }, { '!=': [{ var: '' }, 'CT'] }] }, { map: [[1, 2], { '*': [{ var: '' }, 2] }] },
  { reduce: [[1, 2, 3], { '+': [{ var: 'current' }, { var: 'accumulator' }] }, 0] }, { substr: ['abcdef', 1, -1] }, { min: [3, 1] }, { max: [3, 1] },
  { lower: { trim: { var: 's' } } }, { lower: { merge: [['Dose Info', 'X']] } }, { trim: { var: 'n' } }, { lower: 5 },
  { in: [{ lower: { trim: { var: 's' } } }, { lower: { merge: [['dose info']] } }] },
  { intersects: [{ var: 'list' }, ['SR']] }, { intersects: [{ var: 'n' }, ['SR']] }, { within: [{ var: 'list' }, ['CT', 'SR', 'PT']] }, { within: [[], ['CT']] },
  { length: { var: 'list' } }, { length: { var: 'n' } }, { length: 'abc' },
  [1, { var: 'a' }], 'literal', 3, null, { two: 1, keys: 2 },
];

test('compiled closures give what jsonLogic.apply gives, operator by operator', () => {
  for (const e of expressions) {
    const expected = jsonLogic.apply(e, data);
    const actual = typeof e === 'object' && e !== null ? compiled(e)(data) : e;
    assert.equal(actual, expected, JSON.stringify(e));
  }
});

test('the dialect: log and method are not known operators; added ones are', () => {
  assert.not.ok(KNOWN_OPERATORS.has('log'));
  assert.not.ok(KNOWN_OPERATORS.has('method'));
  for (const op of ['lower', 'trim', 'intersects', 'within', 'length', '$const', 'some', 'var']) assert.ok(KNOWN_OPERATORS.has(op), op);
});

test.run();
