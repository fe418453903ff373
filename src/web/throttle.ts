// Failed logins of the web page, counted per user name and per client address: after `maxFailures`
// failures within `windowMs` that key is refused for `lockMs` (even with the right password), so a
// password cannot be guessed at the speed of scrypt. In memory: a restart forgets, which only costs
// an attacker the time of the restart. Pure: the caller passes the clock.

export interface ThrottleOptions {
  /** Failures of one key within the window that lock it (default 5). */
  readonly maxFailures?: number;
  /** The window failures are counted in (ms, default 15 minutes). */
  readonly windowMs?: number;
  /** How long a locked key stays locked (ms, default 15 minutes). */
  readonly lockMs?: number;
  /** Keys remembered at most; the oldest are forgotten first (default 10,000). */
  readonly maxKeys?: number;
}

export interface LoginThrottle {
  /** 0 when these keys may try now, else the seconds until the latest lock among them ends. */
  retryAfterS(keys: readonly string[], now: number): number;
  /** A failed login: each key's count goes up (and may lock it). */
  failed(keys: readonly string[], now: number): void;
  /** A successful login clears its keys. */
  succeeded(keys: readonly string[]): void;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export function createLoginThrottle(o: ThrottleOptions = {}): LoginThrottle {
  const maxFailures = o.maxFailures ?? 5;
  const windowMs = o.windowMs ?? 15 * 60_000;
  const lockMs = o.lockMs ?? 15 * 60_000;
  const maxKeys = o.maxKeys ?? 10_000;
  const entries = new Map<string, Entry>();
  return {
    retryAfterS(keys, now) {
      let until = 0;
      for (const k of keys) until = Math.max(until, entries.get(k)?.lockedUntil ?? 0);
      return until > now ? Math.ceil((until - now) / 1000) : 0;
    },
    failed(keys, now) {
      for (const k of keys) {
        const e = entries.get(k) ?? { failures: [], lockedUntil: 0 };
        entries.delete(k); // re-inserted last: the Map's order is the order of last use
        e.failures = e.failures.filter((t) => now - t < windowMs);
        e.failures.push(now);
        if (e.failures.length >= maxFailures) {
          e.lockedUntil = now + lockMs;
          e.failures = [];
        }
        entries.set(k, e);
      }
      for (const k of entries.keys()) {
        if (entries.size <= maxKeys) break;
        entries.delete(k);
      }
    },
    succeeded(keys) {
      for (const k of keys) entries.delete(k);
    },
  };
}
