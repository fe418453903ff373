// Public surface of the rule engine: load and check rule files, the study-level codes they ask for,
// and the selection of what to retrieve, with its explanation.

export { loadRuleSet, checkRules, builtInRulesDir } from './load.js';
export { studyQueryCodes, groupNames, groupInfo, groupSelectionProblem } from './groups.js';
export { select } from './engine.js';
export { explainLines } from './explain.js';
export type { RuleSet, RuleProblem, Group, RuleFileInfo } from './language.js';
export type * from './model.js';
