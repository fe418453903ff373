// Up to N associations to one node, reused for request after request; a broken association is
// dropped and the next task opens a fresh one.

import { connect, type Client, type ClientOptions } from './client.js';

export interface Pool {
  /** Run `task` on an established association (waits for a free one when all N are busy). */
  run<T>(task: (client: Client) => Promise<T>): Promise<T>;
  /** Associations open now. */
  open(): number;
  /** Release every association once the running tasks end. */
  close(): Promise<void>;
}

export function createPool(options: ClientOptions, size: number, open: (o: ClientOptions) => Promise<Client> = connect): Pool {
  const max = Math.max(1, Math.floor(size));
  const idle: Client[] = [];
  const waiting: Array<() => void> = [];
  let count = 0;
  let closing = false;
  let running = 0;
  let drained: (() => void) | undefined;

  const usable = (c: Client): boolean => c.association.state() === 'Sta6';

  async function acquire(): Promise<Client> {
    for (;;) {
      if (closing) throw new Error('pool is closing');
      while (idle.length > 0) {
        const c = idle.pop()!;
        if (usable(c)) return c;
        count--;
      }
      if (count < max) {
        count++;
        try {
          return await open(options);
        } catch (e) {
          count--;
          waiting.shift()?.();
          throw e;
        }
      }
      await new Promise<void>((r) => waiting.push(r));
    }
  }

  function giveBack(c: Client): void {
    if (usable(c) && !closing) idle.push(c);
    else {
      count--;
      if (usable(c)) void c.release().catch(() => undefined);
    }
    waiting.shift()?.();
  }

  return {
    async run(task) {
      const c = await acquire();
      running++;
      try {
        return await task(c);
      } finally {
        running--;
        giveBack(c);
        if (running === 0) drained?.();
      }
    },
    open: () => count,
    async close() {
      closing = true;
      if (running > 0) await new Promise<void>((r) => { drained = r; });
      const all = idle.splice(0);
      count -= all.length;
      await Promise.all(all.map((c) => c.release().catch(() => undefined)));
      for (const w of waiting.splice(0)) w();
    },
  };
}
