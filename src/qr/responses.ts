// C-FIND matches → the plain records the selection engine reads (behaviour reference §2.1–2.3,
// §9 Q19/Q20). A match without its unique key is not a record: the reader says why, the run goes on.

import { getNumber, getString, getStrings, type Dataset } from '../dicom/index.js';
import type { ImageResponse, SeriesResponse, StudyResponse } from '../rules/model.js';

export type Read<T> = { readonly ok: true; readonly value: T; readonly warnings: readonly string[] } | { readonly ok: false; readonly warning: string };

/** A string value, trimmed; null when absent or empty. Undecodable values count as absent. */
function text(ds: Dataset, keyword: string): string | null {
  try {
    const v = getString(ds, keyword)?.trim();
    return v ? v : null;
  } catch {
    return null;
  }
}

function integer(ds: Dataset, keyword: string): number | null {
  try {
    const n = getNumber(ds, keyword);
    return n === undefined || !Number.isFinite(n) ? null : Math.trunc(n);
  } catch {
    return null;
  }
}

/** ModalitiesInStudy: multi-valued, or one value with commas (#803); null when not returned or empty. */
export function modalitiesOf(ds: Dataset): string[] | null {
  let values: string[] | undefined;
  try {
    values = getStrings(ds, 'ModalitiesInStudy');
  } catch {
    values = undefined;
  }
  const codes = (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  return codes.length > 0 ? [...new Set(codes)] : null;
}

export function readStudy(ds: Dataset, queriedCode: string): Read<StudyResponse> {
  const studyInstanceUid = text(ds, 'StudyInstanceUID');
  if (!studyInstanceUid) return { ok: false, warning: `study response to the ${queriedCode} C-FIND has no StudyInstanceUID: skipped` };
  return {
    ok: true,
    warnings: [],
    value: {
      studyInstanceUid,
      studyDescription: text(ds, 'StudyDescription'),
      stationName: text(ds, 'StationName'),
      modalitiesInStudy: modalitiesOf(ds),
      studyDate: text(ds, 'StudyDate'),
      studyTime: text(ds, 'StudyTime'),
      accessionNumber: text(ds, 'AccessionNumber'),
      numberOfStudyRelatedSeries: integer(ds, 'NumberOfStudyRelatedSeries'),
      queriedCode,
    },
  };
}

export function readSeries(ds: Dataset, studyInstanceUid: string): Read<SeriesResponse> {
  const seriesInstanceUid = text(ds, 'SeriesInstanceUID');
  if (!seriesInstanceUid) return { ok: false, warning: `series response of study ${studyInstanceUid} has no SeriesInstanceUID: skipped` };
  const modality = text(ds, 'Modality');
  const count = integer(ds, 'NumberOfSeriesRelatedInstances');
  return {
    ok: true,
    warnings: modality ? [] : [`series ${seriesInstanceUid} of study ${studyInstanceUid} has no Modality: taken as OT`],
    value: {
      seriesInstanceUid,
      modality: modality ?? 'OT',
      seriesDescription: text(ds, 'SeriesDescription'),
      seriesNumber: integer(ds, 'SeriesNumber'),
      numberOfSeriesRelatedInstances: count === 0 ? null : count,
      stationName: text(ds, 'StationName'),
    },
  };
}

export function readImage(ds: Dataset, seriesInstanceUid: string): Read<ImageResponse> {
  const sopInstanceUid = text(ds, 'SOPInstanceUID');
  if (!sopInstanceUid) return { ok: false, warning: `image response of series ${seriesInstanceUid} has no SOPInstanceUID: skipped` };
  const instanceNumber = integer(ds, 'InstanceNumber');
  return {
    ok: true,
    warnings: instanceNumber === null ? [`image ${sopInstanceUid} of series ${seriesInstanceUid}: illegal response, no InstanceNumber`] : [],
    value: { sopInstanceUid, sopClassUid: text(ds, 'SOPClassUID') ?? '', instanceNumber },
  };
}
