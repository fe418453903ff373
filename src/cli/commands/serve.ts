// `qrscu serve [--port 8080] [--host 127.0.0.1]`: the web page (src/web). Runs until SIGINT/SIGTERM.

import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface WebServeArgs {
  home?: string;
  port: number;
  host: string;
  rules?: string;
}

export async function runServe(a: WebServeArgs, out: Output): Promise<ExitCode> {
  const { resolveHome, openDatabase } = await import('../../db/index.js');
  const { startWebServer } = await import('../../web/server.js');
  const home = resolveHome(a.home);
  const server = await startWebServer({ home, port: a.port, host: a.host, ...(a.rules ? { rulesDir: a.rules } : {}), onWarning: (m) => out.error(`qrscu: ${m}`) });
  const db = await openDatabase({ home, readOnly: true });
  const users = db.users().length;
  await db.close();
  out.line(`qrscu serve: ${server.url}/ (home ${home})`);
  if (users === 0) out.error('qrscu: no users yet: add one with qrscu users add NAME --role admin');
  if (a.host !== '127.0.0.1' && a.host !== 'localhost' && a.host !== '::1') out.error('qrscu: listening beyond loopback without TLS: put a TLS proxy in front');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return ExitCode.Ok;
}
