// The C-FIND and C-MOVE identifiers of a run (behaviour reference §2.1–2.3, §4) and the date and
// time ranges of the study query. Pure: no I/O, the clock comes in as an argument.

import { createDataset, setValue, type Dataset } from '../dicom/index.js';
import { ConfigError, ErrorCode } from '../errors.js';
import type { PlannedMove, SeriesResponse, StudyResponse } from '../rules/model.js';
import type { RunParameters } from './run.js';

/** "2024-03-05" → "20240305". @throws ConfigError ERR_USAGE with OpenREM's message. */
export function dicomDate(isoDate: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])) return `${m[1]}${m[2]}${m[3]}`;
  }
  throw new ConfigError(ErrorCode.Usage, `Incorrect data format, should be YYYY-MM-DD (got '${isoDate}')`);
}

/** "0930" → "0930". @throws ConfigError ERR_USAGE with OpenREM's message. */
export function dicomTime(hhmm: string): string {
  const m = /^(\d{2})(\d{2})$/.exec(hhmm);
  if (m && Number(m[1]) < 24 && Number(m[2]) < 60) return hhmm;
  throw new ConfigError(ErrorCode.Usage, `Incorrect time format, should be HHMM (got '${hhmm}')`);
}

/** The local date of `now` as YYYYMMDD. */
export function localDate(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}`;
}

/**
 * StudyDate matching value (make_dcm_date_range): from+until → "from-until" (swapped if reversed,
 * one date when equal); from only → "from-today"; until only → "19000101-until"; neither → "".
 * Inputs are DICOM dates (YYYYMMDD).
 */
export function studyDateRange(from: string | undefined, until: string | undefined, today: string): string {
  if (from && until) {
    const [a, b] = from <= until ? [from, until] : [until, from];
    return a === b ? a : `${a}-${b}`;
  }
  if (from) return from === today ? from : `${from}-${today}`;
  if (until) return `19000101-${until}`;
  return '';
}

/** StudyTime matching value: only with a single date; tf+tt → "tf-tt" (swapped), tf → "tf-2359", tt → "0000-tt". */
export function studyTimeRange(from: string | undefined, until: string | undefined): string {
  if (from && until) return from <= until ? `${from}-${until}` : `${until}-${from}`;
  if (from) return `${from}-2359`;
  if (until) return `0000-${until}`;
  return '';
}

export interface StudyQueryKeys {
  readonly studyDate: string;
  readonly studyTime: string;
  /** Send a universal Modality key (OpenREM's use_modality_tag, for Agfa Impax 6.6). */
  readonly useModalityTag: boolean;
}

/** The study-level identifier for one ModalitiesInStudy code (§2.1). */
export function studyIdentifier(code: string, keys: StudyQueryKeys): Dataset {
  const ds = createDataset();
  setValue(ds, 'SpecificCharacterSet', null);
  setValue(ds, 'StudyDate', keys.studyDate || null);
  setValue(ds, 'StudyTime', keys.studyTime || null);
  setValue(ds, 'AccessionNumber', null);
  setValue(ds, 'QueryRetrieveLevel', 'STUDY');
  setValue(ds, 'ModalitiesInStudy', code);
  if (keys.useModalityTag) setValue(ds, 'Modality', null);
  setValue(ds, 'StationName', null);
  setValue(ds, 'StudyDescription', null);
  setValue(ds, 'PatientName', null);
  setValue(ds, 'PatientID', null);
  setValue(ds, 'StudyInstanceUID', null);
  setValue(ds, 'StudyID', null);
  setValue(ds, 'NumberOfStudyRelatedSeries', null);
  return ds;
}

/** The series-level identifier of a study (§2.2). */
export function seriesIdentifier(study: Pick<StudyResponse, 'studyInstanceUid'>): Dataset {
  const ds = createDataset();
  setValue(ds, 'SpecificCharacterSet', null);
  setValue(ds, 'QueryRetrieveLevel', 'SERIES');
  setValue(ds, 'Modality', null);
  setValue(ds, 'StationName', null);
  setValue(ds, 'SeriesDescription', null);
  setValue(ds, 'StudyInstanceUID', study.studyInstanceUid);
  setValue(ds, 'SeriesInstanceUID', null);
  setValue(ds, 'SeriesNumber', null);
  setValue(ds, 'SeriesTime', null);
  setValue(ds, 'NumberOfSeriesRelatedInstances', null);
  return ds;
}

/** The image-level identifier of a series (§2.3); `instanceNumber` makes InstanceNumber a matching key. */
export function imageIdentifier(study: Pick<StudyResponse, 'studyInstanceUid'>, series: Pick<SeriesResponse, 'seriesInstanceUid'>, instanceNumber?: number): Dataset {
  const ds = createDataset();
  setValue(ds, 'SpecificCharacterSet', null);
  setValue(ds, 'SOPClassUID', null);
  setValue(ds, 'SOPInstanceUID', null);
  setValue(ds, 'QueryRetrieveLevel', 'IMAGE');
  setValue(ds, 'StudyInstanceUID', study.studyInstanceUid);
  setValue(ds, 'SeriesInstanceUID', series.seriesInstanceUid);
  setValue(ds, 'InstanceNumber', instanceNumber === undefined ? null : String(instanceNumber));
  return ds;
}

/** The C-MOVE identifier of a planned move (§4). */
export function moveIdentifier(move: PlannedMove): Dataset {
  const ds = createDataset();
  if (move.level === 'IMAGE' && move.sopInstanceUid) setValue(ds, 'SOPInstanceUID', move.sopInstanceUid);
  setValue(ds, 'QueryRetrieveLevel', move.level);
  setValue(ds, 'StudyInstanceUID', move.studyInstanceUid);
  setValue(ds, 'SeriesInstanceUID', move.seriesInstanceUid);
  return ds;
}

/** The StudyDate and StudyTime matching values of a run (§2.1, §9 Q16). */
export function dateKeys(p: RunParameters, now: Date): { studyDate: string; studyTime: string } {
  const today = localDate(now);
  if (p.singleDate) {
    const d = dicomDate(p.singleDate);
    const time = studyTimeRange(p.timeFrom ? dicomTime(p.timeFrom) : undefined, p.timeUntil ? dicomTime(p.timeUntil) : undefined);
    return { studyDate: d, studyTime: time };
  }
  if (p.allDates) return { studyDate: '', studyTime: '' };
  if (!p.dateFrom && !p.dateUntil) {
    const y = new Date(now.getTime());
    y.setDate(y.getDate() - 1);
    return { studyDate: `${localDate(y)}-${today}`, studyTime: '' };
  }
  return { studyDate: studyDateRange(p.dateFrom ? dicomDate(p.dateFrom) : undefined, p.dateUntil ? dicomDate(p.dateUntil) : undefined, today), studyTime: '' };
}
