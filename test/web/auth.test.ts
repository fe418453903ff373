// The web page's security pieces without a browser: signed session cookies (tampering, expiry,
// another secret), CSRF tokens, scrypt password hashes, roles; the users CLI and the database's
// users list (older files without it still load); the form → parameters mapping; resume's
// "only what is missing"; the server's answers to requests without a session or a token; the limit on
// failed logins.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli/main.js';
import type { Output } from '../../src/cli/output.js';
import { hashPassword, openDatabase, verifyPassword, type Database } from '../../src/db/index.js';
import { missingMoves } from '../../src/qr/job.js';
import { can, checkCsrf, cookieHeader, createSession, csrfToken, loadSecret, parseCookies, readSession, signValue, verifyValue } from '../../src/web/auth.js';
import { esc } from '../../src/web/pages.js';
import { defaultForm, formParameters, startWebServer } from '../../src/web/server.js';
import { createLoginThrottle } from '../../src/web/throttle.js';
import { csrfOf, logIn, loginForm, postForm, postLogin, sessionOf } from '../support/web.js';

const test = suite('web: sessions, CSRF, passwords, roles, users');
let root = '';
test.before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'qrscu-web-auth-'));
});
test.after(() => rmSync(root, { recursive: true, force: true }));

const secret = Buffer.alloc(32, 7);

/** A home under the test folder with one user (password "password-1") and what `setup` adds, served. */
async function serve(dir: string, user: { name: string; role: 'admin' | 'user' | 'viewer' }, setup: (db: Database) => void = () => undefined, options: Partial<Parameters<typeof startWebServer>[0]> = {}) {
  const home = path.join(root, dir);
  const db = await openDatabase({ home });
  db.addUser({ ...user, passwordHash: await hashPassword('password-1') });
  setup(db);
  await db.close();
  return { home, web: await startWebServer({ home, port: 0, ...options }) };
}

test('a signed session reads back; a changed byte, another secret or expiry makes it invalid', () => {
  const { session, cookie } = createSession(secret, 'ada', 1_000);
  assert.equal(readSession(secret, cookie, 2_000), session);
  const [body, mac] = cookie.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify({ ...session, u: 'root' })).toString('base64url');
  assert.is(readSession(secret, `${forged}.${mac}`, 2_000), undefined);
  assert.is(readSession(secret, `${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`, 2_000), undefined);
  assert.is(readSession(Buffer.alloc(32, 8), cookie, 2_000), undefined);
  assert.is(readSession(secret, cookie, session.e + 1), undefined);
  for (const bad of [undefined, '', 'x', '.', 'abc.', `${body}`]) assert.is(readSession(secret, bad, 2_000), undefined);
  assert.is(verifyValue(secret, signValue(secret, 'nonce')), 'nonce');
});

test('CSRF tokens belong to one nonce and one secret', () => {
  const t = csrfToken(secret, 'n1');
  assert.ok(checkCsrf(secret, 'n1', t));
  assert.not.ok(checkCsrf(secret, 'n2', t));
  assert.not.ok(checkCsrf(Buffer.alloc(32, 1), 'n1', t));
  assert.not.ok(checkCsrf(secret, 'n1', undefined));
  assert.not.ok(checkCsrf(secret, 'n1', ''));
  assert.not.ok(checkCsrf(secret, undefined, t));
});

test('cookies: parsed from the header; set HttpOnly, SameSite=Strict', () => {
  assert.equal([...parseCookies('a=1; b=x.y=; a=2')], [['a', '1'], ['b', 'x.y=']]);
  assert.match(cookieHeader('s', 'v', 60), /^s=v; Path=\/; HttpOnly; SameSite=Strict; Max-Age=60$/);
});

test('the secret is created once per home, 32 bytes, mode 0600', () => {
  const home = path.join(root, 'secret');
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const a = loadSecret(home);
  const b = loadSecret(home);
  assert.is(a.length, 32);
  assert.ok(a.equals(b));
  assert.is(statSync(path.join(home, 'web-secret')).mode & 0o777, 0o600);
});


test('scrypt: a salted hash verifies the password only; two hashes of one password differ', async () => {
  const h = await hashPassword('correct horse');
  assert.match(h, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(await verifyPassword('correct horse', h));
  assert.not.ok(await verifyPassword('correct horsE', h));
  assert.is.not(await hashPassword('correct horse'), h);
  for (const bad of ['', 'scrypt$1$2', 'bcrypt$1$1$1$AA==$AA==', 'scrypt$0$8$1$AA==$AA==']) assert.not.ok(await verifyPassword('x', bad));
});

test('roles: admin does everything, user runs and views, viewer views', () => {
  assert.equal((['admin', 'user', 'viewer'] as const).map((r) => [can(r, 'view'), can(r, 'run'), can(r, 'admin')]), [[true, true, true], [true, true, false], [true, false, false]]);
  assert.not.ok(can(undefined, 'view'));
});

function capture(): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, line: (t) => void out.push(t), error: (t) => void err.push(t) };
}

test('qrscu users add|list|passwd|remove; only hashes are stored; a file without users still loads', async () => {
  const home = path.join(root, 'users');
  // A database written before users existed.
  const db0 = await openDatabase({ home });
  db0.addQrNode({ id: 'pacs', aeTitle: 'PACS', host: '127.0.0.1', port: 104 });
  await db0.close();
  assert.not.match(readFileSync(path.join(home, 'qrscu.json'), 'utf8'), /users/);
  let o = capture();
  assert.is(await main(['users', 'add', 'ada', '--role', 'admin', '--password', 'secret-password', '--home', home], o), 0, o.err.join('\n'));
  o = capture();
  assert.is(await main(['users', 'add', 'bob', '--password', 'short', '--home', home], o), 2);
  assert.match(o.err.join('\n'), /at least 8 characters/);
  o = capture();
  assert.is(await main(['users', 'add', 'ada', '--password', 'another-password', '--home', home], o), 2, o.err.join('\n'));
  assert.match(o.err.join('\n'), /user "ada" exists already/);
  o = capture();
  assert.is(await main(['users', 'list', '--json', '--home', home], o), 0);
  assert.equal(o.out.map((l) => JSON.parse(l) as { name: string; role: string }).map((u) => [u.name, u.role]), [['ada', 'admin']]);
  const text = readFileSync(path.join(home, 'qrscu.json'), 'utf8');
  assert.not.match(text, /secret-password/);
  assert.match(text, /"passwordHash":"scrypt\$/);
  o = capture();
  assert.is(await main(['users', 'passwd', 'ada', '--password', 'new-password-1', '--role', 'user', '--home', home], o), 0, o.err.join('\n'));
  const db = await openDatabase({ home, readOnly: true });
  assert.is(db.user('ada')?.role, 'user');
  assert.ok(await verifyPassword('new-password-1', db.user('ada')!.passwordHash));
  await db.close();
  o = capture();
  assert.is(await main(['users', 'remove', 'ada', '--home', home], o), 0);
  o = capture();
  assert.is(await main(['users', 'remove', 'ada', '--home', home], o), 2);
});

test('the form maps to the CLI parameters, with the CLI messages; query-only; the held box is -dup', () => {
  const f = (o: Record<string, string>) => new URLSearchParams({ qr_id: 'p', store_id: 's', ...o });
  assert.throws(() => formParameters(f({})), /At least one modality must be specified/);
  assert.throws(() => formParameters(f({ ct: 'on', sr: 'on' })), /The sr option can not be combined with any other modalities/);
  assert.throws(() => formParameters(new URLSearchParams({ ct: 'on' })), /Choose a remote QR node/);
  const p = formParameters(f({ ct: 'on', mg: 'on', dfrom: '2024-01-01', duntil: '2024-01-31', desc_exclude: 'Head, NECK', dup_ignore: 'on', toshiba: 'on' }));
  assert.equal(p.groups, ['CT', 'MG']);
  assert.is(p.dryRun, true);
  assert.is(p.dateFrom, '2024-01-01');
  assert.equal(p.selection.descriptionExclude, ['head', 'neck']);
  assert.is(p.selection.removeDuplicates, true);
  assert.is(p.selection.flags.toshiba, true);
  assert.is(formParameters(f({ ct: 'on' })).selection.removeDuplicates, false);
  assert.is(defaultForm(new Date('2024-03-01T12:00:00')).dfrom, '2024-02-29');
  assert.is(defaultForm().dup_ignore, 'on');
});

test('resume moves only what the held index lacks', () => {
  const held: Record<string, Record<string, Record<string, unknown>>> = { st: { se1: { a: {}, b: {} }, se2: { c: {} } } };
  const db = { heldStudy: (s: string) => held[s] as never };
  const moves = [
    { studyInstanceUid: 'st', seriesInstanceUid: 'se1', level: 'SERIES', expectedInstances: 2, branch: null },
    { studyInstanceUid: 'st', seriesInstanceUid: 'se2', level: 'SERIES', expectedInstances: 3, branch: null },
    { studyInstanceUid: 'st', seriesInstanceUid: 'se2', level: 'IMAGE', sopInstanceUid: 'c', expectedInstances: 1, branch: null },
    { studyInstanceUid: 'st', seriesInstanceUid: 'se2', level: 'IMAGE', sopInstanceUid: 'd', expectedInstances: 1, branch: null },
    { studyInstanceUid: 'other', seriesInstanceUid: 'x', level: 'SERIES', expectedInstances: null, branch: null },
  ] as const;
  assert.equal(missingMoves(db, moves).map((m) => `${m.seriesInstanceUid}/${m.sopInstanceUid ?? ''}`), ['se2/', 'se2/d', 'x/']);
});

test('HTML is escaped', () => {
  assert.is(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('server: pages need a session, POSTs need the token, a locked database is a message, not a crash', async () => {
  const { home, web } = await serve('server', { name: 'ada', role: 'admin' });
  try {
    assert.match(web.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r1 = await fetch(`${web.url}/history`, { redirect: 'manual' });
    assert.is(r1.status, 303);
    assert.is(r1.headers.get('location'), '/login');
    assert.is((await fetch(`${web.url}/api/jobs/00000000-0000-0000-0000-000000000000`)).status, 401);
    // Log in: the login form's token comes with the pre-session cookie.
    const form = await loginForm(web.url);
    assert.is((await postForm(`${web.url}/login`, form.cookie, { username: 'ada', password: 'password-1' })).status, 403);
    assert.is((await postLogin(web.url, form, 'ada', 'nope-nope')).status, 401);
    const ok = await postLogin(web.url, form, 'ada', 'password-1');
    assert.is(ok.status, 303);
    const session = sessionOf(ok);
    const nodes = await fetch(`${web.url}/nodes`, { headers: { cookie: session } });
    assert.is(nodes.status, 200);
    const t2 = csrfOf(await nodes.text());
    const addNode = () => postForm(`${web.url}/nodes`, session, { _csrf: t2, kind: 'qr', id: 'p', aeTitle: 'P', host: '127.0.0.1', port: '104' });
    // A cron run holds the lock: the change is refused with a message on the page.
    const cron = await openDatabase({ home });
    const locked = await addNode();
    assert.is(locked.status, 303);
    assert.match(decodeURIComponent(locked.headers.get('location') ?? ''), /in use by another qrscu run/);
    // Views still work while it holds the lock (read-only opens).
    assert.is((await fetch(`${web.url}/history`, { headers: { cookie: session } })).status, 200);
    await cron.close();
    const added = await addNode();
    assert.match(decodeURIComponent(added.headers.get('location') ?? ''), /node p added/);
    // Idle, the server holds no lock: a cron run can open the database.
    const again = await openDatabase({ home });
    assert.is(again.qrNodes().length, 1);
    await again.close();
  } finally {
    await web.close();
  }
});

test('failed logins: a key locks after 5 failures in 15 minutes, for 15 minutes; success clears it; old failures expire', () => {
  const t = createLoginThrottle();
  const min = 60_000;
  const ada = ['user:ada', 'address:10.0.0.1'];
  for (let i = 0; i < 4; i++) t.failed(ada, i * min);
  assert.is(t.retryAfterS(ada, 4 * min), 0, 'four failures: still allowed');
  t.failed(ada, 4 * min);
  assert.is(t.retryAfterS(ada, 4 * min), 900, 'the fifth locks for 15 minutes');
  assert.is(t.retryAfterS(['user:ada', 'address:10.0.0.9'], 10 * min), 540, 'the user stays locked from another address');
  assert.is(t.retryAfterS(['user:bob', 'address:10.0.0.1'], 10 * min), 540, 'and the address for another user');
  assert.is(t.retryAfterS(ada, 19 * min), 0, 'the lock ends');
  // Failures older than the window do not count.
  const bob = ['user:bob'];
  for (let i = 0; i < 4; i++) t.failed(bob, i * min);
  t.failed(bob, 20 * min);
  assert.is(t.retryAfterS(bob, 20 * min), 0, 'four old failures and one new: allowed');
  t.succeeded(bob);
  for (let i = 0; i < 4; i++) t.failed(bob, 21 * min);
  assert.is(t.retryAfterS(bob, 21 * min), 0, 'a success cleared the count');
  // Bounded memory: at most maxKeys keys, the least recently failed forgotten first.
  const small = createLoginThrottle({ maxKeys: 2, maxFailures: 1 });
  small.failed(['user:x'], 0);
  assert.is(small.retryAfterS(['user:x'], 0), 900);
  small.failed(['user:y'], 0);
  small.failed(['user:x'], 0);
  small.failed(['user:z'], 0);
  assert.is(small.retryAfterS(['user:y'], 0), 0, 'y, the least recently failed, forgotten');
  assert.is(small.retryAfterS(['user:x'], 0), 900);
  assert.is(small.retryAfterS(['user:z'], 0), 900);
});

test('server: after too many failed logins the right password is refused too (429, Retry-After), until the lock ends', async () => {
  let now = 1_000_000;
  const { web } = await serve('throttle', { name: 'ada', role: 'admin' }, undefined, { loginThrottle: { maxFailures: 3, now: () => now } });
  try {
    const form = await loginForm(web.url);
    const login = (user: string, password: string) => postLogin(web.url, form, user, password);
    for (let i = 0; i < 3; i++) assert.is((await login('ADA', 'guess')).status, 401);
    const refused = await login('ada', 'password-1');
    assert.is(refused.status, 429, 'user names count regardless of case');
    assert.is(refused.headers.get('retry-after'), '900');
    assert.match(await refused.text(), /Too many failed logins for this user or from this address: try again in 15 minutes\./);
    now += 15 * 60_000;
    assert.is((await login('ada', 'password-1')).status, 303, 'the lock ended');
  } finally {
    await web.close();
  }
});

test('server: views keep what they read while the database file is unchanged; a change by another run is seen at once', async () => {
  const { home, web } = await serve('view-cache', { name: 'ada', role: 'admin' }, (db) => db.addQrNode({ id: 'first', aeTitle: 'FIRST', host: '127.0.0.1', port: 104 }));
  try {
    const session = await logIn(web.url, 'ada', 'password-1');
    const nodes = async () => fetch(`${web.url}/nodes`, { headers: { cookie: session } });
    // A modification time in whole seconds, which utimes can set again exactly.
    const file = path.join(home, 'qrscu.json');
    const when = Math.floor(Date.now() / 1000) - 60;
    utimesSync(file, when, when);
    assert.match(await (await nodes()).text(), /FIRST/);
    // Overwrite the file in place with bytes that do not parse, same size and same modification
    // time: a server that read the file again would fail; it answers from what it read.
    const bytes = readFileSync(file);
    writeFileSync(file, Buffer.alloc(bytes.length, 0x20).fill('{', 0, 1));
    utimesSync(file, when, when);
    const cached = await nodes();
    assert.is(cached.status, 200);
    assert.match(await cached.text(), /FIRST/, 'an unchanged file is not read again');
    writeFileSync(file, bytes);
    // Another run (cron, the CLI) adds a node: the next view shows it.
    const cron = await openDatabase({ home });
    cron.addQrNode({ id: 'second', aeTitle: 'SECOND', host: '127.0.0.1', port: 105 });
    await cron.close();
    const fresh = await (await nodes()).text();
    assert.match(fresh, /FIRST/);
    assert.match(fresh, /SECOND/, 'a replaced file is read again');
  } finally {
    await web.close();
  }
});

test('server: a user changes their own password on /account: the current one first, twice the same new one, the CLI rule', async () => {
  const { home, web } = await serve('account', { name: 'vic', role: 'viewer' });
  try {
    const form = await loginForm(web.url);
    const login = (password: string) => postLogin(web.url, form, 'vic', password);
    const session = sessionOf(await login('password-1'));
    const account = await fetch(`${web.url}/account`, { headers: { cookie: session } });
    assert.is(account.status, 200, 'a viewer has an account page too');
    const token = csrfOf(await account.text());
    const post = async (current: string, password: string, again: string) => {
      const r = await postForm(`${web.url}/account`, session, { _csrf: token, current, password, again });
      assert.is(r.status, 303);
      return decodeURIComponent(r.headers.get('location') ?? '');
    };
    assert.match(await post('wrong-one', 'password-2', 'password-2'), /error=The current password is wrong\./);
    assert.match(await post('password-1', 'password-2', 'password-3'), /error=The two new passwords differ\./);
    assert.match(await post('password-1', 'short', 'short'), /error=a password needs at least 8 characters/);
    const noToken = await postForm(`${web.url}/account`, session, { current: 'password-1', password: 'password-2', again: 'password-2' });
    assert.is(noToken.status, 403);
    assert.match(await post('password-1', 'password-2', 'password-2'), /msg=Your password is changed\./);
    assert.is((await login('password-1')).status, 401, 'the old password is gone');
    assert.is((await login('password-2')).status, 303, 'the new one logs in');
    const stored = await openDatabase({ home, readOnly: true });
    assert.ok(await verifyPassword('password-2', stored.user('vic')!.passwordHash));
    await stored.close();
  } finally {
    await web.close();
  }
});

test.run();
