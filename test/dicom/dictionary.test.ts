import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { keywordOfTag, lookupTag, tagOfKeyword, vrOfTag } from '../../src/dicom/dictionary.js';
import { DICTIONARY_COUNT, DICTIONARY_LINES } from '../../src/dicom/dictionary-data.js';
import { tag } from '../../src/dicom/tag.js';
import { isVr } from '../../src/dicom/vr.js';

const PSEUDO_VRS = ['xs', 'ox', 'px', 'lt', 'up'];
const DCMTK_SOURCE = '/usr/share/libdcmtk17/dicom.dic';
const GENERATOR = fileURLToPath(new URL('../../scripts/gen-dictionary.mjs', import.meta.url));
const GENERATED = fileURLToPath(new URL('../../src/dicom/dictionary-data.ts', import.meta.url));

// The generated lines, read here independently of dictionary.ts: base tag, keyword, VR code, status.
const lines = DICTIONARY_LINES.split('\n')
  .filter((l) => l !== '')
  .map((l) => {
    const [tagField, vr, vm, keyword, status] = l.split(' ') as [string, string, string, string, string];
    // "ggggeeee", or a range "gggg[-r-hhhh],eeee[-r-ffff]" whose base tag is (gggg,eeee).
    const [g, e] = tagField.length === 8 ? [tagField.slice(0, 4), tagField.slice(4)] : (tagField.split(',') as [string, string]);
    const base = parseInt(g.slice(0, 4) + e.slice(0, 4), 16);
    return { tagField, base, vr, vm, keyword, status };
  });

const test = suite('dicom/dictionary');

test('PatientName (0010,0010) PN 1', () => {
  assert.equal(lookupTag(tag(0x0010, 0x0010)), {
    tag: 0x00100010, keyword: 'PatientName', vr: 'PN', vrs: ['PN'], vm: '1', retired: false,
  });
  assert.is(tagOfKeyword('PatientName'), 0x00100010);
  assert.is(vrOfTag(0x00100010), 'PN');
  assert.is(keywordOfTag(0x00100010), 'PatientName');
});

test('StudyInstanceUID, CommandField, ModalitiesInStudy', () => {
  assert.is(tagOfKeyword('StudyInstanceUID'), 0x0020000d);
  assert.is(vrOfTag(0x0020000d), 'UI');
  assert.is(tagOfKeyword('CommandField'), 0x00000100);
  assert.is(vrOfTag(0x00000100), 'US');
  assert.is(lookupTag(0x00000000)?.keyword, 'CommandGroupLength');
  const m = lookupTag(tagOfKeyword('ModalitiesInStudy') ?? 0);
  assert.is(m?.tag, 0x00080061);
  assert.is(m?.vr, 'CS');
  assert.is(m?.vm, '1-n');
});

test('multi-VR elements: Pixel Data OB/OW, xs US/SS, lt, up', () => {
  const pixel = lookupTag(0x7fe00010);
  assert.is(pixel?.keyword, 'PixelData');
  assert.equal(pixel?.vrs, ['OB', 'OW']);
  assert.is(pixel?.vr, 'OW');
  const smallest = lookupTag(tag(0x0028, 0x0106));
  assert.is(smallest?.keyword, 'SmallestImagePixelValue');
  assert.equal(smallest?.vrs, ['US', 'SS']);
  assert.is(smallest?.vr, 'US');
  assert.equal(lookupTag(tag(0x0028, 0x3006))?.vrs, ['US', 'SS', 'OW']);
  assert.is(vrOfTag(tag(0x0028, 0x3006)), 'OW');
  assert.is(vrOfTag(tag(0x0004, 0x1400)), 'UL'); // OffsetOfTheNextDirectoryRecord, DCMTK "up"
  assert.is(vrOfTag(tag(0x5400, 0x1010)), 'OW'); // WaveformData, DCMTK "ox"
});

test('retired entries keep the PS3.6 keyword and accept the DCMTK spelling', () => {
  const e = lookupTag(tag(0x0008, 0x0010));
  assert.equal(e, { tag: 0x00080010, keyword: 'RecognitionCode', vr: 'SH', vrs: ['SH'], vm: '1', retired: true });
  assert.is(tagOfKeyword('RecognitionCode'), 0x00080010);
  assert.is(tagOfKeyword('RETIRED_RecognitionCode'), 0x00080010);
  assert.is(tagOfKeyword('RETIRED_PatientName'), undefined);
  assert.is(lookupTag(0x00100010)?.retired, false);
});

test('DICONDE and DICOS entries are kept', () => {
  assert.is(keywordOfTag(tag(0x0014, 0x3050)), 'DarkCurrentCounts'); // DICONDE, "ox"
  assert.is(keywordOfTag(tag(0x0008, 0x0101)), 'ExtendedCodeValue'); // DICOS
});

test('repeating groups: overlays 60xx, curves 50xx, 7Fxx, (0020,31xx)', () => {
  const overlay = lookupTag(tag(0x6002, 0x3000));
  assert.is(overlay?.keyword, 'OverlayData');
  assert.is(overlay?.tag, 0x60003000);
  assert.is(overlay?.vr, 'OW');
  assert.is(tagOfKeyword('OverlayData'), 0x60003000);
  assert.is(vrOfTag(tag(0x60fe, 0x0010)), 'US'); // OverlayRows in the last overlay group
  const curve = lookupTag(tag(0x5004, 0x3000));
  assert.is(curve?.keyword, 'CurveData');
  assert.is(curve?.retired, true);
  assert.is(keywordOfTag(tag(0x5004, 0x0005)), 'CurveDimensions');
  assert.is(keywordOfTag(tag(0x7f02, 0x0010)), 'VariablePixelData');
  assert.is(keywordOfTag(tag(0x0020, 0x3102)), 'SourceImageIDs');
  // dicom.dic: "By default the repeating notation only represents even numbers", and DCMTK's dcmdump
  // agrees: (0020,3101) is unknown to it, although PS3.6 writes the tag (0020,31xx).
  assert.is(lookupTag(tag(0x0020, 0x3101)), undefined);
  // Odd groups inside 60xx are private, not overlays.
  assert.is(lookupTag(tag(0x6001, 0x3000)), undefined);
  assert.is(vrOfTag(tag(0x6001, 0x3000)), 'UN');
});

test('group length (gggg,0000) is UL, named when the dictionary names it', () => {
  assert.is(keywordOfTag(0x00020000), 'FileMetaInformationGroupLength');
  assert.equal(lookupTag(0x00080000), {
    tag: 0x00080000, keyword: 'GenericGroupLength', vr: 'UL', vrs: ['UL'], vm: '1', retired: true,
  });
  assert.is(vrOfTag(0x00080000), 'UL');
  assert.is(vrOfTag(0x00090000), 'UL');
  assert.is(vrOfTag(0x60020000), 'UL');
  assert.is(tagOfKeyword('GenericGroupLength'), undefined);
});

test('private creators (gggg,0010-00FF) are LO; other private tags are unknown', () => {
  for (const t of [0x00090010, 0x002900ff, 0x7fe10010]) {
    assert.is(lookupTag(t)?.keyword, 'PrivateCreator', t.toString(16));
    assert.is(lookupTag(t)?.tag, t);
    assert.is(vrOfTag(t), 'LO');
  }
  for (const t of [0x00091001, 0x00290100, 0x0029000f, 0xffff0010, 0x00030010]) {
    assert.is(lookupTag(t), undefined, t.toString(16));
    assert.is(keywordOfTag(t), undefined);
    assert.is(vrOfTag(t), 'UN');
  }
  assert.is(tagOfKeyword('PrivateCreator'), undefined);
});

test('unknown tags and keywords', () => {
  assert.is(lookupTag(tag(0x0010, 0x0011)), undefined);
  assert.is(vrOfTag(tag(0x0010, 0x0011)), 'UN');
  assert.is(tagOfKeyword('NoSuchKeyword'), undefined);
  assert.is(tagOfKeyword(''), undefined);
  assert.is(tagOfKeyword('patientname'), undefined);
});

test('items and delimiters are not in the table and never give an invalid VR', () => {
  for (const t of [0xfffee000, 0xfffee00d, 0xfffee0dd]) {
    assert.is(lookupTag(t), undefined);
    assert.is(vrOfTag(t), 'UN');
  }
});

test('entry count', () => {
  assert.ok(lines.length > 4500, `${lines.length} entries`);
  assert.is(lines.length, DICTIONARY_COUNT);
});

test('every entry: valid VRs, and keyword → tag → keyword round trips', () => {
  const keywords = new Set<string>();
  for (const l of lines) {
    assert.not.ok(keywords.has(l.keyword), `duplicate keyword ${l.keyword}`);
    keywords.add(l.keyword);
    assert.is(tagOfKeyword(l.keyword), l.base, l.keyword);
    const e = lookupTag(l.base);
    assert.is(e?.keyword, l.keyword, l.tagField);
    assert.is(e?.tag, l.base);
    assert.is(e?.vm, l.vm);
    assert.is(e?.retired, l.status === 'R');
    assert.ok(e !== undefined && isVr(e.vr) && e.vrs.includes(e.vr) && e.vrs.every(isVr), `${l.keyword}: ${l.vr}`);
    // A PS3.5 VR is taken as it is; otherwise it must be one of DCMTK's pseudo-VRs.
    if (isVr(l.vr)) assert.equal(e?.vrs, [l.vr]);
    else assert.ok(PSEUDO_VRS.includes(l.vr), `${l.keyword}: unexpected VR ${l.vr}`);
    assert.is(vrOfTag(l.base), e?.vr);
    if (l.status === 'R') assert.is(tagOfKeyword(`RETIRED_${l.keyword}`), l.base);
  }
});

test('generated lines are sorted by tag', () => {
  for (let i = 1; i < lines.length; i++) {
    assert.ok(lines[i - 1]!.base <= lines[i]!.base, `${lines[i - 1]!.tagField} before ${lines[i]!.tagField}`);
  }
});

test('src/dicom/dictionary-data.ts is what the generator makes of the source', () => {
  if (!existsSync(DCMTK_SOURCE)) {
    // CI installs dcmtk; a developer machine may not have it.
    if (process.env.CI === 'true') assert.unreachable(`${DCMTK_SOURCE} is missing (install the dcmtk package)`);
    console.log(`  skipped: ${DCMTK_SOURCE} is absent, cannot check that dictionary-data.ts is current`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'qrscu-dictionary-'));
  try {
    const out = join(dir, 'dictionary-data.ts');
    execFileSync(process.execPath, [GENERATOR, DCMTK_SOURCE, out], { stdio: ['ignore', 'ignore', 'pipe'] });
    assert.ok(readFileSync(out, 'utf8') === readFileSync(GENERATED, 'utf8'), 'dictionary-data.ts is stale: run npm run gen:dictionary');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
