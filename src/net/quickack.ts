// TCP_QUICKACK on our sockets (Linux), through the small native addon in native/.
//
// Why: a peer that keeps Nagle on (default dcmtk and Orthanc) writes a response as two small
// segments and holds the second until we ACK the first; Linux delays that ACK by ~40 ms once it sees
// request/response traffic ("pingpong" mode). setNoDelay(true) on our side does not help. Setting
// TCP_QUICKACK leaves pingpong mode and sends an ACK the kernel is holding, but the kernel clears
// it again by itself, so it is re-armed once at connect/accept and after every chunk read. See
// ../shared/docs/real-pacs.md, "The 44 ms stall".
//
// Where the addon is missing (not built, no compiler at install, not Linux) or QRSCU_QUICKACK=0,
// everything here is a no-op: plain sockets, one line in the `qrscu:net` trace.

import { createRequire } from 'node:module';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import createDebug from 'debug';

const log = createDebug('qrscu:net');

/** What native/quickack.c exports. */
interface QuickAckAddon {
  setQuickAck(fd: number): boolean;
  setNoDelayAndQuickAck(fd: number): boolean;
  readonly supported: boolean;
}

/** Where scripts/build-native.mjs leaves the addon; the same from src/net/ and dist/net/. */
export const ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/quickack.node', import.meta.url));

/** undefined: not tried yet; null: tried, unavailable. */
let addon: QuickAckAddon | null | undefined;

function loadAddon(): QuickAckAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.platform !== 'linux') {
    log('TCP_QUICKACK: not available on %s; plain sockets (a peer with Nagle on may stall each response ~40 ms)', process.platform);
    return addon;
  }
  try {
    const loaded = createRequire(import.meta.url)(ADDON_PATH) as Partial<QuickAckAddon>;
    if (typeof loaded.setQuickAck !== 'function' || typeof loaded.setNoDelayAndQuickAck !== 'function') {
      throw new Error('not the quickack addon (no setQuickAck)');
    }
    if (loaded.supported !== true) throw new Error('built without TCP_QUICKACK');
    addon = loaded as QuickAckAddon;
    log('TCP_QUICKACK: native addon loaded from %s', ADDON_PATH);
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    log('TCP_QUICKACK: native addon unavailable (%s); plain sockets (build it: node scripts/build-native.mjs)', why);
  }
  return addon;
}

function disabledByEnv(): boolean {
  const v = process.env.QRSCU_QUICKACK;
  return v === '0' || v === 'false' || v === 'off';
}

/** True when the addon is loaded and this platform has TCP_QUICKACK (loads it on first call). */
export function quickAckAvailable(): boolean {
  return loadAddon() !== null;
}

/** The socket's OS file descriptor, or undefined (not connected yet, closed, or not an fd-backed handle). */
function socketFd(socket: net.Socket): number | undefined {
  // Node's TCP handle exposes the descriptor on Unix; it is not part of the typed API.
  const handle = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
}

/**
 * Keep TCP_QUICKACK armed on `socket` for its whole life: now (or at 'connect' while it is still
 * connecting), and again after each 'data' chunk, i.e. before every next read. Call it once per
 * socket, after the socket's own 'data' listener is attached, so the re-arm runs after the chunk
 * is processed. A no-op where the addon is unavailable, with QRSCU_QUICKACK=0, or on a socket
 * without a file descriptor; never throws.
 */
export function enableQuickAck(socket: net.Socket): void {
  if (disabledByEnv()) return;
  const qa = loadAddon();
  if (qa === null) return;
  if (socket.connecting) {
    socket.once('connect', () => start(qa, socket));
    return;
  }
  start(qa, socket);
}

function start(qa: QuickAckAddon, socket: net.Socket): void {
  const fd = socketFd(socket);
  if (fd === undefined) {
    log('TCP_QUICKACK: socket has no file descriptor; left as is');
    return;
  }
  if (!qa.setQuickAck(fd)) {
    log('TCP_QUICKACK: setsockopt failed on fd %d (not a TCP socket?); left as is', fd);
    return;
  }
  socket.on('data', function rearmQuickAck() {
    const now = socketFd(socket);
    if (now === undefined || qa.setQuickAck(now)) return;
    log('TCP_QUICKACK: setsockopt failed on fd %d; no longer re-armed on this socket', now);
    socket.removeListener('data', rearmQuickAck);
  });
}
