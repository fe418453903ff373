// Passwords of the web page's users: salted scrypt hashes (node:crypto), compared in constant time.
// The stored form is "scrypt$N$r$p$<salt base64>$<hash base64>", so the cost can be raised later
// without breaking existing hashes.

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ConfigError, ErrorCode } from '../errors.js';

const COST = { N: 16384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, o: ScryptOptions, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { ...o, maxmem: 64 * 1024 * 1024 }, (e, key) => (e ? reject(e) : resolve(key)));
  });
}

/** The shortest password the CLI and the web page accept. */
export const MIN_PASSWORD = 8;

/** @throws ConfigError (usage) when `password` is too short to be accepted. */
export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD) throw new ConfigError(ErrorCode.Usage, `a password needs at least ${MIN_PASSWORD} characters`);
}

/** A new salted hash of `password` (16 random bytes of salt). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST, KEY_LENGTH);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** true when `password` matches `stored` (a hashPassword result); false for any malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1 << 20) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (salt.length === 0 || expected.length === 0) return false;
  const key = await derive(password, salt, { N, r, p }, expected.length);
  return timingSafeEqual(key, expected);
}
