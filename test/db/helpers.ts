// Shared helpers of the database tests.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Output } from '../../src/cli/output.js';
import { isDicomError, type DicomError } from '../../src/errors.js';

/** A fresh temporary qrscu home; `cleanup()` removes it. */
export function tempHome(): { home: string; cleanup(): void } {
  const home = mkdtempSync(path.join(tmpdir(), 'qrscu-db-'));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, line: (t) => void out.push(t), error: (t) => void err.push(t) };
}

/** The DicomError `fn` throws (sync or async); fails when it throws nothing or something else. */
export async function caught(fn: () => unknown): Promise<DicomError> {
  try {
    await fn();
  } catch (e) {
    if (isDicomError(e)) return e;
    throw new Error(`expected a DicomError, got ${String(e)}`);
  }
  throw new Error('expected an error, nothing was thrown');
}
