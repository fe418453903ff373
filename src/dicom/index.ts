// Public surface of the dataset codec.

export type { Dataset, DatasetWarning, Element, ElementKey, PersonName, Value } from './dataset.js';
export { createDataset, getElement, hasElement, resolveTag } from './dataset.js';
export { decodeDataset, decodeDatasetPartial } from './decode.js';
export { datasetLength, encodeDataset } from './encode.js';
export { getItems, getNumber, getString, getStrings, getValue, setValue, deleteElement, type ValueInput } from './values.js';
export { encodeFileMeta, readPart10, writePart10, type Part10File } from './part10.js';
export { datasetFromJson, datasetToJson, type DicomJson } from './json.js';
export { dumpDataset } from './dump.js';
export { formatTag, parseTag, tag, type Tag } from './tag.js';
export { lookupTag, tagOfKeyword, keywordOfTag } from './dictionary.js';
export type { VR } from './vr.js';
export * from './uids.js';
