// What a run shows while it works: on a TTY one status line redrawn in place (stage, counts, rate,
// ETA); otherwise one quiet line per stage and every 10 % of the moves, fit for a cron mail.

import type { MoveRecord } from '../qr/retrieve.js';
import type { RunEvents, RunStage } from '../qr/run.js';
import type { StoredObject } from '../net/store-scp.js';
import type { PlannedMove } from '../rules/model.js';

export interface ProgressSink {
  readonly isTTY: boolean;
  write(text: string): void;
}

export interface Progress extends RunEvents {
  /** Clear the status line (before printing the summary). */
  end(): void;
}

function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

export function createProgress(sink: ProgressSink, now: () => number = () => performance.now()): Progress {
  const c = { studies: 0, series: 0, images: 0, movesDone: 0, movesTotal: 0, completed: 0, failed: 0, arrived: 0, bytes: 0 };
  let stage: RunStage = 'echo';
  let retrieveStart = 0;
  let lastDraw = 0;
  let lastDecile = -1;
  let drawn = false;

  const status = (): string => {
    if (stage === 'retrieve') {
      const elapsed = (now() - retrieveStart) / 1000;
      const rate = elapsed > 0 ? c.arrived / elapsed : 0;
      const eta = c.movesDone > 0 ? (elapsed / c.movesDone) * (c.movesTotal - c.movesDone) : NaN;
      return `retrieve: ${c.movesDone}/${c.movesTotal} moves, ${c.completed} objects moved${c.failed ? `, ${c.failed} failed` : ''}, ${rate.toFixed(1)} obj/s, ETA ${duration(eta)}`;
    }
    return `${stage}: ${c.studies} study, ${c.series} series, ${c.images} image responses`;
  };
  const draw = (force = false) => {
    if (!sink.isTTY) return;
    const t = now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    sink.write(`\r\x1b[2K${status()}`);
    drawn = true;
  };
  const clear = () => {
    if (drawn) sink.write('\r\x1b[2K');
    drawn = false;
  };
  const line = (text: string) => {
    clear();
    sink.write(`${text}\n`);
    draw(true);
  };

  return {
    stage(s, detail) {
      stage = s;
      if (s === 'retrieve') retrieveStart = now();
      if (s === 'done') return;
      line(`${s}: ${detail}`);
    },
    warning(message) {
      line(`warning: ${message}`);
    },
    find(level, _subject, matches) {
      if (level === 'STUDY') c.studies += matches;
      else if (level === 'SERIES') c.series += matches;
      else c.images += matches;
      draw();
    },
    moveStarted(_m: PlannedMove, _i: number, total: number) {
      c.movesTotal = total;
      draw();
    },
    moveDone(r: MoveRecord, _i: number, total: number) {
      c.movesTotal = total;
      c.movesDone++;
      c.completed += r.completed ?? 0;
      c.failed += r.failed ?? 0;
      const decile = Math.floor((c.movesDone / total) * 10);
      if (!sink.isTTY && decile !== lastDecile && (decile > lastDecile)) {
        lastDecile = decile;
        sink.write(`${status()}\n`);
      }
      draw();
    },
    stored(o: StoredObject) {
      c.arrived++;
      c.bytes += o.bytes;
      draw();
    },
    end() {
      clear();
    },
  };
}
