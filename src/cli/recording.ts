// `--pcap FILE`: record every association of this run (inbound store associations included) as a
// classic pcap with synthesised Ethernet/IPv4/TCP headers; Wireshark decodes it with
// `-d tcp.port==PORT,dicom`.

import { closeSync, openSync, writeSync } from 'node:fs';
import { setCaptureTap } from '../net/capture.js';
import { createPcapWriter } from '../pcap/index.js';

export interface Recording {
  /** Close the connections still open in the capture and the file. */
  stop(): void;
}

/** IPv4 as the writer needs it: IPv4-mapped IPv6 addresses unwrapped, anything else as loopback. */
function ipv4(address: string): string {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(a) ? a : '127.0.0.1';
}

export function startRecording(file: string): Recording {
  const fd = openSync(file, 'w');
  const writer = createPcapWriter((chunk) => void writeSync(fd, chunk));
  const open = new Set<number>();
  // When both ends of a connection are in this process (our client and our own SCP), each end taps
  // it: record the first view only.
  const byTuple = new Map<string, number>();
  const tuples = new Map<number, string>();
  const DUPLICATE = -1;
  setCaptureTap({
    open: (e) => {
      const endpoints = { clientIp: ipv4(e.clientIp), clientPort: e.clientPort, serverIp: ipv4(e.serverIp), serverPort: e.serverPort };
      const key = `${endpoints.clientIp}:${endpoints.clientPort}>${endpoints.serverIp}:${endpoints.serverPort}`;
      if (byTuple.has(key)) return DUPLICATE;
      const id = writer.open(endpoints);
      byTuple.set(key, id);
      tuples.set(id, key);
      open.add(id);
      return id;
    },
    data: (id, fromClient, bytes) => {
      if (id !== DUPLICATE) writer.data(id, fromClient, bytes);
    },
    close: (id) => {
      if (!open.delete(id)) return;
      writer.close(id);
      byTuple.delete(tuples.get(id)!);
      tuples.delete(id);
    },
  });
  return {
    stop() {
      setCaptureTap(undefined);
      for (const id of open) writer.close(id);
      open.clear();
      closeSync(fd);
    },
  };
}
