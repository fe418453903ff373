// The lookup rules of a PACS snapshot (../shared/docs/pacs-snapshot.md): which answers a C-FIND
// gets and which instances a C-MOVE selects. Pure functions over a Snapshot; no I/O.

import type { Answer, Snapshot, SnapshotInstance } from './snapshot.js';

/** What a study-level C-FIND asked, as far as the snapshot's rules look at it. */
export interface StudyRequest {
  /** The ModalitiesInStudy value as sent (values joined by "\"); undefined when the key is absent. */
  readonly modalitiesInStudy: string | undefined;
  /** The request carries a Modality key (empty or not). */
  readonly hasModalityKey: boolean;
}

/**
 * Study-level answers: the list under the request's ModalitiesInStudy value, else under "*", else
 * none. An absent key is looked up as "" (so a snapshot may answer it under ""). With
 * `modalityKeyRequired`, a request without Modality is answered from "*" only.
 */
export function selectStudies(snapshot: Snapshot, rq: StudyRequest, options: { ignoreModalitiesInStudy?: boolean } = {}): readonly Answer[] {
  const honoured = !options.ignoreModalitiesInStudy && (!snapshot.quirks.modalityKeyRequired || rq.hasModalityKey);
  if (honoured) {
    const own = snapshot.studies.get(rq.modalitiesInStudy ?? '');
    if (own !== undefined) return own;
  }
  return snapshot.studies.get('*') ?? [];
}

/** Series-level answers of each StudyInstanceUID of the request (a UID list concatenates them). */
export function selectSeries(snapshot: Snapshot, studyInstanceUids: readonly string[]): readonly Answer[] {
  return studyInstanceUids.flatMap((uid) => snapshot.series.get(uid) ?? []);
}

/**
 * Image-level answers: the visible instances of each requested series; with
 * `instanceNumberMatching` and a non-empty InstanceNumber, only instances with one of its values.
 */
export function selectImages(snapshot: Snapshot, seriesInstanceUids: readonly string[], instanceNumbers: readonly string[]): readonly Answer[] {
  const wanted = snapshot.quirks.instanceNumberMatching ? instanceNumbers.map((n) => n.trim()).filter((n) => n !== '') : [];
  const out: Answer[] = [];
  for (const uid of seriesInstanceUids) {
    for (const instance of snapshot.instances.get(uid) ?? []) {
      if (instance.hidden) continue;
      if (wanted.length > 0 && !wanted.some((n) => sameNumber(n, instance.answer['InstanceNumber']))) continue;
      out.push(instance.answer);
    }
  }
  return out;
}

/** IS values compare as numbers ("01" = 1); anything else compares as trimmed text. */
function sameNumber(requested: string, held: Answer[string] | undefined): boolean {
  if (held === undefined) return false;
  const values = Array.isArray(held) ? held : [held];
  return values.some((v) => {
    const text = String(v).trim();
    const a = Number(requested);
    const b = Number(text);
    return text !== '' && (Number.isFinite(a) && Number.isFinite(b) ? a === b : text === requested);
  });
}

/** One instance a C-MOVE sends, with what its C-STORE object carries. */
export interface MoveItem {
  readonly sopInstanceUid: string;
  /** Undefined when the snapshot gives none (the object is then Secondary Capture). */
  readonly sopClassUid: string | undefined;
  readonly seriesInstanceUid: string;
  readonly studyInstanceUid: string | undefined;
  readonly instance: Answer;
  readonly series: Answer | undefined;
  readonly study: Answer | undefined;
}

/** What a C-MOVE asked for: the level and the UID lists of its identifier. */
export interface MoveRequest {
  readonly level: string;
  readonly studyInstanceUids: readonly string[];
  readonly seriesInstanceUids: readonly string[];
  readonly sopInstanceUids: readonly string[];
}

/**
 * The instances a C-MOVE selects, in snapshot order, hidden ones included:
 * STUDY: every instance of every series listed under each requested study in `series`;
 * SERIES: every instance of each requested series (the StudyInstanceUID key is not checked);
 * IMAGE: the requested SOP Instance UIDs among the requested series' instances (among all
 * instances when no SeriesInstanceUID is given). Unknown UIDs select nothing; duplicates once.
 */
export function selectMoveItems(snapshot: Snapshot, rq: MoveRequest): MoveItem[] {
  const index = indexSnapshot(snapshot);
  const out: MoveItem[] = [];
  const seen = new Set<string>();
  const add = (seriesUid: string, instance: SnapshotInstance): void => {
    const uid = text(instance.answer['SOPInstanceUID']);
    if (!uid || seen.has(uid)) return;
    seen.add(uid);
    const owner = index.seriesOwner.get(seriesUid);
    const studyUid = owner?.studyUid ?? (rq.studyInstanceUids.length === 1 ? rq.studyInstanceUids[0] : undefined);
    out.push({
      sopInstanceUid: uid,
      sopClassUid: text(instance.answer['SOPClassUID']) || undefined,
      seriesInstanceUid: seriesUid,
      studyInstanceUid: studyUid,
      instance: instance.answer,
      series: owner?.series,
      study: studyUid === undefined ? undefined : index.studies.get(studyUid),
    });
  };
  switch (rq.level) {
    case 'STUDY':
      for (const studyUid of rq.studyInstanceUids) {
        for (const series of snapshot.series.get(studyUid) ?? []) {
          const seriesUid = text(series['SeriesInstanceUID']);
          if (seriesUid === undefined) continue;
          for (const instance of snapshot.instances.get(seriesUid) ?? []) add(seriesUid, instance);
        }
      }
      break;
    case 'SERIES':
      for (const seriesUid of rq.seriesInstanceUids) for (const instance of snapshot.instances.get(seriesUid) ?? []) add(seriesUid, instance);
      break;
    case 'IMAGE': {
      const wanted = new Set(rq.sopInstanceUids);
      const series = rq.seriesInstanceUids.length > 0 ? rq.seriesInstanceUids : [...snapshot.instances.keys()];
      for (const seriesUid of series) {
        for (const instance of snapshot.instances.get(seriesUid) ?? []) {
          const uid = text(instance.answer['SOPInstanceUID']);
          if (uid !== undefined && wanted.has(uid)) add(seriesUid, instance);
        }
      }
      break;
    }
  }
  return out;
}

interface SnapshotIndex {
  readonly seriesOwner: Map<string, { studyUid: string; series: Answer }>;
  readonly studies: Map<string, Answer>;
}

const indexes = new WeakMap<Snapshot, SnapshotIndex>();

/** Series → its study (from `series`), StudyInstanceUID → its first study answer; built once per snapshot. */
function indexSnapshot(snapshot: Snapshot): SnapshotIndex {
  let index = indexes.get(snapshot);
  if (index) return index;
  index = { seriesOwner: new Map(), studies: new Map() };
  for (const [studyUid, list] of snapshot.series) {
    for (const series of list) {
      const uid = text(series['SeriesInstanceUID']);
      if (uid !== undefined && !index.seriesOwner.has(uid)) index.seriesOwner.set(uid, { studyUid, series });
    }
  }
  for (const list of snapshot.studies.values()) {
    for (const study of list) {
      const uid = text(study['StudyInstanceUID']);
      if (uid !== undefined && !index.studies.has(uid)) index.studies.set(uid, study);
    }
  }
  indexes.set(snapshot, index);
  return index;
}

/** A single-valued answer value as text; the first value of a list. */
export function text(v: Answer[string] | undefined): string | undefined {
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : String(first);
}
