// Orthanc for the end-to-end benches: started with test/support/pacs.ts (Nagle left on, as a real
// site runs it: no TCP_NODELAY), then loaded with generated dose studies straight from memory
// (buildDoseStudy, the same bytes as `qrscu pacs generate`), four uploads at a time, in index ranges so
// one server can grow 100 → 500 → 2,000 studies between measurements.

import { buildDoseStudy } from '../src/pacs/generate.js';
import { freePorts, startOrthanc, type OrthancHandle } from '../test/support/pacs.js';
import { log } from './support.js';

export const SEED = 'bench';
export const START_DATE = '2024-01-01';
export const DAYS = 30;

export interface BenchOrthanc {
  readonly orthanc: OrthancHandle;
  /** Ports on 127.0.0.1 Orthanc knows as move destinations. */
  readonly ports: { readonly qrscuStore: number; readonly storescp: number };
  /** Studies loaded so far (indices 0 … studies-1). */
  studies: number;
  /** Objects loaded so far. */
  objects: number;
  bytes: number;
  /** StudyInstanceUID of each loaded study. */
  readonly studyUids: string[];
  /** Load studies up to `n` (no-op when already there); resolves with the seconds it took. */
  growTo(n: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startBenchOrthanc(): Promise<BenchOrthanc> {
  const [qrscuStore, storescp, caller] = (await freePorts(3)) as [number, number, number];
  log(`orthanc: starting (move destinations QRSCU_STORE :${qrscuStore}, STORESCP :${storescp})`);
  const orthanc = await startOrthanc({
    files: [],
    aeTitle: 'ORTHANC',
    modalities: { QRSCU: caller, QRSCU_STORE: qrscuStore, STORESCP: storescp },
    // Orthanc's own defaults otherwise; DicomScuTimeout longer than the harness's 10 s for big moves.
    options: { extra: { DicomScuTimeout: 60, DicomAssociationCloseDelay: 0 } },
    startTimeoutMs: 60_000,
  });
  const b: BenchOrthanc = {
    orthanc, ports: { qrscuStore, storescp }, studies: 0, objects: 0, bytes: 0, studyUids: [],
    async growTo(n) {
      if (n <= b.studies) return 0;
      const t0 = performance.now();
      let next = b.studies;
      const worker = async () => {
        while (next < n) {
          const i = next++;
          const { files, study } = buildDoseStudy(SEED, i, { startDate: START_DATE, days: DAYS });
          b.studyUids[i] = study.studyInstanceUid;
          for (const bytes of files.values()) {
            const rsp = await orthanc.rest('/instances', { method: 'POST', body: new Uint8Array(bytes), timeoutMs: 60_000 });
            const text = await rsp.text();
            if (!rsp.ok) throw new Error(`Orthanc refused study ${i}: HTTP ${rsp.status} ${text.slice(0, 200)}`);
            b.objects++;
            b.bytes += bytes.length;
          }
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
      b.studies = n;
      const s = (performance.now() - t0) / 1000;
      log(`orthanc: loaded ${n} studies, ${b.objects} objects, ${(b.bytes / 2 ** 20).toFixed(1)} MB (${s.toFixed(1)} s)`);
      return s;
    },
    stop: () => orthanc.stop(),
  };
  return b;
}
