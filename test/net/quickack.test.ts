// TCP_QUICKACK (src/net/quickack.ts, native/quickack.c): without it, a C-ECHO against a default
// dcmtk storescp (Nagle on) takes ~44 ms, because storescp sends the response as two segments and
// holds the second until Linux's delayed ACK of the first (../shared/docs/real-pacs.md, "The 44 ms
// stall"). With the addon re-arming TCP_QUICKACK before every read it must take well under 5 ms.
// The addon missing: a failure under CI=true, a skip with the reason otherwise.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from '../../src/net/client.js';
import { ADDON_PATH, enableQuickAck, quickAckAvailable } from '../../src/net/quickack.js';

const test = suite('net: TCP_QUICKACK');

const inCi = process.env.CI === 'true';
const ECHOES = 20;
const LIMIT_MS = 5;

function unavailableReason(): string | undefined {
  if (quickAckAvailable()) return undefined;
  return process.platform !== 'linux'
    ? `${process.platform} has no TCP_QUICKACK`
    : `native addon not built or not loadable (${ADDON_PATH}; run node scripts/build-native.mjs, DEBUG=qrscu:net says why)`;
}

const why = unavailableReason();
if (why !== undefined && !inCi) process.stderr.write(`skip: TCP_QUICKACK tests: ${why}\n`);
/** A test that needs the addon: runs when it is loaded, fails under CI=true when it is not, else skipped. */
const withAddon = (name: string, fn: () => Promise<void> | void): void => {
  if (why === undefined) test(name, fn);
  else if (inCi) test(name, () => assert.unreachable(`CI=true but TCP_QUICKACK is unavailable: ${why}`));
  else test.skip(name, fn);
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Scp { child: ChildProcess; port: number; dir: string; exited: Promise<void> }

/** dcmtk's storescp (defaults: Nagle on) on a free loopback port. */
async function startStorescp(): Promise<Scp> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qrscu-quickack-'));
  const port = await freePort();
  const child = spawn('storescp', ['--aetitle', 'STORESCP', '--output-directory', dir, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (spawned) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot run storescp (apt-get install dcmtk): ${spawned.message}`);
  }
  child.once('exit', (code) => { if (code) process.stderr.write(`storescp exited ${code}: ${stderr.trim().split('\n').pop()}\n`); });
  return { child, port, dir, exited };
}

async function stopStorescp(scp: Scp): Promise<void> {
  if (scp.child.exitCode === null && scp.child.signalCode === null) scp.child.kill();
  await scp.exited;
  rmSync(scp.dir, { recursive: true, force: true });
}

/** C-ECHO round trips (ms) over one association with our client. */
async function echoRoundTrips(port: number): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    let client;
    try {
      client = await connect({ host: '127.0.0.1', port, calledAeTitle: 'STORESCP' });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50)); // storescp not listening yet
      continue;
    }
    const times: number[] = [];
    try {
      for (let i = 0; i < ECHOES; i++) {
        const start = performance.now();
        const status = await client.echo();
        times.push(performance.now() - start);
        assert.is(status.status, 0x0000, 'C-ECHO status');
      }
    } finally {
      await client.release();
    }
    return times;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs: number[]): string => `median ${median(xs).toFixed(2)} ms, min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)}`;

/** Run fn with QRSCU_QUICKACK set to value (undefined: unset), restoring it after. */
async function withEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.QRSCU_QUICKACK;
  if (value === undefined) delete process.env.QRSCU_QUICKACK;
  else process.env.QRSCU_QUICKACK = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.QRSCU_QUICKACK;
    else process.env.QRSCU_QUICKACK = saved;
  }
}

withAddon(`C-ECHO against a default storescp: median round trip < ${LIMIT_MS} ms with TCP_QUICKACK`, async () => {
  const scp = await startStorescp();
  try {
    const withQa = await withEnv(undefined, () => echoRoundTrips(scp.port));
    // For the record: the same without the re-arm (QRSCU_QUICKACK=0), usually ~44 ms. Not asserted:
    // it depends on the kernel's delayed-ACK timer, not on our code.
    const without = await withEnv('0', () => echoRoundTrips(scp.port));
    console.log(`  quickack: ${ECHOES} C-ECHOs to storescp: with TCP_QUICKACK ${fmt(withQa)}; without ${fmt(without)}`);
    assert.ok(median(withQa) < LIMIT_MS, `median C-ECHO round trip with TCP_QUICKACK is ${median(withQa).toFixed(2)} ms (limit ${LIMIT_MS} ms): ${withQa.map((t) => t.toFixed(1)).join(' ')}`);
  } finally {
    await stopStorescp(scp);
  }
});

test('enableQuickAck on a socket without a file descriptor is a no-op', () => {
  const socket = new net.Socket();
  const before = socket.eventNames().map((e) => `${String(e)}:${socket.listenerCount(e)}`).join(',');
  enableQuickAck(socket);
  const after = socket.eventNames().map((e) => `${String(e)}:${socket.listenerCount(e)}`).join(',');
  assert.is(after, before, 'no listener added');
  assert.is(socket.connecting, false);
  socket.destroy();
});

test('quickAckAvailable is stable and enableQuickAck is a no-op with QRSCU_QUICKACK=0', async () => {
  assert.is(quickAckAvailable(), quickAckAvailable());
  await withEnv('0', async () => {
    const { server, client } = await socketPair();
    const before = client.listenerCount('data');
    enableQuickAck(client);
    assert.is(client.listenerCount('data'), before);
    client.destroy();
    server.close();
  });
});

/** A connected loopback TCP client socket and its server. */
async function socketPair(): Promise<{ server: net.Server; client: net.Socket }> {
  const server = net.createServer((s) => s.on('error', () => {}).resume());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', r));
  return { server, client };
}

withAddon('enableQuickAck on a connecting TCP socket arms at connect and re-arms on every chunk', async () => {
  const server = net.createServer((s) => { s.on('error', () => {}).write('a'); setTimeout(() => s.end('b'), 5); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  assert.ok(client.connecting);
  enableQuickAck(client);
  assert.is(client.listenerCount('data'), 0, 'nothing until connected');
  await new Promise<void>((r) => client.once('connect', r));
  assert.is(client.listenerCount('data'), 1, 're-arm listener after connect');
  let got = '';
  client.on('data', (c: Buffer) => { got += c.toString(); });
  await new Promise<void>((r) => client.once('end', r));
  assert.is(got, 'ab');
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

withAddon('enableQuickAck on a Unix-domain socket (setsockopt fails) leaves it alone', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qrscu-quickack-'));
  const file = path.join(dir, 'sock');
  const server = net.createServer((s) => s.on('error', () => {}).end('x'));
  await new Promise<void>((r) => server.listen(file, r));
  try {
    const client = net.connect(file);
    await new Promise<void>((r) => client.once('connect', r));
    enableQuickAck(client);
    assert.is(client.listenerCount('data'), 0, 'no re-arm listener on a non-TCP socket');
    client.destroy();
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
