// The synthetic dose data generator: deterministic bytes per seed, every kind of study, files our
// decoder and dcmtk's dcmdump read without a warning, names that round-trip in every character set,
// a manifest that matches the files, and the retrieval OpenREM's rules expect for each kind.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { getString, getNumber, readPart10 } from '../../src/dicom/index.js';
import { DicomError } from '../../src/errors.js';
import { StorageClass } from '../../src/pacs/generate-content.js';
import {
  DOSE_KINDS, buildDoseStudy, describeManifest, expectedMoves, generateDoseDataset, type DoseKind, type Manifest, type ManifestStudy,
} from '../../src/pacs/generate.js';
import { requireProgram } from '../support/live.js';
import { startOrthanc } from '../support/pacs.js';

const test = suite('pacs generate');
const DCMDUMP = requireProgram('dcmdump');
const live = DCMDUMP !== undefined ? test : test.skip;
const liveOrthanc = requireProgram('Orthanc') !== undefined ? test : test.skip;

const N_KINDS = DOSE_KINDS.length;
const BIG = 500;
let root = '';
let big: Manifest;
let bigDir = '';
let bigMs = 0;

test.before(async () => {
  root = mkdtempSync(join(tmpdir(), 'qrscu-generate-'));
  bigDir = join(root, 'big');
  const t0 = performance.now();
  big = await generateDoseDataset({ directory: bigDir, studies: BIG, seed: 'bench' });
  bigMs = performance.now() - t0;
});

test.after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Every file under `dir`, as '/'-separated paths relative to it, sorted. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

const byKind = (studies: readonly ManifestStudy[], kind: DoseKind): ManifestStudy => studies.find((s) => s.kind === kind)!;

test(`${BIG} studies are generated in reasonable time`, () => {
  assert.is(big.studies.length, BIG);
  process.stderr.write(`generate: ${BIG} studies, ${big.fileCount} files in ${bigMs.toFixed(0)} ms\n`);
  assert.ok(bigMs < 60_000, `${bigMs} ms`);
  const summary = describeManifest(big, 'DIR');
  assert.is(summary[0], `wrote ${BIG} studies, ${big.fileCount} files and manifest.json to DIR (seed "bench")`);
  assert.ok(summary[1]!.startsWith('kinds: ct-rdsr 36, ct-esr 36,'), summary[1]);
  assert.ok(summary[2]!.startsWith('character sets: ISO_IR 100 167, ISO_IR 192 167, (default) 166'), summary[2]);
});

test('the same seed gives the same bytes; another seed other UIDs; study i does not depend on N', async () => {
  const a = join(root, 'a');
  const b = join(root, 'b');
  const c = join(root, 'c');
  const ma = await generateDoseDataset({ directory: a, studies: N_KINDS * 2, seed: 7 });
  const mb = await generateDoseDataset({ directory: b, studies: N_KINDS * 2, seed: '7' });
  const mc = await generateDoseDataset({ directory: c, studies: N_KINDS * 2, seed: 8 });
  assert.equal(ma, mb);
  const files = listFiles(a);
  assert.equal(files, listFiles(b));
  for (const f of files) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
  const uids = (m: Manifest): Set<string> => new Set(m.studies.flatMap((s) => [s.studyInstanceUid, ...s.series.flatMap((x) => [x.seriesInstanceUid, ...x.instances.map((i) => i.sopInstanceUid)])]));
  const ua = uids(ma);
  const uc = uids(mc);
  assert.is([...ua].filter((u) => uc.has(u)).length, 0, 'no UID shared between seeds');
  // The same study index in a run of another size is the same study, byte for byte.
  const bench = await generateDoseDataset({ directory: join(root, 'small'), studies: 3, seed: 'bench' });
  assert.equal(bench.studies, big.studies.slice(0, 3));
  for (const f of listFiles(join(root, 'small')).filter((x) => x.endsWith('.dcm'))) {
    assert.ok(readFileSync(join(root, 'small', f)).equals(readFileSync(join(bigDir, f))), f);
  }
  const one = buildDoseStudy('bench', 4);
  assert.equal(one.study, big.studies[4]);
  for (const [f, bytes] of one.files) assert.ok(bytes.equals(readFileSync(join(bigDir, f))), f);
});

test('UIDs are valid UIDs under 2.25 and unique', () => {
  const all = big.studies.flatMap((s) => [s.studyInstanceUid, ...s.series.flatMap((x) => [x.seriesInstanceUid, ...x.instances.map((i) => i.sopInstanceUid)])]);
  for (const u of all) assert.ok(/^2\.25\.(0|[1-9][0-9]*)$/.test(u) && u.length <= 64, u);
  assert.is(new Set(all).size, all.length);
});

test('every kind appears once in the first N_KINDS studies, with the series it promises', () => {
  const first = big.studies.slice(0, N_KINDS);
  assert.equal(first.map((s) => s.kind).sort(), [...DOSE_KINDS].sort());
  const classes = (s: ManifestStudy): string[] => s.series.map((x) => `${x.modality}:${x.sopClassUid}`).sort();
  const m = first;
  assert.equal(classes(byKind(m, 'ct-rdsr')), [`CT:${StorageClass.ct}`, `SR:${StorageClass.xrayDoseSr}`]);
  assert.equal(classes(byKind(m, 'ct-esr')), [`CT:${StorageClass.ct}`, `SR:${StorageClass.enhancedSr}`]);
  assert.equal(classes(byKind(m, 'ct-non-dose-sr')), [`CT:${StorageClass.ct}`, `SR:${StorageClass.comprehensiveSr}`]);
  assert.equal(classes(byKind(m, 'mg-rdsr')), [`MG:${StorageClass.mgPresentation}`, `SR:${StorageClass.xrayDoseSr}`]);
  assert.equal(classes(byKind(m, 'mg-no-rdsr')), [`MG:${StorageClass.mgPresentation}`]);
  assert.equal(classes(byKind(m, 'dx-rdsr')), [`DX:${StorageClass.dxPresentation}`, `SR:${StorageClass.xrayDoseSr}`]);
  assert.equal(classes(byKind(m, 'cr-no-sr')), [`CR:${StorageClass.cr}`]);
  assert.equal(classes(byKind(m, 'rf-rdsr')), [`RF:${StorageClass.rf}`, `SR:${StorageClass.xrayDoseSr}`]);
  assert.equal(classes(byKind(m, 'xa-rdsr')), [`SR:${StorageClass.xrayDoseSr}`, `XA:${StorageClass.xa}`]);
  assert.equal(classes(byKind(m, 'nm-rrdsr')), [`NM:${StorageClass.nm}`, `SR:${StorageClass.radiopharmaceuticalDoseSr}`]);
  assert.equal(classes(byKind(m, 'pet-rrdsr')), [`PT:${StorageClass.pet}`, `SR:${StorageClass.radiopharmaceuticalDoseSr}`]);
  assert.equal(classes(byKind(m, 'sr-only')), [`SR:${StorageClass.xrayDoseSr}`]);
  const philips = byKind(m, 'philips-dose-info');
  assert.ok(philips.series.some((x) => x.modality === 'CT' && x.description === 'Dose Info' && x.sopClassUid === StorageClass.secondaryCapture));
  const toshiba = byKind(m, 'toshiba-no-sr');
  assert.equal(toshiba.modalities, ['CT']);
  assert.ok(toshiba.series.some((x) => x.sopClassUid === StorageClass.secondaryCapture && x.instances.length === 1));
  assert.ok(toshiba.series.some((x) => x.sopClassUid === StorageClass.ct && x.instances.length > 5));
  for (const s of first) assert.equal(s.modalities, [...new Set(s.series.map((x) => x.modality))].sort());
});

test('descriptions, stations, dates, times and character sets vary', () => {
  const imported = big.studies.filter((s) => /imported/i.test(s.description));
  assert.ok(imported.length >= BIG / 10, `${imported.length} "imported" studies`);
  assert.ok(big.studies.slice(0, N_KINDS).filter((s) => /imported/i.test(s.description)).length >= 2);
  assert.ok(new Set(big.studies.map((s) => s.station)).size >= 15);
  assert.ok(new Set(big.studies.map((s) => s.date)).size >= 20);
  assert.ok(new Set(big.studies.map((s) => s.time)).size >= 100);
  assert.equal([...new Set(big.studies.slice(0, 3).map((s) => s.characterSet))].sort(), ['', 'ISO_IR 100', 'ISO_IR 192']);
  for (const s of big.studies) {
    // Defaults: 30 days from 2024-01-01.
    assert.ok(s.date >= '20240101' && s.date <= '20240130' && /^\d{8}$/.test(s.date), s.date);
    assert.ok(/^(0[7-9]|1\d)\d{4}$/.test(s.time), s.time);
  }
  const names = new Set(big.studies.map((s) => s.patientName));
  for (const n of ['SYNTHETIC^Zoë', 'ΣΥΝΘΕΤΙΚΟΣ^Νίκος', 'СИНТЕТИКОВ^Иван', 'GOSEI^TARO=合成^太郎']) assert.ok(names.has(n), n);
});

test('options are checked', async () => {
  const bad = [
    { studies: 0 }, { studies: 1.5 }, { studies: 100_001 }, { startDate: '2024-02-30' }, { startDate: 'yesterday' }, { days: 0 },
  ];
  for (const b of bad) {
    try {
      await generateDoseDataset({ directory: join(root, 'never'), studies: 1, seed: 1, ...b });
      assert.unreachable(JSON.stringify(b));
    } catch (err) {
      assert.instance(err, DicomError);
      assert.is((err as DicomError).code, 'ERR_USAGE', JSON.stringify(b));
    }
  }
  const m = await generateDoseDataset({ directory: join(root, 'dates'), studies: 20, seed: 1, startDate: '20230615', days: 1 });
  assert.equal([...new Set(m.studies.map((s) => s.date))], ['20230615']);
});

test('the manifest lists exactly the files written, and manifest.json is the manifest', () => {
  const files = listFiles(bigDir);
  const listed = big.studies.flatMap((s) => s.series.flatMap((x) => x.instances.map((i) => i.file)));
  assert.is(listed.length, big.fileCount);
  assert.equal([...listed, 'manifest.json'].sort(), files);
  assert.equal(JSON.parse(readFileSync(join(bigDir, 'manifest.json'), 'utf8')), JSON.parse(JSON.stringify(big)));
});

test('every file decodes without warnings and says what the manifest says', () => {
  for (const s of big.studies) {
    for (const x of s.series) {
      for (const i of x.instances) {
        const f = readPart10(readFileSync(join(bigDir, i.file)));
        assert.equal(f.warnings, [], i.file);
        const ds = f.dataset;
        assert.is(getString(f.meta, 'MediaStorageSOPClassUID'), i.sopClassUid);
        assert.is(getString(f.meta, 'TransferSyntaxUID'), '1.2.840.10008.1.2.1');
        assert.is(getString(ds, 'SOPClassUID'), i.sopClassUid);
        assert.is(getString(ds, 'SOPInstanceUID'), i.sopInstanceUid);
        assert.is(getNumber(ds, 'InstanceNumber'), i.instanceNumber);
        assert.is(getString(ds, 'SeriesInstanceUID'), x.seriesInstanceUid);
        assert.is(getNumber(ds, 'SeriesNumber'), x.seriesNumber);
        assert.is(getString(ds, 'Modality'), x.modality);
        assert.is(getString(ds, 'SeriesDescription'), x.description);
        assert.is(getString(ds, 'StudyInstanceUID'), s.studyInstanceUid);
        assert.is(getString(ds, 'StudyDescription'), s.description);
        assert.is(getString(ds, 'StationName'), s.station);
        assert.is(getString(ds, 'StudyDate'), s.date);
        assert.is(getString(ds, 'StudyTime'), s.time);
        assert.is(getString(ds, 'SpecificCharacterSet'), s.characterSet === '' ? undefined : s.characterSet);
        // Character sets round-trip: the name read back is the name written.
        assert.is(getString(ds, 'PatientName'), s.patientName);
        if (x.modality === 'SR') {
          assert.is(getString(ds, 'ValueType'), 'CONTAINER');
          assert.ok(ds.elements.has(0x0040a730), 'ContentSequence');
        } else {
          const rows = getNumber(ds, 'Rows')!;
          const columns = getNumber(ds, 'Columns')!;
          assert.ok(rows >= 2 && rows <= 8 && columns >= 2 && columns <= 8, `${rows}x${columns}`);
          assert.is(getNumber(ds, 'BitsAllocated'), 16);
          assert.is(ds.elements.get(0x7fe00010)!.value.length, rows * columns * 2);
        }
      }
    }
  }
});

test('SR roots: X-ray dose reports are TID 10001/10011 "X-Ray Radiation Dose Report"', () => {
  const root113701 = (file: string): string | undefined => {
    const ds = readPart10(readFileSync(join(bigDir, file))).dataset;
    const concept = ds.elements.get(0x0040a043)!.items![0]!;
    return getString(concept, 'CodeValue');
  };
  for (const s of big.studies.slice(0, N_KINDS)) {
    for (const x of s.series.filter((y) => y.modality === 'SR')) {
      const code = root113701(x.instances[0]!.file);
      if (x.sopClassUid === StorageClass.xrayDoseSr || x.sopClassUid === StorageClass.enhancedSr) assert.is(code, '113701', s.kind);
      if (x.sopClassUid === StorageClass.radiopharmaceuticalDoseSr) assert.is(code, '113500', s.kind);
      if (x.sopClassUid === StorageClass.comprehensiveSr) assert.is(code, '18748-4', s.kind);
    }
  }
});

/** dcmdump over many files per call; its "W:"/"E:"/"F:" lines, and its output (UTF-8 with +U8). */
function dcmdump(files: readonly string[], extra: readonly string[] = []): { diagnostics: string[]; stdout: string } {
  const out = join(root, 'dcmdump.out');
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync(DCMDUMP!, ['+F', ...extra, ...files], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.is(r.status, 0, r.stderr);
    const stdout = readFileSync(out, 'utf8');
    return { diagnostics: `${r.stderr}\n${stdout}`.split('\n').filter((l) => /^[WEF]: /.test(l)), stdout };
  } finally {
    closeSync(fd);
  }
}

live('dcmdump prints no warning or error for any file', () => {
  const files = big.studies.flatMap((s) => s.series.flatMap((x) => x.instances.map((i) => join(bigDir, i.file))));
  for (let i = 0; i < files.length; i += 400) {
    const run = dcmdump(files.slice(i, i + 400));
    assert.equal(run.diagnostics, [], `files ${i}..${i + 400}`);
  }
});

live('dcmdump +U8 reads every patient name in every character set as written', () => {
  const seen = new Map<string, string>();
  for (const s of big.studies) if (!seen.has(s.patientName)) seen.set(s.patientName, s.series[0]!.instances[0]!.file);
  const run = dcmdump([...seen.values()].map((f) => join(bigDir, f)), ['+U8', '+P', 'PatientName']);
  assert.equal(run.diagnostics, []);
  const printed = run.stdout.split('\n').map((l) => /^\(0010,0010\) PN \[(.*)\]/.exec(l)?.[1]).filter((x): x is string => x !== undefined);
  assert.equal(printed, [...seen.keys()]);
});

liveOrthanc('Orthanc stores every kind and reads back names and descriptions in every character set', async () => {
  const studies = big.studies.slice(0, N_KINDS * 2);
  const files = studies.flatMap((s) => s.series.flatMap((x) => x.instances.map((i) => join(bigDir, i.file))));
  const orthanc = await startOrthanc({ files });
  try {
    const rsp = await orthanc.rest('/studies?expand');
    assert.ok(rsp.ok, String(rsp.status));
    type Stored = { MainDicomTags: Record<string, string>; PatientMainDicomTags: Record<string, string>; Series: string[] };
    const stored = new Map(((await rsp.json()) as Stored[]).map((s) => [s.MainDicomTags.StudyInstanceUID!, s]));
    assert.is(stored.size, studies.length);
    for (const s of studies) {
      const o = stored.get(s.studyInstanceUid);
      assert.ok(o, s.kind);
      assert.is(o!.PatientMainDicomTags.PatientName, s.patientName, s.kind);
      assert.is(o!.MainDicomTags.StudyDescription, s.description, s.kind);
      assert.is(o!.Series.length, s.series.length, s.kind);
    }
  } finally {
    await orthanc.stop();
  }
});

test('expected retrieval per kind follows the behaviour reference (§3, §9)', () => {
  const m = big.studies.slice(0, N_KINDS);
  const moved = (kind: DoseKind, profile: keyof ManifestStudy['expected']): string[] => {
    const s = byKind(m, kind);
    return s.expected[profile].map((e) => {
      const x = s.series.find((y) => y.seriesInstanceUid === e.seriesInstanceUid)!;
      return `${e.level}:${x.modality}:${x.description}:${e.sopInstanceUids.length}`;
    });
  };
  const srOf = (kind: DoseKind): string => {
    const x = byKind(m, kind).series.find((y) => y.modality === 'SR')!;
    return `SERIES:SR:${x.description}:1`;
  };
  for (const k of ['ct-rdsr', 'ct-esr', 'mg-rdsr', 'dx-rdsr', 'rf-rdsr', 'xa-rdsr'] as const) {
    assert.equal(moved(k, 'ct-mg-fl-dx'), [srOf(k)], k);
    assert.equal(moved(k, 'nm'), [], k);
  }
  assert.equal(moved('philips-dose-info', 'ct-mg-fl-dx'), ['SERIES:CT:Dose Info:1']);
  assert.equal(moved('toshiba-no-sr', 'ct-mg-fl-dx'), ['SERIES:CT::1']);
  const toshibaCt = byKind(m, 'toshiba-no-sr').series.find((x) => x.sopClassUid === StorageClass.ct)!;
  assert.equal(moved('toshiba-no-sr', 'ct-mg-fl-dx-toshiba'), ['IMAGE:CT::1', 'SERIES:CT::1']);
  assert.equal(byKind(m, 'toshiba-no-sr').expected['ct-mg-fl-dx-toshiba'][0]!.sopInstanceUids, [toshibaCt.instances.find((i) => i.instanceNumber === 1)!.sopInstanceUid]);
  assert.equal(moved('ct-non-dose-sr', 'ct-mg-fl-dx'), []);
  assert.equal(moved('ct-non-dose-sr', 'ct-mg-fl-dx-toshiba').map((x) => x.split(':')[0]), ['IMAGE', 'IMAGE']);
  const mg = byKind(m, 'mg-no-rdsr');
  assert.equal(moved('mg-no-rdsr', 'ct-mg-fl-dx'), [`SERIES:MG::${mg.series[0]!.instances.length}`]);
  assert.equal(moved('cr-no-sr', 'ct-mg-fl-dx').length, 1);
  for (const k of ['nm-rrdsr', 'pet-rrdsr', 'sr-only'] as const) assert.equal(moved(k, 'ct-mg-fl-dx'), [], k);
  assert.equal(moved('nm-rrdsr', 'nm'), ['SERIES:SR:NM Dose Report SR:1']);
  assert.equal(moved('pet-rrdsr', 'nm'), ['SERIES:SR:PET Dose Report SR:1', 'IMAGE:PT:PET AC:1']);
  assert.equal(moved('sr-only', 'sr'), ['SERIES:SR:Dose Report:1']);
  assert.equal(moved('ct-rdsr', 'sr'), []);
  // Every expected instance is one of the study's, and the manifest holds what expectedMoves computes.
  for (const s of big.studies) {
    const own = new Set(s.series.flatMap((x) => x.instances.map((i) => i.sopInstanceUid)));
    for (const [profile, moves] of Object.entries(s.expected)) {
      assert.equal(moves, expectedMoves(s.series, profile as keyof ManifestStudy['expected']));
      for (const e of moves) for (const u of e.sopInstanceUids) assert.ok(own.has(u), `${s.kind} ${profile}`);
    }
  }
});

test('NM images are numbered from 0 in some studies (the InstanceNumber=0 retry)', () => {
  const nm = big.studies.filter((s) => s.kind === 'nm-rrdsr').map((s) => s.series.find((x) => x.modality === 'NM')!.instances[0]!.instanceNumber);
  assert.ok(nm.includes(0) && nm.includes(1), String(nm));
  // The "-nm" rule for a study with RRDSR does not need the NM series.
  const withZero = big.studies.find((s) => s.kind === 'nm-rrdsr' && s.series.some((x) => x.modality === 'NM' && x.instances[0]!.instanceNumber === 0))!;
  const nmOnly = withZero.series.filter((x) => x.modality === 'NM');
  assert.equal(expectedMoves(nmOnly, 'nm').map((e) => e.level), ['SERIES']);
});

test.run();
