// The floor of the whole retrieve (retrieve.ts): a bare client that replays the exact C-FINDs and
// C-MOVEs a run made, with no dependencies between them, over P associations at once, into its own
// store SCP. What the server needs to answer these requests, with the fastest client settings.
// Run as its own process, bundled into one file like the qrscu executable (see floorBundle in
// support.ts): `node floor.js <json FloorArgs>`; prints one JSON FloorResult line.

import { readFileSync } from 'node:fs';
import { connect } from '../src/net/client.js';
import { startStoreScp } from '../src/net/store-scp.js';
import { datasetFromJson } from '../src/dicom/index.js';

export interface RecordedRequest { readonly kind: 'find' | 'move'; readonly identifier: unknown }
export interface FloorArgs { port: number; storePort: number; storeDir: string; requests: string; parallel: number }
/** `ms`: first connect to the last release and the last object on disk, on the child's clock. */
export interface FloorResult { ms: number; finds: number; moves: number; completed: number; arrived: number }

export async function replayFloor(a: FloorArgs): Promise<FloorResult> {
  const requests = (JSON.parse(readFileSync(a.requests, 'utf8')) as RecordedRequest[]).map((r) => ({ kind: r.kind, identifier: datasetFromJson(r.identifier as never) }));
  let arrived = 0;
  const server = await startStoreScp({ aeTitle: 'QRSCU_STORE', host: '127.0.0.1', port: a.storePort, directory: a.storeDir, onStored: () => { arrived++; } });
  try {
    const t0 = performance.now();
    const options = { host: '127.0.0.1', port: a.port, callingAeTitle: 'QRSCU', calledAeTitle: 'ORTHANC', dimseTimeoutMs: 120_000 };
    const clients = await Promise.all(Array.from({ length: a.parallel }, () => connect(options)));
    let next = 0;
    let completed = 0;
    let finds = 0;
    let moves = 0;
    await Promise.all(clients.map(async (c) => {
      while (next < requests.length) {
        const r = requests[next++]!;
        if (r.kind === 'find') {
          finds++;
          for await (const m of c.find(r.identifier)) void m;
        } else {
          moves++;
          const res = await c.move(r.identifier, { destination: 'QRSCU_STORE' });
          completed += res.subOperations.completed ?? 0;
        }
      }
      await c.release();
    }));
    const deadline = performance.now() + 30_000;
    while ((arrived < completed || server.associations() > 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    return { ms: performance.now() - t0, finds, moves, completed, arrived };
  } finally {
    await server.close();
  }
}

if (process.argv[1] !== undefined && /floor\.(ts|js)$/.test(process.argv[1]) && process.argv[2] !== undefined) {
  const r = await replayFloor(JSON.parse(process.argv[2]) as FloorArgs);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
