// Dataset codec benchmark (issue 2): a typical study-level C-FIND identifier decoded and 3 values
// read, and a ~30 KB RDSR read in full — qrscu vs dcmjs, in the same process and run.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import dcmjs from 'dcmjs';
import { createDataset, decodeDataset, encodeDataset, getString, getStrings, getValue, readPart10, setValue, type Dataset } from '../src/dicom/index.js';
import { IMPLICIT_LE } from '../src/dicom/uids.js';
import { measure, type BenchRow } from './measure.js';

const RDSR = fileURLToPath(new URL('../test/fixtures/dicom-samples/CT-RDSR-SpectrumDynamics.dcm', import.meta.url));

/** A 250-byte study-level C-FIND response: 11 elements, implicit VR LE as most PACS answer. */
export function studyIdentifier(): Buffer {
  const ds = createDataset();
  setValue(ds, 'SpecificCharacterSet', 'ISO_IR 100');
  setValue(ds, 'StudyDate', '20240315');
  setValue(ds, 'StudyTime', '101512.123');
  setValue(ds, 'AccessionNumber', 'ACC0001234');
  setValue(ds, 'QueryRetrieveLevel', 'STUDY');
  setValue(ds, 'RetrieveAETitle', 'ORTHANC');
  setValue(ds, 'ModalitiesInStudy', ['CT', 'SR']);
  setValue(ds, 'StudyDescription', 'CT CHEST ABDOMEN PELVIS WITH CONTRAST');
  setValue(ds, 'PatientName', 'SYNTHETIC^PATIENT^ONE');
  setValue(ds, 'PatientID', 'QR000123');
  setValue(ds, 'StudyInstanceUID', '2.25.297814619024783915346011823457862911234');
  return encodeDataset(ds, IMPLICIT_LE);
}

function readAll(ds: Dataset): number {
  let n = 0;
  for (const el of ds.elements.values()) {
    if (el.items) for (const item of el.items) n += readAll(item);
    else { getValue(ds, el.tag); n++; }
  }
  return n;
}

export function runDatasetBench(seconds: number): BenchRow[] {
  const { data } = dcmjs;
  const id = studyIdentifier();
  const rdsr = readFileSync(RDSR);
  const rows: BenchRow[] = [];

  const ours = measure('identifier: decode + read 3 values', 'qrscu', seconds, id.length, () => {
    const ds = decodeDataset(id, IMPLICIT_LE);
    getString(ds, 'StudyInstanceUID');
    getStrings(ds, 'ModalitiesInStudy');
    getString(ds, 'StudyDescription');
  });
  const theirs = measure('identifier: decode + read 3 values', 'dcmjs', seconds, id.length, () => {
    const ab = toArrayBuffer(id);
    const dict = data.DicomMessage._read(new data.ReadBufferStream(ab), '1.2.840.10008.1.2', { ignoreErrors: true });
    void dict['0020000D']?.Value?.[0];
    void dict['00080061']?.Value;
    void dict['00081030']?.Value?.[0];
  });
  rows.push(ours, { ...theirs, ratio: ours.opsPerSecond / theirs.opsPerSecond });

  const oursR = measure(`RDSR ${(rdsr.length / 1024).toFixed(0)} KB: read every value`, 'qrscu', seconds, rdsr.length, () => {
    readAll(readPart10(rdsr).dataset);
  });
  const theirsR = measure(`RDSR ${(rdsr.length / 1024).toFixed(0)} KB: read every value`, 'dcmjs', seconds, rdsr.length, () => {
    data.DicomMessage.readFile(toArrayBuffer(rdsr), { ignoreErrors: true });
  });
  rows.push(oursR, { ...theirsR, ratio: oursR.opsPerSecond / theirsR.opsPerSecond });
  return rows;
}

/** dcmjs reads ArrayBuffers; the copy is part of what using it costs. */
function toArrayBuffer(b: Buffer): ArrayBuffer {
  const ab = new ArrayBuffer(b.length);
  new Uint8Array(ab).set(b);
  return ab;
}
