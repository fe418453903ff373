// The qrscu command: yargs root. One catch maps errors to exit codes; nothing else in src/ exits.

import yargs, { type Argv } from 'yargs';
import { ConfigError, ErrorCode, isDicomError } from '../errors.js';
import { dbCommand } from './commands/db.js';
import type { FindArgs, MoveArgs, StoreArgs } from './commands/net.js';
import { nodesCommand } from './commands/nodes.js';
import { queriesCommand } from './commands/queries.js';
import type { ServeArgs } from './commands/pacs.js';
import type { ReplayArgs } from './commands/replay.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { dumpBuilder, peerOptions, type DumpArgs, type PeerArgs } from './options.js';
import { createOutput, type Output } from './output.js';
import { normaliseOpenRemFlags, runBuilder } from './run-options.js';
import { packageVersion } from './version.js';
import type { RunCommandArgs } from './commands/run.js';
import type { RulesTestArgs } from './commands/rules.js';
import type { DemoArgs } from './commands/demo.js';

/** `-v`: one line per DIMSE message; `-d`: also PDUs and state-machine steps; `--trace`: also hex dumps. */
export function traceNamespaces(verbose: boolean, debug: boolean, trace: boolean): string {
  if (trace) return 'qrscu:*';
  if (debug) return 'qrscu:*,-qrscu:bytes';
  if (verbose) return 'qrscu:dimse,qrscu:store';
  return '';
}

function queryOptions<T>(y: Argv<T>) {
  return y
    .option('key', { alias: 'k', type: 'string', array: true, default: [] as string[], describe: 'Keyword=value (or (gggg,eeee)=value); without = a return key' })
    .option('level', { alias: 'L', type: 'string', default: 'STUDY', choices: ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'], describe: 'QueryRetrieveLevel' })
    .option('root', { type: 'string', default: 'study', choices: ['study', 'patient'], describe: 'information model' });
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], out: Output = createOutput()): Promise<number> {
  let code: number = ExitCode.Ok;
  let recording: { stop(): void } | undefined;
  argv = normaliseOpenRemFlags(argv);
  if (!argv.some((a) => !a.startsWith('-')) && !argv.some((a) => /^(-h|--help|--version)$/.test(a))) {
    out.error('qrscu: Name a command, or the nodes of a run: qrscu <qr_id> <store_id> -ct … (see --help).');
    out.error('Run qrscu --help for usage.');
    return ExitCode.Usage;
  }
  const parser = yargs(argv)
    .scriptName('qrscu')
    .usage('$0 <command> [options]\n\nDICOM query/retrieve for radiation-dose objects.')
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'one trace line per DIMSE message (stderr)' })
    .option('debug', { alias: 'd', type: 'boolean', default: false, describe: 'also every PDU and state-machine step' })
    .option('trace', { type: 'boolean', default: false, describe: 'also hex dumps of every PDU' })
    .option('pcap', { type: 'string', describe: 'record every association of this run to a pcap file (Wireshark: -d tcp.port==PORT,dicom)' })
    .option('home', { type: 'string', describe: 'the qrscu home: database, lock, log (default $QRSCU_HOME, else ~/.qrscu)' })
    .middleware(async (a) => {
      const ns = traceNamespaces(Boolean(a.verbose), Boolean(a.debug), Boolean(a.trace));
      // debug is loaded only when tracing is asked for (start-up, issue 8); the modules that log load it themselves.
      if (ns) (await import('debug')).default.enable([process.env.DEBUG, ns].filter(Boolean).join(','));
      if (typeof a.pcap === 'string' && a.pcap !== '' && !recording) recording = (await import('./recording.js')).startRecording(a.pcap);
    })
    .command<RunCommandArgs>('$0 <qr_id> <store_id>', 'query a PACS for dose objects, filter them with the rules and retrieve them to a store node (OpenREM-compatible)', runBuilder as never, async (a) => {
      code = await (await import('./commands/run.js')).runRun(a, argv, out, out.progress ?? { isTTY: false, write: (t) => { for (const l of t.split('\n')) if (l) out.error(l); } });
    })
    .command<DumpArgs>('dump <files..>', 'print DICOM files like dcmdump (or --json)', dumpBuilder, async (args) => {
      code = await (await import('./commands/dump.js')).runDump(args, out);
    })
    .command<PeerArgs & { count: number; all?: boolean; json?: boolean }>('echo [host] [port]', 'C-ECHO a DICOM node (like echoscu), or the configured nodes by id (a status table)', (y) =>
      y.positional('host', { type: 'string', describe: 'peer host; or a node id; or nothing: every configured node' })
        .positional('port', { type: 'number', describe: 'peer port (with a host)' })
        .option('aet', { type: 'string', default: 'QRSCU', describe: 'our (calling) AE title (host mode)' })
        .option('aec', { type: 'string', default: 'ANY-SCP', describe: "the peer's (called) AE title (host mode)" })
        .option('timeout-ms', { type: 'number', default: 60000, describe: 'DIMSE timeout per response (ms)' })
        .option('max-pdu', { type: 'number', default: 65536, describe: 'maximum P-DATA length we receive' })
        .option('count', { type: 'number', default: 1, describe: 'echoes on one association (host mode)' })
        .option('all', { type: 'boolean', describe: 'every configured node (the default without arguments)' })
        .option('json', { type: 'boolean', describe: 'node mode: one JSON object per node' })
        .example('$0 echo 127.0.0.1 4242 --aec ORTHANC', 'exit 0 when the node answers')
        .example('$0 echo', 'a status table of every configured QR and store node')
        .example('$0 echo pacs1', 'one configured node') as unknown as Argv<PeerArgs & { count: number; all?: boolean; json?: boolean }>, async (a) => {
      if (a.host !== undefined && a.port !== undefined) code = await (await import('./commands/net.js')).runEcho(a, out);
      else code = await (await import('./commands/nodes-echo.js')).runEchoNodes({ ...(a.home !== undefined ? { home: String(a.home) } : {}), ...(a.host !== undefined && !a.all ? { target: a.host } : {}), ...(a.json ? { json: true } : {}) }, out);
    })
    .command<FindArgs>('find <host> [port]', 'C-FIND (like findscu): one DICOM JSON object per match on stdout', (y) =>
      queryOptions(peerOptions(y)).option('cancel', { type: 'number', default: 0, describe: 'send C-CANCEL after N matches' })
        .example('$0 find 127.0.0.1 4242 --aec ORTHANC -k ModalitiesInStudy=CT -k StudyInstanceUID -k StudyDate=20240101-', 'studies with CT')
        .example('$0 find 127.0.0.1 4242 -L SERIES -k StudyInstanceUID=1.2.3 -k SeriesInstanceUID -k Modality', 'series of a study')
        .example('$0 find pacs1 -k ModalitiesInStudy=MG -k StudyInstanceUID', 'a configured QR node by id (qrscu nodes list)'), async (a) => {
      code = await (await import('./commands/net.js')).runFind(a, out);
    })
    .command<MoveArgs>('move <host> [port]', 'C-MOVE (like movescu), optionally receiving with our store SCP', (y) =>
      queryOptions(peerOptions(y))
        .option('dest', { type: 'string', demandOption: true, describe: 'move destination AE title' })
        .option('store-port', { type: 'number', describe: 'also run our store SCP on this port for the sub-operations' })
        .option('store-dir', { type: 'string', default: '.', describe: 'where the store SCP writes' })
        .example('$0 move 127.0.0.1 4242 --aec ORTHANC --dest QRSCU_STORE --store-port 11113 --store-dir in -L SERIES -k StudyInstanceUID=1.2.3 -k SeriesInstanceUID=1.2.3.4', 'fetch one series'), async (a) => {
      code = await (await import('./commands/net.js')).runMove(a, out);
    })
    .command<StoreArgs>('store [node]', 'run our C-STORE SCP in the foreground (like storescp), optionally as a configured store node', (y) =>
      y.positional('node', { type: 'string', describe: 'a store node id: its port, folder, AE title; arrivals are indexed' })
        .option('port', { type: 'number', describe: 'listen port on 127.0.0.1 (default: the node\'s)' })
        .option('dir', { type: 'string', describe: 'output directory (default: the node\'s, else .)' })
        .option('aet', { type: 'string', describe: 'our AE title (default: the node\'s, else QRSCU_STORE)' })
        .option('allow-aet', { type: 'string', array: true, describe: 'only these calling AE titles may store' })
        .option('max-seconds', { type: 'number', default: 0, describe: 'stop after this many seconds (0: on Ctrl-C)' })
        .example('$0 store --port 11113 --dir incoming', 'receive objects into ./incoming')
        .example('$0 store store1', 'store node store1 as a daemon: runs use it, arrivals are indexed') as unknown as Argv<StoreArgs>, async (a) => {
      code = await (await import('./commands/net.js')).runStore(a, out);
    })
    .command<ReplayArgs>('replay <file>', 'play the SCP side of a recorded session (pcap) on 127.0.0.1; report where a client departs from it', (y) =>
      y.positional('file', { type: 'string', demandOption: true, describe: 'a capture (pcap or pcapng), e.g. written by --pcap' })
        .option('port', { type: 'number', default: 0, describe: 'listen port on 127.0.0.1 (0: any free one, printed on stderr)' })
        .option('store-port', { type: 'number', describe: "the client's store SCP port: play the recorded C-MOVE store sub-associations towards it" })
        .option('max-seconds', { type: 'number', default: 600, describe: 'give up after this many seconds (0: no limit)' })
        .example('$0 replay session.pcap --port 11112', 'then: qrscu find 127.0.0.1 11112 … as recorded') as unknown as Argv<ReplayArgs>, async (a) => {
      code = await (await import('./commands/replay.js')).runReplay(a, out);
    })
    .command('pacs', 'the simulated PACS: serve a snapshot or files, generate synthetic dose data', (y) =>
      y.command<{ dir: string; studies: number; seed: string; 'start-date'?: string; days?: number }>(
        'generate <dir>', 'write synthetic dose studies as Part-10 files, with manifest.json', (g) =>
          g.positional('dir', { type: 'string', demandOption: true, describe: 'output folder' })
            .option('studies', { type: 'number', demandOption: true, describe: 'how many studies' })
            .option('seed', { type: 'string', demandOption: true, describe: 'the same seed writes the same bytes' })
            .option('start-date', { type: 'string', describe: 'first study date, YYYY-MM-DD (default 2024-01-01)' })
            .option('days', { type: 'number', describe: 'spread of study dates in days (default 30)' })
            .example('$0 pacs generate /tmp/dose --studies 500 --seed 1', '500 studies of every dose kind') as never,
        async (a) => {
          const g = await import('../pacs/generate.js');
          const m = await g.generateDoseDataset({
            directory: a.dir, studies: a.studies, seed: a.seed,
            ...(a['start-date'] ? { startDate: a['start-date'] } : {}), ...(a.days ? { days: a.days } : {}),
          });
          for (const l of g.describeManifest(m, a.dir)) out.line(l);
          code = ExitCode.Ok;
        },
      ).command<ServeArgs>('serve', 'serve a PACS snapshot or a folder of DICOM files over DIMSE on 127.0.0.1 (C-ECHO, C-FIND, C-MOVE)', (g) =>
        g.option('snapshot', { type: 'string', describe: 'answer from this snapshot JSON (format: docs of the simulated PACS)' })
          .option('files', { type: 'string', describe: 'or serve the Part-10 files under this folder, with standard matching' })
          .conflicts('snapshot', 'files')
          .check((a) => {
            if (a.snapshot === undefined && a.files === undefined) throw new ConfigError(ErrorCode.Usage, 'give --snapshot FILE or --files DIR');
            return true;
          })
          .option('port', { type: 'number', demandOption: true, describe: 'listen port (0: any free one)' })
          .option('aet', { type: 'string', describe: "our AE title (default: the snapshot's aet, else SIMPACS)" })
          .option('dest', { type: 'string', array: true, default: [] as string[], describe: 'a move destination, AET=host:port' })
          .option('log', { type: 'string', describe: 'append every request as a JSON line to this file' })
          .option('max-seconds', { type: 'number', default: 0, describe: 'stop after this many seconds (0: on Ctrl-C)' })
          .option('ignore-modalities-in-study', { type: 'boolean', default: false, describe: 'answer study C-FINDs from "*" (dcmqrscp)' })
          .option('omit-sop-class-uid', { type: 'boolean', default: false, describe: 'no SOPClassUID at image level (dcmqrscp)' })
          .option('omit-related-counts', { type: 'boolean', default: false, describe: 'no Number…Related… counts (dcmqrscp)' })
          .option('unknown-destination-status', { type: 'string', describe: 'status for an unknown move destination, e.g. C000 (Orthanc); default A801' })
          .option('find-limit', { type: 'number', describe: 'at most N answers per C-FIND, then 0xFE00 (Orthanc LimitFindResults)' })
          .option('known-aet', { type: 'string', array: true, describe: 'only these calling AE titles; others get A-ABORT after their request (Orthanc)' })
          .option('check-called-aet', { type: 'boolean', default: false, describe: 'reject another called AE title (reason 7)' })
          .option('never-answer', { type: 'boolean', default: false, describe: 'never answer (timeout tests)' })
          .option('pn-case-insensitive', { type: 'boolean', default: false, describe: 'files: PN keys match regardless of case (Orthanc, PixelMed)' })
          .option('combined-date-time', { type: 'boolean', default: false, describe: 'files: StudyDate+StudyTime ranges match as one date-time range' })
          .example('$0 pacs serve --snapshot site.json --port 11112 --dest QRSCU_STORE=127.0.0.1:11113', 'a PACS that answers as the snapshot says')
          .example('$0 pacs serve --files /tmp/dose --port 11112 --dest QRSCU_STORE=127.0.0.1:11113', 'a PACS holding the files under /tmp/dose') as never,
        async (a) => {
          code = await (await import('./commands/pacs.js')).runServe(a, out);
        },
      ).demandCommand(1, 'Name a pacs command (see qrscu pacs --help).'))
    .command<{ id?: string; json?: boolean; home?: string }>('explain [id]', 'why each study and series of a run was kept or dropped (default: the latest run)', (y) =>
      y.positional('id', { type: 'string', describe: 'query id or a unique prefix (qrscu queries list)' })
        .option('json', { type: 'boolean', describe: 'the selection as JSON' })
        .example('$0 explain', 'the latest run') as never, async (a) => {
      code = await (await import('./commands/explain.js')).runExplain(a, out);
    })
    .command('rules', 'check rule files; run the pipeline against a snapshot (what-if)', (y) =>
      y.command<{ dir?: string; json?: boolean }>('check [dir]', 'validate the built-in rule files and a site folder over them', (g) =>
        g.positional('dir', { type: 'string', describe: 'a site rules folder (files override the built-in ones by name)' })
          .option('json', { type: 'boolean', describe: 'one JSON object per problem' })
          .example('$0 rules check ~/.qrscu/rules', 'exit 5 with file and JSON pointer of each fault') as never, async (a) => {
        code = await (await import('./commands/rules.js')).runRulesCheck(a, out);
      }).command<RulesTestArgs>('test', 'query and filter a PACS snapshot through the simulated PACS: the retrieve plan and explain tree, nothing moved', (g) =>
        (runBuilder(g as never) as unknown as Argv<RulesTestArgs>)
          .option('snapshot', { type: 'string', demandOption: true, describe: 'the snapshot JSON' })
          .example('$0 rules test --snapshot site.json -ct --rules my-rules', 'what my edited rules would fetch') as never, async (a) => {
        code = await (await import('./commands/rules.js')).runRulesTest(a, out);
      }).demandCommand(1, 'Name a rules command (see qrscu rules --help).'))
    .command<DemoArgs>('demo', 'the whole job offline in seconds: synthetic PACS, store node, query, filter, retrieve, explain', (y) =>
      y.option('studies', { type: 'number', default: 14, describe: 'synthetic studies (14 = one of each dose kind)' })
        .option('seed', { type: 'string', default: 'demo', describe: 'generator seed' })
        .option('keep', { type: 'boolean', describe: 'keep the temporary folder (home, PACS files, store)' })
        .option('dir', { type: 'string', describe: 'work in this folder instead of a temporary one (kept)' })
        .example('$0 demo', 'needs nothing but Node') as never, async (a) => {
      code = await (await import('./commands/demo.js')).runDemo(a, out);
    })
    .command('users', 'the logins of the web page (qrscu serve): add, list, remove, passwd', (y) =>
      y.command<{ name: string; role?: string; password?: string }>('add <name>', 'add a user (password from --password, $QRSCU_PASSWORD or the first line of stdin)', (g) =>
        g.positional('name', { type: 'string', demandOption: true }).option('role', { type: 'string', default: 'user', choices: ['admin', 'user', 'viewer'], describe: 'admin: nodes and users; user: queries and retrieves; viewer: history only' })
          .option('password', { type: 'string', describe: 'the password (visible in the process list: prefer stdin)' }) as never, async (a) => {
        code = await (await import('./commands/users.js')).runUsers('add', a, out);
      }).command<{ json?: boolean }>('list', 'list the users and their roles', (g) => g.option('json', { type: 'boolean' }) as never, async (a) => {
        code = await (await import('./commands/users.js')).runUsers('list', a, out);
      }).command<{ name: string }>('remove <name>', 'remove a user', (g) => g.positional('name', { type: 'string', demandOption: true }) as never, async (a) => {
        code = await (await import('./commands/users.js')).runUsers('remove', a, out);
      }).command<{ name: string; role?: string; password?: string }>('passwd <name>', "change a user's password (and --role)", (g) =>
        g.positional('name', { type: 'string', demandOption: true }).option('role', { type: 'string', choices: ['admin', 'user', 'viewer'] }).option('password', { type: 'string' }) as never, async (a) => {
        code = await (await import('./commands/users.js')).runUsers('passwd', a, out);
      }).demandCommand(1, 'Name a users command (see qrscu users --help).'))
    .command<{ port: number; host: string; rules?: string }>('serve', 'the web page: node status, query form, progress, Retrieve, history, node configuration', (y) =>
      y.option('port', { type: 'number', default: 8080, describe: 'HTTP port' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'listen address (loopback by default; put TLS in front for anything else)' })
        .option('rules', { type: 'string', describe: 'a site rules folder (default <home>/rules)' }) as never, async (a) => {
      code = await (await import('./commands/serve.js')).runServe(a, out);
    })
    .command(nodesCommand(out, (c) => void (code = c)))
    .command(dbCommand(out, (c) => void (code = c)))
    .command(queriesCommand(out, (c) => void (code = c)))
    .demandCommand(1, 'Name a command (see --help).')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // Throwing stops yargs here: a command handler must not run after a usage error.
      throw err ?? new ConfigError(ErrorCode.Usage, msg);
    });
  try {
    // yargs renders a subcommand's whole help before running its handler, in case the handler fails
    // and wants it shown (~50 ms of string-width per `qrscu echo`). Our .fail() throws and prints its
    // own message, so that text is never shown: skip rendering it.
    const usage = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } })
      .getInternalMethods?.().getUsageInstance?.();
    if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => undefined;
    await parser.parseAsync();
  } catch (e) {
    recording?.stop();
    if (isDicomError(e) && e.code === ErrorCode.Usage) {
      out.error(`qrscu: ${e.message}`);
      out.error('Run qrscu --help for usage.');
      return ExitCode.Usage;
    }
    const mapped = exitCodeFor(e);
    if (isDicomError(e)) {
      out.error(`qrscu: ${e.message} [${e.code}]`);
      return mapped ?? ExitCode.Unexpected;
    }
    out.error(`qrscu: unexpected error: ${(e as Error)?.stack ?? String(e)}`);
    return ExitCode.Unexpected;
  }
  recording?.stop();
  return code;
}
