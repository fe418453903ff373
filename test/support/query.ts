// Small helpers shared by the live interop suites: identifiers, whole C-FINDs, bounded release.

import * as assert from 'uvu/assert';
import { createDataset, setValue, type Dataset } from '../../src/dicom/index.js';
import type { Client, FinalStatus, QueryModel } from '../../src/net/client.js';
import { withTimeout } from './pacs.js';

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function release(client: Client, ms: number): Promise<void> {
  if (client.association.state() === 'Sta6') await withTimeout(client.release(), ms, 'A-RELEASE');
}

export function query(level: 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE', keys: Record<string, string>): Dataset {
  const ds = createDataset();
  setValue(ds, 'QueryRetrieveLevel', level);
  for (const [k, v] of Object.entries(keys)) setValue(ds, k, v);
  return ds;
}

export async function findAll(client: Client, identifier: Dataset, ms: number, model: QueryModel = 'study'): Promise<{ matches: Dataset[]; final: FinalStatus }> {
  const op = client.find(identifier, { model });
  const matches: Dataset[] = [];
  await withTimeout((async () => { for await (const ds of op) matches.push(ds); })(), ms, 'C-FIND');
  assert.ok(op.final, 'the C-FIND ended with a final status');
  return { matches, final: op.final! };
}

export const sorted = (xs: readonly (string | undefined)[]): string[] => xs.map((x) => x ?? '<absent>').sort();
export const hex = (n: number | undefined): string => (n === undefined ? 'undefined' : `0x${n.toString(16).padStart(4, '0')}`);
