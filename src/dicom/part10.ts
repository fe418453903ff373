// DICOM Part-10 files (PS3.10 §7.1): 128-byte preamble, "DICM", the File Meta Information group
// (0002) in Explicit VR Little Endian, then the dataset in the transfer syntax the meta group names.

import { DatasetError, ErrorCode } from '../errors.js';
import { createDataset, type Dataset, type DatasetWarning } from './dataset.js';
import { decodeDataset, decodeDatasetPartial, decodeGroup } from './decode.js';
import { encodeDataset } from './encode.js';
import { getString, setValue } from './values.js';
import { EXPLICIT_LE, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, IMPLICIT_LE, transferSyntaxOf, type TransferSyntax } from './uids.js';
import { vrFromCode } from './vr.js';

export interface Part10File {
  readonly meta: Dataset;
  readonly dataset: Dataset;
  readonly transferSyntax: TransferSyntax;
  /** Offset of the dataset after the meta group (in the file; offsets in a deflated dataset are of the inflated stream). */
  readonly datasetOffset: number;
  readonly warnings: DatasetWarning[];
  /** With `partial`: the fault that ended decoding; `dataset` holds what was read before it. */
  readonly error?: DatasetError;
}

const PREAMBLE_LENGTH = 128;

/**
 * Read a Part-10 file. A file without preamble and "DICM" (a bare dataset, as some tools write) is
 * read with its syntax guessed from the first element, with a warning.
 * @throws DatasetError ERR_PART10_INVALID, and the dataset decoder's errors with their offsets.
 */
export function readPart10(buf: Buffer, options: { partial?: boolean } = {}): Part10File {
  const warnings: DatasetWarning[] = [];
  if (buf.length >= PREAMBLE_LENGTH + 4 && buf.toString('latin1', PREAMBLE_LENGTH, PREAMBLE_LENGTH + 4) === 'DICM') {
    const { dataset: meta, end } = decodeGroup(buf, PREAMBLE_LENGTH + 4, 0x0002, EXPLICIT_LE, warnings);
    const tsUid = getString(meta, 0x00020010);
    if (tsUid === undefined || tsUid === '') {
      throw new DatasetError(ErrorCode.Part10Invalid, 'File Meta Information has no Transfer Syntax UID (0002,0010)', { offset: PREAMBLE_LENGTH + 4 });
    }
    const transferSyntax = transferSyntaxOf(tsUid);
    const decodeOptions = { base: transferSyntax.deflated ? 0 : end, warnings };
    if (options.partial) {
      const { dataset, error } = decodeDatasetPartial(buf.subarray(end), transferSyntax, decodeOptions);
      return { meta, dataset, transferSyntax, datasetOffset: end, warnings, ...(error ? { error } : {}) };
    }
    const dataset = decodeDataset(buf.subarray(end), transferSyntax, decodeOptions);
    return { meta, dataset, transferSyntax, datasetOffset: end, warnings };
  }
  if (buf.length < 8) {
    throw new DatasetError(ErrorCode.Part10Invalid, `not a DICOM file: ${buf.length} bytes, no "DICM" at offset 128`, { offset: 0 });
  }
  // No preamble: explicit VR if bytes 4-5 name a VR, as dcmtk guesses.
  const transferSyntax = vrFromCode(buf[4]!, buf[5]!) ? EXPLICIT_LE : IMPLICIT_LE;
  warnings.push({ code: 'WARN_VALUE', message: `no preamble and "DICM" prefix: read as a bare dataset in ${transferSyntax === EXPLICIT_LE ? 'Explicit' : 'Implicit'} VR Little Endian`, offset: 0 });
  let offset = 0;
  let meta = createDataset();
  if (buf.readUInt16LE(0) === 0x0002) {
    const g = decodeGroup(buf, 0, 0x0002, EXPLICIT_LE, warnings);
    meta = g.dataset;
    offset = g.end;
  }
  if (options.partial) {
    const { dataset, error } = decodeDatasetPartial(buf.subarray(offset), transferSyntax, { base: offset, warnings });
    return { meta, dataset, transferSyntax, datasetOffset: offset, warnings, ...(error ? { error } : {}) };
  }
  const dataset = decodeDataset(buf.subarray(offset), transferSyntax, { base: offset, warnings });
  return { meta, dataset, transferSyntax, datasetOffset: offset, warnings };
}

export interface FileMetaOptions {
  readonly mediaStorageSopClassUid: string;
  readonly mediaStorageSopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly sourceApplicationEntityTitle?: string;
  readonly implementationClassUid?: string;
  readonly implementationVersionName?: string;
}

/** Preamble, "DICM" and the File Meta Information group with its group length: the head of a Part-10 file. */
export function encodeFileMeta(options: FileMetaOptions): Buffer {
  const meta = createDataset();
  setValue(meta, 0x00020000, [0], 'UL');
  setValue(meta, 0x00020001, Buffer.from([0x00, 0x01]), 'OB');
  setValue(meta, 0x00020002, options.mediaStorageSopClassUid, 'UI');
  setValue(meta, 0x00020003, options.mediaStorageSopInstanceUid, 'UI');
  setValue(meta, 0x00020010, options.transferSyntaxUid, 'UI');
  setValue(meta, 0x00020012, options.implementationClassUid ?? IMPLEMENTATION_CLASS_UID, 'UI');
  setValue(meta, 0x00020013, options.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME, 'SH');
  if (options.sourceApplicationEntityTitle) setValue(meta, 0x00020016, options.sourceApplicationEntityTitle, 'AE');
  // PS3.10 §7.1: (0002,0000) counts the bytes after its own element (12 bytes: tag, VR, length, value).
  const groupLength = encodeDataset(meta, EXPLICIT_LE).length - 12;
  setValue(meta, 0x00020000, [groupLength], 'UL');
  const body = encodeDataset(meta, EXPLICIT_LE);
  const out = Buffer.alloc(PREAMBLE_LENGTH + 4 + body.length);
  out.write('DICM', PREAMBLE_LENGTH, 'latin1');
  body.copy(out, PREAMBLE_LENGTH + 4);
  return out;
}

/**
 * A whole Part-10 file for a dataset; the SOP Class/Instance UIDs come from the dataset unless given.
 * @throws DatasetError ERR_PART10_INVALID when the dataset has no SOP Class or Instance UID.
 */
export function writePart10(dataset: Dataset, options: Partial<FileMetaOptions> & { transferSyntax?: TransferSyntax } = {}): Buffer {
  const transferSyntax = options.transferSyntax ?? (options.transferSyntaxUid ? transferSyntaxOf(options.transferSyntaxUid) : EXPLICIT_LE);
  const sopClass = options.mediaStorageSopClassUid ?? getString(dataset, 0x00080016);
  const sopInstance = options.mediaStorageSopInstanceUid ?? getString(dataset, 0x00080018);
  if (!sopClass || !sopInstance) {
    throw new DatasetError(ErrorCode.Part10Invalid, 'a Part-10 file needs SOPClassUID (0008,0016) and SOPInstanceUID (0008,0018)');
  }
  const head = encodeFileMeta({
    ...options,
    mediaStorageSopClassUid: sopClass,
    mediaStorageSopInstanceUid: sopInstance,
    transferSyntaxUid: transferSyntax.uid,
  });
  return Buffer.concat([head, encodeDataset(dataset, transferSyntax)]);
}
