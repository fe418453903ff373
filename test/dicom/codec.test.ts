import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DatasetError } from '../../src/errors.js';
import { createDataset, type Dataset } from '../../src/dicom/dataset.js';
import { decodeDataset, decodeDatasetPartial } from '../../src/dicom/decode.js';
import { datasetLength, encodeDataset } from '../../src/dicom/encode.js';
import { EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, DEFLATED_LE } from '../../src/dicom/uids.js';
import { getItems, getNumber, getString, getStrings, getValue, setValue } from '../../src/dicom/values.js';
import { parseSpecificCharacterSet } from '../../src/dicom/charset.js';
import { deflateRawSync } from 'node:zlib';
import { hex } from '../support/hex.js';
import { BINARY_VRS_EXPLICIT, IDENTIFIER_EXPLICIT, IDENTIFIER_IMPLICIT, SEQUENCES_EXPLICIT } from '../fixtures/datasets.js';

const test = suite('dataset codec');

function assertIdentifier(ds: Dataset): void {
  assert.equal(getStrings(ds, 'SpecificCharacterSet'), ['ISO_IR 100']);
  assert.is(getString(ds, 'StudyDate'), '20240101-20240131');
  assert.is(getString(ds, 'QueryRetrieveLevel'), 'STUDY');
  assert.equal(getStrings(ds, 'ModalitiesInStudy'), ['CT', 'SR']);
  assert.equal(getValue(ds, 'PatientName'), [{ Alphabetic: 'Müller^Hans' }]);
  assert.is(getString(ds, 'PatientName'), 'Müller^Hans');
  assert.is(getString(ds, 'StudyInstanceUID'), '1.2.3.4');
  assert.is(getNumber(ds, 'NumberOfStudyRelatedSeries'), 12);
  assert.is(ds.elements.size, 7);
}

test('decodes a golden explicit VR LE identifier', () => {
  assertIdentifier(decodeDataset(IDENTIFIER_EXPLICIT, EXPLICIT_LE));
});

test('decodes the same identifier in implicit VR LE (VRs from the dictionary)', () => {
  const ds = decodeDataset(IDENTIFIER_IMPLICIT, IMPLICIT_LE);
  assertIdentifier(ds);
  assert.is(ds.elements.get(0x00100010)!.vr, 'PN');
  assert.is(ds.elements.get(0x00201206)!.vr, 'IS');
});

test('elements keep views of the input, not copies, with their offsets', () => {
  const ds = decodeDataset(IDENTIFIER_EXPLICIT, EXPLICIT_LE, { base: 100 });
  const el = ds.elements.get(0x0020000d)!;
  assert.is(el.value.buffer, IDENTIFIER_EXPLICIT.buffer);
  assert.is(el.offset, 100 + 18 + 26 + 14 + 14 + 20);
});

test('re-encodes golden datasets byte-identical (explicit and implicit)', () => {
  assert.equal(encodeDataset(decodeDataset(IDENTIFIER_EXPLICIT, EXPLICIT_LE), EXPLICIT_LE), IDENTIFIER_EXPLICIT);
  assert.equal(encodeDataset(decodeDataset(IDENTIFIER_IMPLICIT, IMPLICIT_LE), IMPLICIT_LE), IDENTIFIER_IMPLICIT);
  assert.equal(encodeDataset(decodeDataset(IDENTIFIER_EXPLICIT, EXPLICIT_LE), IMPLICIT_LE), IDENTIFIER_IMPLICIT);
  assert.equal(encodeDataset(decodeDataset(BINARY_VRS_EXPLICIT, EXPLICIT_LE), EXPLICIT_LE), BINARY_VRS_EXPLICIT);
  assert.equal(encodeDataset(decodeDataset(SEQUENCES_EXPLICIT, EXPLICIT_LE), EXPLICIT_LE), SEQUENCES_EXPLICIT);
  assert.is(datasetLength(decodeDataset(SEQUENCES_EXPLICIT, EXPLICIT_LE), EXPLICIT_LE), SEQUENCES_EXPLICIT.length);
});

test('encodes a built identifier to the golden bytes', () => {
  const ds = createDataset();
  setValue(ds, 'SpecificCharacterSet', 'ISO_IR 100');
  setValue(ds, 'StudyDate', '20240101-20240131');
  setValue(ds, 'QueryRetrieveLevel', 'STUDY');
  setValue(ds, 'ModalitiesInStudy', ['CT', 'SR']);
  setValue(ds, 'PatientName', { Alphabetic: 'Müller^Hans' });
  setValue(ds, 'StudyInstanceUID', '1.2.3.4');
  setValue(ds, 'NumberOfStudyRelatedSeries', 12);
  assert.equal(encodeDataset(ds, EXPLICIT_LE), IDENTIFIER_EXPLICIT);
  assert.equal(encodeDataset(ds, IMPLICIT_LE), IDENTIFIER_IMPLICIT);
});

test('decodes every binary VR', () => {
  const ds = decodeDataset(BINARY_VRS_EXPLICIT, EXPLICIT_LE);
  assert.equal(getValue(ds, 0x00080008), ['ORIGINAL', 'PRIMARY']);
  assert.equal(getValue(ds, 0x00080119), ['AB', 'CD']);
  assert.equal(getValue(ds, 0x00080120), ['http://x/']);
  assert.equal(getValue(ds, 0x00180088), [1.5, -2]);
  assert.equal(getValue(ds, 0x00189219), [-2]);
  assert.equal(getValue(ds, 0x00189469), [1.5]);
  assert.equal(getValue(ds, 0x00189470), [-2.25]);
  assert.equal(getValue(ds, 0x00200013), [7]);
  assert.equal(getValue(ds, 0x00209165), [0x00100010]);
  assert.equal(getValue(ds, 0x00280010), [512, 3]);
  assert.equal(getValue(ds, 0x00281052), [-1024]);
  assert.equal(getValue(ds, 0x0040a124), []);
  assert.equal(getValue(ds, 0x0040a160), ['Hello\\World']);
  assert.equal(getValue(ds, 0x0040a30a), []);
  assert.equal([...(getValue(ds, 0x00420011) as Buffer)], [1, 2, 3, 0]);
  assert.equal(getValue(ds, 0x00541330), [1]);
  assert.equal([...(getValue(ds, 0x00660016) as Buffer)], [0x34, 0x12, 0xcd, 0xab]);
  assert.equal(getValue(ds, 0x00720062), [-100]);
  assert.equal(getValue(ds, 0x0072007f), [-5n]);
  assert.equal(getValue(ds, 0x00720083), [18446744073709551615n]);
  assert.is(ds.elements.get(0x7fe00001)!.vr, 'OV');
  assert.is(ds.elements.get(0x7fe00009)!.vr, 'OD');
});

test('builds every binary VR to the golden bytes', () => {
  const ds = createDataset();
  setValue(ds, 0x00080008, ['ORIGINAL', 'PRIMARY'], 'CS');
  setValue(ds, 0x00080119, ['AB', 'CD'], 'UC');
  setValue(ds, 0x00080120, 'http://x/', 'UR');
  setValue(ds, 0x00180088, [1.5, -2], 'DS');
  setValue(ds, 0x00189219, -2, 'SS');
  setValue(ds, 0x00189469, 1.5, 'FL');
  setValue(ds, 0x00189470, -2.25, 'FD');
  setValue(ds, 0x00200013, 7, 'IS');
  setValue(ds, 0x00209165, 0x00100010, 'AT');
  setValue(ds, 0x00280010, [512, 3], 'US');
  setValue(ds, 0x00281052, -1024, 'DS');
  setValue(ds, 0x0040a124, null, 'UI');
  setValue(ds, 0x0040a160, 'Hello\\World', 'UT');
  setValue(ds, 0x0040a30a, [], 'DS');
  setValue(ds, 0x00420011, Buffer.from([1, 2, 3]), 'OB');
  setValue(ds, 0x00541330, 1, 'US');
  setValue(ds, 0x00660016, Buffer.from([0x34, 0x12, 0xcd, 0xab]), 'OW');
  setValue(ds, 0x00660023, Buffer.from([0, 0, 0, 0x3f]), 'OF');
  setValue(ds, 0x00660040, Buffer.from([1, 0, 0, 0]), 'OL');
  setValue(ds, 0x00720062, -100, 'SL');
  setValue(ds, 0x0072007f, -5n, 'SV');
  setValue(ds, 0x00720083, 18446744073709551615n, 'UV');
  setValue(ds, 0x7fe00001, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), 'OV');
  setValue(ds, 0x7fe00009, Buffer.from([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]), 'OD');
  assert.equal(encodeDataset(ds, EXPLICIT_LE), BINARY_VRS_EXPLICIT);
});

test('sequences and items of defined and undefined length, nested', () => {
  const ds = decodeDataset(SEQUENCES_EXPLICIT, EXPLICIT_LE);
  const items = getItems(ds, 'ProcedureCodeSequence');
  assert.is(items.length, 1);
  assert.ok(items[0]!.undefinedLength);
  assert.is(getString(items[0]!, 'CodeValue'), 'T-1');
  assert.is(getString(items[0]!, 'CodingSchemeDesignator'), 'SRT');
  const nested = getItems(items[0]!, 0x0040a043);
  assert.is(nested.length, 1);
  assert.not.ok(nested[0]!.undefinedLength);
  assert.is(getString(nested[0]!, 'CodeValue'), 'AB');
  assert.is(getString(nested[0]!, 'CodeMeaning'), '');
  assert.equal(getItems(ds, 'ReferencedStudySequence'), []);
  assert.is(getItems(ds, 0x00081115).length, 1);
  assert.is(getItems(ds, 0x00081115)[0]!.elements.size, 0);
  assert.is(getString(ds, 'PatientName'), 'A^B');
});

test('built sequences are written with undefined lengths', () => {
  const item = createDataset();
  setValue(item, 'CodeValue', 'X');
  const ds = createDataset();
  setValue(ds, 'ProcedureCodeSequence', [item]);
  assert.equal(encodeDataset(ds, EXPLICIT_LE), hex(`
    08 00 32 10 'SQ' 00 00 ff ff ff ff
      fe ff 00 e0 ff ff ff ff
        08 00 00 01 'SH' 02 00 'X '
      fe ff 0d e0 00 00 00 00
    fe ff dd e0 00 00 00 00`));
  assert.equal(encodeDataset(ds, IMPLICIT_LE), hex(`
    08 00 32 10 ff ff ff ff
      fe ff 00 e0 ff ff ff ff
        08 00 00 01 02 00 00 00 'X '
      fe ff 0d e0 00 00 00 00
    fe ff dd e0 00 00 00 00`));
});

test('UN of undefined length is parsed as an implicit VR LE sequence (PS3.5 §6.2.2)', () => {
  const buf = hex(`
    09 00 10 00 'LO' 04 00 'ACME'                # (0009,0010) private creator
    09 00 00 10 'UN' 00 00 ff ff ff ff           # (0009,1000) UN u/l
      fe ff 00 e0 0e 00 00 00                    #   item length 14
        08 00 00 01 06 00 00 00 'CODE1 '         #     (0008,0100) implicit, 6
      fe ff dd e0 00 00 00 00                    # sequence delimitation
    10 00 20 00 'LO' 02 00 'ID'                  # (0010,0020)
  `);
  const ds = decodeDataset(buf, EXPLICIT_LE);
  const un = ds.elements.get(0x00091000)!;
  assert.is(un.vr, 'UN');
  assert.is(un.items!.length, 1);
  assert.is(getString(un.items![0]!, 'CodeValue'), 'CODE1');
  assert.is(getString(ds, 'PatientID'), 'ID');
  assert.equal(encodeDataset(ds, EXPLICIT_LE), buf);
});

test('encapsulated pixel data: fragments kept and re-encoded as read', () => {
  const buf = hex(`
    e0 7f 10 00 'OB' 00 00 ff ff ff ff   # (7FE0,0010) OB u/l
      fe ff 00 e0 00 00 00 00            #   basic offset table, empty
      fe ff 00 e0 04 00 00 00 de ad be ef #  fragment
    fe ff dd e0 00 00 00 00
  `);
  const ds = decodeDataset(buf, EXPLICIT_LE);
  const el = ds.elements.get(0x7fe00010)!;
  assert.is(el.fragments!.length, 2);
  assert.equal([...el.fragments![1]!], [0xde, 0xad, 0xbe, 0xef]);
  assert.equal(encodeDataset(ds, EXPLICIT_LE), buf);
});

test('decodes explicit VR big endian and re-encodes it as little endian', () => {
  const be = hex(`
    00 08 00 60 'CS' 00 02 'CT'                       # (0008,0060) CS CT
    00 20 91 65 'AT' 00 04 00 10 00 10                # (0020,9165) AT (0010,0010)
    00 28 00 10 'US' 00 02 02 00                      # (0028,0010) US 512
    00 28 01 06 'US' 00 02 00 01                      # (0028,0106) US 1
    00 66 00 16 'OW' 00 00 00 00 00 04 12 34 ab cd    # (0066,0016) OW 1234\\abcd
    00 72 00 62 'SL' 00 04 ff ff ff 9c                # (0072,0062) SL -100
    00 18 94 70 'FD' 00 08 c0 02 00 00 00 00 00 00    # (0018,9470) FD -2.25, out of tag order on purpose
  `);
  const warnings: import('../../src/dicom/dataset.js').DatasetWarning[] = [];
  const ds = decodeDataset(be, EXPLICIT_BE, { warnings });
  assert.is(getString(ds, 'Modality'), 'CT');
  assert.equal(getValue(ds, 0x00209165), [0x00100010]);
  assert.equal(getValue(ds, 'Rows'), [512]);
  assert.equal(getValue(ds, 0x00720062), [-100]);
  assert.equal(getValue(ds, 0x00189470), [-2.25]);
  assert.is(warnings[0]!.code, 'WARN_TAG_ORDER');
  const le = encodeDataset(ds, EXPLICIT_LE);
  assert.equal(le, hex(`
    08 00 60 00 'CS' 02 00 'CT'
    18 00 70 94 'FD' 08 00 00 00 00 00 00 00 02 c0
    20 00 65 91 'AT' 04 00 10 00 10 00
    28 00 10 00 'US' 02 00 00 02
    28 00 06 01 'US' 02 00 01 00
    66 00 16 00 'OW' 00 00 04 00 00 00 34 12 cd ab
    72 00 62 00 'SL' 04 00 9c ff ff ff
  `));
});

test('deflated explicit VR LE decodes and encodes through zlib', () => {
  const ds = decodeDataset(deflateRawSync(IDENTIFIER_EXPLICIT), DEFLATED_LE);
  assertIdentifier(ds);
  assertIdentifier(decodeDataset(encodeDataset(ds, DEFLATED_LE), DEFLATED_LE));
  try {
    decodeDataset(Buffer.from('not deflate data at all'), DEFLATED_LE);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, DatasetError);
    assert.is((e as DatasetError).code, 'ERR_DATASET_INVALID');
  }
});

function expectError(buf: Buffer, code: string, offset: number, syntax = EXPLICIT_LE): void {
  try {
    decodeDataset(buf, syntax);
    assert.unreachable('should have thrown');
  } catch (e) {
    if (!(e instanceof DatasetError)) throw e;
    assert.is(e.code, code, e.message);
    assert.is(e.offset, offset, e.message);
  }
}

test('truncated and impossible input: typed errors with offsets', () => {
  expectError(hex(`08 00 60 00 'CS' 04 00 'CT'`), 'ERR_DATASET_TRUNCATED', 0);             // value past the end
  expectError(hex(`08 00 60 00 'CS' 02 00 'CT' 10 00`), 'ERR_DATASET_TRUNCATED', 10);       // header cut
  expectError(hex(`fe ff 00 e0 00 00 00 00`), 'ERR_DATASET_INVALID', 0);                    // item outside a sequence
  expectError(hex(`fe ff dd e0 00 00 00 00`), 'ERR_DATASET_INVALID', 0);
  expectError(hex(`fe ff 0d e0 00 00 00 00`), 'ERR_DATASET_INVALID', 0);
  expectError(hex(`08 00 60 00 'XX' 02 00 'CT'`), 'ERR_DATASET_INVALID', 4);                // unknown VR
  expectError(hex(`08 00 32 10 'SQ' 00 00 ff ff ff ff fe ff 00 e0 ff ff ff ff`), 'ERR_DATASET_TRUNCATED', 20); // no delimiters
  expectError(hex(`08 00 32 10 'SQ' 00 00 08 00 00 00 08 00 60 00 02 00 00 00`), 'ERR_DATASET_INVALID', 12); // not an item
  expectError(hex(`08 00 32 10 'SQ' 00 00 08 00 00 00 fe ff 00 e0 10 00 00 00`), 'ERR_DATASET_TRUNCATED', 12); // item past its sequence
  expectError(hex(`08 00 60 00 ff ff ff ff`), 'ERR_DATASET_INVALID', 0, IMPLICIT_LE);      // undefined length on CS
  expectError(hex(`08 00 60 00 10 00 00 80`), 'ERR_DATASET_TRUNCATED', 0, IMPLICIT_LE);    // 2 GiB length: no allocation
});

test('sequence nesting is bounded', () => {
  let buf = hex(`10 00 10 00 'PN' 00 00`);
  for (let i = 0; i < 100; i++) {
    buf = Buffer.concat([hex(`08 00 32 10 'SQ' 00 00 ff ff ff ff fe ff 00 e0 ff ff ff ff`), buf, hex(`fe ff 0d e0 00 00 00 00 fe ff dd e0 00 00 00 00`)]);
  }
  expectError(buf, 'ERR_DATASET_TOO_DEEP', 64 * 20 + 12);
});

test('tolerant: odd lengths and unordered tags are warnings, the raw value is kept', () => {
  const warnings: import('../../src/dicom/dataset.js').DatasetWarning[] = [];
  const ds = decodeDataset(hex(`10 00 20 00 'LO' 03 00 'ABC' 08 00 60 00 'CS' 02 00 'CT'`), EXPLICIT_LE, { warnings });
  assert.is(getString(ds, 'PatientID'), 'ABC');
  assert.equal(warnings.map((w) => w.code), ['WARN_ODD_LENGTH', 'WARN_TAG_ORDER']);
  // Written strictly: sorted and padded to even length.
  assert.equal(encodeDataset(ds, EXPLICIT_LE), hex(`08 00 60 00 'CS' 02 00 'CT' 10 00 20 00 'LO' 04 00 'ABC '`));
});

test('partial decode returns what was read before the fault', () => {
  const { dataset, error } = decodeDatasetPartial(hex(`08 00 60 00 'CS' 02 00 'CT' 10 00 20 00 'LO' 40 00 'AB'`), EXPLICIT_LE);
  assert.is(getString(dataset, 'Modality'), 'CT');
  assert.is(error!.code, 'ERR_DATASET_TRUNCATED');
  assert.is(error!.offset, 10);
  assert.match(error!.message, /offset 10/);
  assert.match(error!.message, /\(0010,0020\)/);
});

test('strict writing: over-long values, bad repertoire and wrong kinds are refused', () => {
  const ds = createDataset();
  assert.throws(() => setValue(ds, 'Modality', 'A'.repeat(17)), (e: DatasetError) => e.code === 'ERR_VALUE_INVALID' && /\(0008,0060\)/.test(e.message));
  assert.throws(() => setValue(ds, 'StudyInstanceUID', 'é'), (e: DatasetError) => e.code === 'ERR_VALUE_INVALID');
  assert.throws(() => setValue(ds, 'PatientID', 'a\\b'), (e: DatasetError) => e.code === 'ERR_VALUE_INVALID');
  assert.throws(() => setValue(ds, 'Rows', 70000), (e: DatasetError) => e.code === 'ERR_VALUE_INVALID');
  assert.throws(() => setValue(ds, 'InstanceNumber', 1.5), (e: DatasetError) => e.code === 'ERR_VALUE_INVALID');
  assert.throws(() => setValue(ds, 'NoSuchKeyword', 'x'), (e: DatasetError) => e.code === 'ERR_UNKNOWN_KEYWORD');
  assert.throws(() => setValue(ds, 'PatientName', 'Müller'), (e: DatasetError) => e.code === 'ERR_VALUE_INVALID');
  // Query ranges are longer than one DA value and are allowed.
  setValue(ds, 'StudyDate', '20240101-20241231');
  assert.is(getString(ds, 'StudyDate'), '20240101-20241231');
});

test('UTF-8 values are written in ISO_IR 192 and read back', () => {
  const ds = createDataset();
  setValue(ds, 'SpecificCharacterSet', 'ISO_IR 192');
  setValue(ds, 'PatientName', 'Wang^XiaoDong=王^小東');
  assert.equal(ds.characterSet, parseSpecificCharacterSet('ISO_IR 192'));
  const back = decodeDataset(encodeDataset(ds, EXPLICIT_LE), EXPLICIT_LE);
  assert.equal(getValue(back, 'PatientName'), [{ Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' }]);
});

test.run();
