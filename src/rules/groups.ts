// Modality groups of groups.json: which ModalitiesInStudy codes are asked at study level, in the
// rule file's order, and which selections are allowed (an exclusive group is selected alone).

import { ConfigError, ErrorCode } from '../errors.js';
import type { Group, RuleSet } from './language.js';

/** The group names, in groups.json order. */
export function groupNames(ruleSet: RuleSet): string[] {
  return ruleSet.groups.map((g) => g.name);
}

/** The groups as defined (codes, exclusive, description), for the CLI's help and checks. */
export function groupInfo(ruleSet: RuleSet): readonly Group[] {
  return ruleSet.groups;
}

/**
 * The ModalitiesInStudy codes to C-FIND at study level for the selected groups: groups.json order,
 * each code once.
 * @throws ConfigError (ERR_USAGE) for a group name the rules do not define.
 */
export function studyQueryCodes(ruleSet: RuleSet, groups: readonly string[]): string[] {
  for (const name of groups) {
    if (!ruleSet.groups.some((g) => g.name === name)) {
      throw new ConfigError(ErrorCode.Usage, `unknown modality group ${JSON.stringify(name)} (known: ${groupNames(ruleSet).join(', ')})`);
    }
  }
  const codes: string[] = [];
  for (const g of ruleSet.groups) {
    if (!groups.includes(g.name)) continue;
    for (const c of g.codes) if (!codes.includes(c)) codes.push(c);
  }
  return codes;
}

/**
 * Why a selection of groups is not allowed (unknown name, none selected, an exclusive group with
 * others), or undefined when it is.
 */
export function groupSelectionProblem(ruleSet: RuleSet, groups: readonly string[]): string | undefined {
  if (groups.length === 0) return `select at least one modality group (${groupNames(ruleSet).join(', ')})`;
  for (const name of groups) {
    const g = ruleSet.groups.find((x) => x.name === name);
    if (g === undefined) return `unknown modality group ${JSON.stringify(name)} (known: ${groupNames(ruleSet).join(', ')})`;
    if (g.exclusive && groups.some((other) => other !== name)) return `modality group ${name} must be selected alone`;
  }
  return undefined;
}
