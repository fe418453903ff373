// A tap on every association's socket, for recording sessions (`--pcap FILE`): what each socket
// sends and receives, in order, with the TCP endpoints. The recorder is installed once per process.

import type net from 'node:net';

export interface CaptureEndpoints {
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly serverPort: number;
}

export interface CaptureTap {
  open(endpoints: CaptureEndpoints): number;
  data(id: number, fromClient: boolean, bytes: Buffer): void;
  close(id: number): void;
}

let tap: CaptureTap | undefined;

/** Install (or with undefined remove) the process-wide capture tap. */
export function setCaptureTap(t: CaptureTap | undefined): void {
  tap = t;
}

/** Start recording a socket if a tap is installed; returns the writer for our own sends. */
export function captureSocket(socket: net.Socket, weConnected: boolean): ((bytes: Buffer) => void) | undefined {
  const t = tap;
  if (!t) return undefined;
  let id: number | undefined;
  const ensure = (): number => {
    if (id === undefined) {
      const local = { ip: socket.localAddress ?? '127.0.0.1', port: socket.localPort ?? 0 };
      const remote = { ip: socket.remoteAddress ?? '127.0.0.1', port: socket.remotePort ?? 0 };
      const [client, server] = weConnected ? [local, remote] : [remote, local];
      id = t.open({ clientIp: client.ip, clientPort: client.port, serverIp: server.ip, serverPort: server.port });
    }
    return id;
  };
  if (!socket.connecting) ensure();
  else socket.once('connect', () => ensure());
  socket.on('data', (chunk: Buffer) => t.data(ensure(), !weConnected, chunk));
  socket.once('close', () => {
    if (id !== undefined) t.close(id);
  });
  return (bytes) => t.data(ensure(), weConnected, bytes);
}
