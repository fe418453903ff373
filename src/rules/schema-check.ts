// A small JSON Schema (draft 2020-12) checker for rules/schema.json: the keywords that file uses
// (type, enum, const, properties, required, additionalProperties, items, minItems, minLength,
// minimum, pattern, local $ref, anyOf, and oneOf over alternatives told apart by a `const` "kind").
// Every problem is reported with its JSON pointer; json-logic positions go to a callback.

import { ErrorCode, RuleError } from '../errors.js';

export interface SchemaProblem {
  readonly pointer: string;
  readonly message: string;
}

type Schema = Record<string, unknown>;

/** Append one reference token to a JSON pointer (RFC 6901 escaping). */
export function childPointer(pointer: string, token: string | number): string {
  return `${pointer}/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function hasType(v: unknown, type: string): boolean {
  const t = typeOf(v);
  return t === type || (type === 'number' && t === 'integer');
}

/**
 * Check `value` against `schema` (a `$defs` entry of `root`). `onLogic` is called for every value at
 * a position whose schema is `logicRef`, instead of checking it here.
 */
export function checkSchema(
  root: Schema,
  schema: Schema,
  value: unknown,
  pointer: string,
  logicRef: string,
  onLogic: (value: unknown, pointer: string) => void,
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const walk = (s: Schema, v: unknown, p: string): void => {
    const ref = s.$ref;
    if (typeof ref === 'string') {
      if (ref === logicRef) {
        onLogic(v, p);
        return;
      }
      walk(resolve(root, ref), v, p);
      return;
    }
    const type = s.type;
    if (typeof type === 'string' && !hasType(v, type)) {
      problems.push({ pointer: p, message: `expected ${type === 'object' ? 'an object' : type === 'array' ? 'a list' : `a ${type}`}, found ${describe(v)}` });
      return;
    }
    if (Array.isArray(s.enum) && !s.enum.includes(v)) {
      problems.push({ pointer: p, message: `expected one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}, found ${describe(v)}` });
      return;
    }
    if ('const' in s && s.const !== v) {
      problems.push({ pointer: p, message: `expected ${JSON.stringify(s.const)}, found ${describe(v)}` });
      return;
    }
    if (typeof v === 'string') {
      if (typeof s.minLength === 'number' && v.length < s.minLength) problems.push({ pointer: p, message: 'must not be empty' });
      else if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v)) {
        problems.push({ pointer: p, message: `${JSON.stringify(v)} is not a valid name (letters, digits, "_" and "-", starting with a letter)` });
      }
    }
    if (typeof v === 'number' && typeof s.minimum === 'number' && v < s.minimum) {
      problems.push({ pointer: p, message: `must be at least ${s.minimum}, found ${v}` });
    }
    if (Array.isArray(v)) {
      if (typeof s.minItems === 'number' && v.length < s.minItems) {
        problems.push({ pointer: p, message: `expected at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}, found ${v.length}` });
      }
      if (isSchema(s.items)) v.forEach((item, i) => walk(s.items as Schema, item, childPointer(p, i)));
    }
    if (typeOf(v) === 'object') {
      const obj = v as Record<string, unknown>;
      const props = isSchema(s.properties) ? (s.properties as Record<string, Schema>) : {};
      if (Array.isArray(s.required)) {
        for (const key of s.required as string[]) {
          if (!(key in obj)) problems.push({ pointer: p, message: `missing required property "${key}"` });
        }
      }
      for (const [key, child] of Object.entries(obj)) {
        const cp = childPointer(p, key);
        if (key in props) walk(props[key], child, cp);
        else if (s.additionalProperties === false) {
          if (isSchema(s.properties) || isSchema(s.additionalProperties)) problems.push({ pointer: cp, message: `unknown property "${key}"` });
        } else if (isSchema(s.additionalProperties)) walk(s.additionalProperties as Schema, child, cp);
      }
    }
    if (Array.isArray(s.oneOf)) checkOneOf(s.oneOf as Schema[], v, p);
    if (Array.isArray(s.anyOf)) {
      const results = (s.anyOf as Schema[]).map((alt) => checkSchema(root, alt, v, p, logicRef, () => {}));
      if (!results.some((r) => r.length === 0)) problems.push({ pointer: p, message: 'matches none of the allowed shapes' });
    }
  };

  // oneOf whose alternatives each fix properties.kind: pick by kind, so the error is about that kind.
  const checkOneOf = (alts: Schema[], v: unknown, p: string): void => {
    const byKind = new Map<unknown, Schema>();
    for (const alt of alts) {
      const target = typeof alt.$ref === 'string' ? resolve(root, alt.$ref) : alt;
      const kind = (target.properties as Record<string, Schema> | undefined)?.kind?.const;
      if (kind !== undefined) byKind.set(kind, alt);
    }
    if (byKind.size === alts.length && typeOf(v) === 'object') {
      const kind = (v as Record<string, unknown>).kind;
      if (kind === undefined) return; // reported by "required"
      const alt = byKind.get(kind);
      if (alt === undefined) {
        problems.push({ pointer: childPointer(p, 'kind'), message: `unknown step kind ${JSON.stringify(kind)} (known: ${[...byKind.keys()].join(', ')})` });
        return;
      }
      walk(alt, v, p);
      return;
    }
    const ok = alts.filter((alt) => checkSchema(root, alt, v, p, logicRef, () => {}).length === 0).length;
    if (ok !== 1) problems.push({ pointer: p, message: ok === 0 ? 'matches none of the allowed shapes' : 'matches more than one allowed shape' });
  };

  walk(schema, value, pointer);
  return problems;
}

function isSchema(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Resolve a local reference "#/$defs/x". */
export function resolve(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new RuleError(ErrorCode.RuleInvalid, `only local $ref is supported: ${ref}`, { pointer: ref });
  let node: unknown = root;
  for (const token of ref.slice(2).split('/')) {
    node = (node as Record<string, unknown>)[token.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (node === undefined) throw new RuleError(ErrorCode.RuleInvalid, `unresolved $ref ${ref}`, { pointer: ref });
  }
  return node as Schema;
}

/** A short description of a JSON value for messages. */
export function describe(v: unknown): string {
  const t = typeOf(v);
  if (t === 'object') return 'an object';
  if (t === 'array') return 'a list';
  if (t === 'null') return 'null';
  const text = JSON.stringify(v);
  return `${t === 'integer' ? 'number' : t} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}
