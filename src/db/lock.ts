// The writer lock of a qrscu home: <home>/qrscu.lock, created with O_CREAT|O_EXCL, holding the
// owner's pid, host, start time and command as JSON (on Linux also the boot id and the process's
// start tick, so a lock from before a reboot or a reused pid is recognised). A lock whose process is
// gone (same host) is stale and taken over; breaking it is itself serialised by <home>/qrscu.lock.break (O_EXCL), and
// the stale content is re-read under it, so two runs that find the same stale lock cannot both win.
// A live owner gives ConfigError ERR_DB_LOCKED naming its pid, command and start time.

import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigError, ErrorCode } from '../errors.js';

export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly command: string;
  /** Linux: /proc/sys/kernel/random/boot_id when the lock was taken (a reboot makes the lock stale). */
  readonly bootId?: string;
  /** Linux: the owner's start time in clock ticks since boot (/proc/PID/stat field 22): tells a reused pid. */
  readonly processStart?: number;
}

/** Linux boot id, or undefined elsewhere. */
function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Start time of a process in clock ticks since boot (Linux), or undefined. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

export interface Lock {
  readonly file: string;
  readonly info: LockInfo;
  /** Remove the lock file if it is still ours. Idempotent. */
  release(): void;
}

/** A lock file that is empty or unreadable this long after its last change is stale (its writer died mid-write). */
const UNREADABLE_STALE_MS = 10_000;
/** A break lock older than this is left over from a crash. */
const BREAK_STALE_MS = 30_000;

/** True when a process with this pid exists (EPERM: it exists but is someone else's). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readInfo(file: string): { info?: LockInfo; text: string; ageMs: number } | undefined {
  let text: string;
  let ageMs: number;
  try {
    text = readFileSync(file, 'utf8');
    ageMs = Date.now() - statSync(file).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(ErrorCode.Io, `cannot read the lock file: ${(e as Error).message}`, { file, cause: e });
  }
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.startedAt === 'string' && typeof v.command === 'string') {
      const info: LockInfo = {
        pid: v.pid, host: v.host, startedAt: v.startedAt, command: v.command,
        ...(typeof v.bootId === 'string' ? { bootId: v.bootId } : {}),
        ...(typeof v.processStart === 'number' ? { processStart: v.processStart } : {}),
      };
      return { info, text, ageMs };
    }
  } catch {
    // fall through: unreadable content
  }
  return { text, ageMs };
}

function createExclusive(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new ConfigError(ErrorCode.Io, `cannot create the lock file: ${(e as Error).message}`, { file, cause: e });
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Why a lock held by `info` is stale, or undefined when its owner may be alive. */
function staleReason(found: { info?: LockInfo; ageMs: number }): string | undefined {
  const { info } = found;
  if (!info) return found.ageMs > UNREADABLE_STALE_MS ? 'its content is unreadable' : undefined;
  if (info.host !== hostname()) return undefined; // another machine's process: cannot tell
  if (!processAlive(info.pid)) return `process ${info.pid} (${info.command}) is no longer running`;
  const boot = bootId();
  if (info.bootId !== undefined && boot !== undefined && info.bootId !== boot) return `it was taken before the machine restarted (pid ${info.pid}, ${info.command})`;
  if (info.processStart !== undefined) {
    const start = processStartTicks(info.pid);
    if (start !== undefined && start !== info.processStart) return `process ${info.pid} (${info.command}) is gone; its pid now belongs to another process`;
  }
  return undefined;
}

function heldError(file: string, found: { info?: LockInfo; ageMs: number }): ConfigError {
  const { info } = found;
  if (!info) {
    return new ConfigError(ErrorCode.DatabaseLocked, 'the qrscu database is locked: another run is just starting (the lock file is being written); try again', { file });
  }
  if (info.pid === process.pid && info.host === hostname()) {
    return new ConfigError(ErrorCode.DatabaseLocked, `the qrscu database is already open for writing in this process (since ${info.startedAt}, "${info.command}"): close it first`, { file });
  }
  const other = info.host === hostname() ? '' : ` on host ${info.host} (cannot check from here; delete the lock file if that run is gone)`;
  return new ConfigError(
    ErrorCode.DatabaseLocked,
    `the qrscu database is in use by another run: pid ${info.pid}${other}, started ${info.startedAt}, command "${info.command}"; wait for it to finish`,
    { file },
  );
}

/**
 * Take the lock or throw ConfigError ERR_DB_LOCKED. `onStale` hears about a stale lock taken over.
 */
export function acquireLock(file: string, command: string, onStale?: (message: string) => void): Lock {
  const boot = bootId();
  const start = processStartTicks(process.pid);
  const info: LockInfo = {
    pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command,
    ...(boot !== undefined ? { bootId: boot } : {}),
    ...(start !== undefined ? { processStart: start } : {}),
  };
  const text = `${JSON.stringify(info)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(file, text)) return makeLock(file, info, text);
    const found = readInfo(file);
    if (!found) continue; // released in between: try again
    const why = staleReason(found);
    if (why === undefined) throw heldError(file, found);
    breakStale(file, found.text, `${file}: stale lock taken over: ${why}`, onStale);
  }
  throw new ConfigError(ErrorCode.DatabaseLocked, 'cannot take the qrscu database lock: other runs keep taking it', { file });
}

/** Remove the stale lock whose content was `staleText`, under the break lock, if it is still that one. */
function breakStale(file: string, staleText: string, message: string, onStale?: (message: string) => void): void {
  const breaker = `${file}.break`;
  if (!createExclusive(breaker, `${process.pid}\n`)) {
    // Someone else is breaking it; a break lock left by a crash is removed after a while.
    try {
      if (Date.now() - statSync(breaker).mtimeMs > BREAK_STALE_MS) unlinkSync(breaker);
    } catch {
      // gone
    }
    return;
  }
  try {
    let now: string | undefined;
    try {
      now = readFileSync(file, 'utf8');
    } catch {
      now = undefined;
    }
    if (now === staleText) {
      unlinkSync(file);
      onStale?.(message);
    }
  } finally {
    try {
      unlinkSync(breaker);
    } catch {
      // gone
    }
  }
}

function makeLock(file: string, info: LockInfo, text: string): Lock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    try {
      if (readFileSync(file, 'utf8') === text) unlinkSync(file);
    } catch {
      // already gone
    }
  };
  // A run that ends without close() (an uncaught error, process.exit) still frees the lock.
  process.on('exit', release);
  return { file, info, release };
}

/** The lock's current owner, for status displays; undefined when unlocked. */
export function lockOwner(file: string): LockInfo | undefined {
  return readInfo(file)?.info;
}
