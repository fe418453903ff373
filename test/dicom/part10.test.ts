import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DatasetError } from '../../src/errors.js';
import { createDataset, type Dataset } from '../../src/dicom/dataset.js';
import { encodeDataset } from '../../src/dicom/encode.js';
import { decodeDataset } from '../../src/dicom/decode.js';
import { datasetToJson } from '../../src/dicom/json.js';
import { encodeFileMeta, readPart10, writePart10 } from '../../src/dicom/part10.js';
import { EXPLICIT_LE, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, IMPLICIT_LE } from '../../src/dicom/uids.js';
import { decodeValue, getItems, getString, setValue } from '../../src/dicom/values.js';
import { hex } from '../support/hex.js';
import { parseTag } from '../../src/dicom/tag.js';

const test = suite('part 10 files and the vendor samples');
const SAMPLES = fileURLToPath(new URL('../fixtures/dicom-samples/', import.meta.url));
const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.dcm')).sort();

function readAll(ds: Dataset): number {
  let n = 0;
  for (const el of ds.elements.values()) {
    n++;
    decodeValue(el, ds);
    for (const item of el.items ?? []) n += readAll(item);
  }
  return n;
}

test('the sample set is complete (40 vendor dose objects)', () => {
  assert.is(files.length, 40);
});

test('the Hologic object with odd lengths and explicit items inside a UN sequence is tolerated', () => {
  const file = readPart10(readFileSync(SAMPLES + 'MG-Im-Hologic-PropProj.dcm'));
  assert.equal(file.warnings.map((w) => `${w.code} ${w.tag}`), ['WARN_ODD_LENGTH (0040,0253)', 'WARN_VALUE (0040,0260)']);
  const un = file.dataset.elements.get(0x00400260)!;
  assert.is(un.vr, 'UN');
  assert.is(getString(un.items![0]!, 'CodeValue')!.length > 0, true);
});

for (const f of files) {
  test(`decodes ${f} and reads every value`, () => {
    const file = readPart10(readFileSync(SAMPLES + f));
    assert.ok(readAll(file.dataset) > 10);
    assert.is(getString(file.dataset, 'SOPInstanceUID'), getString(file.meta, 'MediaStorageSOPInstanceUID'));
    const reencoded = encodeDataset(file.dataset, file.transferSyntax.explicitVr ? EXPLICIT_LE : IMPLICIT_LE);
    if (file.transferSyntax.explicitVr && file.warnings.length === 0) {
      // Valid explicit VR LE files re-encode byte-identical after decode.
      const buf = readFileSync(SAMPLES + f);
      assert.ok(reencoded.equals(buf.subarray(file.datasetOffset)), `${f} re-encodes identically`);
    } else {
      // Files we had to tolerate (odd lengths, explicit items inside UN) are written strictly:
      // the same values, conformant bytes.
      const again = decodeDataset(reencoded, file.transferSyntax.explicitVr ? EXPLICIT_LE : IMPLICIT_LE, { warnings: [] });
      const before = datasetToJson(file.dataset);
      const after = datasetToJson(again);
      for (const w of file.warnings.filter((x) => x.code === 'WARN_ODD_LENGTH')) {
        // An odd-length value gains one padding byte and is otherwise unchanged.
        const t = parseTag(w.tag!)!;
        const [a, b] = [file.dataset.elements.get(t)!.value, again.elements.get(t)!.value];
        assert.is(b.length, a.length + 1);
        assert.ok(b.subarray(0, a.length).equals(a));
        const key = t.toString(16).toUpperCase().padStart(8, '0');
        delete before[key];
        delete after[key];
      }
      assert.equal(after, before);
    }
  });
}

test('RDSR content: the dose report template and nested content items', () => {
  const { dataset } = readPart10(readFileSync(SAMPLES + 'CT-RDSR-Siemens-Multi-1.dcm'));
  assert.is(getString(dataset, 'SOPClassUID'), '1.2.840.10008.5.1.4.1.1.88.67');
  assert.is(getString(dataset, 'Modality'), 'SR');
  assert.is(getString(dataset, 'SeriesDescription'), 'Dose Report');
  const concept = getItems(dataset, 'ConceptNameCodeSequence')[0]!;
  assert.is(getString(concept, 'CodeValue'), '113701');
  assert.ok(getItems(dataset, 'ContentSequence').length > 3);
});

test('non-ASCII names in the samples decode with their character set', () => {
  const { dataset } = readPart10(readFileSync(SAMPLES + 'NM-NmIm-Siemens.dcm'));
  assert.is(getString(dataset, 'SeriesDescription'), 'GK früh');
});

test('writes a Part-10 file: preamble, DICM, meta group with its group length', () => {
  const ds = createDataset();
  setValue(ds, 'SOPClassUID', '1.2.840.10008.5.1.4.1.1.7');
  setValue(ds, 'SOPInstanceUID', '1.2.3');
  setValue(ds, 'Modality', 'OT');
  const buf = writePart10(ds, { transferSyntax: IMPLICIT_LE, sourceApplicationEntityTitle: 'QRSCU' });
  assert.equal(buf.subarray(0, 128), Buffer.alloc(128));
  assert.is(buf.toString('latin1', 128, 132), 'DICM');
  const implClass = `${IMPLEMENTATION_CLASS_UID}${IMPLEMENTATION_CLASS_UID.length % 2 ? '\0' : ''}`;
  const meta = hex(`
    02 00 01 00 'OB' 00 00 02 00 00 00 00 01
    02 00 02 00 'UI' 1a 00 '1.2.840.10008.5.1.4.1.1.7' 00
    02 00 03 00 'UI' 06 00 '1.2.3' 00
    02 00 10 00 'UI' 12 00 '1.2.840.10008.1.2' 00
  `);
  const rest = Buffer.concat([
    meta,
    hex(`02 00 12 00 'UI'`), Buffer.from([implClass.length, 0]), Buffer.from(implClass, 'latin1'),
    hex(`02 00 13 00 'SH' 0a 00 '${IMPLEMENTATION_VERSION_NAME} '`),
    hex(`02 00 16 00 'AE' 06 00 'QRSCU '`),
  ]);
  const groupLength = hex(`02 00 00 00 'UL' 04 00`);
  const gl = Buffer.alloc(4);
  gl.writeUInt32LE(rest.length);
  assert.equal(buf.subarray(132, 132 + 12 + rest.length), Buffer.concat([groupLength, gl, rest]));
  const back = readPart10(buf);
  assert.is(back.transferSyntax, IMPLICIT_LE);
  assert.is(getString(back.dataset, 'Modality'), 'OT');
  assert.equal(encodeFileMeta({ mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7', mediaStorageSopInstanceUid: '1.2.3', transferSyntaxUid: '1.2.840.10008.1.2', sourceApplicationEntityTitle: 'QRSCU' }), buf.subarray(0, 132 + 12 + rest.length));
});

test('a file without SOP UIDs cannot be written', () => {
  assert.throws(() => writePart10(createDataset()), (e: DatasetError) => e.code === 'ERR_PART10_INVALID');
});

test('a bare dataset without preamble is read with a warning', () => {
  const body = hex(`08 00 60 00 'CS' 02 00 'CT'`);
  const f = readPart10(body);
  assert.is(getString(f.dataset, 'Modality'), 'CT');
  assert.is(f.transferSyntax, EXPLICIT_LE);
  assert.is(f.warnings[0]!.code, 'WARN_VALUE');
  const implicit = readPart10(hex(`08 00 60 00 02 00 00 00 'CT'`));
  assert.is(implicit.transferSyntax, IMPLICIT_LE);
  assert.is(getString(implicit.dataset, 'Modality'), 'CT');
});

test('broken files: typed errors with offsets; partial mode keeps what was read', () => {
  const good = readFileSync(SAMPLES + 'DX-Im-DRGEM.dcm');
  const cut = good.subarray(0, 900); // inside (0020,000E)
  assert.throws(() => readPart10(cut), (e: DatasetError) => e.code === 'ERR_DATASET_TRUNCATED' && typeof e.offset === 'number');
  const partial = readPart10(cut, { partial: true });
  assert.ok(partial.error);
  assert.ok(partial.dataset.elements.size > 3);
  assert.throws(() => readPart10(Buffer.from('tiny')), (e: DatasetError) => e.code === 'ERR_PART10_INVALID');
  const noTs = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), hex(`02 00 02 00 'UI' 02 00 '1' 00`)]);
  assert.throws(() => readPart10(noTs), (e: DatasetError) => e.code === 'ERR_PART10_INVALID');
});

test.run();
