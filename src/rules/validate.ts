// Parse, check and compile rule files into a RuleSet: bad JSON (line and column), rules/schema.json,
// every json-logic expression (known operators only, constants that exist) and the links between
// files (procedures called, step kinds allowed where they stand). Pure: load.ts does the reading.

import { CONSTANT_OPERATOR, KNOWN_OPERATORS } from './operations.js';
import { checkSchema, childPointer, describe } from './schema-check.js';
import { STUDY_FILE_ONLY, type Branch, type Group, type RuleFileInfo, type RuleProblem, type RuleSet, type Step } from './language.js';

/** A rule file as read from disk. */
export interface RuleSource extends RuleFileInfo {
  readonly text: string;
}

type Json = Record<string, unknown>;
type Role = 'groupsFile' | 'constantsFile' | 'studyFile' | 'proceduresFile' | 'branchFile';

const LOGIC_REF = '#/$defs/logic';
const FORBIDDEN: Record<string, string> = {
  log: 'operator "log" is not allowed (it writes to the console)',
  method: 'operator "method" is not allowed (it calls arbitrary methods)',
};

/** Which schema a file name is checked against; undefined for a name that is no rule file. */
export function roleOf(name: string): Role | undefined {
  if (name === 'groups.json') return 'groupsFile';
  if (name === 'constants.json') return 'constantsFile';
  if (name === 'study.json') return 'studyFile';
  if (name === 'procedures.json') return 'proceduresFile';
  if (/^branch-[A-Za-z0-9_-]+\.json$/.test(name)) return 'branchFile';
  return undefined;
}

/** JSON.parse with the position of a syntax error turned into line and column. */
export function parseJson(text: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    const message = (e as Error).message;
    const lc = /line (\d+) column (\d+)/.exec(message);
    let where = '';
    if (lc) where = `line ${lc[1]}, column ${lc[2]}`;
    else {
      const pos = /position (\d+)/.exec(message);
      const offset = pos ? Number(pos[1]) : text.length;
      const before = text.slice(0, offset).split('\n');
      where = `line ${before.length}, column ${before[before.length - 1].length + 1}`;
    }
    return { error: `bad JSON at ${where}: ${message}` };
  }
}

/**
 * Check every file and, when nothing is wrong, compile them into a RuleSet. `schema` is the parsed
 * rules/schema.json.
 */
export function compileRuleFiles(sources: readonly RuleSource[], schema: Json): { ruleSet?: RuleSet; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const docs = new Map<string, { info: RuleFileInfo; role: Role; value: Json }>();
  for (const src of sources) {
    const role = roleOf(src.name);
    if (role === undefined) {
      problems.push({ file: src.path, pointer: '', message: 'not a rule file name (expected groups.json, constants.json, study.json, procedures.json or branch-NAME.json)' });
      continue;
    }
    const parsed = parseJson(src.text);
    if (parsed.error !== undefined) {
      problems.push({ file: src.path, pointer: '', message: parsed.error });
      continue;
    }
    docs.set(src.name, { info: src, role, value: parsed.value as Json });
  }
  for (const required of ['groups.json', 'constants.json', 'study.json']) {
    if (!docs.has(required) && !sources.some((s) => s.name === required)) {
      problems.push({ file: required, pointer: '', message: `missing rule file ${required}` });
    }
  }

  // Constants first: every expression may name them.
  const constantsDoc = docs.get('constants.json');
  let constants: Json = {};
  if (constantsDoc) {
    const c = constantsDoc.value?.constants;
    if (typeof c === 'object' && c !== null && !Array.isArray(c)) constants = c as Json;
  }

  const valid = new Map<string, { info: RuleFileInfo; role: Role; value: Json }>();
  for (const [name, doc] of docs) {
    const before = problems.length;
    const found = checkSchema(schema, (schema.$defs as Record<string, Json>)[doc.role], doc.value, '', LOGIC_REF, (value, pointer) => {
      checkLogic(value, pointer, constants, (p, message) => problems.push({ file: doc.info.path, pointer: p, message }));
    });
    for (const p of found) problems.push({ file: doc.info.path, pointer: p.pointer, message: p.message });
    if (problems.length === before) valid.set(name, doc);
  }
  // Cross-file checks look at the files whose shape is right, so a broken file adds no noise.
  crossCheck(valid, problems);
  if (problems.length > 0) return { problems };
  return { ruleSet: build(valid, constants), problems };
}

/** Walk one json-logic expression: known operators only, one operator per object, existing constants. */
function checkLogic(value: unknown, pointer: string, constants: Json, report: (pointer: string, message: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkLogic(v, childPointer(pointer, i), constants, report));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const keys = Object.keys(value);
  if (keys.length !== 1) {
    report(pointer, `an expression object must have exactly one key, its operator (found ${keys.length === 0 ? 'none' : keys.map((k) => JSON.stringify(k)).join(', ')})`);
    return;
  }
  const op = keys[0];
  const arg = (value as Json)[op];
  const at = childPointer(pointer, op);
  if (op in FORBIDDEN) {
    report(at, FORBIDDEN[op]);
    return;
  }
  if (!KNOWN_OPERATORS.has(op)) {
    report(at, `unknown operator ${JSON.stringify(op)}`);
    return;
  }
  if (op === CONSTANT_OPERATOR) {
    if (typeof arg !== 'string') report(at, `"$const" takes the name of a constant, found ${describe(arg)}`);
    else if (!Object.prototype.hasOwnProperty.call(constants, arg)) report(at, `unknown constant ${JSON.stringify(arg)} (not defined in constants.json)`);
    return;
  }
  checkLogic(arg, at, constants, report);
}

/** Checks that need several files: procedures called exist, no call cycle, file-only step kinds, unique branch names. */
function crossCheck(valid: Map<string, { info: RuleFileInfo; role: Role; value: Json }>, problems: RuleProblem[]): void {
  const procDoc = valid.get('procedures.json');
  const procs = (procDoc?.value.procedures ?? {}) as Record<string, { steps: Json[] }>;
  const visitSteps = (steps: Json[], file: RuleFileInfo, pointer: string, inStudyFile: boolean): void => {
    steps.forEach((step, i) => {
      const p = childPointer(pointer, i);
      if (!inStudyFile && STUDY_FILE_ONLY.has(step.kind as Step['kind'])) {
        problems.push({ file: file.path, pointer: childPointer(p, 'kind'), message: `step kind ${JSON.stringify(step.kind)} may only be used in study.json` });
      }
      if (step.kind === 'call' && !Object.prototype.hasOwnProperty.call(procs, step.procedure as string)) {
        problems.push({ file: file.path, pointer: childPointer(p, 'procedure'), message: `unknown procedure ${JSON.stringify(step.procedure)} (not defined in procedures.json)` });
      }
    });
  };
  const branchNames = new Map<string, string>();
  for (const [, doc] of valid) {
    if (doc.role === 'studyFile') {
      (doc.value.stages as Json[]).forEach((stage, i) => visitSteps(stage.steps as Json[], doc.info, childPointer(childPointer('/stages', i), 'steps'), true));
    } else if (doc.role === 'branchFile') {
      visitSteps(doc.value.steps as Json[], doc.info, '/steps', false);
      const name = doc.value.branch as string;
      const other = branchNames.get(name);
      if (other !== undefined) problems.push({ file: doc.info.path, pointer: '/branch', message: `branch name ${JSON.stringify(name)} is also used by ${other}` });
      else branchNames.set(name, doc.info.name);
    } else if (doc.role === 'proceduresFile') {
      for (const [name, proc] of Object.entries(procs)) visitSteps(proc.steps, doc.info, childPointer(childPointer('/procedures', name), 'steps'), false);
      // A call cycle would never end.
      for (const name of Object.keys(procs)) {
        const seen = new Set<string>();
        const stack = [name];
        while (stack.length > 0) {
          const cur = stack.pop() as string;
          for (const step of procs[cur]?.steps ?? []) {
            if (step.kind !== 'call') continue;
            const callee = step.procedure as string;
            if (callee === name) {
              problems.push({ file: doc.info.path, pointer: childPointer('/procedures', name), message: `procedure ${JSON.stringify(name)} calls itself (through ${cur})` });
              stack.length = 0;
              break;
            }
            if (!seen.has(callee)) {
              seen.add(callee);
              stack.push(callee);
            }
          }
        }
      }
    } else if (doc.role === 'groupsFile') {
      const seen = new Set<string>();
      (doc.value.groups as Json[]).forEach((g, i) => {
        const name = g.name as string;
        if (seen.has(name)) problems.push({ file: doc.info.path, pointer: `/groups/${i}/name`, message: `group ${JSON.stringify(name)} is defined twice` });
        seen.add(name);
      });
    }
  }
}

/**
 * Replace every {"$const": NAME} by the constant. A list is wrapped in {"merge": [list]}: json-logic
 * spreads a bare list given as an operator's only argument ({"lower": ["a", "b"]} is lower("a", "b")).
 */
function substitute(value: unknown, constants: Json): unknown {
  if (Array.isArray(value)) return value.map((v) => substitute(v, constants));
  if (typeof value !== 'object' || value === null) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === CONSTANT_OPERATOR) {
    const constant = structuredClone(constants[(value as Json)[CONSTANT_OPERATOR] as string]);
    return Array.isArray(constant) ? { merge: [constant] } : constant;
  }
  const out: Json = {};
  for (const k of keys) out[k] = substitute((value as Json)[k], constants);
  return out;
}

function compileSteps(steps: Json[], file: string, pointer: string, constants: Json): Step[] {
  return steps.map((raw, i) => {
    const s = substitute(raw, constants) as Json;
    return { ...s, id: (s.id as string | undefined) ?? `${s.kind as string}@${i}`, source: `${file}#${childPointer(pointer, i)}` } as Step;
  });
}

function build(valid: Map<string, { info: RuleFileInfo; role: Role; value: Json }>, constants: Json): RuleSet {
  const files = [...valid.values()].map((d) => d.info);
  const groupsDoc = valid.get('groups.json') as { value: Json };
  const groups: Group[] = (groupsDoc.value.groups as Json[]).map((g) => ({
    name: g.name as string,
    codes: [...(g.codes as string[])],
    exclusive: g.exclusive === true,
    description: (g.description as string | undefined) ?? '',
  }));
  const categoriesByClass = new Map<string, string[]>();
  const categories = (valid.get('constants.json') as { value: Json }).value.categories as Record<string, string[]>;
  for (const [name, uids] of Object.entries(categories)) {
    for (const uid of uids) {
      const list = categoriesByClass.get(uid) ?? [];
      if (!list.includes(name)) list.push(name);
      categoriesByClass.set(uid, list);
    }
  }
  const studyDoc = valid.get('study.json') as { value: Json };
  const stages = (studyDoc.value.stages as Json[]).map((stage, i) => ({
    name: stage.name as string,
    steps: compileSteps(stage.steps as Json[], 'study.json', `/stages/${i}/steps`, constants),
  }));
  const procedures = new Map<string, Step[]>();
  const procDoc = valid.get('procedures.json');
  for (const [name, proc] of Object.entries((procDoc?.value.procedures ?? {}) as Record<string, Json>)) {
    procedures.set(name, compileSteps(proc.steps as Json[], 'procedures.json', childPointer(childPointer('/procedures', name), 'steps'), constants));
  }
  const branches: Branch[] = [];
  for (const [fileName, doc] of [...valid].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (doc.role !== 'branchFile' || doc.value.disabled === true) continue;
    branches.push({
      name: doc.value.branch as string,
      order: doc.value.order as number,
      description: (doc.value.description as string | undefined) ?? '',
      applies: substitute(doc.value.applies, constants),
      source: `${fileName}#/applies`,
      steps: compileSteps(doc.value.steps as Json[], fileName, '/steps', constants),
    });
  }
  // Stable sort: equal orders keep file-name order.
  branches.sort((a, b) => a.order - b.order);
  return { files, groups, categoriesByClass, constants: structuredClone(constants), stages, procedures, branches };
}
