// Loading and checking rule files: malformed files give one precise ERR_RULE_INVALID each (file and
// JSON pointer), a site directory overrides the built-in files file by file, checkRules lists every
// problem, the groups give the study-level codes, and src/rules holds no domain literal.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode, RuleError } from '../../src/errors.js';
import {
  builtInRulesDir, checkRules, explainLines, groupNames, groupSelectionProblem, loadRuleSet, studyQueryCodes,
} from '../../src/rules/index.js';
import { CT_IMAGE, RDSR, SC, keptSets, runRules, type StudyRow } from './support.js';

const test = suite('rules load');
const BUILT_IN = builtInRulesDir();
const dirs: string[] = [];

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A site rules directory holding the given files (name -> text, or JSON value). */
function siteDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'qrscu-rules-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

/** A built-in file as a JSON value, for editing. */
function builtIn(name: string): any {
  return JSON.parse(readFileSync(path.join(BUILT_IN, name), 'utf8'));
}

function loadError(files: Record<string, unknown>): RuleError {
  const dir = siteDir(files);
  try {
    loadRuleSet({ rulesDir: dir });
  } catch (e) {
    assert.instance(e, RuleError);
    return e as RuleError;
  }
  throw new Error('expected a RuleError');
}

// ---- malformed files --------------------------------------------------------------------------------

const malformed: Array<{ name: string; file: string; edit: (v: any) => unknown; pointer: string; message: string }> = [
  {
    name: 'bad JSON: line and column',
    file: 'branch-ct.json',
    edit: () => '{\n  "branch": "CT",\n  "order": 40,,\n}\n',
    pointer: '',
    message: 'bad JSON at line 3, column 15',
  },
  {
    name: 'unknown operator',
    file: 'branch-ct.json',
    edit: (v) => ({ ...v, applies: { and: [{ regex: ['CT', { var: 'study.modalities' }] }, true] } }),
    pointer: '/applies/and/0/regex',
    message: 'unknown operator "regex"',
  },
  {
    name: 'the log operator is refused',
    file: 'branch-fl.json',
    edit: (v) => { v.steps[2].where = { log: { var: 'modality' } }; return v; },
    pointer: '/steps/2/where/log',
    message: 'operator "log" is not allowed',
  },
  {
    name: 'unknown step kind',
    file: 'branch-mg.json',
    edit: (v) => { v.steps.push({ kind: 'delete', where: true, reason: 'x' }); return v; },
    pointer: '/steps/1/kind',
    message: 'unknown step kind "delete"',
  },
  {
    name: 'missing constant',
    file: 'branch-ct.json',
    edit: (v) => { v.steps[5].where.in[1].lower.$const = 'doseScreens'; return v; },
    pointer: '/steps/5/where/in/1/lower/$const',
    message: 'unknown constant "doseScreens"',
  },
  {
    name: 'wrong type: order as a string',
    file: 'branch-dx.json',
    edit: (v) => ({ ...v, order: '20' }),
    pointer: '/order',
    message: 'expected a number, found string "20"',
  },
  {
    name: 'wrong type: probe instances not all/first',
    file: 'procedures.json',
    edit: (v) => { v.procedures.srCheck.steps[0].instances = 'some'; return v; },
    pointer: '/procedures/srCheck/steps/0/instances',
    message: 'expected one of "all", "first"',
  },
  {
    name: 'missing required property',
    file: 'branch-nm.json',
    edit: (v) => { delete v.steps[4].reason; return v; },
    pointer: '/steps/4',
    message: 'missing required property "reason"',
  },
  {
    name: 'unknown property (a typo) in a step',
    file: 'study.json',
    edit: (v) => { v.stages[0].steps[0].reasn = v.stages[0].steps[0].reason; return v; },
    pointer: '/stages/0/steps/0/reasn',
    message: 'unknown property "reasn"',
  },
  {
    name: 'an expression object with two operators',
    file: 'branch-sr.json',
    edit: (v) => ({ ...v, applies: { in: ['SR', { var: 'groups' }], var: 'x' } }),
    pointer: '/applies',
    message: 'exactly one key',
  },
  {
    name: 'call of an unknown procedure',
    file: 'branch-mg.json',
    edit: (v) => { v.steps[0].procedure = 'projektion'; return v; },
    pointer: '/steps/0/procedure',
    message: 'unknown procedure "projektion"',
  },
  {
    name: 'study-only step kind in a branch file',
    file: 'branch-dx.json',
    edit: (v) => { v.steps.push({ kind: 'querySeries' }); return v; },
    pointer: '/steps/1/kind',
    message: 'may only be used in study.json',
  },
];

for (const m of malformed) {
  test(`malformed: ${m.name}`, () => {
    const e = loadError({ [m.file]: m.edit(builtIn(m.file)) });
    assert.is(e.code, ErrorCode.RuleInvalid);
    assert.is(path.basename(e.file ?? ''), m.file);
    assert.is(e.pointer, m.pointer);
    assert.match(e.message, m.message);
  });
}

test('a file that is no rule file is named', () => {
  const e = loadError({ 'branch ct.json': '{}' });
  assert.match(e.message, 'not a rule file name');
  assert.is(path.basename(e.file ?? ''), 'branch ct.json');
});

test('checkRules lists every problem of every file, not just the first', () => {
  const ct = builtIn('branch-ct.json');
  ct.order = 'last';
  ct.steps[0].kind = 'invoke';
  const dir = siteDir({ 'branch-ct.json': ct, 'branch-fl.json': '{ "branch": ', 'constants.json': { ...builtIn('constants.json'), extra: 1 } });
  const problems = checkRules(dir);
  const seen = problems.map((p) => `${path.basename(p.file)}#${p.pointer}`);
  assert.equal(seen.sort(), ['branch-ct.json#/order', 'branch-ct.json#/steps/0/kind', 'branch-fl.json#', 'constants.json#/extra'].sort());
  assert.equal(checkRules(), []);
  assert.equal(checkRules(siteDir({})), []);
  assert.match(checkRules('/nonexistent/qrscu-rules')[0].message, 'does not exist');
});

// ---- override -----------------------------------------------------------------------------------------

const philipsLike: StudyRow[] = [
  {
    uid: 'OV1',
    modalities: ['CT'],
    series: [
      { uid: 'OV1.ct', modality: 'CT', description: 'Abdomen 3.0', count: 300, images: [{ uid: 'OV1.ct.1', sopClass: CT_IMAGE }] },
      { uid: 'OV1.dr', modality: 'SC', description: 'Dose Report', count: 1, images: [{ uid: 'OV1.dr.1', sopClass: SC }] },
    ],
  },
];

test('README example: adding "dose report" to doseScreenDescriptions keeps that vendor\'s dose screen', async () => {
  const before = await runRules({ rows: philipsLike, groups: ['CT'] });
  assert.equal(keptSets(before.result), {});
  const constants = builtIn('constants.json');
  constants.constants.doseScreenDescriptions.push('Dose Report');
  const ruleSet = loadRuleSet({ rulesDir: siteDir({ 'constants.json': constants }) });
  const after = await runRules({ rows: philipsLike, groups: ['CT'], ruleSet });
  assert.equal(keptSets(after.result), { 'OV1[CT]': ['OV1.dr'] });
  assert.is(ruleSet.files.find((f) => f.name === 'constants.json')?.origin, 'site');
  assert.is(ruleSet.files.find((f) => f.name === 'branch-ct.json')?.origin, 'built-in');
});

test('override: a branch file with a lower order takes precedence (Q5), a new file adds a branch, disabled removes one', async () => {
  const rows: StudyRow[] = [{ uid: 'OV2', modalities: ['CT', 'DX', 'SR'], series: [
    { uid: 'OV2.ct', modality: 'CT', description: 'Head', count: 20, images: [] },
    { uid: 'OV2.sr', modality: 'SR', description: 'Dose Report', images: [{ uid: 'OV2.sr.1', sopClass: RDSR }] },
  ] }];
  const base = await runRules({ rows, groups: ['CT', 'DX'] });
  assert.is(base.result.studies[0].branch, 'DX');
  const ct = builtIn('branch-ct.json');
  const first = loadRuleSet({ rulesDir: siteDir({ 'branch-ct.json': { ...ct, order: 5 } }) });
  assert.equal(first.branches.map((b) => b.name), ['CT', 'MG', 'DX', 'FL', 'NM', 'SR']);
  const r = await runRules({ rows, groups: ['CT', 'DX'], ruleSet: first });
  assert.is(r.result.studies[0].branch, 'CT');
  const off = loadRuleSet({ rulesDir: siteDir({ 'branch-dx.json': { ...builtIn('branch-dx.json'), disabled: true } }) });
  assert.equal(off.branches.map((b) => b.name), ['MG', 'FL', 'CT', 'NM', 'SR']);
  const added = loadRuleSet({ rulesDir: siteDir({ 'branch-us.json': { branch: 'US', order: 70, applies: false, steps: [] } }) });
  assert.equal(added.branches.map((b) => b.name), ['MG', 'DX', 'FL', 'CT', 'NM', 'SR', 'US']);
});

// ---- groups -----------------------------------------------------------------------------------------

test('groups: names, study-query codes in rule order (deduplicated), exclusive SR', () => {
  const rs = loadRuleSet();
  assert.equal(groupNames(rs), ['CT', 'MG', 'FL', 'DX', 'NM', 'SR']);
  assert.equal(studyQueryCodes(rs, ['SR']), ['SR']);
  assert.equal(studyQueryCodes(rs, ['NM', 'DX', 'FL', 'MG', 'CT']), ['CT', 'MG', 'RF', 'XA', 'DX', 'CR', 'PX', 'NM', 'PT']);
  assert.equal(studyQueryCodes(rs, ['DX', 'DX']), ['DX', 'CR', 'PX']);
  assert.throws(() => studyQueryCodes(rs, ['US']), (e: Error) => (e as RuleError).code === ErrorCode.Usage);
  assert.is(groupSelectionProblem(rs, ['CT', 'MG']), undefined);
  assert.match(groupSelectionProblem(rs, ['SR', 'CT']) ?? '', 'SR must be selected alone');
  assert.match(groupSelectionProblem(rs, []) ?? '', 'at least one');
  assert.match(groupSelectionProblem(rs, ['XX']) ?? '', 'unknown modality group "XX"');
});

// ---- explain ------------------------------------------------------------------------------------------

test('explainLines: study, series and image lines with branch, step, reason and source', async () => {
  const { result } = await runRules({
    rows: [{ uid: 'X1', modalities: ['CT', 'SR'], series: [
      { uid: 'X1.ct', modality: 'CT', description: 'Head', count: 20, images: [] },
      { uid: 'X1.mix', modality: 'SR', description: 'Dose Report', images: [{ uid: 'X1.mix.1', sopClass: RDSR }, { uid: 'X1.mix.2', sopClass: '1.2.840.10008.5.1.4.1.1.88.11' }] },
    ] }],
    groups: ['CT'],
  });
  const lines = explainLines(result);
  assert.equal(lines, [
    'study X1 KEPT branch CT; modalities [CT, SR] (returned); description (none); station (none)',
    "  + CT/applies: CT selected and CT in the study's modalities [branch-ct.json#/applies]",
    '  series 1 X1.ct CT "Head" (20 instances) DROPPED',
    '    - CT/images-replaced: the study has a dose SR: image series not needed [branch-ct.json#/steps/1]',
    '  series 2 X1.mix SR "Dose Report" (2 instances) KEPT at IMAGE level; categories rdsr',
    "    + CT/srCheck/dose-sr: SR series holds the study's dose report (RDSR, else ESR) [procedures.json#/procedures/srCheck/steps/3]",
    '    + CT/srCheck/mixed-sr: only the dose report objects of an SR series holding other classes too (1 of 2 image responses, moved at image level) [procedures.json#/procedures/srCheck/steps/4]',
    '    image 1 X1.mix.1 1.2.840.10008.5.1.4.1.1.88.67 KEPT — CT/srCheck/mixed-sr: only the dose report objects of an SR series holding other classes too [procedures.json#/procedures/srCheck/steps/4]',
    '    image 2 X1.mix.2 1.2.840.10008.5.1.4.1.1.88.11 DROPPED — CT/srCheck/mixed-sr: only the dose report objects of an SR series holding other classes too [procedures.json#/procedures/srCheck/steps/4]',
    '1 move planned; 1 series and 1 image queries',
  ]);
});

// ---- no domain knowledge in the engine ------------------------------------------------------------------

test('src/rules has no modality, vendor, description or SOP-class literal', () => {
  const dir = path.join(process.cwd(), 'src/rules');
  const codes = ['CT', 'MG', 'SR', 'DX', 'CR', 'PX', 'RF', 'XA', 'NM', 'PT', 'SC', 'OT'];
  const forbidden = [
    new RegExp(`(['"\`])(${codes.join('|')})\\1`),
    /1\.2\.840\./,
    /philips|toshiba|siemens|hologic|canon|carestream|\bGE\b/i,
    /dose info/i,
  ];
  // The patterns do catch what they look for.
  for (const sample of ["if (m === 'CT')", 'uid.startsWith("1.2.840.10008")', '// Philips', "d === 'dose info'"]) {
    assert.ok(forbidden.some((re) => re.test(sample)), sample);
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 8, 'the engine files are there');
  for (const f of files) {
    // Literals, not prose: comments (the contract in model.ts documents values) are left out.
    const text = readFileSync(path.join(dir, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
    for (const re of forbidden) {
      const m = re.exec(text);
      assert.not.ok(m, `${f} contains ${m?.[0]}`);
    }
  }
});

test.run();
