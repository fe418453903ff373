// The json-logic dialect of rule files: json-logic-js's operators minus the unsafe ones, plus a few
// generic operations registered once (text normalisation and list tests). No domain knowledge here.

import jsonLogic from 'json-logic-js';
import { compiled, setExtraOperations } from './compile.js';

/** json-logic-js operators a rule may use. `log` (writes to the console) and `method` (calls any method) are left out. */
const STANDARD = [
  '==', '===', '!=', '!==', '>', '>=', '<', '<=', '!!', '!', '%', 'in', 'cat', 'substr', '+', '*', '-', '/',
  'min', 'max', 'merge', 'var', 'missing', 'missing_some', 'if', '?:', 'and', 'or', 'filter', 'map', 'reduce',
  'all', 'none', 'some',
] as const;

/** Operations qrscu adds. Each is total: null or a wrong type in gives a neutral value out, never a throw. */
const EXTRA: Record<string, (...args: any[]) => unknown> = {
  /** Lower-case a string, or every string of a list (other values unchanged). */
  lower: (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x.toLowerCase() : x)) : v),
  /** Strip leading and trailing white space (PS3.5 padding) from a string, or every string of a list. */
  trim: (v: unknown) => (typeof v === 'string' ? v.trim() : Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x.trim() : x)) : v),
  /** True when two lists share at least one member (exact, case-sensitive). */
  intersects: (a: unknown, b: unknown) => Array.isArray(a) && Array.isArray(b) && a.some((x) => b.includes(x)),
  /** True when every member of the first list is in the second, and the first is not empty. */
  within: (a: unknown, b: unknown) => Array.isArray(a) && Array.isArray(b) && a.length > 0 && a.every((x) => b.includes(x)),
  /** Length of a list or string; 0 for anything else. */
  length: (v: unknown) => (Array.isArray(v) || typeof v === 'string' ? v.length : 0),
};

/** Resolved at load time: `{"$const": "name"}` is replaced by the named constant. */
export const CONSTANT_OPERATOR = '$const';

/** Every operator a rule expression may name. */
export const KNOWN_OPERATORS: ReadonlySet<string> = new Set<string>([...STANDARD, ...Object.keys(EXTRA), CONSTANT_OPERATOR]);

let registered = false;

/** Register qrscu's operations with json-logic-js (once per process). */
export function registerOperations(): void {
  if (registered) return;
  for (const [name, fn] of Object.entries(EXTRA)) jsonLogic.add_operation(name, fn);
  setExtraOperations(EXTRA);
  registered = true;
}

/** 'compiled' (default): closures of compile.ts; 'interpreted': jsonLogic.apply on each call (the reference, for tests). */
let mode: 'compiled' | 'interpreted' = 'compiled';

/** Choose how expressions are evaluated; returns the previous mode. */
export function setEvaluationMode(next: 'compiled' | 'interpreted'): 'compiled' | 'interpreted' {
  const previous = mode;
  mode = next;
  return previous;
}

/** Evaluate a validated expression against a fact object. */
export function evaluate(logic: unknown, facts: unknown): unknown {
  if (typeof logic !== 'object' || logic === null) return logic;
  return mode === 'compiled' ? compiled(logic)(facts) : jsonLogic.apply(logic, facts);
}

/** json-logic truthiness (an empty list is false, "0" is true). */
export function truthy(value: unknown): boolean {
  return jsonLogic.truthy(value);
}

/** Evaluate an expression as a condition. */
export function test(logic: unknown, facts: unknown): boolean {
  if (logic === true) return true;
  if (logic === false) return false;
  const v = evaluate(logic, facts);
  return Array.isArray(v) && v.length === 0 ? false : !!v;
}
