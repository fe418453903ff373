// `qrscu nodes add-qr|add-store|list|edit|remove`: the QR and store nodes of the qrscu home.
// This module is loaded with the CLI (for its options); the database is imported when a command runs.

import type { Argv, CommandModule } from 'yargs';
import { ConfigError, ErrorCode } from '../../errors.js';
import type { QrNode, StoreNode } from '../../db/schema.js';
import { ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';

export interface HomeArgs {
  home?: string;
}

interface QrOptionArgs {
  name?: string;
  aet?: string;
  host?: string;
  port?: number;
  'calling-aet'?: string;
  'use-modality-tag'?: boolean;
  'connect-timeout-ms'?: number;
  'dimse-timeout-ms'?: number;
  'max-pdu'?: number;
  'max-associations'?: number;
  charset?: string;
}

interface StoreOptionArgs {
  name?: string;
  aet?: string;
  host?: string;
  port?: number;
  dir?: string;
  'allow-aet'?: string[];
  'allow-any'?: boolean;
  external?: boolean;
}

type EditArgs = HomeArgs & QrOptionArgs & StoreOptionArgs & { id: string };

function qrOptions<T>(y: Argv<T>, required: boolean) {
  return y
    .option('name', { type: 'string', describe: 'a display name (default: the id)' })
    .option('aet', { type: 'string', demandOption: required, describe: "the node's (called) AE title" })
    .option('host', { type: 'string', demandOption: required, describe: 'host name or IP address' })
    .option('port', { type: 'number', demandOption: required, describe: 'TCP port' })
    .option('calling-aet', { type: 'string', describe: 'our AE title towards it (default QRSCU)' })
    .option('use-modality-tag', { type: 'boolean', describe: 'send a Modality key at study level (some PACS need it; --no-use-modality-tag to turn off)' })
    .option('connect-timeout-ms', { type: 'number', describe: 'TCP connect and association timeout (default 10000)' })
    .option('dimse-timeout-ms', { type: 'number', describe: 'wait for each DIMSE response at most this long (default 60000)' })
    .option('max-pdu', { type: 'number', describe: 'maximum PDU length we receive (default 65536)' })
    .option('max-associations', { type: 'number', describe: 'parallel associations for series/image queries and moves (default 4)' })
    .option('charset', { type: 'string', describe: 'Specific Character Set assumed when responses name none, e.g. "ISO_IR 100"' });
}

function storeOptions<T>(y: Argv<T>, required: boolean) {
  return y
    .option('name', { type: 'string', describe: 'a display name (default: the id)' })
    .option('aet', { type: 'string', demandOption: required, describe: 'the AE title moves are sent to (ours, when this is our store node)' })
    .option('host', { type: 'string', describe: 'where it listens (default 127.0.0.1)' })
    .option('port', { type: 'number', demandOption: required, describe: 'TCP port' })
    .option('dir', { type: 'string', describe: 'the folder our store SCP writes to (required unless --external)' })
    .option('allow-aet', { type: 'string', array: true, describe: 'calling AE titles allowed to store (default: any)' })
    .option('external', { type: 'boolean', describe: 'another storage SCP, not qrscu\'s own (a run does not start it)' });
}

async function withDb<T>(args: HomeArgs, fn: (db: import('../../db/database.js').Database) => T | Promise<T>): Promise<T> {
  const { openDatabase, resolveHome } = await import('../../db/database.js');
  const db = await openDatabase({ home: resolveHome(args.home) });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

function qrPatch(a: QrOptionArgs): Partial<Omit<QrNode, 'id'>> {
  return {
    ...(a.name !== undefined ? { name: a.name } : {}),
    ...(a.aet !== undefined ? { aeTitle: a.aet } : {}),
    ...(a.host !== undefined ? { host: a.host } : {}),
    ...(a.port !== undefined ? { port: a.port } : {}),
    ...(a['calling-aet'] !== undefined ? { callingAeTitle: a['calling-aet'] } : {}),
    ...(a['use-modality-tag'] !== undefined ? { useModalityTag: a['use-modality-tag'] } : {}),
    ...(a['connect-timeout-ms'] !== undefined ? { connectTimeoutMs: a['connect-timeout-ms'] } : {}),
    ...(a['dimse-timeout-ms'] !== undefined ? { dimseTimeoutMs: a['dimse-timeout-ms'] } : {}),
    ...(a['max-pdu'] !== undefined ? { maxPduLength: a['max-pdu'] } : {}),
    ...(a['max-associations'] !== undefined ? { maxAssociations: a['max-associations'] } : {}),
    ...(a.charset !== undefined ? { fallbackCharacterSet: a.charset } : {}),
  };
}

async function storePatch(a: StoreOptionArgs): Promise<Partial<Omit<StoreNode, 'id'>>> {
  const path = await import('node:path');
  return {
    ...(a.name !== undefined ? { name: a.name } : {}),
    ...(a.aet !== undefined ? { aeTitle: a.aet } : {}),
    ...(a.host !== undefined ? { host: a.host } : {}),
    ...(a.port !== undefined ? { port: a.port } : {}),
    ...(a.dir !== undefined ? { directory: a.dir === '' ? '' : path.resolve(a.dir) } : {}),
    ...(a['allow-aet'] !== undefined ? { allowedCallingAeTitles: a['allow-aet'] } : {}),
    ...(a['allow-any'] ? { allowedCallingAeTitles: [] } : {}),
    ...(a.external !== undefined ? { own: !a.external } : {}),
  };
}

function describeNode(kind: 'qr' | 'store', n: QrNode | StoreNode): string {
  return `${kind === 'qr' ? 'QR' : 'store'} node ${n.id}: ${n.aeTitle}@${n.host}:${n.port}`;
}

const QR_ONLY: readonly (keyof QrOptionArgs)[] = ['calling-aet', 'use-modality-tag', 'connect-timeout-ms', 'dimse-timeout-ms', 'max-pdu', 'max-associations', 'charset'];
const STORE_ONLY: readonly (keyof StoreOptionArgs)[] = ['dir', 'allow-aet', 'allow-any', 'external'];

/** The `nodes` command tree. `done` receives the exit code. */
export function nodesCommand(out: Output, done: (code: number) => void): CommandModule<HomeArgs, HomeArgs> {
  return {
    command: 'nodes',
    describe: 'configure the QR (PACS) and store nodes',
    builder: (y) =>
      y
        .command<HomeArgs & QrOptionArgs & { id: string }>(
          'add-qr <id>',
          'add a remote query/retrieve node (a PACS)',
          (g) =>
            qrOptions(g.positional('id', { type: 'string', demandOption: true, describe: 'a short name of your choice: letters, digits, _ and -' }), true)
              .example('$0 nodes add-qr pacs --aet PACS --host 10.0.0.5 --port 104', 'the hospital PACS, calling AE title QRSCU')
              .example('$0 nodes add-qr orthanc --aet ORTHANC --host 127.0.0.1 --port 4242 --calling-aet DOSE --max-associations 2', 'a local Orthanc') as never,
          async (a) => {
            await withDb(a, (db) => {
              const n = db.addQrNode({ ...qrPatch(a), id: a.id, aeTitle: a.aet ?? '', host: a.host ?? '', port: a.port ?? 0 });
              out.line(`added ${describeNode('qr', n)} (calling AE ${n.callingAeTitle})`);
            });
            done(ExitCode.Ok);
          },
        )
        .command<HomeArgs & StoreOptionArgs & { id: string }>(
          'add-store <id>',
          'add a store node: where moved objects go (our own store SCP, or --external)',
          (g) =>
            storeOptions(g.positional('id', { type: 'string', demandOption: true, describe: 'a short name of your choice: letters, digits, _ and -' }), true)
              .example('$0 nodes add-store store --aet QRSCU_STORE --port 11113 --dir /srv/dose', 'our store SCP, started by each run')
              .example('$0 nodes add-store store --aet QRSCU_STORE --port 11113 --dir /srv/dose --allow-aet PACS', 'only the PACS may store')
              .example('$0 nodes add-store openrem --aet OPENREM --host 10.0.0.9 --port 8104 --external', 'an existing storage SCP') as never,
          async (a) => {
            await withDb(a, async (db) => {
              const p = await storePatch(a);
              const n = db.addStoreNode({ ...p, id: a.id, aeTitle: a.aet ?? '', port: a.port ?? 0 });
              out.line(`added ${describeNode('store', n)} (${n.own ? `own, writes to ${n.directory}` : 'external'})`);
            });
            done(ExitCode.Ok);
          },
        )
        .command<HomeArgs & { json: boolean }>(
          'list',
          'list the nodes',
          (g) =>
            g.option('json', { type: 'boolean', default: false, describe: 'print {qrNodes, storeNodes} as JSON' })
              .example('$0 nodes list', 'a table of every node')
              .example('$0 nodes list --json | jq .qrNodes', 'the QR nodes as JSON') as never,
          async (a) => {
            const { openDatabase, resolveHome } = await import('../../db/database.js');
            const { listNodes, nodeTable } = await import('../../db/nodes.js');
            const db = await openDatabase({ home: resolveHome(a.home), readOnly: true });
            if (a.json) out.line(JSON.stringify({ qrNodes: db.qrNodes(), storeNodes: db.storeNodes() }, null, 2));
            else {
              const rows = listNodes(db);
              if (rows.length === 0) out.line(`no nodes configured in ${db.file} (add some: qrscu nodes add-qr --help)`);
              else for (const l of nodeTable(rows)) out.line(l);
            }
            done(ExitCode.Ok);
          },
        )
        .command<EditArgs>(
          'edit <id>',
          'change settings of a node (only the options given)',
          (g) =>
            storeOptions(qrOptions(g.positional('id', { type: 'string', demandOption: true, describe: 'the node to change' }), false), false)
              .option('allow-any', { type: 'boolean', describe: 'store node: allow any calling AE title' })
              .example('$0 nodes edit pacs --port 11112 --max-associations 2', 'a QR node')
              .example('$0 nodes edit pacs --no-use-modality-tag', 'stop sending Modality at study level')
              .example('$0 nodes edit store --allow-aet PACS PACS2', 'a store node') as never,
          async (a) => {
            await withDb(a, async (db) => {
              const found = db.node(a.id);
              if (!found) {
                db.editNode(a.id, {}); // throws: no such node, naming the known ones
                return;
              }
              const wrong = (found.kind === 'qr' ? STORE_ONLY : QR_ONLY).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
              if (wrong.length > 0) {
                throw new ConfigError(ErrorCode.Usage, `${a.id} is a ${found.kind === 'qr' ? 'QR' : 'store'} node: ${wrong.map((k) => `--${k}`).join(', ')} ${wrong.length > 1 ? 'do' : 'does'} not apply`);
              }
              const patch = found.kind === 'qr' ? qrPatch(a) : await storePatch(a);
              if (Object.keys(patch).length === 0) throw new ConfigError(ErrorCode.Usage, 'nothing to change: give at least one option (see qrscu nodes edit --help)');
              const r = db.editNode(a.id, patch);
              out.line(`changed ${describeNode(r.kind, r.node)}: ${Object.keys(patch).join(', ')}`);
            });
            done(ExitCode.Ok);
          },
        )
        .command<HomeArgs & { id: string }>(
          'remove <id>',
          'remove a node',
          (g) => g.positional('id', { type: 'string', demandOption: true, describe: 'the node to remove' }).example('$0 nodes remove oldpacs', '') as never,
          async (a) => {
            await withDb(a, (db) => {
              const kind = db.removeNode(a.id);
              out.line(`removed ${kind === 'qr' ? 'QR' : 'store'} node ${a.id}`);
            });
            done(ExitCode.Ok);
          },
        )
        .demandCommand(1, 'Name a nodes command (see qrscu nodes --help).') as never,
    handler: () => undefined,
  };
}
