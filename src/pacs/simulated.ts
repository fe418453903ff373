// The simulated PACS: a Query/Retrieve SCP (PS3.4 Annex C) on loopback that answers C-ECHO, C-FIND
// and C-MOVE either exactly as a snapshot says (../shared/docs/pacs-snapshot.md) or from a folder of
// Part-10 files with standard matching (files.ts), sends the C-STORE sub-operations of a C-MOVE to
// destinations of its own AE table, and logs every request. Both modes share one SCP: a mode is a
// Backend that answers C-FINDs and selects the objects a C-MOVE sends.

import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import createDebug from 'debug';
import { createDataset, encodeDataset, getStrings, keywordOfTag, formatTag, readPart10, setValue, type Dataset } from '../dicom/index.js';
import { SopClassUid, TransferSyntaxUid, transferSyntaxOf } from '../dicom/uids.js';
import { ConfigError, ErrorCode, isDicomError } from '../errors.js';
import { connect, QUERY_RETRIEVE_CONTEXTS, type Client, type SubOperations } from '../net/client.js';
import { DimseStatusError, listen, type MoveAnswer, type RequestContext } from '../net/server.js';
import { Status } from '../net/status.js';
import { findInIndex, indexFolder, QueryError, selectFilesToMove, type FileIndex, type InformationModel, type IndexedFile, type ScanOptions } from './files.js';
import { selectImages, selectMoveItems, selectSeries, selectStudies, text, type MoveItem } from './matching.js';
import { answerToDataset, moveStatusClass, type Answer, type Snapshot } from './snapshot.js';

const log = createDebug('qrscu:pacs');

/** Switches that imitate real servers (../shared/docs/real-pacs.md); all off by default. */
export interface SimulatedPacsQuirks {
  /** Answer every study-level C-FIND from "*", whatever its ModalitiesInStudy (dcmqrscp). */
  readonly ignoreModalitiesInStudy?: boolean;
  /** Never return SOPClassUID at image level (dcmqrscp). */
  readonly omitSopClassUid?: boolean;
  /** Never return the Number…Related… counts (dcmqrscp). */
  readonly omitRelatedCounts?: boolean;
  /** Status of a C-MOVE to an AE title not in `destinations` (default 0xA801; Orthanc 0xC000). */
  readonly unknownDestinationStatus?: number;
  /** Return at most this many answers per C-FIND, then end with 0xFE00 (Orthanc LimitFindResults). */
  readonly findResultLimit?: number;
  /** Calling AE titles served; any other is sent A-ABORT right after its C-FIND or C-MOVE request (Orthanc). */
  readonly knownCallingAeTitles?: readonly string[];
  /** Reject an association addressed to another called AE title (reason 7, dcmqrscp and PixelMed). */
  readonly checkCalledAeTitle?: boolean;
  /** Never answer C-ECHO, C-FIND or C-MOVE (for timeout tests); the request is still logged. */
  readonly neverAnswer?: boolean;
  /** Files mode: PN keys match regardless of case (Orthanc, PixelMed); default case-sensitive (dcmqrscp). */
  readonly caseInsensitivePersonName?: boolean;
  /** Files mode: StudyDate+StudyTime (and the other date-time pairs) ranges match as one combined range (PS3.4 C.2.2.2.5.1). */
  readonly combinedDateTime?: boolean;
  /**
   * Send A-ABORT on the Q/R association after this many C-STORE sub-operations of a C-MOVE (those
   * objects have arrived; no final response): a PACS that dies mid-move (OpenREM #858). Read at each
   * C-MOVE, so a test may switch it off between runs.
   */
  readonly abortMoveAfter?: number;
}

/** Exactly one of `snapshot` (snapshot mode) and `files` (files mode: a folder, or an index of one). */
export interface SimulatedPacsOptions {
  readonly snapshot?: Snapshot;
  /** Files mode: the folder of Part-10 files to serve (scanned once at start), or its index. */
  readonly files?: string | FileIndex;
  /** Files mode: bounds of the folder scan. */
  readonly scan?: ScanOptions;
  /** Our AE title; default the snapshot's `aet`, else SIMPACS. */
  readonly aeTitle?: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Move destinations: AE title → address (the AE table of a real PACS). */
  readonly destinations?: Readonly<Record<string, { readonly host: string; readonly port: number }>>;
  readonly quirks?: SimulatedPacsQuirks;
  /** Also append every request log entry as one JSON line to this file. */
  readonly requestLogFile?: string;
  /** Called with every request log entry as it is recorded (the CLI prints them). */
  readonly onRequest?: (entry: RequestLogEntry) => void;
}

/** One request as received: `keys` are the identifier's elements (keyword → value as sent, values joined by "\"). */
export interface RequestLogEntry {
  /** ISO 8601 time of receipt. */
  readonly time: string;
  readonly type: 'C-ECHO' | 'C-FIND' | 'C-MOVE';
  readonly callingAeTitle: string;
  /** QueryRetrieveLevel as sent ('' for C-ECHO or when absent). */
  readonly level: string;
  /** Every identifier element but QueryRetrieveLevel ({} for C-ECHO). */
  readonly keys: Readonly<Record<string, string>>;
  /** C-MOVE only: the Move Destination. */
  readonly destination?: string;
}

export interface SimulatedPacs {
  readonly port: number;
  readonly aeTitle: string;
  /** Files mode: the index served (files skipped are in `skipped`). */
  readonly index?: FileIndex;
  /** Every request received so far, in order (a copy). */
  requests(): RequestLogEntry[];
  /** Stop listening, release held requests and end open associations. */
  close(): Promise<void>;
}

/**
 * A move destination as the CLI takes it: `AET=host:port` (host defaults to 127.0.0.1 with `AET=port`).
 * @throws ConfigError ERR_USAGE
 */
export function parseDestination(spec: string): [string, { host: string; port: number }] {
  const m = /^([^=]{1,16})=(?:([^:=]+):)?([0-9]{1,5})$/.exec(spec);
  const port = m ? Number(m[3]) : NaN;
  if (!m || m[1]!.trim() === '' || port < 1 || port > 65535) throw new ConfigError(ErrorCode.Usage, `--dest ${spec}: expected AET=host:port (AE title up to 16 characters, port 1-65535)`);
  return [m[1]!.trim(), { host: m[2] ?? '127.0.0.1', port }];
}

/** The transfer syntaxes we accept and propose, in our order of preference. */
const SYNTAXES: readonly string[] = [TransferSyntaxUid.ExplicitVrLittleEndian, TransferSyntaxUid.ImplicitVrLittleEndian];
const RELATED_COUNT = /^NumberOf(Patient|Study|Series)Related(Studies|Series|Instances)$/;

/** One object a C-MOVE sends: its identity and how its data set bytes are had. */
export interface StoreJob {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** The transfer syntax its stored bytes are in (proposed in a context of its own, sent unchanged); undefined when built on demand. */
  readonly storedSyntax?: string;
  /** The object can also be encoded in Explicit or Implicit VR Little Endian. */
  readonly convertible: boolean;
  /** Its data set in `transferSyntax` (the stored bytes unchanged when it is `storedSyntax`). */
  dataset(transferSyntax: string): Buffer;
}

/** What a mode contributes to the shared SCP. */
interface Backend {
  readonly description: string;
  readonly aeTitle: string | undefined;
  readonly index?: FileIndex;
  /** The answers of a C-FIND (before the quirks that drop attributes). @throws DimseStatusError */
  find(identifier: Dataset, level: string, model: InformationModel, quirks: SimulatedPacsQuirks, aeTitle: string): Iterable<Dataset>;
  /** The configured final status of the next C-MOVE request; called once per request, first. */
  nextMoveStatus(): number;
  /** The objects a C-MOVE sends. @throws DimseStatusError */
  moveJobs(identifier: Dataset, level: string, model: InformationModel): StoreJob[];
}

function snapshotBackend(snapshot: Snapshot): Backend {
  let moves = 0;
  return {
    description: snapshot.source,
    aeTitle: snapshot.aet,
    find: function* (identifier, level, _model, quirks) {
      for (const a of findAnswers(snapshot, identifier, level, quirks)) yield answerToDataset(a, level);
    },
    nextMoveStatus: () => snapshot.quirks.moveStatuses[Math.min(moves++, snapshot.quirks.moveStatuses.length - 1)]!,
    moveJobs: (identifier, level) => {
      if (!['STUDY', 'SERIES', 'IMAGE'].includes(level)) throw new DimseStatusError(0xa900, `QueryRetrieveLevel "${level}" cannot be moved`);
      const items = selectMoveItems(snapshot, {
        level,
        studyInstanceUids: uidList(identifier, 'StudyInstanceUID'),
        seriesInstanceUids: uidList(identifier, 'SeriesInstanceUID'),
        sopInstanceUids: uidList(identifier, 'SOPInstanceUID'),
      });
      return items.map((item) => ({
        sopClassUid: sopClassOf(item),
        sopInstanceUid: item.sopInstanceUid,
        convertible: true,
        dataset: (ts: string) => encodeDataset(buildObject(item), transferSyntaxOf(ts)),
      }));
    },
  };
}

const NATIVE_SYNTAXES: ReadonlySet<string> = new Set([TransferSyntaxUid.ImplicitVrLittleEndian, TransferSyntaxUid.ExplicitVrLittleEndian, TransferSyntaxUid.ExplicitVrBigEndian, TransferSyntaxUid.DeflatedExplicitVrLittleEndian]);

function filesBackend(index: FileIndex): Backend {
  const asStatus = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof QueryError) throw new DimseStatusError(e.status, e.message);
      throw e;
    }
  };
  return {
    description: `${index.directory} (${index.instances.size} files, ${index.studies.size} studies)`,
    aeTitle: undefined,
    index,
    find: (identifier, level, model, quirks, aeTitle) => asStatus(() => {
      const answers = findInIndex(index, identifier, level, model, {
        aeTitle,
        ignoreModalitiesInStudy: quirks.ignoreModalitiesInStudy === true,
        caseInsensitivePersonName: quirks.caseInsensitivePersonName === true,
        combinedDateTime: quirks.combinedDateTime === true,
      });
      // Run the generator to its first answer here, so a bad level fails before any answer.
      const first = answers.next();
      return (function* () {
        if (first.done) return;
        yield first.value;
        yield* answers;
      })();
    }),
    nextMoveStatus: () => Status.Success,
    moveJobs: (identifier, level, model) => asStatus(() => selectFilesToMove(index, identifier, level, model)).map(fileJob),
  };
}

/** A stored file as a sub-operation: its data set bytes as stored; re-encoded only when its syntax is refused. */
function fileJob(f: IndexedFile): StoreJob {
  return {
    sopClassUid: f.sopClassUid,
    sopInstanceUid: f.sopInstanceUid,
    storedSyntax: f.transferSyntaxUid,
    convertible: NATIVE_SYNTAXES.has(f.transferSyntaxUid),
    dataset: (ts) => {
      const bytes = readFileSync(f.file);
      const p10 = readPart10(bytes);
      if (getStrings(p10.dataset, 'SOPInstanceUID')?.[0] !== f.sopInstanceUid) throw new Error(`${f.file} changed since it was indexed`);
      if (ts === p10.transferSyntax.uid) return bytes.subarray(p10.datasetOffset);
      return encodeDataset(p10.dataset, transferSyntaxOf(ts));
    },
  };
}

/**
 * Start the simulated PACS on 127.0.0.1 (or `host`), in snapshot mode (`snapshot`) or files mode (`files`).
 * @throws ConfigError ERR_USAGE (not exactly one mode), ERR_CONFIG_INVALID (bad destination, unreadable folder) or ERR_IO (request log not writable), DimseError ERR_IO (cannot listen)
 */
export async function startSimulatedPacs(options: SimulatedPacsOptions): Promise<SimulatedPacs> {
  if ((options.snapshot === undefined) === (options.files === undefined)) throw new ConfigError(ErrorCode.Usage, 'the simulated PACS serves exactly one of a snapshot and a folder of files');
  const quirks = options.quirks ?? {};
  const backend = options.snapshot !== undefined
    ? snapshotBackend(options.snapshot)
    : filesBackend(typeof options.files === 'string' ? indexFolder(options.files, options.scan) : options.files!);
  const aeTitle = options.aeTitle ?? backend.aeTitle ?? 'SIMPACS';
  const destinations = new Map(Object.entries(options.destinations ?? {}));
  for (const [aet, d] of destinations) {
    if (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535) throw new ConfigError(ErrorCode.ConfigInvalid, `destination ${aet}: port must be 1-65535`);
  }
  if (options.requestLogFile) {
    try {
      appendFileSync(options.requestLogFile, '');
    } catch (e) {
      throw new ConfigError(ErrorCode.Io, `cannot append to request log: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: options.requestLogFile, cause: e });
    }
  }
  const requestLog: RequestLogEntry[] = [];
  let stopped = false;
  let releaseHeld: () => void = () => undefined;
  const held = new Promise<void>((r) => { releaseHeld = r; });

  const record = (entry: RequestLogEntry): void => {
    requestLog.push(entry);
    if (options.requestLogFile) appendFileSync(options.requestLogFile, `${JSON.stringify(entry)}\n`);
    options.onRequest?.(entry);
  };
  /** neverAnswer: wait until the association ends or we close (bounded by both). */
  const hold = async (req: RequestContext): Promise<void> => {
    await Promise.race([req.association.ended, held]);
  };
  /** Orthanc: a caller it does not know is aborted right after its request. */
  const refused = (req: RequestContext): boolean => {
    if (!quirks.knownCallingAeTitles || quirks.knownCallingAeTitles.includes(req.callingAeTitle)) return false;
    log('%s: unknown calling AE title: A-ABORT', req.callingAeTitle);
    req.association.abort();
    return true;
  };
  const modelOf = (req: RequestContext): InformationModel =>
    req.sopClassUid === SopClassUid.PatientRootQueryRetrieveFind || req.sopClassUid === SopClassUid.PatientRootQueryRetrieveMove ? 'patient' : 'study';

  const server = await listen(
    {
      port: options.port,
      ...(options.host ? { host: options.host } : {}),
      policy: {
        aeTitle,
        checkCalledAeTitle: quirks.checkCalledAeTitle ?? false,
        abstractSyntaxes: new Map(QUERY_RETRIEVE_CONTEXTS.map((c) => [c.abstractSyntax, SYNTAXES])),
      },
    },
    {
      async echo(req) {
        record({ time: new Date().toISOString(), type: 'C-ECHO', callingAeTitle: req.callingAeTitle, level: '', keys: {} });
        if (quirks.neverAnswer) await hold(req);
        return Status.Success;
      },
      async *find(identifier, req) {
        const level = getStrings(identifier, 'QueryRetrieveLevel')?.join('\\') ?? '';
        record({ time: new Date().toISOString(), type: 'C-FIND', callingAeTitle: req.callingAeTitle, level, keys: keysOf(identifier) });
        if (refused(req)) return;
        if (quirks.neverAnswer) {
          await hold(req);
          return;
        }
        const answers = backend.find(identifier, level, modelOf(req), quirks, aeTitle);
        const limit = quirks.findResultLimit ?? Infinity;
        let sent = 0;
        for (const answer of answers) {
          if (req.isCancelled()) return;
          if (sent === limit) throw new DimseStatusError(Status.Cancel, `result limit ${limit} reached`);
          sent++;
          // Let the socket be read now and then, so a C-CANCEL can arrive during a long answer.
          if (sent % 64 === 0) await new Promise((r) => setImmediate(r));
          if (quirks.omitSopClassUid === true && level === 'IMAGE') answer.elements.delete(TAG_SOP_CLASS_UID);
          if (quirks.omitRelatedCounts === true) {
            for (const t of [...answer.elements.keys()]) if (RELATED_COUNT.test(keywordOfTag(t) ?? '')) answer.elements.delete(t);
          }
          yield answer;
        }
      },
      async move(identifier, req) {
        const level = getStrings(identifier, 'QueryRetrieveLevel')?.join('\\') ?? '';
        record({ time: new Date().toISOString(), type: 'C-MOVE', callingAeTitle: req.callingAeTitle, level, keys: keysOf(identifier), destination: req.destination });
        // Snapshot moveStatuses: the Nth C-MOVE request received gets the Nth status; the last one repeats.
        const status = backend.nextMoveStatus();
        if (refused(req)) return { status: Status.UnableToProcess, subOperations: {} };
        if (quirks.neverAnswer) {
          await hold(req);
          return { status: Status.UnableToProcess, subOperations: {} };
        }
        const address = destinations.get(req.destination);
        if (!address) throw new DimseStatusError(quirks.unknownDestinationStatus ?? 0xa801, `Move destination ${req.destination} unknown`);
        const jobs = backend.moveJobs(identifier, level, modelOf(req));
        return performMove(jobs, status, { aeTitle, destination: req.destination, address, req, stopped: () => stopped, ...(quirks.abortMoveAfter !== undefined ? { abortAfter: quirks.abortMoveAfter } : {}) });
      },
    },
  );
  log('%s listening on port %d (%s)', aeTitle, server.port, backend.description);
  return {
    port: server.port,
    aeTitle,
    ...(backend.index ? { index: backend.index } : {}),
    requests: () => requestLog.map((e) => ({ ...e, keys: { ...e.keys } })),
    close: async () => {
      stopped = true;
      releaseHeld();
      await server.close(500);
    },
  };
}

/** Files mode: `startSimulatedPacs` serving the Part-10 files under `files`. */
export function startFilesPacs(options: Omit<SimulatedPacsOptions, 'snapshot' | 'files'> & { readonly files: string | FileIndex }): Promise<SimulatedPacs> {
  return startSimulatedPacs(options);
}

const TAG_SOP_CLASS_UID = 0x00080016;

function findAnswers(snapshot: Snapshot, identifier: Dataset, level: string, quirks: SimulatedPacsQuirks): readonly Answer[] {
  switch (level) {
    case 'STUDY': {
      const modalities = getStrings(identifier, 'ModalitiesInStudy');
      return selectStudies(
        snapshot,
        { modalitiesInStudy: modalities?.join('\\'), hasModalityKey: getStrings(identifier, 'Modality') !== undefined },
        { ignoreModalitiesInStudy: quirks.ignoreModalitiesInStudy === true },
      );
    }
    case 'SERIES':
      return selectSeries(snapshot, uidList(identifier, 'StudyInstanceUID'));
    case 'IMAGE':
      return selectImages(snapshot, uidList(identifier, 'SeriesInstanceUID'), getStrings(identifier, 'InstanceNumber') ?? []);
    case 'PATIENT':
      // A snapshot holds no patient-level answers.
      return [];
    default:
      throw new DimseStatusError(0xa900, `QueryRetrieveLevel "${level}" is not STUDY, SERIES or IMAGE`);
  }
}

/** The non-empty values of a UID (list) key. */
function uidList(ds: Dataset, keyword: string): string[] {
  return (getStrings(ds, keyword) ?? []).filter((u) => u !== '');
}

/** The identifier as keyword → value as sent (several values joined by "\"); unknown tags as "(gggg,eeee)". */
function keysOf(ds: Dataset): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const t of [...ds.elements.keys()].sort((a, b) => a - b)) {
    const keyword = keywordOfTag(t) ?? formatTag(t);
    if (keyword === 'QueryRetrieveLevel') continue;
    let value: string;
    try {
      value = (getStrings(ds, t) ?? []).join('\\');
    } catch {
      value = '';
    }
    keys[keyword] = value;
  }
  return keys;
}

interface MoveContext {
  readonly aeTitle: string;
  readonly destination: string;
  readonly address: { readonly host: string; readonly port: number };
  readonly req: RequestContext & { progress(s: SubOperations): void };
  readonly stopped: () => boolean;
  /** quirks.abortMoveAfter at the time of the request. */
  readonly abortAfter?: number;
}

/**
 * Run the C-STORE sub-operations the configured final status allows (contract: success performs all;
 * a warning all but the last, which counts as failed and is listed; a failure none) and build the
 * final answer. A pending C-MOVE-RSP follows every sub-operation; the store association is released
 * before the final response (as dcmqrscp does).
 */
async function performMove(items: readonly StoreJob[], status: number, ctx: MoveContext): Promise<MoveAnswer> {
  const kind = moveStatusClass(status);
  if (kind === 'failure') {
    return {
      status,
      subOperations: { remaining: 0, completed: 0, failed: items.length, warning: 0 },
      failedSopInstanceUids: items.map((i) => i.sopInstanceUid),
      errorComment: 'snapshot move status',
    };
  }
  const toSend = kind === 'warning' ? items.slice(0, -1) : items;
  // The instance a warning leaves out is counted as failed only in the final response.
  const skipped: string[] = kind === 'warning' && items.length > 0 ? [items[items.length - 1]!.sopInstanceUid] : [];
  const failed: string[] = [];
  let completed = 0;
  let warning = 0;
  let cancelled = false;
  if (toSend.length > 0) {
    let client: Client;
    try {
      client = await connect({
        host: ctx.address.host,
        port: ctx.address.port,
        callingAeTitle: ctx.aeTitle,
        calledAeTitle: ctx.destination,
        contexts: storeContexts(toSend),
        dimseTimeoutMs: 30_000,
      });
    } catch (e) {
      log('move destination %s unreachable: %s', ctx.destination, isDicomError(e) ? e.message : String(e));
      // PS3.4 Table C.4-2: A702 Refused: Out of Resources – Unable to perform sub-operations.
      return { status: 0xa702, subOperations: { remaining: 0, completed: 0, failed: items.length, warning: 0 }, failedSopInstanceUids: items.map((i) => i.sopInstanceUid), errorComment: 'cannot reach move destination' };
    }
    try {
      for (let i = 0; i < toSend.length; i++) {
        if (ctx.req.isCancelled() || ctx.stopped()) {
          cancelled = true;
          break;
        }
        const item = toSend[i]!;
        const r = await storeItem(client, item, ctx);
        if (r === 'completed') completed++;
        else if (r === 'warning') warning++;
        else failed.push(item.sopInstanceUid);
        ctx.req.progress({ remaining: items.length - completed - warning - failed.length, completed, failed: failed.length, warning });
        if (ctx.abortAfter !== undefined && i + 1 >= ctx.abortAfter && i + 1 < toSend.length) {
          log('abortMoveAfter %d: A-ABORT mid-move', ctx.abortAfter);
          ctx.req.association.abort();
          cancelled = true;
          break;
        }
      }
    } finally {
      await client.release().catch(() => client.abort());
    }
  }
  if (cancelled) {
    // PS3.4 C.4.2.1.6: a Cancel response carries the number of remaining sub-operations.
    return { status: Status.Cancel, subOperations: { remaining: items.length - completed - warning - failed.length, completed, failed: failed.length, warning }, failedSopInstanceUids: failed };
  }
  failed.push(...skipped);
  // A success whose sub-operations failed at the destination ends as a real PACS ends it: B000.
  const final = kind === 'success' && (failed.length > 0 || warning > 0) ? 0xb000 : status;
  return { status: final, subOperations: { remaining: 0, completed, failed: failed.length, warning }, failedSopInstanceUids: failed };
}

/**
 * The presentation contexts of a store association: per SOP class, one context per stored transfer
 * syntax alone (so the destination can only take the bytes as stored), then one with Explicit and
 * Implicit VR Little Endian for objects that can be re-encoded when their stored syntax is refused.
 * At most 128 contexts (PS3.8 §9.3.2.2: ids 1..255, odd); stored-syntax contexts come first.
 */
export function storeContexts(jobs: readonly StoreJob[]): { abstractSyntax: string; transferSyntaxes: readonly string[] }[] {
  const stored = new Map<string, { abstractSyntax: string; transferSyntaxes: readonly string[] }>();
  const fallback = new Map<string, { abstractSyntax: string; transferSyntaxes: readonly string[] }>();
  for (const j of jobs) {
    if (j.storedSyntax !== undefined) stored.set(`${j.sopClassUid} ${j.storedSyntax}`, { abstractSyntax: j.sopClassUid, transferSyntaxes: [j.storedSyntax] });
    if (j.convertible) fallback.set(j.sopClassUid, { abstractSyntax: j.sopClassUid, transferSyntaxes: SYNTAXES });
  }
  return [...stored.values(), ...fallback.values()].slice(0, 128);
}

function sopClassOf(item: MoveItem): string {
  return item.sopClassUid ?? SopClassUid.SecondaryCaptureImageStorage;
}

async function storeItem(client: Client, item: StoreJob, ctx: MoveContext): Promise<'completed' | 'warning' | 'failed'> {
  const contexts = client.association.contexts.filter((c) => c.abstractSyntax === item.sopClassUid);
  // The stored syntax if the destination took it; else a syntax we can encode into.
  const context = contexts.find((c) => c.transferSyntax === item.storedSyntax) ?? (item.convertible ? contexts.find((c) => SYNTAXES.includes(c.transferSyntax)) : undefined);
  if (!context) return 'failed';
  try {
    const dataset = item.dataset(context.transferSyntax);
    const r = await client.store({ sopClassUid: item.sopClassUid, sopInstanceUid: item.sopInstanceUid, dataset, transferSyntax: context.transferSyntax, moveOriginatorAeTitle: ctx.req.callingAeTitle, moveOriginatorMessageId: ctx.req.messageId });
    if (r.status === 0) return 'completed';
    // PS3.4 Table B.2-1: B000, B006 and B007 are the C-STORE warnings.
    return (r.status & 0xf000) === 0xb000 ? 'warning' : 'failed';
  } catch (e) {
    log('C-STORE of %s failed: %s', item.sopInstanceUid, isDicomError(e) ? e.message : String(e));
    return 'failed';
  }
}

/**
 * The small object a sub-operation sends: the instance's identity, its series' and study's UIDs and
 * Modality, the patient and study attributes the snapshot gives (Type 2 ones empty otherwise) and,
 * for Secondary Capture, a 1×1 monochrome image so the object is a valid SC instance (PS3.3 A.8.1).
 */
export function buildObject(item: MoveItem): Dataset {
  const ds = createDataset();
  const from = (answer: Answer | undefined, keyword: string): Answer[string] | undefined => answer?.[keyword];
  const cs = from(item.study, 'SpecificCharacterSet');
  if (cs !== undefined) setValue(ds, 'SpecificCharacterSet', Array.isArray(cs) ? cs.map(String) : String(cs));
  const sopClassUid = sopClassOf(item);
  setValue(ds, 'SOPClassUID', sopClassUid);
  setValue(ds, 'SOPInstanceUID', item.sopInstanceUid);
  const copy = (answer: Answer | undefined, keyword: string, type2: boolean): void => {
    const v = from(answer, keyword);
    if (v !== undefined) setValue(ds, keyword, Array.isArray(v) ? v.map(String) : String(v));
    else if (type2) setValue(ds, keyword, null);
  };
  copy(item.study, 'StudyDate', true);
  copy(item.study, 'StudyTime', true);
  copy(item.study, 'AccessionNumber', true);
  const modality = text(from(item.series, 'Modality')) || text(from(item.instance, 'Modality')) || 'OT';
  setValue(ds, 'Modality', modality);
  if (sopClassUid === SopClassUid.SecondaryCaptureImageStorage) setValue(ds, 'ConversionType', 'WSD');
  copy(item.study, 'ReferringPhysicianName', true);
  copy(item.study, 'StudyDescription', false);
  copy(item.series, 'SeriesDescription', false);
  copy(item.study, 'PatientName', true);
  copy(item.study, 'PatientID', true);
  copy(item.study, 'PatientBirthDate', true);
  copy(item.study, 'PatientSex', true);
  // A series the snapshot lists under no study, moved without a StudyInstanceUID key, gets a stable
  // study UID derived from its own (PS3.5 §B.2 UUID-derived form), so the object stays valid.
  setValue(ds, 'StudyInstanceUID', item.studyInstanceUid ?? derivedUid(item.seriesInstanceUid));
  setValue(ds, 'SeriesInstanceUID', item.seriesInstanceUid);
  copy(item.study, 'StudyID', true);
  copy(item.series, 'SeriesNumber', true);
  copy(item.instance, 'InstanceNumber', true);
  if (sopClassUid === SopClassUid.SecondaryCaptureImageStorage) {
    setValue(ds, 'PatientOrientation', null);
    setValue(ds, 'SamplesPerPixel', 1);
    setValue(ds, 'PhotometricInterpretation', 'MONOCHROME2');
    setValue(ds, 'Rows', 1);
    setValue(ds, 'Columns', 1);
    setValue(ds, 'BitsAllocated', 8);
    setValue(ds, 'BitsStored', 8);
    setValue(ds, 'HighBit', 7);
    setValue(ds, 'PixelRepresentation', 0);
    setValue(ds, 'PixelData', Buffer.alloc(2), 'OB');
  }
  return ds;
}

/** "2.25." and 128 bits of SHA-256 of `seed` as a decimal integer (PS3.5 §B.2). */
function derivedUid(seed: string): string {
  return `2.25.${BigInt(`0x${createHash('sha256').update(seed).digest('hex').slice(0, 32)}`).toString()}`;
}
