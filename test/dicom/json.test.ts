// The DICOM JSON model (PS3.18 Annex F): golden JSON written by hand against golden bytes written by
// hand, the F.2 encoding rules one by one, round trips through bytes, every vendor sample, and the
// JSON pointer of every kind of malformed input.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DatasetError } from '../../src/errors.js';
import { createDataset } from '../../src/dicom/dataset.js';
import { decodeDataset } from '../../src/dicom/decode.js';
import { encodeDataset } from '../../src/dicom/encode.js';
import { datasetFromJson, datasetToJson, type DicomJson } from '../../src/dicom/json.js';
import { readPart10 } from '../../src/dicom/part10.js';
import { parseTag } from '../../src/dicom/tag.js';
import { EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE } from '../../src/dicom/uids.js';
import { getItems, getString, getValue, setValue } from '../../src/dicom/values.js';
import { hex } from '../support/hex.js';

const test = suite('DICOM JSON model (PS3.18 Annex F)');
const SAMPLES = fileURLToPath(new URL('../fixtures/dicom-samples/', import.meta.url));

/** JSON as it travels: through JSON.stringify and back, so no JS-only value (bigint, undefined) hides. */
function wire(json: DicomJson): unknown {
  return JSON.parse(JSON.stringify(json));
}

/**
 * A study-level query response after the example of PS3.18 Section F.4 (a private block with UN, a
 * person name with an ideographic group, a sequence of two items, IS values as JSON numbers).
 */
const F4_JSON = {
  '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
  '00080020': { vr: 'DA', Value: ['20130409'] },
  '00080030': { vr: 'TM', Value: ['131600.0000'] },
  '00080050': { vr: 'SH', Value: ['11235813'] },
  '00080056': { vr: 'CS', Value: ['ONLINE'] },
  '00080061': { vr: 'CS', Value: ['CT', 'PET'] },
  '00080090': { vr: 'PN', Value: [{ Alphabetic: '^Bob^^Dr.' }] },
  '00081190': { vr: 'UR', Value: ['http://wado.nema.org/studies/1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873'] },
  '00090010': { vr: 'LO', Value: ['Vendor A'] },
  '00091002': { vr: 'UN', InlineBinary: 'z0x9c8v7' },
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' }] },
  '00100020': { vr: 'LO', Value: ['12345'] },
  '00100021': { vr: 'LO', Value: ['Hospital A'] },
  '00100030': { vr: 'DA', Value: ['19670701'] },
  '00100040': { vr: 'CS', Value: ['M'] },
  '00101002': {
    vr: 'SQ',
    Value: [
      { '00100020': { vr: 'LO', Value: ['54321'] }, '00100021': { vr: 'LO', Value: ['Hospital B'] } },
      { '00100020': { vr: 'LO', Value: ['24680'] }, '00100021': { vr: 'LO', Value: ['Hospital C'] } },
    ],
  },
  '0020000D': { vr: 'UI', Value: ['1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873'] },
  '00201206': { vr: 'IS', Value: [4] },
  '00201208': { vr: 'IS', Value: [942] },
};

/** The same dataset, Explicit VR Little Endian, written by hand (sequence and items of undefined length). */
const F4_BYTES = hex(`
  08 00 05 00 'CS' 0a 00 'ISO_IR 192'
  08 00 20 00 'DA' 08 00 '20130409'
  08 00 30 00 'TM' 0c 00 '131600.0000 '                       # 11 bytes + pad
  08 00 50 00 'SH' 08 00 '11235813'
  08 00 56 00 'CS' 06 00 'ONLINE'
  08 00 61 00 'CS' 06 00 'CT\\PET'
  08 00 90 00 'PN' 0a 00 '^Bob^^Dr. '
  08 00 90 11 'UR' 00 00 54 00 00 00                          # 83 bytes + pad
    'http://wado.nema.org/studies/1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873 '
  09 00 10 00 'LO' 08 00 'Vendor A'                           # private creator
  09 00 02 10 'UN' 00 00 06 00 00 00 cf 4c 7d 73 cb fb        # base64 z0x9c8v7
  10 00 10 00 'PN' 18 00 'Wang^XiaoDong=' e7 8e 8b '^' e5 b0 8f e6 9d b1   # 王^小東 in UTF-8
  10 00 20 00 'LO' 06 00 '12345 '
  10 00 21 00 'LO' 0a 00 'Hospital A'
  10 00 30 00 'DA' 08 00 '19670701'
  10 00 40 00 'CS' 02 00 'M '
  10 00 02 10 'SQ' 00 00 ff ff ff ff                          # OtherPatientIDsSequence
    fe ff 00 e0 ff ff ff ff
      10 00 20 00 'LO' 06 00 '54321 '
      10 00 21 00 'LO' 0a 00 'Hospital B'
    fe ff 0d e0 00 00 00 00
    fe ff 00 e0 ff ff ff ff
      10 00 20 00 'LO' 06 00 '24680 '
      10 00 21 00 'LO' 0a 00 'Hospital C'
    fe ff 0d e0 00 00 00 00
  fe ff dd e0 00 00 00 00
  20 00 0d 00 'UI' 36 00 '1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873'
  20 00 06 12 'IS' 02 00 '4 '
  20 00 08 12 'IS' 04 00 '942 '
`);

test('golden: hand-written bytes give the hand-written JSON', () => {
  assert.equal(wire(datasetToJson(decodeDataset(F4_BYTES, EXPLICIT_LE))), F4_JSON);
});

test('golden: the hand-written JSON encodes to the hand-written bytes', () => {
  const ds = datasetFromJson(F4_JSON);
  assert.equal(encodeDataset(ds, EXPLICIT_LE), F4_BYTES);
  assert.is(getString(ds, 'PatientName'), 'Wang^XiaoDong=王^小東');
  assert.equal(getValue(ds, 'NumberOfStudyRelatedInstances'), [942]);
  assert.is(getString(getItems(ds, 'OtherPatientIDsSequence')[1]!, 'IssuerOfPatientID'), 'Hospital C');
});

// ---- PS3.18 F.2 rules, one at a time --------------------------------------------------------------

test('F.2.2: keys are 8 upper-case hex digits in ascending order; group lengths are left out', () => {
  const ds = createDataset();
  setValue(ds, 0x7fe00010, Buffer.from([1, 2]), 'OB');
  setValue(ds, 0x0020000d, '1.2.3');
  setValue(ds, 0x00080000, [10], 'UL');
  setValue(ds, 0x0009100a, Buffer.from([0xab, 0xcd]), 'UN');
  setValue(ds, 0x00080060, 'CT');
  const json = datasetToJson(ds);
  assert.equal(Object.keys(json), ['00080060', '0009100A', '0020000D', '7FE00010']);
});

test('F.2.2/F.2.5: every attribute has its vr; an empty value has no Value; empty values in a list are null', () => {
  const json = wire(datasetToJson(decodeDataset(hex(`
    08 00 08 00 'CS' 0c 00 'ORIGINAL\\\\X '                       # CS ORIGINAL, '', X
    08 00 50 00 'SH' 00 00                                      # empty SH
    08 00 90 00 'PN' 00 00                                      # empty PN
    08 00 48 10 'PN' 04 00 'A\\\\B'                               # PN A, '', B
    18 00 88 00 'DS' 00 00                                      # empty DS
    28 00 10 00 'US' 00 00                                      # empty US
  `), EXPLICIT_LE)));
  assert.equal(json, {
    '00080008': { vr: 'CS', Value: ['ORIGINAL', null, 'X'] },
    '00080050': { vr: 'SH' },
    '00080090': { vr: 'PN' },
    '00081048': { vr: 'PN', Value: [{ Alphabetic: 'A' }, null, { Alphabetic: 'B' }] },
    '00180088': { vr: 'DS' },
    '00280010': { vr: 'US' },
  });
});

test('F.2.2: PN values are objects of the non-empty component groups', () => {
  const ds = createDataset();
  setValue(ds, 'SpecificCharacterSet', 'ISO_IR 192');
  setValue(ds, 'PatientName', ['Yamada^Tarou=山田^太郎=やまだ^たろう', '=王^小東', 'Doe^John']);
  setValue(ds, 'ReferringPhysicianName', '^Bob^^Dr.');
  assert.equal(wire(datasetToJson(ds)), {
    '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
    '00080090': { vr: 'PN', Value: [{ Alphabetic: '^Bob^^Dr.' }] },
    '00100010': {
      vr: 'PN',
      Value: [
        { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' },
        { Ideographic: '王^小東' },
        { Alphabetic: 'Doe^John' },
      ],
    },
  });
});

test('F.2.3: IS and DS are JSON numbers; a value that is no valid number for its VR stays a string', () => {
  const json = wire(datasetToJson(decodeDataset(hex(`
    18 00 50 00 'DS' 0c 00 ' 1.50\\-2e3  '                    # DS with spaces, an exponent
    18 00 88 00 'DS' 04 00 'abc '                               # not a number at all
    18 00 50 11 'IS' 06 00 '161.3 '                             # a vendor's IS with a fraction
    20 00 13 00 'IS' 04 00 '+12 '
  `), EXPLICIT_LE)));
  assert.equal(json, {
    '00180050': { vr: 'DS', Value: [1.5, -2000] },
    '00180088': { vr: 'DS', Value: ['abc'] },
    '00181150': { vr: 'IS', Value: ['161.3'] },
    '00200013': { vr: 'IS', Value: [12] },
  });
});

test('F.2.3: binary numbers are JSON numbers; AT is 8 hex digits; SV/UV beyond 2^53 are strings', () => {
  const json = wire(datasetToJson(decodeDataset(hex(`
    18 00 19 92 'SS' 04 00 fe ff 02 00                          # SS -2, 2
    18 00 69 94 'FL' 04 00 00 00 c0 3f                          # FL 1.5
    18 00 70 94 'FD' 08 00 00 00 00 00 00 00 02 c0              # FD -2.25
    20 00 65 91 'AT' 08 00 10 00 10 00 e0 7f 10 00              # AT (0010,0010), (7FE0,0010)
    28 00 10 00 'US' 02 00 00 02                                # US 512
    72 00 78 00 'UL' 04 00 ff ff ff ff                          # UL 4294967295
    72 00 7c 00 'SL' 04 00 9c ff ff ff                          # SL -100
    72 00 82 00 'SV' 00 00 10 00 00 00 fb ff ff ff ff ff ff ff 00 00 00 00 00 00 00 80  # SV -5, -2^63
    72 00 83 00 'UV' 00 00 10 00 00 00 00 00 00 00 00 00 20 00 ff ff ff ff ff ff ff ff  # UV 2^53, 2^64-1
  `), EXPLICIT_LE)));
  assert.equal(json, {
    '00189219': { vr: 'SS', Value: [-2, 2] },
    '00189469': { vr: 'FL', Value: [1.5] },
    '00189470': { vr: 'FD', Value: [-2.25] },
    '00209165': { vr: 'AT', Value: ['00100010', '7FE00010'] },
    '00280010': { vr: 'US', Value: [512] },
    '00720078': { vr: 'UL', Value: [4294967295] },
    '0072007C': { vr: 'SL', Value: [-100] },
    '00720082': { vr: 'SV', Value: [-5, '-9223372036854775808'] },
    '00720083': { vr: 'UV', Value: ['9007199254740992', '18446744073709551615'] },
  });
  const back = datasetFromJson(json);
  assert.equal(getValue(back, 0x00720082), [-5n, -9223372036854775808n]);
  assert.equal(getValue(back, 0x00720083), [9007199254740992n, 18446744073709551615n]);
  assert.equal(getValue(back, 0x00209165), [0x00100010, 0x7fe00010]);
});

test('F.2.7: OB, OD, OF, OL, OV, OW and UN are InlineBinary, little endian even from big-endian input', () => {
  const le = hex(`
    42 00 11 00 'OB' 00 00 04 00 00 00 01 02 03 00
    66 00 16 00 'OW' 00 00 04 00 00 00 34 12 cd ab
    66 00 23 00 'OF' 00 00 04 00 00 00 00 00 00 3f
    66 00 40 00 'OL' 00 00 04 00 00 00 01 00 00 00
    72 00 6d 00 'UN' 00 00 02 00 00 00 ab cd
    72 00 73 00 'OD' 00 00 08 00 00 00 00 00 00 00 00 00 f0 3f
    72 00 81 00 'OV' 00 00 08 00 00 00 01 02 03 04 05 06 07 08
  `);
  const be = hex(`
    00 42 00 11 'OB' 00 00 00 00 00 04 01 02 03 00
    00 66 00 16 'OW' 00 00 00 00 00 04 12 34 ab cd
    00 66 00 23 'OF' 00 00 00 00 00 04 3f 00 00 00
    00 66 00 40 'OL' 00 00 00 00 00 04 00 00 00 01
    00 72 00 6d 'UN' 00 00 00 00 00 02 ab cd
    00 72 00 73 'OD' 00 00 00 00 00 08 3f f0 00 00 00 00 00 00
    00 72 00 81 'OV' 00 00 00 00 00 08 08 07 06 05 04 03 02 01
  `);
  const expected = {
    '00420011': { vr: 'OB', InlineBinary: 'AQIDAA==' },
    '00660016': { vr: 'OW', InlineBinary: 'NBLNqw==' },
    '00660023': { vr: 'OF', InlineBinary: 'AAAAPw==' },
    '00660040': { vr: 'OL', InlineBinary: 'AQAAAA==' },
    '0072006D': { vr: 'UN', InlineBinary: 'q80=' },
    '00720073': { vr: 'OD', InlineBinary: 'AAAAAAAA8D8=' },
    '00720081': { vr: 'OV', InlineBinary: 'AQIDBAUGBwg=' },
  };
  assert.equal(wire(datasetToJson(decodeDataset(le, EXPLICIT_LE))), expected);
  assert.equal(wire(datasetToJson(decodeDataset(be, EXPLICIT_BE))), expected);
  assert.equal(encodeDataset(datasetFromJson(expected), EXPLICIT_LE), le);
});

test('F.2.2: SQ items are nested objects; an empty item is {}; an empty sequence has no Value; UN sequences are SQ', () => {
  const buf = hex(`
    08 00 10 11 'SQ' 00 00 00 00 00 00                    # (0008,1110) empty
    08 00 15 11 'SQ' 00 00 ff ff ff ff                    # (0008,1115) two items, the first empty
      fe ff 00 e0 00 00 00 00
      fe ff 00 e0 0a 00 00 00
        08 00 50 11 'UI' 02 00 '1' 00
    fe ff dd e0 00 00 00 00
    09 00 10 00 'LO' 04 00 'ACME'
    09 00 00 10 'UN' 00 00 ff ff ff ff                    # (0009,1000) UN u/l: implicit items
      fe ff 00 e0 0e 00 00 00
        08 00 00 01 06 00 00 00 'CODE1 '
    fe ff dd e0 00 00 00 00
  `);
  assert.equal(wire(datasetToJson(decodeDataset(buf, EXPLICIT_LE))), {
    '00081110': { vr: 'SQ' },
    '00081115': { vr: 'SQ', Value: [{}, { '00081150': { vr: 'UI', Value: ['1'] } }] },
    '00090010': { vr: 'LO', Value: ['ACME'] },
    '00091000': { vr: 'SQ', Value: [{ '00080100': { vr: 'SH', Value: ['CODE1'] } }] },
  });
});

test('F.2.4: text VRs are one value, backslash included; the character set comes first whatever the key order', () => {
  const ds = datasetFromJson({
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Müller^Jürgen' }] },
    '00081030': { vr: 'LO', Value: ['Größe', 'Höhe'] },
    '00321060': { vr: 'LO' },
    '00400280': { vr: 'ST', Value: ['a\\b ü'] },
    '00080005': { vr: 'CS', Value: ['ISO_IR 100'] },
  });
  assert.equal(encodeDataset(ds, EXPLICIT_LE), hex(`
    08 00 05 00 'CS' 0a 00 'ISO_IR 100'
    08 00 30 10 'LO' 0a 00 'Gr' f6 df 'e\\H' f6 'he'           # Latin-1
    10 00 10 00 'PN' 0e 00 'M' fc 'ller^J' fc 'rgen '
    32 00 60 10 'LO' 00 00
    40 00 80 02 'ST' 06 00 'a\\b ' fc 20
  `));
});

test('IS/DS from JSON numbers: written short enough for the VR, without losing digits that fit', () => {
  const ds = datasetFromJson({
    '00180050': { vr: 'DS', Value: [1.0558274005e-5, 0.1 + 0.2, -2000, 123456789012345680000] },
    '00200013': { vr: 'IS', Value: [-2147483648] },
  });
  const ds2 = decodeDataset(encodeDataset(ds, EXPLICIT_LE), EXPLICIT_LE);
  assert.equal(getValue(ds2, 0x00180050), [1.0558274005e-5, 0.3, -2000, 1.23456789e20]);
  assert.equal(getValue(ds2, 0x00200013), [-2147483648]);
  for (const s of (getString(ds2, 0x00180050) ?? '').split('\\')) assert.ok(s.length <= 16, s);
});

// ---- round trips ----------------------------------------------------------------------------------

test('round trip: JSON → dataset → bytes (explicit and implicit) → dataset → JSON', () => {
  for (const syntax of [EXPLICIT_LE, IMPLICIT_LE]) {
    const bytes = encodeDataset(datasetFromJson(F4_JSON), syntax);
    const json = wire(datasetToJson(decodeDataset(bytes, syntax)));
    // Implicit VR: the private UN element keeps UN (no VR on the wire), everything else is as given.
    assert.equal(json, F4_JSON, syntax.uid);
  }
});

const SAMPLE_FILES = readdirSync(SAMPLES).filter((f) => f.endsWith('.dcm')).sort();

for (const f of SAMPLE_FILES) {
  test(`${f}: dataset → JSON → dataset → JSON is unchanged, also through bytes`, () => {
    const file = readPart10(readFileSync(SAMPLES + f));
    const json = wire(datasetToJson(file.dataset)) as DicomJson;
    const back = datasetFromJson(json);
    const again = wire(datasetToJson(back)) as DicomJson;
    // An odd-length value gains its padding byte on the way (the Hologic object's (0040,0253)).
    for (const w of file.warnings.filter((x) => x.code === 'WARN_ODD_LENGTH')) {
      const key = parseTag(w.tag!)!.toString(16).toUpperCase().padStart(8, '0');
      const [a, b] = [json[key]?.InlineBinary, again[key]?.InlineBinary];
      if (a !== undefined && b !== undefined) {
        const [x, y] = [Buffer.from(a, 'base64'), Buffer.from(b, 'base64')];
        assert.ok(y.length === x.length + 1 && y.subarray(0, x.length).equals(x), `${key} padded`);
        delete json[key];
        delete again[key];
      }
    }
    assert.equal(again, json);
    const syntax = file.transferSyntax.explicitVr ? EXPLICIT_LE : IMPLICIT_LE;
    const viaBytes = wire(datasetToJson(decodeDataset(encodeDataset(back, syntax), syntax))) as DicomJson;
    for (const key of Object.keys(viaBytes)) if (!(key in again)) delete viaBytes[key];
    assert.equal(viaBytes, again);
  });
}

// ---- malformed JSON: ERR_JSON_INVALID at the exact pointer ---------------------------------------

const SQ = (item: unknown) => ({ '00081032': { vr: 'SQ', Value: [item] } });

/** [what, JSON, code, pointer]. */
const MALFORMED: readonly (readonly [string, unknown, string, string])[] = [
  ['a nested vr that is no VR', SQ({ '00080100': { vr: 'XX' } }), 'ERR_JSON_INVALID', '/00081032/Value/0/00080100/vr'],
  ['a nested attribute without vr', SQ({ '00080100': { Value: ['x'] } }), 'ERR_JSON_INVALID', '/00081032/Value/0/00080100/vr'],
  ['a nested Value that is no array', SQ({ '00080100': { vr: 'SH', Value: 'x' } }), 'ERR_JSON_INVALID', '/00081032/Value/0/00080100/Value'],
  ['an item that is no object', { '00081032': { vr: 'SQ', Value: [{}, 5] } }, 'ERR_JSON_INVALID', '/00081032/Value/1'],
  ['a deep value of the wrong type', { '0040A730': { vr: 'SQ', Value: [{ '0040A730': { vr: 'SQ', Value: [{}, {}, SQ({ '00080100': { vr: 'SH', Value: [7] } })] } }] } }, 'ERR_JSON_INVALID', '/0040A730/Value/0/0040A730/Value/2/00081032/Value/0/00080100/Value/0'],
  ['the root is an array', [], 'ERR_JSON_INVALID', ''],
  ['the root is null', null, 'ERR_JSON_INVALID', ''],
  ['a key that is a keyword', { PatientName: { vr: 'PN' } }, 'ERR_JSON_INVALID', '/PatientName'],
  ['a key with / and ~ (RFC 6901 escapes)', { 'a/b~c': { vr: 'CS' } }, 'ERR_JSON_INVALID', '/a~1b~0c'],
  ['an attribute that is null', { '00100010': null }, 'ERR_JSON_INVALID', '/00100010'],
  ['a PN value that is a string', { '00100010': { vr: 'PN', Value: ['Doe^John'] } }, 'ERR_JSON_INVALID', '/00100010/Value/0'],
  ['a PN group that is a number', { '00100010': { vr: 'PN', Value: [null, { Alphabetic: 5 }] } }, 'ERR_JSON_INVALID', '/00100010/Value/1/Alphabetic'],
  ['a PN group with a misspelt name', { '00100010': { vr: 'PN', Value: [{ Alfabetic: 'Doe' }] } }, 'ERR_JSON_INVALID', '/00100010/Value/0/Alfabetic'],
  ['a PN group holding "="', { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe=Jo' }] } }, 'ERR_JSON_INVALID', '/00100010/Value/0/Alphabetic'],
  ['a US value that is a string', { '00280010': { vr: 'US', Value: ['512'] } }, 'ERR_JSON_INVALID', '/00280010/Value/0'],
  ['a CS value that is a number', { '00080060': { vr: 'CS', Value: [1] } }, 'ERR_JSON_INVALID', '/00080060/Value/0'],
  ['an AT value that is not 8 hex digits', { '00209165': { vr: 'AT', Value: ['00100010', '0010001'] } }, 'ERR_JSON_INVALID', '/00209165/Value/1'],
  ['an SV value with a fraction', { '00720082': { vr: 'SV', Value: [1.5] } }, 'ERR_JSON_INVALID', '/00720082/Value/0'],
  ['InlineBinary that is not base64', { '00091002': { vr: 'UN', InlineBinary: 'not base64!' } }, 'ERR_JSON_INVALID', '/00091002/InlineBinary'],
  ['InlineBinary for a string VR', { '00080060': { vr: 'CS', InlineBinary: 'Q1Q=' } }, 'ERR_JSON_INVALID', '/00080060/InlineBinary'],
  ['both Value and InlineBinary', { '00091002': { vr: 'UN', InlineBinary: 'AQI=', Value: [1] } }, 'ERR_JSON_INVALID', '/00091002'],
  // Well-formed JSON whose value the VR cannot hold: ERR_VALUE_INVALID, still with the pointer.
  ['a US value out of range', { '00280010': { vr: 'US', Value: [70000] } }, 'ERR_VALUE_INVALID', '/00280010'],
  ['an SV value beyond 2^63 - 1', { '00720082': { vr: 'SV', Value: ['9223372036854775808'] } }, 'ERR_VALUE_INVALID', '/00720082'],
  ['a UV value below 0', { '00720083': { vr: 'UV', Value: [-1] } }, 'ERR_VALUE_INVALID', '/00720083'],
  ['an IS value beyond 2^31 - 1', { '00200013': { vr: 'IS', Value: [2147483648] } }, 'ERR_VALUE_INVALID', '/00200013'],
  ['text outside the character set', { '00100010': { vr: 'PN', Value: [{ Ideographic: '王' }] } }, 'ERR_VALUE_INVALID', '/00100010'],
  ['a CS value with a backslash', SQ({ '00080102': { vr: 'SH', Value: ['a\\b'] } }), 'ERR_VALUE_INVALID', '/00081032/Value/0/00080102'],
];

for (const [what, json, code, pointer] of MALFORMED) {
  test(`malformed: ${what} → ${code} at '${pointer}'`, () => {
    try {
      datasetFromJson(json);
      assert.unreachable('should have thrown');
    } catch (e) {
      if (!(e instanceof DatasetError)) throw e;
      assert.is(e.code, code, e.message);
      assert.is(e.pointer, pointer, e.message);
      assert.ok(e.message.includes(`at ${pointer === '' ? '/' : pointer}`), e.message);
    }
  });
}

test.run();
