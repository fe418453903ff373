// `qrscu explain [ID]`: why each study and series of a run was kept or dropped (the rules'
// decision trail), as a tree or as JSON. Without ID: the latest run.

import { ConfigError, ErrorCode } from '../../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface ExplainArgs {
  home?: string;
  id?: string;
  json?: boolean;
}

export async function runExplain(a: ExplainArgs, out: Output): Promise<ExitCode> {
  const { openDatabase } = await import('../../db/index.js');
  const { explainLines } = await import('../../rules/index.js');
  const db = await openDatabase({ ...(a.home !== undefined ? { home: a.home } : {}), readOnly: true });
  try {
    const id = a.id ?? db.listQueries({ limit: 1 })[0]?.id;
    if (!id) throw new ConfigError(ErrorCode.ConfigInvalid, 'no query has been run yet');
    const q = db.getQuery(id);
    if (!q) throw new ConfigError(ErrorCode.ConfigInvalid, `no query ${JSON.stringify(id)} (qrscu queries list shows them)`);
    if (!q.selection) throw new ConfigError(ErrorCode.ConfigInvalid, `query ${q.id} has no selection recorded (status ${q.status}: it ended before the rules ran)`);
    if (a.json) {
      out.line(JSON.stringify({ id: q.id, status: q.status, parameters: q.parameters, selection: q.selection }));
      return ExitCode.Ok;
    }
    out.line(`query ${q.id} (${q.status}, started ${q.startedAt}): ${q.parameters.argv?.join(' ') ?? ''}`);
    for (const l of explainLines(q.selection)) out.line(l);
    return ExitCode.Ok;
  } finally {
    await db.close();
  }
}
