// A scripted TCP peer on 127.0.0.1:0 for association tests: it reads whole PDUs and answers as told.

import net from 'node:net';
import { createFramer } from '../../src/net/framer.js';
import { decodePdu, encodePdu } from '../../src/net/pdu-codec.js';
import type { Pdu } from '../../src/net/pdu.js';

export interface PeerConnection {
  readonly socket: net.Socket;
  /** The next PDU the other side sent (waits up to `ms`). */
  next(ms?: number): Promise<Pdu>;
  send(pdu: Pdu | Buffer): void;
  /** Resolves when the other side closed the connection. */
  readonly closed: Promise<void>;
}

export interface Peer {
  readonly port: number;
  /** The next accepted connection. */
  accept(ms?: number): Promise<PeerConnection>;
  close(): Promise<void>;
}

export function wrap(socket: net.Socket): PeerConnection {
  socket.setNoDelay(true);
  const queue: Pdu[] = [];
  let waiter: (() => void) | undefined;
  const framer = createFramer(0, (buf) => {
    queue.push(decodePdu(buf));
    waiter?.();
  });
  socket.on('data', (c) => framer.push(c));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return {
    socket,
    closed,
    async next(ms = 2000) {
      const deadline = Date.now() + ms;
      while (queue.length === 0) {
        if (Date.now() > deadline) throw new Error(`peer: no PDU within ${ms} ms`);
        await Promise.race([new Promise<void>((r) => { waiter = r; }), new Promise((r) => setTimeout(r, 20)), closed]);
      }
      return queue.shift()!;
    },
    send(pdu) {
      socket.write(Buffer.isBuffer(pdu) ? pdu : encodePdu(pdu));
    },
  };
}

export async function startPeer(): Promise<Peer> {
  const pending: net.Socket[] = [];
  let waiter: (() => void) | undefined;
  const server = net.createServer((s) => {
    pending.push(s);
    waiter?.();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    async accept(ms = 2000) {
      const deadline = Date.now() + ms;
      while (pending.length === 0) {
        if (Date.now() > deadline) throw new Error('peer: no connection');
        await Promise.race([new Promise<void>((r) => { waiter = r; }), new Promise((r) => setTimeout(r, 20))]);
      }
      return wrap(pending.shift()!);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A local client socket to `port`, wrapped. */
export function dial(port: number): Promise<PeerConnection> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(wrap(s)));
    s.once('error', reject);
  });
}
