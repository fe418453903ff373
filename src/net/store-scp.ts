// The store node: a C-STORE SCP that streams every object to disk as a Part-10 file (PS3.10 §7.1)
// and reports it. Objects are written under a temporary name and renamed when complete, so an
// interrupted transfer never leaves a partial file behind.

import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import createDebug from 'debug';
import { decodeDatasetPartial } from '../dicom/decode.js';
import { encodeFileMeta } from '../dicom/part10.js';
import { SopClassUid, TransferSyntaxUid, transferSyntaxOf } from '../dicom/uids.js';
import { getString } from '../dicom/values.js';
import type { TimerOptions } from './association.js';
import { listen, type Server, type StoreInfo } from './server.js';
import { Status } from './status.js';

const log = createDebug('qrscu:store');

export interface StoredObject {
  readonly path: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly callingAeTitle: string;
  readonly moveOriginatorAeTitle?: string;
  readonly moveOriginatorMessageId?: number;
  readonly bytes: number;
  /** Read from the head of the data set (absent when it could not be read there, e.g. deflated). */
  readonly studyInstanceUid?: string;
  readonly seriesInstanceUid?: string;
}

/** How much of the start of each object is kept to read its study and series UIDs. */
const HEAD_BYTES = 64 * 1024;

/** StudyInstanceUID and SeriesInstanceUID from the first bytes of a data set; {} when not there. */
export function sniffUids(head: Buffer, transferSyntaxUid: string): { studyInstanceUid?: string; seriesInstanceUid?: string } {
  try {
    const syntax = transferSyntaxOf(transferSyntaxUid);
    if (syntax.deflated) return {};
    const { dataset } = decodeDatasetPartial(head, syntax);
    const study = getString(dataset, 'StudyInstanceUID')?.trim();
    const series = getString(dataset, 'SeriesInstanceUID')?.trim();
    return { ...(study ? { studyInstanceUid: study } : {}), ...(series ? { seriesInstanceUid: series } : {}) };
  } catch {
    return {};
  }
}

export interface StoreScpOptions extends TimerOptions {
  readonly aeTitle: string;
  readonly port: number;
  readonly host?: string;
  readonly directory: string;
  /** Only these calling AE titles may store (all when absent). */
  readonly allowedCallingAeTitles?: readonly string[];
  /** Reject associations addressed to another called AE title (default false, as most store SCPs). */
  readonly checkCalledAeTitle?: boolean;
  readonly maxLength?: number;
  readonly onStored?: (object: StoredObject) => void;
  readonly onFailed?: (info: { sopInstanceUid: string; error: Error }) => void;
}

/** Transfer syntaxes we take, in preference order; any other one the peer proposes is accepted too (bytes are kept as sent). */
const PREFERRED: readonly string[] = [TransferSyntaxUid.ExplicitVrLittleEndian, TransferSyntaxUid.ImplicitVrLittleEndian, TransferSyntaxUid.DeflatedExplicitVrLittleEndian, TransferSyntaxUid.ExplicitVrBigEndian];

/** Storage SOP classes are under 1.2.840.10008.5.1.4.1.1 (PS3.4 Annex B); private ones are outside the DICOM root. */
export function isStorageSopClass(uid: string): boolean {
  return uid.startsWith('1.2.840.10008.5.1.4.1.1.') || (!uid.startsWith('1.2.840.10008.') && /^[0-9.]+$/.test(uid));
}

/** A file name for a SOP Instance UID that cannot escape the directory. */
export function fileNameFor(sopInstanceUid: string): string {
  if (/^[0-9]+(\.[0-9]+)*$/.test(sopInstanceUid) && sopInstanceUid.length <= 64) return `${sopInstanceUid}.dcm`;
  return `invalid-uid-${createHash('sha256').update(sopInstanceUid).digest('hex').slice(0, 32)}.dcm`;
}

/** Start the store node on 127.0.0.1 (or `host`). */
export function startStoreScp(options: StoreScpOptions): Promise<Server> {
  mkdirSync(options.directory, { recursive: true });
  // Our preferred syntaxes first, then whatever else the peer proposes: the bytes are stored as sent.
  const accept = (abstractSyntax: string, proposed: readonly string[]): readonly string[] | undefined =>
    abstractSyntax === SopClassUid.Verification ? [TransferSyntaxUid.ImplicitVrLittleEndian, TransferSyntaxUid.ExplicitVrLittleEndian]
      : isStorageSopClass(abstractSyntax) ? [...PREFERRED, ...proposed] : undefined;
  return listen(
    {
      port: options.port,
      ...(options.host ? { host: options.host } : {}),
      ...timers(options),
      policy: {
        aeTitle: options.aeTitle,
        checkCalledAeTitle: options.checkCalledAeTitle ?? false,
        ...(options.allowedCallingAeTitles ? { allowedCallingAeTitles: options.allowedCallingAeTitles } : {}),
        abstractSyntaxes: accept,
        ...(options.maxLength ? { maxLength: options.maxLength } : {}),
      },
    },
    { store: (info) => openSink(info, options) },
  );
}

function timers(o: TimerOptions): TimerOptions {
  const t: { connectTimeoutMs?: number; artimTimeoutMs?: number; idleTimeoutMs?: number } = {};
  if (o.artimTimeoutMs !== undefined) t.artimTimeoutMs = o.artimTimeoutMs;
  if (o.idleTimeoutMs !== undefined) t.idleTimeoutMs = o.idleTimeoutMs;
  return t;
}

function openSink(info: StoreInfo, options: StoreScpOptions) {
  const final = path.join(options.directory, fileNameFor(info.sopInstanceUid));
  const partial = `${final}.${process.pid}.${info.messageId}.part`;
  const out = createWriteStream(partial);
  let failed: Error | undefined;
  let bytes = 0;
  const head: Buffer[] = [];
  let headBytes = 0;
  out.on('error', (e) => { failed = e; });
  out.write(encodeFileMeta({
    mediaStorageSopClassUid: info.sopClassUid,
    mediaStorageSopInstanceUid: info.sopInstanceUid,
    transferSyntaxUid: info.transferSyntaxUid,
    sourceApplicationEntityTitle: info.callingAeTitle,
  }));
  return {
    write(chunk: Buffer) {
      bytes += chunk.length;
      if (headBytes < HEAD_BYTES) {
        const part = chunk.subarray(0, HEAD_BYTES - headBytes);
        head.push(Buffer.from(part));
        headBytes += part.length;
      }
      // The chunk is a view into a PDU buffer that is reused only after this returns: copy-free is safe
      // because the framer hands over fresh buffers or views of socket chunks, which are not reused.
      out.write(chunk);
    },
    end(): Promise<number> {
      return new Promise((resolve) => {
        out.end(() => {
          if (failed) {
            rmSync(partial, { force: true });
            options.onFailed?.({ sopInstanceUid: info.sopInstanceUid, error: failed });
            log('store %s failed: %s', info.sopInstanceUid, failed.message);
            resolve(Status.OutOfResources);
            return;
          }
          try {
            renameSync(partial, final);
          } catch (e) {
            options.onFailed?.({ sopInstanceUid: info.sopInstanceUid, error: e as Error });
            resolve(Status.OutOfResources);
            return;
          }
          log('stored %s (%d bytes) from %s', final, bytes, info.callingAeTitle);
          options.onStored?.({
            path: final, sopClassUid: info.sopClassUid, sopInstanceUid: info.sopInstanceUid, transferSyntaxUid: info.transferSyntaxUid,
            callingAeTitle: info.callingAeTitle, bytes,
            ...sniffUids(Buffer.concat(head, headBytes), info.transferSyntaxUid),
            ...(info.moveOriginatorAeTitle ? { moveOriginatorAeTitle: info.moveOriginatorAeTitle } : {}),
            ...(info.moveOriginatorMessageId !== undefined ? { moveOriginatorMessageId: info.moveOriginatorMessageId } : {}),
          });
          resolve(Status.Success);
        });
      });
    },
    abort() {
      out.destroy();
      rmSync(partial, { force: true });
    },
  };
}
