// `qrscu demo`: the whole job in seconds, offline. Generates a synthetic dose data set, serves it
// from the simulated PACS on loopback, configures a QR node and a store node in a temporary qrscu
// home, runs `qrscu <qr> <store> -ct -mg -fl -dx` over real DIMSE, shows the explain tree, checks
// what arrived against the generator's manifest, and runs again to show that nothing is fetched twice.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface DemoArgs {
  studies: number;
  seed: string;
  keep?: boolean;
  dir?: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const isoDate = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

export async function runDemo(a: DemoArgs, out: Output): Promise<ExitCode> {
  const { generateDoseDataset } = await import('../../pacs/generate.js');
  const { startSimulatedPacs } = await import('../../pacs/simulated.js');
  const { openDatabase } = await import('../../db/index.js');
  const { main } = await import('../main.js');
  const root = a.dir ? path.resolve(a.dir) : mkdtempSync(path.join(tmpdir(), 'qrscu-demo-'));
  const home = path.join(root, 'home');
  const data = path.join(root, 'pacs');
  const storeDir = path.join(root, 'store');
  const today = new Date();
  const start = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 6);
  const studies = Math.max(1, Math.min(2000, Math.floor(a.studies)));

  out.line(`demo: generating ${studies} synthetic dose studies (seed "${a.seed}") in ${data}`);
  const manifest = await generateDoseDataset({ directory: data, studies, seed: a.seed, startDate: isoDate(start), days: 7 });
  const storePort = await freePort();
  const pacs = await startSimulatedPacs({ files: data, port: 0, aeTitle: 'DEMOPACS', destinations: { QRSCU_STORE: { host: '127.0.0.1', port: storePort } } });
  let code: number = ExitCode.Ok;
  try {
    out.line(`demo: simulated PACS DEMOPACS on 127.0.0.1:${pacs.port} serving ${manifest.fileCount} files; store node QRSCU_STORE on 127.0.0.1:${storePort}`);
    const db = await openDatabase({ home });
    db.addQrNode({ id: 'demo-pacs', name: 'Demo PACS (simulated)', aeTitle: 'DEMOPACS', host: '127.0.0.1', port: pacs.port });
    db.addStoreNode({ id: 'demo-store', name: 'Demo store node', aeTitle: 'QRSCU_STORE', host: '127.0.0.1', port: storePort, directory: storeDir });
    await db.close();

    const args = ['demo-pacs', 'demo-store', '-ct', '-mg', '-fl', '-dx', '-f', isoDate(start), '-t', isoDate(today)];
    out.line('');
    out.line(`$ qrscu ${args.join(' ')}   (QRSCU_HOME=${home})`);
    code = await main([...args, '--home', home], out);
    out.line('');
    out.line('$ qrscu explain');
    await main(['explain', '--home', home], out);

    // What arrived against what the generator says a dose retrieval must fetch.
    const expected = new Set(manifest.studies.flatMap((s) => s.expected['ct-mg-fl-dx'].flatMap((m) => m.sopInstanceUids)));
    const arrived = new Set(readdirSync(storeDir, { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.dcm')).map((e) => e.name.slice(0, -4)));
    const missing = [...expected].filter((u) => !arrived.has(u));
    const extra = [...arrived].filter((u) => !expected.has(u));
    out.line('');
    if (missing.length === 0 && extra.length === 0) {
      out.line(`demo: check against the manifest: all ${expected.size} expected dose objects arrived, and nothing else`);
    } else {
      out.line(`demo: check against the manifest: ${missing.length} expected objects missing, ${extra.length} unexpected objects arrived`);
      for (const u of missing.slice(0, 10)) out.line(`  missing ${u}`);
      for (const u of extra.slice(0, 10)) out.line(`  unexpected ${u}`);
      code = code || ExitCode.PartialRetrieve;
    }

    out.line('');
    out.line(`$ qrscu ${args.join(' ')}   (again: everything is held now)`);
    const again = await main([...args, '--home', home], out);
    code = code || again;
  } finally {
    await pacs.close();
    if (a.keep || a.dir) out.line(`demo: kept ${root} (qrscu --home ${path.join(root, 'home')} queries list)`);
    else rmSync(root, { recursive: true, force: true });
  }
  return code as ExitCode;
}
