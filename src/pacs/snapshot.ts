// PACS snapshots: a JSON file that says how a remote Query/Retrieve SCP answers
// (../shared/docs/pacs-snapshot.md is the contract). Loaded and validated eagerly: every fault is a
// ConfigError naming the file and the JSON pointer of the faulty value.

import { readFileSync } from 'node:fs';
import { createDataset, setValue, tagOfKeyword, type Dataset } from '../dicom/index.js';
import { ConfigError, ErrorCode, isDicomError } from '../errors.js';

/** One answer value: a JSON array is a multi-valued element; a string or number is one value. */
export type AnswerValue = string | number | readonly (string | number)[];

/** One C-FIND answer: DICOM keyword → value. A keyword absent here is never returned. */
export type Answer = Readonly<Record<string, AnswerValue>>;

/** An instance the PACS holds; `hidden` ones are moved but never returned by an image-level C-FIND. */
export interface SnapshotInstance {
  readonly answer: Answer;
  readonly hidden: boolean;
}

/** Final C-MOVE status classes of the contract (PS3.4 Table C.4-2). */
export type MoveStatusClass = 'success' | 'warning' | 'failure';

export interface SnapshotQuirks {
  /** An image-level C-FIND with a non-empty InstanceNumber returns only instances with that number. */
  readonly instanceNumberMatching: boolean;
  /** ModalitiesInStudy is honoured only when the study-level request also carries a Modality key. */
  readonly modalityKeyRequired: boolean;
  /** Final statuses of successive C-MOVE requests; the last one repeats (moveFinalStatus is a list of one). */
  readonly moveStatuses: readonly number[];
}

export interface Snapshot {
  /** The file it was read from ('<snapshot>' when parsed from memory). */
  readonly source: string;
  readonly aet?: string;
  readonly quirks: SnapshotQuirks;
  /** ModalitiesInStudy value as sent (or '*') → study-level answers. */
  readonly studies: ReadonlyMap<string, readonly Answer[]>;
  /** StudyInstanceUID → series-level answers. */
  readonly series: ReadonlyMap<string, readonly Answer[]>;
  /** SeriesInstanceUID → every instance of the series. */
  readonly instances: ReadonlyMap<string, readonly SnapshotInstance[]>;
}

const TOP_LEVEL = new Set(['aet', 'quirks', 'studies', 'series', 'instances']);
const QUIRKS = new Set(['instanceNumberMatching', 'modalityKeyRequired', 'moveFinalStatus', 'moveStatuses']);

/**
 * Read and validate a snapshot file.
 * @throws ConfigError ERR_CONFIG_INVALID (unreadable file, bad JSON, or a fault at a JSON pointer)
 */
export function loadSnapshot(file: string): Snapshot {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(ErrorCode.ConfigInvalid, `cannot read snapshot: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(ErrorCode.ConfigInvalid, `snapshot is not JSON: ${(e as Error).message}`, { file, pointer: '', cause: e });
  }
  return parseSnapshot(json, file);
}

/**
 * Validate a parsed snapshot document.
 * @throws ConfigError ERR_CONFIG_INVALID naming `file` and the JSON pointer of the fault
 */
export function parseSnapshot(json: unknown, file = '<snapshot>'): Snapshot {
  const fail = (pointer: string, message: string, cause?: unknown): never => {
    throw new ConfigError(ErrorCode.ConfigInvalid, message, { file, pointer, ...(cause === undefined ? {} : { cause }) });
  };
  const doc = object(json, '', fail);
  for (const key of Object.keys(doc)) if (!TOP_LEVEL.has(key)) fail(`/${escape(key)}`, `unknown snapshot field "${key}"`);
  if (doc['studies'] === undefined) fail('', 'snapshot needs "studies"');

  let aet: string | undefined;
  if (doc['aet'] !== undefined) {
    const a = doc['aet'];
    // PS3.8 §9.3.2: an AE title is 1–16 characters of the default repertoire, not all spaces.
    if (typeof a !== 'string' || a.trim() === '' || a.length > 16 || !/^[\x20-\x7e]+$/.test(a) || a.includes('\\')) fail('/aet', 'aet must be an AE title (1-16 printable characters, no backslash)');
    aet = (a as string).trim();
  }

  const q = doc['quirks'] === undefined ? {} : object(doc['quirks'], '/quirks', fail);
  for (const key of Object.keys(q)) if (!QUIRKS.has(key)) fail(`/quirks/${escape(key)}`, `unknown quirk "${key}"`);
  const flag = (key: string, dflt: boolean): boolean => {
    const v = q[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') fail(`/quirks/${key}`, `${key} must be true or false`);
    return v as boolean;
  };
  let moveStatuses: number[] = [0];
  if (q['moveFinalStatus'] !== undefined) moveStatuses = [parseMoveStatus(q['moveFinalStatus'], '/quirks/moveFinalStatus', fail)];
  if (q['moveStatuses'] !== undefined) {
    const list = q['moveStatuses'];
    if (!Array.isArray(list) || list.length === 0) fail('/quirks/moveStatuses', 'moveStatuses must be a non-empty list of statuses');
    moveStatuses = (list as unknown[]).map((s, i) => parseMoveStatus(s, `/quirks/moveStatuses/${i}`, fail));
  }
  const quirks: SnapshotQuirks = { instanceNumberMatching: flag('instanceNumberMatching', true), modalityKeyRequired: flag('modalityKeyRequired', false), moveStatuses };

  const answerLists = (field: string, allowHidden: boolean): Map<string, SnapshotInstance[]> => {
    const out = new Map<string, SnapshotInstance[]>();
    if (doc[field] === undefined) return out;
    const table = object(doc[field], `/${field}`, fail);
    for (const [key, list] of Object.entries(table)) {
      const at = `/${field}/${escape(key)}`;
      if (!Array.isArray(list)) fail(at, `${field} "${key}" must be a list of answers`);
      out.set(key, (list as unknown[]).map((a, i) => parseAnswer(a, `${at}/${i}`, allowHidden, fail)));
    }
    return out;
  };
  const plain = (m: Map<string, SnapshotInstance[]>): Map<string, Answer[]> => new Map([...m].map(([k, v]) => [k, v.map((x) => x.answer)]));
  return {
    source: file,
    ...(aet === undefined ? {} : { aet }),
    quirks,
    studies: plain(answerLists('studies', false)),
    series: plain(answerLists('series', false)),
    instances: answerLists('instances', true),
  };
}

/** The class of a final C-MOVE status of the contract: 0000 success, Bxxx warning, Axxx/Cxxx failure. */
export function moveStatusClass(status: number): MoveStatusClass {
  if (status === 0) return 'success';
  return (status & 0xf000) === 0xb000 ? 'warning' : 'failure';
}

/**
 * Build the dataset of one answer: only its keywords, plus QueryRetrieveLevel when `level` is given.
 * SpecificCharacterSet, when the answer has it, is set first so the other values are encoded in it.
 * @throws DatasetError when a value cannot be encoded (parseSnapshot has already checked that)
 */
export function answerToDataset(answer: Answer, level?: string, omit?: (keyword: string) => boolean): Dataset {
  const ds = createDataset();
  const cs = answer['SpecificCharacterSet'];
  if (cs !== undefined) setValue(ds, 'SpecificCharacterSet', toValueInput(cs));
  if (level !== undefined) setValue(ds, 'QueryRetrieveLevel', level);
  for (const [keyword, value] of Object.entries(answer)) {
    if (keyword === 'SpecificCharacterSet' || (omit && omit(keyword))) continue;
    setValue(ds, keyword, toValueInput(value));
  }
  return ds;
}

function toValueInput(v: AnswerValue): string | number | readonly string[] | readonly number[] {
  if (typeof v === 'string' || typeof v === 'number') return v;
  // Mixed lists are sent as text: IS/DS take "1" and 1 alike.
  return v.every((x) => typeof x === 'number') ? (v as readonly number[]) : v.map(String);
}

type Fail = (pointer: string, message: string, cause?: unknown) => never;

function object(v: unknown, pointer: string, fail: Fail): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(pointer, 'must be a JSON object');
  return v as Record<string, unknown>;
}

function parseMoveStatus(v: unknown, pointer: string, fail: Fail): number {
  if (typeof v !== 'string' || !/^[0-9A-Fa-f]{4}$/.test(v)) fail(pointer, 'a C-MOVE status is 4 hex digits, e.g. "0000", "B000", "A702"');
  const status = parseInt(v as string, 16);
  // The contract defines success (0000), warning (Bxxx) and failure (Axxx, Cxxx); other statuses are not final C-MOVE statuses it knows.
  if (status !== 0 && ![0xa, 0xb, 0xc].includes(status >> 12)) fail(pointer, `C-MOVE status ${v} is not 0000, Axxx, Bxxx or Cxxx`);
  return status;
}

function parseAnswer(v: unknown, pointer: string, allowHidden: boolean, fail: Fail): SnapshotInstance {
  const raw = object(v, pointer, fail);
  const answer: Record<string, AnswerValue> = {};
  let hidden = false;
  for (const [keyword, value] of Object.entries(raw)) {
    const at = `${pointer}/${escape(keyword)}`;
    if (keyword === 'hidden') {
      if (!allowHidden) fail(at, '"hidden" is only allowed on instances');
      if (typeof value !== 'boolean') fail(at, 'hidden must be true or false');
      hidden = value as boolean;
      continue;
    }
    if (keyword === 'QueryRetrieveLevel') fail(at, 'QueryRetrieveLevel is set by the simulated PACS, not by the snapshot');
    if (tagOfKeyword(keyword) === undefined) fail(at, `unknown DICOM keyword "${keyword}"`);
    const ok = (x: unknown): boolean => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x));
    if (Array.isArray(value) ? !value.every(ok) : !ok(value)) fail(at, 'a value is a string, a number or a list of them');
    answer[keyword] = value as AnswerValue;
  }
  // Encode each value now (in the answer's character set), so a value its VR cannot hold fails at
  // load time, at its own pointer, not in the middle of a C-FIND.
  const cs = answer['SpecificCharacterSet'];
  for (const [keyword, value] of Object.entries(answer)) {
    try {
      answerToDataset(cs === undefined ? { [keyword]: value } : { SpecificCharacterSet: cs, [keyword]: value });
    } catch (e) {
      if (!isDicomError(e)) throw e;
      fail(`${pointer}/${escape(keyword)}`, `${keyword} cannot be encoded: ${e.message}`, e);
    }
  }
  return { answer, hidden };
}

/** RFC 6901: "~" → "~0", "/" → "~1". */
function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
