// `qrscu serve`: the web page over node:http. Pages are rendered on the server (src/web/pages.ts);
// a small script polls the progress of a running job. Jobs run through src/qr/job.ts, the same code
// as the CLI. The database is opened writable only for a job or a change (a cron run can take the
// lock while the page is idle) and read-only for views; during a job the job's database serves both.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { checkPassword, DATABASE_FILE, MIN_PASSWORD, type Database, type QueryView, openDatabase, verifyPassword, hashPassword } from '../db/index.js';
import type { UserRecord, UserRole } from '../db/schema.js';
import { ConfigError, ErrorCode, isDicomError } from '../errors.js';
import { runParameters, type RunArgs } from '../cli/run-args.js';
import { echoNode, type RunEvents, type RunParameters } from '../qr/run.js';
import { loadRules, runQueryJob, runRetrieveJob } from '../qr/job.js';
import { groupSelectionProblem } from '../rules/index.js';
import { APP_JS, STYLE_CSS } from './assets.js';
import { can, checkCsrf, cookieHeader, createSession, csrfToken, loadSecret, newNonce, parseCookies, PRE_COOKIE, readSession, SESSION_COOKIE, SESSION_MS, signValue, verifyValue, type Permission } from './auth.js';
import * as pages from './pages.js';
import { createLoginThrottle, type ThrottleOptions } from './throttle.js';

const log = createDebug('qrscu:web');

export interface WebServerOptions {
  readonly home: string;
  /** Default 8080; 0: any free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly rulesDir?: string;
  /** How long a retrieve waits for objects still on their way (ms). */
  readonly arrivalGraceMs?: number;
  /** Echo timeout of the node status table (ms, default 3000). */
  readonly echoTimeoutMs?: number;
  readonly onWarning?: (message: string) => void;
  /** Failed-login limits (per user name and per client address); the clock for tests. */
  readonly loginThrottle?: ThrottleOptions & { readonly now?: () => number };
}

export interface WebServer {
  readonly url: string;
  readonly port: number;
  /** Stop listening; waits for a running job to finish. */
  close(): Promise<void>;
}

/** Progress of a job, as /api/jobs/<id> returns it. */
export interface JobProgress {
  readonly id: string;
  readonly kind: 'query' | 'retrieve';
  stage: string;
  detail: string;
  finds: Record<string, number>;
  movesDone: number;
  movesTotal: number;
  completed: number;
  failed: number;
  warning: number;
  arrived: number;
  warnings: string[];
  done: boolean;
  error?: string;
}

interface Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly user?: UserRecord;
  /** The nonce of the session (or of the pre-session cookie). */
  readonly nonce?: string;
  readonly csrf: string;
  /** The posted form (POST requests, after the CSRF check). */
  form: URLSearchParams;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Start the web server. Marks runs that died as interrupted (when the database is free). */
export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const home = o.home;
  const warn = o.onWarning ?? (() => undefined);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const secret = loadSecret(home);
  const rules = await loadRules(home, o.rulesDir);
  const jobs = new Map<string, JobProgress>();
  /** The form as submitted, per job, so the page shows it again beside the progress. */
  const submitted = new Map<string, Record<string, string>>();
  let jobDb: Database | undefined;
  let running: Promise<void> | undefined;
  const throttle = createLoginThrottle(o.loginThrottle);
  const clock = o.loginThrottle?.now ?? Date.now;
  /** What the failed-login limit counts for a password typed for `name` on this request. */
  const throttleKeys = (r: Request, name: string) => [`user:${name.toLowerCase()}`, `address:${r.req.socket.remoteAddress ?? '?'}`];
  const tryAgainIn = (s: number) => `try again in ${Math.ceil(s / 60)} minute${s > 60 ? 's' : ''}`;

  // A writable open marks records of runs that died (a server killed mid-job) as interrupted.
  try {
    const db = await openDatabase({ home, command: 'qrscu serve (start-up)', onWarning: warn });
    await db.close();
  } catch (e) {
    warn(`start-up: ${(e as Error).message}`);
  }

  // Views read the database file read-only, and keep what they read while the file stays the same
  // (its inode, size and modification time: every writer replaces it by a rename). A year of hourly
  // runs is a file of ~100 MiB, and every request reads the session's user from it.
  const dbFile = path.join(home, DATABASE_FILE);
  let view: { stamp: string; db: Database } | undefined;
  const fileStamp = (): string => {
    try {
      const st = statSync(dbFile, { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      return 'missing';
    }
  };

  async function read<T>(fn: (db: Database) => T | Promise<T>): Promise<T> {
    if (jobDb) return fn(jobDb);
    const stamp = fileStamp();
    if (view?.stamp !== stamp) {
      const db = await openDatabase({ home, readOnly: true });
      // Kept only when no writer replaced the file while it was read.
      view = fileStamp() === stamp ? { stamp, db } : undefined;
      if (!view) return fn(db);
    }
    return fn(view.db);
  }

  async function change<T>(fn: (db: Database) => T | Promise<T>): Promise<T> {
    if (jobDb) {
      const r = await fn(jobDb);
      await jobDb.write();
      return r;
    }
    const db = await openDatabase({ home, command: 'qrscu serve', onWarning: warn });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }

  function progressEvents(p: JobProgress): RunEvents {
    return {
      stage: (s, d) => { p.stage = s; p.detail = d; },
      warning: (m) => { p.warnings.push(m); },
      find: (level, subject, matches) => {
        const k = level === 'STUDY' ? `${subject} studies found` : `${level.toLowerCase()} queries`;
        p.finds[k] = (p.finds[k] ?? 0) + (level === 'STUDY' ? matches : 1);
      },
      moveStarted: (_m, _i, n) => { p.movesTotal = n; },
      moveDone: (r, _i, n) => {
        p.movesTotal = n;
        p.movesDone++;
        p.completed += r.completed ?? 0;
        p.failed += r.failed ?? 0;
        p.warning += r.warning ?? 0;
      },
      stored: () => { p.arrived++; },
    };
  }

  /**
   * Run a job in the background with the database open writable; resolves with the query id once the
   * record exists. ERR_DB_LOCKED (a cron run) and other failures before that are thrown to the caller.
   */
  async function startJob(kind: 'query' | 'retrieve', knownId: string | undefined, body: (db: Database, events: RunEvents, created: (id: string) => void) => Promise<unknown>): Promise<string> {
    if (running) throw new HttpError(409, 'A job is running already: wait for it to finish.');
    const db = await openDatabase({ home, command: `qrscu serve (${kind} job)`, onWarning: warn });
    jobDb = db;
    let progress: JobProgress | undefined;
    const make = (id: string): JobProgress => {
      const p: JobProgress = { id, kind, stage: 'starting', detail: '', finds: {}, movesDone: 0, movesTotal: 0, completed: 0, failed: 0, warning: 0, arrived: 0, warnings: [], done: false };
      jobs.set(id, p);
      return p;
    };
    if (knownId) progress = make(knownId);
    // Events go to the job's progress once its record (and so its id) exists.
    const on = (): RunEvents => (progress ? progressEvents(progress) : {});
    const events: RunEvents = {
      stage: (a, b) => on().stage?.(a, b),
      warning: (m) => on().warning?.(m),
      find: (l, s, n) => on().find?.(l, s, n),
      moveStarted: (m, i, n) => on().moveStarted?.(m, i, n),
      moveDone: (r, i, n) => on().moveDone?.(r, i, n),
      stored: (x) => on().stored?.(x),
    };
    let resolveId!: (id: string) => void;
    const idKnown = new Promise<string>((r) => { resolveId = r; });
    if (knownId) resolveId(knownId);
    const job = (async () => {
      try {
        await body(db, events, (id) => { progress = make(id); resolveId(id); });
      } catch (e) {
        log('job failed: %s', (e as Error).message);
        if (progress) progress.error = (e as Error).message;
        else throw e;
      } finally {
        // Written first: until then pages read the job's database, never a file without its record.
        await db.close().catch((e: unknown) => warn(`cannot write the database: ${(e as Error).message}`));
        jobDb = undefined;
        running = undefined;
        if (progress) progress.done = true;
      }
    })();
    running = job.catch(() => undefined);
    return Promise.race([idKnown, job.then(() => idKnown)]);
  }

  // ---- request handling ----

  const routes: Array<[string, RegExp, Permission | 'none', (r: Request, m: RegExpExecArray) => Promise<void>]> = [];
  const route = (method: string, pattern: RegExp, permission: Permission | 'none', fn: (r: Request, m: RegExpExecArray) => Promise<void>) => void routes.push([method, pattern, permission, fn]);

  const send = (r: Request, status: number, html: string, headers: Record<string, string | string[]> = {}) => {
    r.res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY', 'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'", ...headers });
    r.res.end(html);
  };
  const redirect = (r: Request, to: string, headers: Record<string, string | string[]> = {}) => {
    r.res.writeHead(303, { location: to, ...headers });
    r.res.end();
  };
  const json = (r: Request, status: number, v: unknown) => {
    r.res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    r.res.end(JSON.stringify(v));
  };
  const layout = (r: Request, title: string, body: string) => pages.layout({ title, body, user: r.user, csrf: r.csrf });

  async function form(req: IncomingMessage): Promise<URLSearchParams> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 1_000_000) throw new HttpError(413, 'The form is too large.');
      chunks.push(c as Buffer);
    }
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  }

  // Login and logout.
  route('GET', /^\/login$/, 'none', async (r) => {
    send(r, 200, layout(r, 'Log in', pages.loginPage(r.csrf, r.url.searchParams.get('error') ?? undefined)));
  });
  route('POST', /^\/login$/, 'none', async (r) => {
    const f = r.form;
    const name = f.get('username') ?? '';
    const keys = throttleKeys(r, name);
    const wait = throttle.retryAfterS(keys, clock());
    if (wait > 0) {
      log('login of %s from %s refused: locked for %d s', name, r.req.socket.remoteAddress, wait);
      send(r, 429, layout(r, 'Log in', pages.loginPage(r.csrf, `Too many failed logins for this user or from this address: ${tryAgainIn(wait)}.`)), { 'retry-after': String(wait) });
      return;
    }
    const user = await read((db) => db.user(name));
    // A missing user costs a hash too, so the answer time does not tell which names exist.
    const ok = user ? await verifyPassword(f.get('password') ?? '', user.passwordHash) : (await verifyPassword('x', await hashPassword('y')), false);
    if (!ok) {
      throttle.failed(keys, clock());
      send(r, 401, layout(r, 'Log in', pages.loginPage(r.csrf, 'Wrong user name or password.')));
      return;
    }
    throttle.succeeded(keys);
    const { cookie } = createSession(secret, name);
    redirect(r, '/', { 'set-cookie': [cookieHeader(SESSION_COOKIE, cookie, SESSION_MS / 1000), cookieHeader(PRE_COOKIE, '', 0)] });
  });
  route('POST', /^\/logout$/, 'none', async (r) => {
    redirect(r, '/login', { 'set-cookie': cookieHeader(SESSION_COOKIE, '', 0) });
  });

  route('GET', /^\/$/, 'view', async (r) => redirect(r, can(r.user?.role, 'run') ? '/query' : '/history'));

  // The query page: node status, the form, progress, results and Retrieve.
  const echoTable = async () => {
    const nodes = await read((db) => ({ qr: [...db.qrNodes()], store: [...db.storeNodes()] }));
    const timeout = o.echoTimeoutMs ?? 3000;
    const rows = await Promise.all([
      ...nodes.qr.map(async (n) => ({ kind: 'QR' as const, id: n.id, name: n.name, address: `${n.aeTitle}@${n.host}:${n.port}`, ...(await echoStatus('QR', { ...n, connectTimeoutMs: Math.min(n.connectTimeoutMs, timeout) }, false)) })),
      ...nodes.store.map(async (n) => ({ kind: 'store' as const, id: n.id, name: n.name, address: `${n.aeTitle}@${n.host}:${n.port}`, ...(await echoStatus('store', { ...n, callingAeTitle: 'QRSCU', connectTimeoutMs: timeout }, n.own)) })),
    ]);
    return { nodes, rows };
  };

  route('GET', /^\/query$/, 'run', async (r) => {
    const { nodes, rows } = await echoTable();
    const jobId = r.url.searchParams.get('job') ?? undefined;
    const job = jobId ? jobs.get(jobId) : undefined;
    const record = jobId ? await read((db) => safeQuery(db, jobId)) : undefined;
    send(r, 200, layout(r, 'Query remote server', pages.queryPage({ csrf: r.csrf, echo: rows, qrNodes: nodes.qr, storeNodes: nodes.store, values: (jobId ? submitted.get(jobId) : undefined) ?? defaultForm(), job, record, flash: r.url.searchParams.get('msg') ?? undefined })));
  });

  route('POST', /^\/query$/, 'run', async (r) => {
    const f = r.form;
    const values = Object.fromEntries(f.entries());
    let params: RunParameters;
    try {
      params = formParameters(f);
      const problem = groupSelectionProblem(rules, params.groups);
      if (problem) throw new ConfigError(ErrorCode.Usage, problem);
      const qrId = f.get('qr_id') ?? '';
      const storeId = f.get('store_id') ?? '';
      const id = await startJob('query', undefined, (db, events, created) => runQueryJob({
        db, home, rules, qrId, storeId, params, argv: ['(web)', qrId, storeId, ...formArgv(f)], events, onCreated: created,
        ...(o.arrivalGraceMs !== undefined ? { arrivalGraceMs: o.arrivalGraceMs } : {}),
      }));
      submitted.set(id, values);
      redirect(r, `/query?job=${encodeURIComponent(id)}`);
    } catch (e) {
      const { nodes, rows } = await echoTable();
      send(r, e instanceof HttpError ? e.status : 400, layout(r, 'Query remote server', pages.queryPage({ csrf: r.csrf, echo: rows, qrNodes: nodes.qr, storeNodes: nodes.store, values, error: messageOf(e) })));
    }
  });

  route('POST', /^\/queries\/([0-9a-f-]{36})\/(retrieve|resume)$/, 'run', async (r, m) => {
    const id = m[1]!;
    const record = await read((db) => safeQuery(db, id));
    if (!record) throw new HttpError(404, `No query ${id}.`);
    let jobId = id;
    if (record.selection) {
      const missingOnly = m[2] === 'resume';
      await startJob('retrieve', id, (db, events) => runRetrieveJob({ db, home, queryId: id, missingOnly, events, ...(o.arrivalGraceMs !== undefined ? { arrivalGraceMs: o.arrivalGraceMs } : {}) }));
    } else {
      // Interrupted before its query finished: run the query again with the same parameters.
      const params = record.parameters.options as unknown as RunParameters;
      jobId = await startJob('query', undefined, (db, events, created) => runQueryJob({
        db, home, rules, qrId: record.parameters.qrNodeId, storeId: record.parameters.storeNodeId, params,
        argv: [...(record.parameters.argv ?? []), `(resume of ${id.slice(0, 8)})`], events, onCreated: created,
        ...(o.arrivalGraceMs !== undefined ? { arrivalGraceMs: o.arrivalGraceMs } : {}),
      }));
    }
    redirect(r, `/query?job=${encodeURIComponent(jobId)}`);
  });

  route('GET', /^\/api\/jobs\/([0-9a-f-]{36})$/, 'view', async (r, m) => {
    const p = jobs.get(m[1]!);
    if (p) return json(r, 200, p);
    const q = await read((db) => safeQuery(db, m[1]!));
    if (!q) return json(r, 404, { error: 'no such job' });
    json(r, 200, { id: q.id, kind: 'query', stage: q.status, detail: '', finds: {}, movesDone: q.moves.length, movesTotal: q.moves.length, completed: 0, failed: 0, warning: 0, arrived: 0, warnings: [], done: q.status !== 'running' });
  });

  // History and details.
  route('GET', /^\/history$/, 'view', async (r) => {
    const list = await read((db) => db.listQueries({ limit: 200 }));
    send(r, 200, layout(r, 'Query history', pages.historyPage(list, can(r.user?.role, 'run'), r.csrf)));
  });
  route('GET', /^\/history\/([0-9a-f-]{36})$/, 'view', async (r, m) => {
    const q = await read((db) => safeQuery(db, m[1]!));
    if (!q) throw new HttpError(404, `No query ${m[1]}.`);
    send(r, 200, layout(r, `Query ${q.id.slice(0, 8)}`, pages.detailPage(q, can(r.user?.role, 'run'), r.csrf, jobs.get(q.id))));
  });

  // DICOM network configuration (admin).
  route('GET', /^\/nodes$/, 'admin', async (r) => {
    const nodes = await read((db) => ({ qr: [...db.qrNodes()], store: [...db.storeNodes()] }));
    const echoId = r.url.searchParams.get('echo');
    let echo: { id: string; ok: boolean; text: string } | undefined;
    if (echoId) {
      const n = nodes.qr.find((x) => x.id === echoId) ?? nodes.store.find((x) => x.id === echoId);
      if (n) {
        const isQr = nodes.qr.some((x) => x.id === echoId);
        echo = { id: echoId, ...(await echoStatus(isQr ? 'QR' : 'store', { ...n, connectTimeoutMs: o.echoTimeoutMs ?? 3000 }, !isQr && (n as { own?: boolean }).own === true)) };
      }
    }
    send(r, 200, layout(r, 'DICOM network configuration', pages.nodesPage({ csrf: r.csrf, ...nodes, echo, flash: r.url.searchParams.get('msg') ?? undefined, error: r.url.searchParams.get('error') ?? undefined })));
  });
  route('GET', /^\/nodes\/([A-Za-z0-9_-]{1,64})\/edit$/, 'admin', async (r, m) => {
    const found = await read((db) => db.node(m[1]!));
    if (!found) throw new HttpError(404, `No node ${m[1]}.`);
    send(r, 200, layout(r, `Edit node ${found.node.id}`, pages.nodeEditPage(r.csrf, found)));
  });
  route('POST', /^\/nodes(?:\/([A-Za-z0-9_-]{1,64})\/(edit|remove))?$/, 'admin', async (r, m) => {
    const f = r.form;
    try {
      const message = await change((db) => {
        if (m[2] === 'remove') {
          db.removeNode(m[1]!);
          return `node ${m[1]} removed`;
        }
        const kind = m[2] === 'edit' ? db.node(m[1]!)?.kind : f.get('kind');
        const fields = nodeFields(f, kind === 'qr' ? 'qr' : 'store');
        if (m[2] === 'edit') {
          const { id: _id, ...patch } = fields;
          db.editNode(m[1]!, patch as never);
          return `node ${m[1]} saved`;
        }
        if (kind === 'qr') db.addQrNode(fields as never);
        else db.addStoreNode(fields as never);
        return `node ${String(fields.id)} added`;
      });
      redirect(r, `/nodes?msg=${encodeURIComponent(message)}`);
    } catch (e) {
      redirect(r, `/nodes?error=${encodeURIComponent(messageOf(e))}`);
    }
  });

  // The signed-in user's own password (any role). The current password is checked like a login
  // (and counted by the same limit), so a session left open cannot be used to take the account.
  route('GET', /^\/account$/, 'view', async (r) => {
    send(r, 200, layout(r, 'Your account', pages.accountPage(r.csrf, r.user!, MIN_PASSWORD, r.url.searchParams.get('msg') ?? undefined, r.url.searchParams.get('error') ?? undefined)));
  });
  route('POST', /^\/account$/, 'view', async (r) => {
    const f = r.form;
    const user = r.user!;
    const keys = throttleKeys(r, user.name);
    const again = (error: string) => redirect(r, `/account?error=${encodeURIComponent(error)}`);
    const wait = throttle.retryAfterS(keys, clock());
    if (wait > 0) return again(`Too many wrong passwords: ${tryAgainIn(wait)}.`);
    if (!(await verifyPassword(f.get('current') ?? '', user.passwordHash))) {
      throttle.failed(keys, clock());
      return again('The current password is wrong.');
    }
    throttle.succeeded(keys);
    const password = f.get('password') ?? '';
    if (password !== (f.get('again') ?? '')) return again('The two new passwords differ.');
    try {
      checkPassword(password);
      const passwordHash = await hashPassword(password);
      await change((db) => db.editUser(user.name, { passwordHash }));
    } catch (e) {
      return again(messageOf(e));
    }
    log('user %s changed their password', user.name);
    redirect(r, `/account?msg=${encodeURIComponent('Your password is changed.')}`);
  });

  // Users (admin).
  route('GET', /^\/users$/, 'admin', async (r) => {
    const users = await read((db) => [...db.users()]);
    send(r, 200, layout(r, 'Users', pages.usersPage(r.csrf, users, r.url.searchParams.get('msg') ?? undefined, r.url.searchParams.get('error') ?? undefined)));
  });
  route('POST', /^\/users(?:\/([A-Za-z0-9_.@-]{1,64})\/remove)?$/, 'admin', async (r, m) => {
    const f = r.form;
    try {
      let message: string;
      if (m[1]) {
        if (m[1] === r.user?.name) throw new ConfigError(ErrorCode.Usage, 'you cannot remove yourself');
        await change((db) => db.removeUser(m[1]!));
        message = `user ${m[1]} removed`;
      } else {
        const password = f.get('password') ?? '';
        checkPassword(password);
        const passwordHash = await hashPassword(password);
        const name = f.get('name') ?? '';
        await change((db) => db.addUser({ name, role: (f.get('role') ?? 'viewer') as UserRole, passwordHash }));
        message = `user ${name} added`;
      }
      redirect(r, `/users?msg=${encodeURIComponent(message)}`);
    } catch (e) {
      redirect(r, `/users?error=${encodeURIComponent(messageOf(e))}`);
    }
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/static/style.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' });
      res.end(STYLE_CSS);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/static/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=300' });
      res.end(APP_JS);
      return;
    }
    const cookies = parseCookies(req.headers.cookie);
    const session = readSession(secret, cookies.get(SESSION_COOKIE));
    const user = session ? await read((db) => db.user(session.u)) : undefined;
    let nonce = user ? session!.n : undefined;
    const setCookies: string[] = [];
    if (!nonce) {
      const pre = verifyValue(secret, cookies.get(PRE_COOKIE));
      nonce = typeof pre === 'string' ? pre : undefined;
      if (!nonce) {
        nonce = newNonce();
        setCookies.push(cookieHeader(PRE_COOKIE, signValue(secret, nonce), 3600));
      }
    }
    if (setCookies.length) res.setHeader('set-cookie', setCookies);
    const r: Request = { req, res, url, ...(user ? { user } : {}), nonce, csrf: csrfToken(secret, nonce), form: new URLSearchParams() };
    const match = routes.find(([method, pattern]) => method === req.method && pattern.test(url.pathname));
    if (!match) {
      const other = routes.some(([, pattern]) => pattern.test(url.pathname));
      throw new HttpError(other ? 405 : 404, other ? 'Method not allowed.' : 'Not found.');
    }
    const [, pattern, permission, fn] = match;
    if (permission !== 'none') {
      if (!user) {
        if (url.pathname.startsWith('/api/')) return json(r, 401, { error: 'log in first' });
        return redirect(r, '/login');
      }
      if (!can(user.role, permission)) throw new HttpError(403, `Your role (${user.role}) may not do this: it needs ${permission === 'admin' ? 'an admin' : 'a user or admin'}.`);
    }
    if (req.method === 'POST') {
      const f = await form(req);
      if (!checkCsrf(secret, nonce, f.get('_csrf') ?? undefined)) throw new HttpError(403, 'The form has no valid CSRF token: reload the page and try again.');
      r.form = f;
    }
    await fn(r, pattern.exec(url.pathname)!);
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    res.once('finish', () => log('%s %s %d %d ms', req.method, req.url, res.statusCode, Math.round(performance.now() - started)));
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : isDicomError(e) && e.code === ErrorCode.DatabaseLocked ? 503 : 500;
      if (!(e instanceof HttpError)) log('error: %s', (e as Error)?.stack ?? String(e));
      if (res.headersSent) {
        res.end();
        return;
      }
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(pages.layout({ title: `Error ${status}`, body: pages.errorBody(status, messageOf(e)), user: undefined, csrf: '' }));
    });
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await running;
    },
  };
}

function messageOf(e: unknown): string {
  if (e instanceof HttpError) return e.message;
  if (isDicomError(e) && e.code === ErrorCode.DatabaseLocked) return `The database is in use by another qrscu run (a cron job?): ${e.message}. Try again when it has finished.`;
  return (e as Error)?.message ?? String(e);
}

function safeQuery(db: Database, id: string): QueryView | undefined {
  try {
    return db.getQuery(id);
  } catch {
    return undefined;
  }
}

async function echoStatus(role: 'QR' | 'store', node: Parameters<typeof echoNode>[1], own: boolean): Promise<{ ok: boolean; text: string }> {
  try {
    const ms = await echoNode(role, node);
    return { ok: true, text: `responding to DICOM echo (${Math.round(ms)} ms)` };
  } catch (e) {
    const m = (e as Error).message;
    if (own && /ECONNREFUSED|refused/i.test(m)) return { ok: true, text: "qrscu's own store node: not listening now, started by each retrieve" };
    return { ok: false, text: m };
  }
}

function yesterday(now = new Date()): string {
  const d = new Date(now.getTime() - 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function defaultForm(now = new Date()): Record<string, string> {
  return { dfrom: yesterday(now), duntil: '', dup_ignore: 'on' };
}

const FORM_FLAGS = ['ct', 'mg', 'fl', 'dx', 'nm', 'sr', 'stationname_study_level', 'toshiba', 'emptysr'] as const;
const FORM_TEXT = ['dfrom', 'duntil', 'desc_exclude', 'desc_include', 'stationname_exclude', 'stationname_include'] as const;

/** The form → RunParameters through the CLI's parser (same validation messages); always query-only. */
export function formParameters(f: URLSearchParams): RunParameters {
  const a: RunArgs = { qr_id: f.get('qr_id') ?? '', store_id: f.get('store_id') ?? '', 'dry-run': true, dup: f.get('dup_ignore') !== 'on' };
  for (const k of FORM_FLAGS) if (f.get(k) === 'on') a[k] = true;
  for (const k of FORM_TEXT) {
    const v = (f.get(k) ?? '').trim();
    if (v !== '') a[k] = v;
  }
  if (!a.qr_id) throw new ConfigError(ErrorCode.Usage, 'Choose a remote QR node');
  if (!a.store_id) throw new ConfigError(ErrorCode.Usage, 'Choose a local store node');
  // The web form never sends an empty date range to mean "yesterday": dfrom defaults to yesterday in the form.
  return runParameters(a);
}

/** The form as CLI flags, for the record and the log. */
function formArgv(f: URLSearchParams): string[] {
  const out: string[] = [];
  for (const k of FORM_FLAGS) if (f.get(k) === 'on') out.push(`-${k}`);
  if (f.get('dup_ignore') !== 'on') out.push('-dup');
  for (const k of FORM_TEXT) {
    const v = (f.get(k) ?? '').trim();
    if (v !== '') out.push(`--${k}`, v);
  }
  return out;
}

function nodeFields(f: URLSearchParams, kind: 'qr' | 'store'): Record<string, unknown> {
  const text = (k: string) => {
    const v = (f.get(k) ?? '').trim();
    return v === '' ? undefined : v;
  };
  const num = (k: string) => {
    const v = text(k);
    return v === undefined ? undefined : Number(v);
  };
  const base = { id: text('id'), name: text('name'), aeTitle: text('aeTitle'), host: text('host'), port: num('port') };
  const fields: Record<string, unknown> = kind === 'qr'
    ? { ...base, callingAeTitle: text('callingAeTitle'), useModalityTag: f.get('useModalityTag') === 'on', maxAssociations: num('maxAssociations') }
    : { ...base, directory: text('directory'), own: f.get('own') === 'on' };
  for (const k of Object.keys(fields)) if (fields[k] === undefined) delete fields[k];
  return fields;
}

