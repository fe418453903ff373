// The selection rules, table-driven: every step of the behaviour reference section 3 and every
// decision of section 9, with responses shaped like the vendor samples (test/fixtures/dicom-samples),
// run through the built-in rule files against an in-memory PACS made of plain tables.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SelectionResult } from '../../src/rules/model.js';
import { setEvaluationMode } from '../../src/rules/operations.js';
import {
  BASIC_TEXT_SR, COMPREHENSIVE_SR, CR_IMAGE, CT_IMAGE, DX_IMAGE, DX_PROCESSING, ESR, MF_SC, MG_IMAGE, NM_IMAGE, PET, RDSR, RRDSR, SC, XA_IMAGE,
  keptSets, moveList, runRules, studyResponse, studyVerdict, verdict, type QueryLogEntry, type RunSetup, type SeriesRow, type StudyRow,
} from './support.js';

const test = suite('rules selection');

interface Case {
  readonly name: string;
  readonly setup: RunSetup;
  /** Kept series per kept study, as keptSets() gives them. */
  readonly kept: Record<string, string[]>;
  readonly moves?: string[];
  readonly imageQueries?: number;
  readonly seriesQueries?: number;
  /** [series or study UID, branch, step, substring of the reason] of the verdict. */
  readonly reasons?: ReadonlyArray<readonly [string, string, string, string]>;
  readonly check?: (result: SelectionResult, log: QueryLogEntry[]) => void;
}

// ---- realistic series -----------------------------------------------------------------------------

const ctImages = (uid: string, count = 250, description: string | null = 'Thorax 1.0 B31f'): SeriesRow => ({
  uid, modality: 'CT', description, count, images: [{ uid: `${uid}.1`, sopClass: CT_IMAGE }, { uid: `${uid}.2`, sopClass: CT_IMAGE }],
});
const rdsrSeries = (uid: string, description: string | null = 'Dose Report', instance = 1): SeriesRow => ({
  uid, modality: 'SR', description, images: [{ uid: `${uid}.1`, sopClass: RDSR, instance }],
});
const esrSeries = (uid: string, description = 'Dose Record'): SeriesRow => ({ uid, modality: 'SR', description, images: [{ uid: `${uid}.1`, sopClass: ESR }] });
const study = (uid: string, modalities: string[] | null, series: SeriesRow[], more: Partial<StudyRow> = {}): StudyRow => ({ uid, modalities, series, ...more });

const cases: Case[] = [
  // ---- S2, S3 ----------------------------------------------------------------------------------
  {
    name: 'S2 duplicate study responses: the second response of a study is dropped, its series asked once',
    setup: {
      rows: [study('DX1', ['DX', 'CR'], [{ uid: 'DX1.1', modality: 'DX', description: 'Abdomen', images: [{ uid: 'DX1.1.1', sopClass: DX_PROCESSING }] }])],
      responses: [
        studyResponse(study('DX1', ['DX', 'CR'], []), 'DX'),
        studyResponse(study('DX1', ['DX', 'CR'], []), 'CR'),
      ],
      groups: ['DX'],
    },
    kept: { 'DX1[DX]': ['DX1.1'] },
    seriesQueries: 1,
    imageQueries: 0,
    check: (r) => {
      assert.is(r.studies.length, 2);
      assert.is(r.studies[1].kept, false);
      assert.match(r.studies[1].decisions[0].reason, 'sent twice');
      assert.is(r.studies[1].decisions[0].source, 'study.json#/stages/0/steps/0');
    },
  },
  {
    name: 'S3 PET/CT split: CT and NM selected, study with CT and PT gives a CT copy and an NM copy',
    setup: {
      rows: [
        study('PETCT', ['CT', 'PT', 'SR'], [
          ctImages('PETCT.ct', 400, 'CT WB 2.0'),
          rdsrSeries('PETCT.rdsr'),
          { uid: 'PETCT.rrdsr', modality: 'SR', description: 'PET Dose Report SR', images: [{ uid: 'PETCT.rrdsr.1', sopClass: RRDSR }] },
          { uid: 'PETCT.pet', modality: 'PT', description: 'PET AC', count: 300, images: [{ uid: 'PETCT.pet.1', sopClass: PET, instance: 1 }, { uid: 'PETCT.pet.2', sopClass: PET, instance: 2 }] },
        ]),
      ],
      groups: ['CT', 'NM'],
    },
    kept: { 'PETCT[CT]': ['PETCT.rdsr'], 'PETCT[NM]': ['PETCT.rrdsr', 'PETCT.pet:IMAGE'] },
    moves: ['SERIES PETCT/PETCT.rdsr', 'SERIES PETCT/PETCT.rrdsr', 'IMAGE PETCT/PETCT.pet/PETCT.pet.1'],
    seriesQueries: 1,
    // Both copies list the two SR series (shared answers) and the NM copy probes the PET series once.
    imageQueries: 3,
    check: (r) => {
      assert.equal(r.studies.map((s) => s.modalities), [['SR', 'CT'], ['SR', 'NM']]);
      assert.match(r.studies[1].decisions[0].reason, 'copy 2 of 2');
    },
  },
  {
    name: 'S3 no split when NM is not selected: the PET/CT study takes the CT route',
    setup: {
      rows: [study('PETCT2', ['CT', 'PT'], [ctImages('PETCT2.ct', 400, 'CT WB'), { uid: 'PETCT2.pet', modality: 'PT', description: 'PET AC', images: [{ uid: 'PETCT2.pet.1', sopClass: PET }] }])],
      groups: ['CT'],
    },
    kept: {},
    reasons: [['PETCT2', 'CT', 'no-usable-information', 'Found no usable information']],
  },
  // ---- S4 / Q3 ---------------------------------------------------------------------------------
  {
    name: 'S4/Q3 -sr: only studies whose modalities are exactly SR (returned or rebuilt); only dose SR series move',
    setup: {
      rows: [
        study('SR1', ['SR'], [rdsrSeries('SR1.rdsr', 'Radiation Dose Information'), { uid: 'SR1.text', modality: 'SR', description: 'Report', images: [{ uid: 'SR1.text.1', sopClass: BASIC_TEXT_SR }] }]),
        study('SR2', ['CT', 'SR'], [ctImages('SR2.ct'), rdsrSeries('SR2.rdsr')]),
        study('SR3', ['SR'], [{ uid: 'SR3.cmp', modality: 'SR', description: 'Key findings', images: [{ uid: 'SR3.cmp.1', sopClass: COMPREHENSIVE_SR }] }]),
      ],
      groups: ['SR'],
    },
    kept: { 'SR1[SR]': ['SR1.rdsr'] },
    moves: ['SERIES SR1/SR1.rdsr'],
    reasons: [
      ['SR2', 'series-query', 'sr-only', 'SR only selected'],
      ['SR3', 'SR', 'no-dose-sr', 'No RDSR or ESR found'],
      ['SR1.text', 'SR', 'srCheck/other-sr', 'without the study'],
    ],
  },
  {
    name: 'S4/Q3 -sr with modalities not returned: rebuilt from the series, then the same filter',
    setup: {
      rows: [
        study('SRR1', null, [rdsrSeries('SRR1.rdsr')]),
        study('SRR2', null, [ctImages('SRR2.ct'), rdsrSeries('SRR2.rdsr')]),
      ],
      groups: ['SR'],
      outcome: { modalitiesReturned: false, modalityMatching: false },
    },
    kept: { 'SRR1[SR]': ['SRR1.rdsr'] },
    check: (r) => {
      assert.equal(r.studies[0].modalities, ['SR']);
      assert.is(r.studies[0].modalitiesSource, 'rebuilt');
      assert.equal(r.studies[1].modalities, ['CT', 'SR']);
      assert.is(r.studies[1].kept, false);
    },
  },
  {
    name: 'S4/Q3 -sr with emptySr: an SR series answering nothing is kept, a non-dose one is not',
    setup: {
      rows: [study('SRE', ['SR'], [{ uid: 'SRE.empty', modality: 'SR', description: 'Dose Report', count: null, images: [] }, { uid: 'SRE.cmp', modality: 'SR', images: [{ uid: 'SRE.cmp.1', sopClass: COMPREHENSIVE_SR }] }])],
      groups: ['SR'],
      options: { flags: { emptySr: true } },
    },
    kept: { 'SRE[SR]': ['SRE.empty'] },
    reasons: [['SRE.cmp', 'SR', 'non-dose-sr', 'no dose report object']],
  },
  // ---- S5 --------------------------------------------------------------------------------------
  {
    name: 'S5 study description include: case-insensitive substring ("chest" matches "Chesty"); missing description passes (Q2)',
    setup: {
      rows: [
        study('D1', ['DX'], [{ uid: 'D1.1', modality: 'DX', images: [] }], { description: 'CHESTY PA' }),
        study('D2', ['DX'], [{ uid: 'D2.1', modality: 'DX', images: [] }], { description: 'Abdomen' }),
        study('D3', ['DX'], [{ uid: 'D3.1', modality: 'DX', images: [] }], { description: null }),
      ],
      groups: ['DX'],
      options: { descriptionInclude: ['chest', ''] },
    },
    kept: { 'D1[DX]': ['D1.1'], 'D3[DX]': ['D3.1'] },
    seriesQueries: 2,
    check: (r) => {
      assert.match(r.studies[1].decisions[0].reason, 'StudyDescription "Abdomen" matches no include term (chest)');
      assert.match(r.studies[2].decisions[0].reason, 'StudyDescription not returned: passes the include and exclude filters');
      assert.ok(r.studies[2].decisions[0].kept);
    },
  },
  {
    name: 'S5/Q1 exclude with an empty term ("imported,"): the empty term is ignored',
    setup: {
      rows: [
        study('E1', ['CT'], [rdsrSeries('E1.sr')], { description: 'Head (IMPORTED)' }),
        study('E2', ['CT'], [rdsrSeries('E2.sr')], { description: 'Head' }),
        study('E3', ['CT'], [rdsrSeries('E3.sr')], { description: '' }),
      ],
      groups: ['CT'],
      options: { descriptionExclude: ['imported', ''] },
    },
    kept: { 'E2[CT]': ['E2.sr'], 'E3[CT]': ['E3.sr'] },
    reasons: [['E1', 'study-filters', 'study-description', 'matches exclude term "imported"']],
  },
  {
    name: 'S5 station filter at study level (stationNameStudyLevel); series stations not looked at',
    setup: {
      rows: [
        study('ST1', ['CT'], [{ ...rdsrSeries('ST1.sr'), station: 'other' }], { station: 'CTAWP12345' }),
        study('ST2', ['CT'], [rdsrSeries('ST2.sr')], { station: 'VCTScanner' }),
      ],
      groups: ['CT'],
      options: { stationInclude: ['ctawp'], stationNameStudyLevel: true },
    },
    kept: { 'ST1[CT]': ['ST1.sr'] },
    seriesQueries: 1,
  },
  // ---- S6, S7 ----------------------------------------------------------------------------------
  {
    name: 'S6 ModalitiesInStudy not returned: rebuilt from the series Modality values (series order)',
    setup: {
      rows: [study('R1', null, [{ uid: 'R1.1', modality: 'CR', description: 'W033 Chest p.a.', images: [{ uid: 'R1.1.1', sopClass: CR_IMAGE }] }, { uid: 'R1.2', modality: 'PR', images: [] }])],
      groups: ['DX'],
      outcome: { modalitiesReturned: false, modalityMatching: false },
    },
    kept: { 'R1[DX]': ['R1.1', 'R1.2'] },
    check: (r) => {
      assert.equal(r.studies[0].modalities, ['CR', 'PR']);
      assert.is(r.studies[0].modalitiesSource, 'rebuilt');
      assert.match(r.studies[0].notes[0], 'rebuilt from the series: [CR, PR]');
    },
  },
  {
    name: 'S7/Q6 PACS ignored the key: studies without a requested code are dropped, by exact membership ("PT" does not match "OPT")',
    setup: {
      rows: [
        study('W1', ['OPT', 'OP'], [{ uid: 'W1.1', modality: 'OPT', images: [] }]),
        study('W2', ['PT', 'CT'], [{ uid: 'W2.pet', modality: 'PT', description: 'PET AC', images: [{ uid: 'W2.pet.1', sopClass: PET }] }]),
      ],
      groups: ['NM'],
      outcome: { modalityMatching: false },
    },
    kept: { 'W2[NM]': ['W2.pet:IMAGE'] },
    reasons: [['W1', 'series-query', 'wrong-modality', 'modalities we do not care about']],
  },
  // ---- S8.0 ------------------------------------------------------------------------------------
  {
    name: 'S8.0 series station filter: substring include, series without StationName kept, study emptied is dropped',
    setup: {
      rows: [
        study('SS1', ['CT', 'SR'], [
          { ...rdsrSeries('SS1.a'), station: 'goodstation2' },
          { ...rdsrSeries('SS1.b'), station: 'badstation' },
          { ...rdsrSeries('SS1.c'), station: null },
        ]),
        study('SS2', ['CT', 'SR'], [{ ...rdsrSeries('SS2.a'), station: 'badstation' }]),
      ],
      groups: ['CT'],
      options: { stationInclude: ['GoodStation'] },
    },
    kept: { 'SS1[CT]': ['SS1.a', 'SS1.c'] },
    reasons: [
      ['SS1.b', 'series-filters', 'series-station', 'matches no include term (goodstation)'],
      ['SS1.c', 'CT', 'srCheck/dose-sr', 'dose report'],
      ['SS2', 'series-filters', 'no-series', 'There are no series left'],
    ],
    check: (r) => {
      const c = r.studies[0].series[2];
      assert.match(c.decisions[0].reason, 'StationName (series) not returned: passes');
    },
  },
  // ---- S8.1 MG ---------------------------------------------------------------------------------
  {
    name: 'S8.1 MG with an RDSR: image series (including the Hologic SC with Modality MG) dropped',
    setup: {
      rows: [study('MG1', ['MG', 'SR'], [
        { uid: 'MG1.pres', modality: 'MG', images: [{ uid: 'MG1.pres.1', sopClass: MG_IMAGE }] },
        { uid: 'MG1.hol', modality: 'MG', description: 'Flat Field Tomo', images: [{ uid: 'MG1.hol.60', sopClass: SC, instance: 60 }] },
        rdsrSeries('MG1.rdsr', 'Radiation Dose Information'),
      ])],
      groups: ['MG'],
    },
    kept: { 'MG1[MG]': ['MG1.rdsr'] },
    imageQueries: 1,
    reasons: [['MG1.hol', 'MG', 'projection/images-replaced', 'image series not needed']],
  },
  {
    name: 'S8.1 MG with only an ESR: the ESR is not used, images kept',
    setup: {
      rows: [study('MG2', ['MG', 'SR'], [{ uid: 'MG2.pres', modality: 'MG', images: [{ uid: 'MG2.pres.1', sopClass: MG_IMAGE }] }, esrSeries('MG2.esr', 'Radiation Summary')])],
      groups: ['MG'],
    },
    kept: { 'MG2[MG]': ['MG2.pres'] },
    reasons: [['MG2.esr', 'MG', 'projection/sr-unused', 'no RDSR'], ['MG2.pres', 'MG', 'projection/images-kept', 'no RDSR in the study']],
  },
  {
    name: 'S8.1 MG without SR series: no image-level query, every series kept',
    setup: {
      rows: [study('MG3', ['MG'], [
        { uid: 'MG3.pres', modality: 'MG', images: [{ uid: 'MG3.pres.1', sopClass: MG_IMAGE }] },
        { uid: 'MG3.ko', modality: 'KO', images: [] },
      ])],
      groups: ['MG'],
    },
    kept: { 'MG3[MG]': ['MG3.pres', 'MG3.ko'] },
    imageQueries: 0,
  },
  {
    name: 'Q4 MG study listed as MG only, with an RDSR series: the SR check runs anyway',
    setup: {
      rows: [study('MG4', ['MG'], [{ uid: 'MG4.pres', modality: 'MG', images: [{ uid: 'MG4.pres.1', sopClass: MG_IMAGE }] }, rdsrSeries('MG4.rdsr', 'Radiation Dose Structured Report')])],
      groups: ['MG'],
    },
    kept: { 'MG4[MG]': ['MG4.rdsr'] },
    imageQueries: 1,
  },
  // ---- S8.2 DX ---------------------------------------------------------------------------------
  {
    name: 'S8.2 DX (CR and PX codes too): an RDSR replaces the images',
    setup: {
      rows: [
        study('DX2', ['CR', 'SR'], [{ uid: 'DX2.cr', modality: 'CR', description: 'AP', images: [{ uid: 'DX2.cr.1', sopClass: CR_IMAGE }] }, rdsrSeries('DX2.rdsr', 'Radiation Dose Information')]),
        study('PX1', ['PX'], [{ uid: 'PX1.px', modality: 'PX', images: [{ uid: 'PX1.px.4', sopClass: DX_IMAGE, instance: 4 }] }]),
      ],
      groups: ['DX'],
    },
    kept: { 'DX2[DX]': ['DX2.rdsr'], 'PX1[DX]': ['PX1.px'] },
  },
  {
    name: 'S8.2 DX with an SR series answering nothing: -emptysr keeps it instead of the images (null_response)',
    setup: {
      rows: [study('DX3', ['DX', 'SR'], [{ uid: 'DX3.dx', modality: 'DX', images: [{ uid: 'DX3.dx.1', sopClass: DX_IMAGE }] }, { uid: 'DX3.sr', modality: 'SR', count: null, images: [] }])],
      groups: ['DX'],
      options: { flags: { emptySr: true } },
    },
    kept: { 'DX3[DX]': ['DX3.sr'] },
    check: (r) => {
      assert.ok(r.warnings.some((w) => w.includes('returned nothing at image level')));
      assert.match(r.studies[0].series[1].notes[0], 'emptySr');
    },
  },
  {
    name: 'S8.2 DX with an SR series answering nothing, without -emptysr: SR dropped, images kept, warning',
    setup: {
      rows: [study('DX4', ['DX', 'SR'], [{ uid: 'DX4.dx', modality: 'DX', images: [{ uid: 'DX4.dx.1', sopClass: DX_IMAGE }] }, { uid: 'DX4.sr', modality: 'SR', count: null, images: [] }])],
      groups: ['DX'],
    },
    kept: { 'DX4[DX]': ['DX4.dx'] },
    check: (r) => assert.is(r.warnings.length, 1),
  },
  {
    name: 'S8.2 an SR object whose SOP class the PACS did not return may be the dose report: the SR series replaces the images (qrscu decision; OpenREM: a non-dose object)',
    setup: {
      rows: [study('DX5', ['DX', 'SR'], [{ uid: 'DX5.dx', modality: 'DX', images: [{ uid: 'DX5.dx.1', sopClass: DX_IMAGE }] }, { uid: 'DX5.sr', modality: 'SR', images: [{ uid: 'DX5.sr.1', sopClass: '' }] }])],
      groups: ['DX'],
      options: { flags: { emptySr: true } },
    },
    kept: { 'DX5[DX]': ['DX5.sr'] },
    reasons: [['DX5.sr', 'DX', 'projection/srCheck/class-not-returned', 'the PACS returned no SOPClassUID at image level']],
  },
  // ---- S8.3 FL ---------------------------------------------------------------------------------
  {
    name: 'S8.3 FL: the SR check always runs; RDSR (Philips Allura, instance 65533) replaces the images',
    setup: {
      rows: [study('FL1', ['XA'], [
        { uid: 'FL1.xa', modality: 'XA', description: 'Coro', count: 40, images: [{ uid: 'FL1.xa.1', sopClass: XA_IMAGE }] },
        rdsrSeries('FL1.rdsr', 'Radiation Dose Information', 65533),
      ])],
      groups: ['FL'],
    },
    kept: { 'FL1[FL]': ['FL1.rdsr'] },
    imageQueries: 1,
  },
  {
    name: 'S8.3 FL with only an ESR (Siemens Arcadis "Radiation Summary Report"): the ESR is kept',
    setup: { rows: [study('FL2', ['RF', 'SR'], [{ uid: 'FL2.rf', modality: 'RF', images: [] }, esrSeries('FL2.esr', 'Radiation Summary Report')])], groups: ['FL'] },
    kept: { 'FL2[FL]': ['FL2.esr'] },
  },
  {
    name: 'S8.3 FL without a dose SR: the study is dropped',
    setup: { rows: [study('FL3', ['RF'], [{ uid: 'FL3.rf', modality: 'RF', images: [] }])], groups: ['FL'] },
    kept: {},
    reasons: [['FL3', 'FL', 'no-dose-sr', 'No usable SR in study']],
  },
  // ---- S8.4 CT ---------------------------------------------------------------------------------
  {
    name: 'S8.4 CT with Siemens cumulative RDSRs (three SR series): all three kept, images dropped',
    setup: {
      rows: [study('CT1', ['CT', 'SR'], [ctImages('CT1.ct'), rdsrSeries('CT1.m1'), rdsrSeries('CT1.m2'), rdsrSeries('CT1.m3')])],
      groups: ['CT'],
    },
    kept: { 'CT1[CT]': ['CT1.m1', 'CT1.m2', 'CT1.m3'] },
    imageQueries: 3,
    reasons: [['CT1.ct', 'CT', 'images-replaced', 'dose SR']],
  },
  {
    name: 'Q4 CT study listed as CT only, descriptions, no dose info, but an RDSR series: kept by its RDSR, not dropped',
    setup: { rows: [study('CT8', ['CT'], [ctImages('CT8.ct'), rdsrSeries('CT8.rdsr', 'Dose Report')])], groups: ['CT'] },
    kept: { 'CT8[CT]': ['CT8.rdsr'] },
    imageQueries: 1,
    reasons: [['CT8.rdsr', 'CT', 'srCheck/dose-sr', 'dose report']],
  },
  {
    name: 'Q14 Toshiba step with a non-dose SR series left over: it is sampled too, its first object moved at image level',
    setup: {
      rows: [study('T3', ['CT', 'SR'], [
        { uid: 'T3.ct', modality: 'CT', description: 'Body', images: [{ uid: 'T3.ct.1', sopClass: CT_IMAGE }] },
        { uid: 'T3.txt', modality: 'SR', description: 'Report', images: [{ uid: 'T3.txt.1', sopClass: BASIC_TEXT_SR }, { uid: 'T3.txt.2', sopClass: BASIC_TEXT_SR }] },
      ])],
      groups: ['CT'],
      options: { flags: { toshiba: true } },
    },
    kept: { 'T3[CT]': ['T3.ct:IMAGE', 'T3.txt:IMAGE'] },
    moves: ['IMAGE T3/T3.ct/T3.ct.1', 'IMAGE T3/T3.txt/T3.txt.1'],
    imageQueries: 3,
  },
  {
    name: 'S8.4 CT with a GE Enhanced SR "Dose Record" and a non-dose Comprehensive SR: ESR kept',
    setup: {
      rows: [study('CT2', ['CT', 'SR'], [ctImages('CT2.ct'), esrSeries('CT2.esr'), { uid: 'CT2.cmp', modality: 'SR', description: 'Findings', images: [{ uid: 'CT2.cmp.1', sopClass: COMPREHENSIVE_SR }] }])],
      groups: ['CT'],
    },
    kept: { 'CT2[CT]': ['CT2.esr'] },
  },
  {
    name: 'S8.4/#972 CT with an SR series holding an RDSR and a Basic Text SR: only the RDSR image moves',
    setup: {
      rows: [study('CT3', ['CT', 'SR'], [ctImages('CT3.ct'), { uid: 'CT3.mix', modality: 'SR', images: [{ uid: 'CT3.mix.1', sopClass: BASIC_TEXT_SR }, { uid: 'CT3.mix.2', sopClass: RDSR }] }])],
      groups: ['CT'],
    },
    kept: { 'CT3[CT]': ['CT3.mix:IMAGE'] },
    moves: ['IMAGE CT3/CT3.mix/CT3.mix.2'],
  },
  {
    name: 'S8.4 CT Philips "Dose Info" (exact after trim, any case; Modality CT or SC): other series dropped',
    setup: {
      rows: [
        study('CT4', ['CT'], [ctImages('CT4.ct'), { uid: 'CT4.di', modality: 'CT', description: '  DOSE INFO ', count: 1, images: [{ uid: 'CT4.di.1', sopClass: SC }] }, { uid: 'CT4.dinf', modality: 'SC', description: 'Dose Information', images: [] }]),
        study('CT5', ['CT'], [ctImages('CT5.ct'), { uid: 'CT5.di', modality: 'SC', description: 'Dose Info', count: 1, images: [{ uid: 'CT5.di.1', sopClass: SC }] }]),
      ],
      groups: ['CT'],
    },
    kept: { 'CT4[CT]': ['CT4.di'], 'CT5[CT]': ['CT5.di'] },
    imageQueries: 0,
    reasons: [['CT4.dinf', 'CT', 'not-dose-screen', 'dose-screen series'], ['CT4.di', 'CT', 'dose-screen', 'moved whole']],
  },
  {
    name: 'S8.4 CT with descriptions, no dose info, no SR, toshiba off: study dropped; "Dose Info 2" does not match',
    setup: { rows: [study('CT6', ['CT'], [ctImages('CT6.ct'), { uid: 'CT6.x', modality: 'CT', description: 'Dose Info 2', count: 1, images: [] }])], groups: ['CT'] },
    kept: {},
    reasons: [['CT6', 'CT', 'no-usable-information', 'Found no usable information']],
  },
  {
    name: 'S8.4/Q7 CT without any description, toshiba off: > 5 images dropped, <= 5 kept, unknown count kept and flagged',
    setup: {
      rows: [study('CT7', ['CT'], [
        ctImages('CT7.big', 250, null),
        { uid: 'CT7.small', modality: 'CT', description: null, count: 2, images: [] },
        { uid: 'CT7.unknown', modality: 'CT', description: '   ', count: null, images: [] },
      ])],
      groups: ['CT'],
    },
    kept: { 'CT7[CT]': ['CT7.small', 'CT7.unknown'] },
    moves: ['SERIES CT7/CT7.small', 'SERIES CT7/CT7.unknown'],
    reasons: [
      ['CT7.big', 'CT', 'many-images', 'more than 5 images'],
      ['CT7.small', 'CT', 'few-images', '5 images or fewer'],
      ['CT7.unknown', 'CT', 'unknown-count', 'image count unknown: kept'],
    ],
    check: (r) => assert.match(r.studies[0].series[2].notes[0], 'NumberOfSeriesRelatedInstances not returned'),
  },
  // ---- S8.5 Toshiba ----------------------------------------------------------------------------
  {
    name: 'S8.5 Toshiba step: SC first image moves whole, other first image alone at IMAGE level, nothing at 1 or 0 dropped, retry with 0',
    setup: {
      rows: [study('T1', ['CT'], [
        { uid: 'T1.sc', modality: 'CT', description: 'Dose', images: [{ uid: 'T1.sc.1', sopClass: SC }, { uid: 'T1.sc.2', sopClass: SC }] },
        { uid: 'T1.ct', modality: 'CT', description: 'Body 5.0', images: [{ uid: 'T1.ct.1', sopClass: CT_IMAGE }, { uid: 'T1.ct.2', sopClass: CT_IMAGE }] },
        { uid: 'T1.none', modality: 'CT', description: 'Scout', images: [{ uid: 'T1.none.4', sopClass: CT_IMAGE, instance: 4 }] },
        { uid: 'T1.zero', modality: 'CT', description: 'Body 1.0', images: [{ uid: 'T1.zero.0', sopClass: MF_SC, instance: 0 }, { uid: 'T1.zero.1x', sopClass: MF_SC, instance: 7 }] },
      ])],
      groups: ['CT'],
      options: { flags: { toshiba: true } },
    },
    kept: { 'T1[CT]': ['T1.sc', 'T1.ct:IMAGE', 'T1.zero:IMAGE'] },
    moves: ['SERIES T1/T1.sc', 'IMAGE T1/T1.ct/T1.ct.1', 'IMAGE T1/T1.zero/T1.zero.0'],
    imageQueries: 6,
    reasons: [
      ['T1.none', 'CT', 'firstImage/no-first-image', 'InstanceNumber 1, then 0'],
      ['T1.sc', 'CT', 'firstImage/secondary-capture', 'Secondary Capture'],
      ['T1.zero', 'CT', 'firstImage/first-only', 'first image only'],
    ],
    check: (_r, log) => {
      assert.equal(log.filter((e) => e.series === 'T1.zero').map((e) => e.instanceNumber), [1, 0]);
    },
  },
  {
    name: 'S8.5 Toshiba on and a Philips dose info series: the dose info wins, no probe',
    setup: {
      rows: [study('T2', ['CT'], [ctImages('T2.ct'), { uid: 'T2.di', modality: 'CT', description: 'Dose Info', count: 1, images: [{ uid: 'T2.di.1', sopClass: SC }] }])],
      groups: ['CT'],
      options: { flags: { toshiba: true } },
    },
    kept: { 'T2[CT]': ['T2.di'] },
    imageQueries: 0,
  },
  // ---- S8.6 NM ---------------------------------------------------------------------------------
  {
    name: 'S8.6 NM with RRDSR and PET: RRDSR kept, PET first image only, NM series not examined dropped',
    setup: {
      rows: [study('NM1', ['NM', 'PT', 'SR'], [
        { uid: 'NM1.rrdsr', modality: 'SR', description: 'PET Dose Report SR', images: [{ uid: 'NM1.rrdsr.1', sopClass: RRDSR }] },
        { uid: 'NM1.pet', modality: 'PT', description: 'PET AC', images: [{ uid: 'NM1.pet.1', sopClass: PET }, { uid: 'NM1.pet.2', sopClass: PET }] },
        { uid: 'NM1.nm', modality: 'NM', description: 'GK früh', images: [{ uid: 'NM1.nm.0', sopClass: NM_IMAGE, instance: 0 }] },
      ])],
      groups: ['NM'],
    },
    kept: { 'NM1[NM]': ['NM1.rrdsr', 'NM1.pet:IMAGE'] },
    moves: ['SERIES NM1/NM1.rrdsr', 'IMAGE NM1/NM1.pet/NM1.pet.1'],
    imageQueries: 2,
    reasons: [['NM1.nm', 'NM', 'not-nm-dose', 'not examined']],
  },
  {
    name: 'S8.6/Q8 NM images only: the first NM series is kept, moved by its first image (instance 0 via the retry)',
    setup: {
      rows: [study('NM2', ['NM'], [
        { uid: 'NM2.a', modality: 'NM', description: 'GK früh', images: [{ uid: 'NM2.a.0', sopClass: NM_IMAGE, instance: 0 }, { uid: 'NM2.a.1x', sopClass: NM_IMAGE, instance: 5 }] },
        { uid: 'NM2.b', modality: 'NM', description: 'GK spät', images: [{ uid: 'NM2.b.1', sopClass: NM_IMAGE }] },
        { uid: 'NM2.ct', modality: 'CT', description: 'AC CT', images: [{ uid: 'NM2.ct.1', sopClass: CT_IMAGE }] },
      ])],
      groups: ['NM'],
    },
    kept: { 'NM2[NM]': ['NM2.a:IMAGE'] },
    moves: ['IMAGE NM2/NM2.a/NM2.a.0'],
    imageQueries: 3,
    reasons: [['NM2.b', 'NM', 'first-nm-series', 'only the first NM image series'], ['NM2.a', 'NM', 'nm-first-image', 'Q8']],
  },
  {
    name: 'S8.6/Q19 NM study with no dose object: dropped as empty',
    setup: { rows: [study('NM3', ['PT'], [{ uid: 'NM3.pt', modality: 'PT', images: [{ uid: 'NM3.pt.313', sopClass: PET, instance: 313 }] }])], groups: ['NM'] },
    kept: {},
    reasons: [['NM3', 'selection', 'empty', 'There are no series left']],
  },
  // ---- Q5, no branch -----------------------------------------------------------------------------
  {
    name: 'Q5 branch precedence: a CT+DX study with both selected gets the DX rules (rule-file order)',
    setup: {
      rows: [study('P1', ['CT', 'DX'], [ctImages('P1.ct'), { uid: 'P1.dx', modality: 'DX', images: [{ uid: 'P1.dx.1', sopClass: DX_IMAGE }] }])],
      groups: ['CT', 'DX'],
    },
    kept: { 'P1[DX]': ['P1.ct', 'P1.dx'] },
    reasons: [['P1', 'DX', 'applies', 'DX selected']],
  },
  {
    name: 'no branch applies (study lists no selected code, PACS honoured the key): kept with all its series',
    setup: { rows: [study('N1', ['OT'], [{ uid: 'N1.ot', modality: 'OT', images: [] }])], groups: ['CT'] },
    kept: { 'N1[-]': ['N1.ot'] },
    reasons: [['N1', 'selection', 'branch', 'no branch applies']],
  },
  // ---- Q19/Q20 -------------------------------------------------------------------------------------
  {
    name: 'Q20 responses without unique keys are skipped with a warning; the run goes on',
    setup: {
      rows: [study('U1', ['CT', 'SR'], [{ uid: '', modality: 'SR', images: [] }, { uid: 'U1.sr', modality: 'SR', images: [{ uid: '', sopClass: RDSR }, { uid: 'U1.sr.2', sopClass: RDSR }] }])],
      responses: [studyResponse(study('', ['CT'], [])), studyResponse(study('U1', ['CT', 'SR'], []))],
      groups: ['CT'],
    },
    kept: { 'U1[CT]': ['U1.sr'] },
    check: (r) => {
      assert.is(r.studies.length, 1);
      assert.is(r.warnings.length, 3);
      assert.match(r.warnings[0], 'without StudyInstanceUID');
      assert.match(r.warnings[1], 'without SeriesInstanceUID');
      assert.match(r.warnings[2], 'without SOPInstanceUID');
    },
  },
  // ---- 3.2 duplicates (Q9-Q11) -------------------------------------------------------------------
  {
    name: 'Q9-Q11 held study: Siemens cumulative RDSRs, only the new ones move; answers reused from the SR check',
    setup: {
      rows: [study('H1', ['CT', 'SR'], [ctImages('H1.ct'), rdsrSeries('H1.m1'), rdsrSeries('H1.m2'), rdsrSeries('H1.m3')])],
      groups: ['CT'],
      held: { H1: ['H1.m1.1'] },
    },
    kept: { 'H1[CT]': ['H1.m2', 'H1.m3'] },
    imageQueries: 3,
    reasons: [['H1.m1', 'duplicates', 'held', 'all 1 instances already held'], ['H1.m2', 'duplicates', 'held', 'none of its 1 instances held']],
  },
  {
    name: 'Q9 held DX study, series partly held: only the missing instances move, at image level',
    setup: {
      rows: [study('H2', ['DX'], [{ uid: 'H2.dx', modality: 'DX', description: 'Abdomen', images: [
        { uid: 'H2.dx.20', sopClass: DX_PROCESSING, instance: 1 }, { uid: 'H2.dx.26', sopClass: DX_PROCESSING, instance: 2 }, { uid: 'H2.dx.28', sopClass: DX_PROCESSING, instance: 3 },
      ] }])],
      groups: ['DX'],
      held: { H2: ['H2.dx.20'] },
    },
    kept: { 'H2[DX]': ['H2.dx:IMAGE'] },
    moves: ['IMAGE H2/H2.dx/H2.dx.26', 'IMAGE H2/H2.dx/H2.dx.28'],
    imageQueries: 1,
    reasons: [['H2.dx', 'duplicates', 'held', '2 of 3 instances not held yet']],
  },
  {
    name: 'Q10 held study, NewTom PX series starting at instance 4: compared like any other, moved whole when new',
    setup: {
      rows: [study('H3', ['PX'], [{ uid: 'H3.px', modality: 'PX', images: [{ uid: 'H3.px.4', sopClass: DX_IMAGE, instance: 4 }] }, { uid: 'H3.old', modality: 'PX', images: [{ uid: 'H3.old.1', sopClass: DX_IMAGE }] }])],
      groups: ['DX'],
      held: { H3: ['H3.old.1'] },
    },
    kept: { 'H3[DX]': ['H3.px'] },
    moves: ['SERIES H3/H3.px'],
  },
  {
    name: 'Q11 held CT study: the Philips dose info series is compared, not dropped; a series answering nothing moves whole',
    setup: {
      rows: [
        study('H4', ['CT'], [ctImages('H4.ct'), { uid: 'H4.di', modality: 'CT', description: 'Dose Info', count: 1, images: [{ uid: 'H4.di.1', sopClass: SC }] }]),
        study('H5', ['CT', 'SR'], [{ uid: 'H5.sr', modality: 'SR', count: 1, images: [] }]),
      ],
      groups: ['CT'],
      held: { H4: ['H4.other'], H5: ['H5.x'] },
      options: { flags: { emptySr: true } },
    },
    kept: { 'H4[CT]': ['H4.di'], 'H5[CT]': ['H5.sr'] },
    reasons: [['H5.sr', 'duplicates', 'held', 'answers nothing at image level: moved whole at series level']],
  },
  {
    name: 'held study with everything held: dropped; Toshiba image-level series whose first image is held is dropped',
    setup: {
      rows: [
        study('H6', ['CT', 'SR'], [rdsrSeries('H6.sr')]),
        study('H7', ['CT'], [{ uid: 'H7.ct', modality: 'CT', description: 'Body', images: [{ uid: 'H7.ct.1', sopClass: CT_IMAGE }] }]),
      ],
      groups: ['CT'],
      held: { H6: ['H6.sr.1'], H7: ['H7.ct.1'] },
      options: { flags: { toshiba: true } },
    },
    kept: {},
    reasons: [
      ['H6', 'duplicates', 'all-held', 'already held'],
      ['H7.ct', 'duplicates', 'held', 'all 1 selected instances already held'],
    ],
  },
  {
    name: 'duplicates: a study not held and a run with -dup (removeDuplicates false) make no image query',
    setup: {
      rows: [study('H8', ['DX'], [{ uid: 'H8.dx', modality: 'DX', images: [{ uid: 'H8.dx.1', sopClass: DX_IMAGE }] }])],
      groups: ['DX'],
      held: { OTHER: ['x'] },
    },
    kept: { 'H8[DX]': ['H8.dx'] },
    imageQueries: 0,
  },
  {
    name: '-dup: removeDuplicates false, the held objects are retrieved again',
    setup: {
      rows: [study('H9', ['DX'], [{ uid: 'H9.dx', modality: 'DX', images: [{ uid: 'H9.dx.1', sopClass: DX_IMAGE }] }])],
      groups: ['DX'],
      held: { H9: ['H9.dx.1'] },
      options: { removeDuplicates: false },
    },
    kept: { 'H9[DX]': ['H9.dx'] },
    imageQueries: 0,
  },
];

for (const c of cases) {
  test(c.name, async () => {
    const { result, log } = await runRules(c.setup);
    assert.equal(keptSets(result), c.kept, 'kept sets');
    if (c.moves !== undefined) assert.equal(moveList(result), c.moves, 'moves');
    if (c.imageQueries !== undefined) {
      assert.is(result.imageQueries, c.imageQueries, 'image queries');
      assert.is(log.filter((e) => e.level === 'IMAGE').length, c.imageQueries, 'image queries seen by the port');
    }
    if (c.seriesQueries !== undefined) assert.is(result.seriesQueries, c.seriesQueries, 'series queries');
    for (const [uid, branch, step, reason] of c.reasons ?? []) {
      const d = verdict(result, uid) ?? studyVerdict(result, uid);
      assert.ok(d, `a decision for ${uid}`);
      assert.is(d?.branch, branch, `branch deciding ${uid}`);
      assert.is(d?.step, step, `step deciding ${uid}`);
      assert.match(d?.reason ?? '', reason, `reason for ${uid}`);
      assert.ok(d?.source && /^[a-z-]+\.json#\//.test(d.source), `source of ${uid}: ${d?.source}`);
    }
    c.check?.(result, log);
    // Every move belongs to a kept series of a kept study, and the result is plain JSON.
    assert.equal(JSON.parse(JSON.stringify(result)), result);
  });
}

test('compiled expressions decide exactly as json-logic-js interprets them (every case above)', async () => {
  for (const c of cases) {
    const compiled = await runRules(c.setup);
    const previous = setEvaluationMode('interpreted');
    try {
      const interpreted = await runRules(c.setup);
      assert.equal(JSON.parse(JSON.stringify(compiled.result)), JSON.parse(JSON.stringify(interpreted.result)), c.name);
    } finally {
      setEvaluationMode(previous);
    }
  }
});

test('several studies at a time (concurrency 3): the same result as one at a time', async () => {
  const rows = cases.flatMap((c) => (c.setup.responses === undefined && c.setup.held === undefined && c.setup.groups.includes('CT') ? c.setup.rows : []));
  const one = await runRules({ rows, groups: ['CT'] });
  const three = await runRules({ rows, groups: ['CT'], concurrency: 3 });
  assert.ok(one.result.studies.length > 10);
  assert.equal(JSON.parse(JSON.stringify(three.result)), JSON.parse(JSON.stringify(one.result)));
  assert.is(three.log.length, one.log.length);
});

test.run();
