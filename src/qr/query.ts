// The query half of a run: study C-FINDs per ModalitiesInStudy code, then series and image C-FINDs
// on demand for the selection engine (behaviour reference §2, §9 Q17). Associations come from a
// pool of up to the node's maxAssociations; one that breaks is replaced, and a request that failed
// with it is sent once more on a fresh one.

import createDebug from 'debug';
import type { Dataset } from '../dicom/index.js';
import { isDicomError, type DicomError } from '../errors.js';
import type { Client, FinalStatus } from '../net/client.js';
import { createPool, type Pool } from '../net/pool.js';
import { formatStatus, statusClass } from '../net/status.js';
import type { ImageResponse, QueryPort, SeriesResponse, StudyQueryOutcome, StudyResponse } from '../rules/model.js';
import { imageIdentifier, seriesIdentifier, studyIdentifier, type StudyQueryKeys } from './identifiers.js';
import { clientOptionsFor, type QrNodeConfig } from './nodes.js';
import { readImage, readSeries, readStudy, type Read } from './responses.js';

const log = createDebug('qrscu:run');

/** Errors of the association or transport, after which a request is worth one more try on a new association. */
function isTransportError(e: unknown): e is DicomError {
  return isDicomError(e) && /^ERR_(ASSOC|ARTIM|CONNECT|DIMSE_TIMEOUT|IDLE|PDU)/.test(e.code);
}

export interface FindOutcome {
  readonly matches: readonly Dataset[];
  readonly final: FinalStatus | undefined;
}

export interface QuerySessionEvents {
  /** Something the summary and the log should say (a failure status, a result limit, a skipped response). */
  warning?(message: string): void;
  /** A C-FIND finished: level, what it was for, number of matches. */
  find?(level: 'STUDY' | 'SERIES' | 'IMAGE', subject: string, matches: number): void;
}

export interface QuerySession {
  /** Study C-FINDs for each code, in order, with OpenREM's stop rule (see studyStage). */
  studyStage(codes: readonly string[], keys: Omit<StudyQueryKeys, 'useModalityTag'>): Promise<{ studies: StudyResponse[]; outcome: StudyQueryOutcome }>;
  readonly port: QueryPort;
  counts(): { study: number; series: number; image: number; retries: number; associations: number };
  close(): Promise<void>;
}

export function createQuerySession(node: QrNodeConfig, events: QuerySessionEvents = {}, pool: Pool = createPool(clientOptionsFor(node), node.maxAssociations)): QuerySession {
  const counts = { study: 0, series: 0, image: 0, retries: 0, associations: 0 };
  const warn = (m: string) => { log('warning: %s', m); events.warning?.(m); };

  const collect = async (client: Client, identifier: Dataset): Promise<FindOutcome> => {
    const op = client.find(identifier);
    const matches: Dataset[] = [];
    for await (const m of op) matches.push(m);
    return { matches, final: op.final };
  };

  /** One C-FIND; a transport failure is retried once on a fresh association, then thrown. */
  async function find(identifier: Dataset, subject: string): Promise<FindOutcome> {
    let result: FindOutcome;
    try {
      result = await pool.run((c) => collect(c, identifier));
    } catch (e) {
      if (!isTransportError(e)) throw e;
      counts.retries++;
      warn(`C-FIND for ${subject} failed (${e.message}); retrying once on a new association`);
      result = await pool.run((c) => collect(c, identifier));
    }
    const status = result.final?.status;
    if (status !== undefined && statusClass(status) === 'cancel') {
      warn(`C-FIND for ${subject} ended with ${formatStatus(status, 'C-FIND')} after ${result.matches.length} matches: the PACS may limit its answers; narrow the date range (-sd with -tf/-tt)`);
    } else if (status !== undefined && statusClass(status) !== 'success') {
      warn(`C-FIND for ${subject} ended with ${formatStatus(status, 'C-FIND')}${result.final?.errorComment ? ` (${result.final.errorComment})` : ''}; keeping the ${result.matches.length} matches received`);
    }
    return result;
  }

  function keep<T>(reads: readonly Read<T>[]): T[] {
    const out: T[] = [];
    for (const r of reads) {
      if (r.ok) {
        out.push(r.value);
        for (const w of r.warnings) warn(w);
      } else warn(r.warning);
    }
    return out;
  }

  const port: QueryPort = {
    async findSeries(study: StudyResponse): Promise<readonly SeriesResponse[]> {
      counts.series++;
      const subject = `the series of study ${study.studyInstanceUid}`;
      const { matches } = await find(seriesIdentifier(study), subject);
      events.find?.('SERIES', study.studyInstanceUid, matches.length);
      return keep(matches.map((m) => readSeries(m, study.studyInstanceUid)));
    },
    async findImages(study: StudyResponse, series: SeriesResponse, options: { readonly instanceNumber?: number }): Promise<readonly ImageResponse[]> {
      counts.image++;
      const subject = `the images of series ${series.seriesInstanceUid}${options.instanceNumber === undefined ? '' : ` (InstanceNumber ${options.instanceNumber})`}`;
      const { matches } = await find(imageIdentifier(study, series, options.instanceNumber), subject);
      events.find?.('IMAGE', series.seriesInstanceUid, matches.length);
      return keep(matches.map((m) => readImage(m, series.seriesInstanceUid)));
    },
  };

  return {
    port,
    /**
     * OpenREM §2.1: a response whose ModalitiesInStudy lacks the code asked for proves the PACS
     * ignored the key and returned everything, so no further code is queried. Unlike OpenREM, a
     * PACS that simply does not return ModalitiesInStudy is still asked for every code (it may
     * honour the key without echoing it; stopping would lose the other modalities' studies).
     */
    async studyStage(codes, keys) {
      const studies: StudyResponse[] = [];
      let modalitiesReturned = false;
      let modalityMatching = true;
      let ignored = false;
      for (const code of codes) {
        if (ignored) break;
        counts.study++;
        const { matches } = await find(studyIdentifier(code, { ...keys, useModalityTag: node.useModalityTag }), `${code} studies`);
        events.find?.('STUDY', code, matches.length);
        const read = keep(matches.map((m) => readStudy(m, code)));
        for (const s of read) {
          if (s.modalitiesInStudy) {
            modalitiesReturned = true;
            if (!s.modalitiesInStudy.includes(code)) {
              modalityMatching = false;
              ignored = true;
              warn(`the PACS answered the ${code} study query with a study of ${s.modalitiesInStudy.join('\\')}: it ignores ModalitiesInStudy; no further modality is queried and wrong-modality studies are dropped after the series query`);
              break;
            }
          } else {
            modalitiesReturned = false;
            if (!node.useModalityTag) modalityMatching = false;
          }
        }
        studies.push(...read);
      }
      return { studies, outcome: { modalitiesReturned, modalityMatching, useModalityTag: node.useModalityTag } };
    },
    counts: () => ({ ...counts, associations: pool.open() }),
    close: () => pool.close(),
  };
}
