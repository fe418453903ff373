// `qrscu db index DIR`: walk a folder of DICOM files and read only the UIDs the held index needs.
// A file is read in a first chunk (64 KiB) and decoded partially; only when a UID is missing from
// that chunk (a long element before group 0020) is the whole file read.

import { open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { getString } from '../dicom/values.js';
import { readPart10 } from '../dicom/part10.js';
import type { Dataset } from '../dicom/dataset.js';
import type { Database, HeldInput } from './database.js';

const FIRST_CHUNK = 64 * 1024;
const STUDY = 0x0020000d;
const SERIES = 0x0020000e;
const SOP_CLASS = 0x00080016;
const SOP_INSTANCE = 0x00080018;
const META_SOP_CLASS = 0x00020002;
const META_SOP_INSTANCE = 0x00020003;

export interface IndexOptions {
  /** Deepest sub-folder level walked (default 32). */
  readonly maxDepth?: number;
  /** Objects per addHeld batch (default 1000). */
  readonly batchSize?: number;
  /** Called for each file skipped with a reason (not DICOM, UIDs missing, unreadable). */
  readonly onSkip?: (file: string, reason: string) => void;
  readonly onProgress?: (counts: IndexCounts) => void;
}

export interface IndexCounts {
  /** Regular files looked at. */
  files: number;
  /** DICOM objects added to the index (new). */
  added: number;
  /** DICOM objects already in the index (entry refreshed with this file). */
  alreadyHeld: number;
  /** Files that are not DICOM Part-10 (no "DICM", no recognisable dataset). */
  notDicom: number;
  /** DICOM files without a study, series or SOP instance UID. */
  missingUids: number;
  /** Files that could not be read. */
  unreadable: number;
  /** Folders not entered because they were deeper than maxDepth, and symbolic links to folders. */
  skippedFolders: number;
}

interface Uids {
  readonly study?: string;
  readonly series?: string;
  readonly sopClass?: string;
  readonly sopInstance?: string;
}

function uidsOf(meta: Dataset, ds: Dataset): Uids {
  const s = (d: Dataset, t: number) => {
    const v = getString(d, t)?.replace(/[\0\s]+$/, '').trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const out: { -readonly [K in keyof Uids]: Uids[K] } = {};
  const study = s(ds, STUDY);
  const series = s(ds, SERIES);
  const sopClass = s(ds, SOP_CLASS) ?? s(meta, META_SOP_CLASS);
  const sopInstance = s(ds, SOP_INSTANCE) ?? s(meta, META_SOP_INSTANCE);
  if (study) out.study = study;
  if (series) out.series = series;
  if (sopClass) out.sopClass = sopClass;
  if (sopInstance) out.sopInstance = sopInstance;
  return out;
}

const complete = (u: Uids) => u.study !== undefined && u.series !== undefined && u.sopInstance !== undefined && u.sopClass !== undefined;

/** True when the bytes look like a Part-10 file or a bare little-endian dataset starting at group 0002 or 0008. */
function looksDicom(head: Buffer): boolean {
  if (head.length >= 132 && head.toString('latin1', 128, 132) === 'DICM') return true;
  if (head.length < 8) return false;
  const group = head.readUInt16LE(0);
  return group === 0x0002 || group === 0x0008;
}

/** Read the UIDs of one file; undefined when it is not DICOM. */
export async function readUids(file: string): Promise<Uids | undefined> {
  const fh = await open(file, 'r');
  let head: Buffer;
  let size: number;
  try {
    size = (await fh.stat()).size;
    const buf = Buffer.alloc(Math.min(FIRST_CHUNK, size));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (!looksDicom(head)) return undefined;
  const attempt = (buf: Buffer): Uids | undefined => {
    try {
      const f = readPart10(buf, { partial: true });
      return uidsOf(f.meta, f.dataset);
    } catch {
      // a header that does not decode: not (readable) DICOM
      return undefined;
    }
  };
  let uids = attempt(head);
  if ((uids === undefined || !complete(uids)) && size > head.length) uids = attempt(await readFile(file));
  return uids;
}

/** Walk `dir` and add every DICOM object to the held index (in batches). */
export async function indexFolder(db: Database, dir: string, options: IndexOptions = {}): Promise<IndexCounts> {
  const maxDepth = options.maxDepth ?? 32;
  const batchSize = options.batchSize ?? 1000;
  const counts: IndexCounts = { files: 0, added: 0, alreadyHeld: 0, notDicom: 0, missingUids: 0, unreadable: 0, skippedFolders: 0 };
  const skip = options.onSkip ?? (() => undefined);
  let batch: HeldInput[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const r = db.addHeld(batch);
    counts.added += r.added;
    counts.alreadyHeld += r.replaced;
    batch = [];
    options.onProgress?.(counts);
  };
  const root = path.resolve(dir);
  const rootStat = await stat(root);
  if (!rootStat.isDirectory()) throw Object.assign(new Error(`${root} is not a folder`), { code: 'ENOTDIR' });

  const visit = async (file: string) => {
    counts.files++;
    let uids: Uids | undefined;
    try {
      uids = await readUids(file);
    } catch (e) {
      counts.unreadable++;
      skip(file, `cannot read: ${(e as Error).message}`);
      return;
    }
    if (uids === undefined) {
      counts.notDicom++;
      skip(file, 'not DICOM (or its header does not decode)');
      return;
    }
    if (!complete(uids)) {
      counts.missingUids++;
      const missing = (['study', 'series', 'sopClass', 'sopInstance'] as const).filter((k) => uids![k] === undefined);
      skip(file, `no ${missing.join(', ')} UID`);
      return;
    }
    batch.push({ studyInstanceUid: uids.study!, seriesInstanceUid: uids.series!, sopInstanceUid: uids.sopInstance!, sopClassUid: uids.sopClass!, file });
    if (batch.length >= batchSize) flush();
  };

  const walk = async (folder: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (e) {
      counts.unreadable++;
      skip(folder, `cannot list: ${(e as Error).message}`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ent of entries) {
      const p = path.join(folder, ent.name);
      if (ent.isDirectory()) {
        if (depth >= maxDepth) {
          counts.skippedFolders++;
          skip(p, `deeper than ${maxDepth} levels`);
        } else await walk(p, depth + 1);
      } else if (ent.isFile()) {
        await visit(p);
      } else if (ent.isSymbolicLink()) {
        let st;
        try {
          st = await stat(p);
        } catch {
          counts.unreadable++;
          skip(p, 'broken symbolic link');
          continue;
        }
        if (st.isFile()) await visit(p);
        else if (st.isDirectory()) {
          counts.skippedFolders++;
          skip(p, 'symbolic link to a folder (not followed)');
        }
      }
    }
  };
  await walk(root, 0);
  flush();
  return counts;
}
