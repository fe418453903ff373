// Read rule files from disk: the built-in ones shipped in <package root>/rules/, overridden file by
// file by a site's rules directory. The only file-system user of src/rules.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, RuleError } from '../errors.js';
import type { RuleProblem, RuleSet } from './language.js';
import { compileRuleFiles, type RuleSource } from './validate.js';

const SCHEMA_FILE = 'schema.json';

/** The built-in rules directory: the nearest `rules/` holding groups.json above this module (src/rules or dist/rules). */
export function builtInRulesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'rules');
    if (existsSync(path.join(candidate, 'groups.json')) && existsSync(path.join(candidate, SCHEMA_FILE))) return candidate;
    dir = path.dirname(dir);
  }
  throw new RuleError(ErrorCode.RuleInvalid, 'cannot find the built-in rules directory (rules/groups.json above the qrscu module)');
}

function listJson(dir: string, origin: 'built-in' | 'site'): Array<{ name: string; path: string; origin: 'built-in' | 'site' }> {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json') && name !== SCHEMA_FILE)
    .sort()
    .map((name) => ({ name, path: path.join(dir, name), origin }));
}

/** Read the effective rule files and check them; problems rather than a throw. */
function readAndCompile(rulesDir?: string): { ruleSet?: RuleSet; problems: RuleProblem[] } {
  const builtIn = builtInRulesDir();
  const schemaPath = path.join(builtIn, SCHEMA_FILE);
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
  const byName = new Map<string, { name: string; path: string; origin: 'built-in' | 'site' }>();
  for (const f of listJson(builtIn, 'built-in')) byName.set(f.name, f);
  if (rulesDir !== undefined) {
    let isDir = false;
    try {
      isDir = statSync(rulesDir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) return { problems: [{ file: rulesDir, pointer: '', message: 'rules directory does not exist or is not a directory' }] };
    // Same name replaces the built-in file; a new name adds one.
    for (const f of listJson(rulesDir, 'site')) byName.set(f.name, f);
  }
  const sources: RuleSource[] = [];
  const problems: RuleProblem[] = [];
  for (const f of [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    try {
      sources.push({ ...f, text: readFileSync(f.path, 'utf8') });
    } catch (e) {
      problems.push({ file: f.path, pointer: '', message: `cannot read: ${(e as Error).message}` });
    }
  }
  const result = compileRuleFiles(sources, schema);
  return { ruleSet: problems.length === 0 ? result.ruleSet : undefined, problems: [...problems, ...result.problems] };
}

/**
 * Load the built-in rules, with the files of `rulesDir` replacing or adding to them file by file.
 * @throws RuleError (ERR_RULE_INVALID) naming the file and JSON pointer of the first problem.
 */
export function loadRuleSet(options: { rulesDir?: string } = {}): RuleSet {
  const { ruleSet, problems } = readAndCompile(options.rulesDir);
  if (problems.length > 0 || ruleSet === undefined) {
    const first = problems[0] ?? { file: '', pointer: '', message: 'no rules' };
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}: qrscu rules check)` : '';
    throw new RuleError(ErrorCode.RuleInvalid, `${first.message}${more}`, { file: first.file, pointer: first.pointer });
  }
  return ruleSet;
}

/** Every problem of the effective rule set (built-in rules overridden by `dir`); [] when it is valid. */
export function checkRules(dir?: string): RuleProblem[] {
  return readAndCompile(dir).problems;
}
