// A bounded timing loop: warm up, then run for `seconds` (at most 10 million iterations).

export interface BenchRow {
  readonly name: string;
  readonly peer: string;
  readonly opsPerSecond: number;
  readonly mbPerSecond: number;
  readonly iterations: number;
  /** ours / this peer (set on peer rows). */
  readonly ratio?: number;
}

export function measure(name: string, peer: string, seconds: number, bytesPerOp: number, fn: () => void): BenchRow {
  for (let i = 0; i < 200; i++) fn();
  const limitNs = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let iterations = 0;
  let elapsed = 0n;
  while (iterations < 10_000_000) {
    for (let i = 0; i < 100; i++) fn();
    iterations += 100;
    elapsed = process.hrtime.bigint() - start;
    if (elapsed >= limitNs) break;
  }
  const s = Number(elapsed) / 1e9;
  return { name, peer, opsPerSecond: iterations / s, mbPerSecond: (iterations * bytesPerOp) / s / 1e6, iterations };
}

export function formatRows(rows: readonly BenchRow[]): string {
  const lines = [`${'measurement'.padEnd(44)} ${'peer'.padEnd(8)} ${'ops/s'.padStart(12)} ${'MB/s'.padStart(9)}  ratio (qrscu/peer)`];
  for (const r of rows) {
    lines.push(`${r.name.padEnd(44)} ${r.peer.padEnd(8)} ${Math.round(r.opsPerSecond).toLocaleString('en').padStart(12)} ${r.mbPerSecond.toFixed(1).padStart(9)}  ${r.ratio === undefined ? '' : `${r.ratio.toFixed(1)}×`}`);
  }
  return lines.join('\n');
}
