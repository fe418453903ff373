// Sessions, CSRF tokens and roles of the web page. A session is a signed cookie: base64url JSON
// {u: user, n: nonce, e: expiry} + "." + HMAC-SHA256 under the home's secret (<home>/web-secret,
// 32 random bytes, mode 0600). The CSRF token of a session is HMAC(secret, "csrf:" + nonce); before
// login a pre-session cookie carries the nonce. Nothing here does HTTP.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { UserRole } from '../db/schema.js';

export const SECRET_FILE = 'web-secret';
export const SESSION_COOKIE = 'qrscu_session';
export const PRE_COOKIE = 'qrscu_pre';
/** Sessions last 12 hours. */
export const SESSION_MS = 12 * 3_600_000;

/** The signing secret of a home: read, or created (32 random bytes, hex, mode 0600). */
export function loadSecret(home: string): Buffer {
  const file = path.join(home, SECRET_FILE);
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const secret = randomBytes(32);
  writeFileSync(file, `${secret.toString('hex')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

function mac(secret: Buffer, text: string): string {
  return createHmac('sha256', secret).update(text).digest('base64url');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface Session {
  /** The user name. */
  readonly u: string;
  /** A random nonce: the CSRF token derives from it. */
  readonly n: string;
  /** Expiry, ms since the epoch. */
  readonly e: number;
}

/** A signed value: base64url(JSON) "." HMAC. */
export function signValue(secret: Buffer, value: object | string): string {
  const body = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${body}.${mac(secret, body)}`;
}

/** The value of a signed string, or undefined when the signature does not match or it is malformed. */
export function verifyValue(secret: Buffer, signed: string | undefined): unknown {
  if (!signed) return undefined;
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const body = signed.slice(0, dot);
  if (!equal(signed.slice(dot + 1), mac(secret, body))) return undefined;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function createSession(secret: Buffer, user: string, now = Date.now()): { session: Session; cookie: string } {
  const session: Session = { u: user, n: newNonce(), e: now + SESSION_MS };
  return { session, cookie: signValue(secret, session) };
}

/** The session in a cookie value, or undefined (bad signature, malformed, expired). */
export function readSession(secret: Buffer, cookie: string | undefined, now = Date.now()): Session | undefined {
  const v = verifyValue(secret, cookie);
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Partial<Session>;
  if (typeof s.u !== 'string' || typeof s.n !== 'string' || typeof s.e !== 'number' || s.e <= now) return undefined;
  return { u: s.u, n: s.n, e: s.e };
}

/** The CSRF token for a nonce (a session's, or the pre-session cookie's before login). */
export function csrfToken(secret: Buffer, nonce: string): string {
  return mac(secret, `csrf:${nonce}`);
}

export function checkCsrf(secret: Buffer, nonce: string | undefined, token: string | undefined): boolean {
  return nonce !== undefined && token !== undefined && token !== '' && equal(token, csrfToken(secret, nonce));
}

/** Cookies of a Cookie header. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    if (!out.has(k)) out.set(k, part.slice(eq + 1).trim());
  }
  return out;
}

/** A Set-Cookie value: HttpOnly, SameSite=Strict, Path=/; maxAgeS 0 deletes it. */
export function cookieHeader(name: string, value: string, maxAgeS: number): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}`;
}

/** What a role may do: view history (everyone), run queries and retrieves, administer nodes and users. */
export type Permission = 'view' | 'run' | 'admin';

const GRANTS: Readonly<Record<UserRole, readonly Permission[]>> = {
  admin: ['view', 'run', 'admin'],
  user: ['view', 'run'],
  viewer: ['view'],
};

export function can(role: UserRole | undefined, permission: Permission): boolean {
  return role !== undefined && GRANTS[role].includes(permission);
}
