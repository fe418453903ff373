// The web page end to end in Debian's chromium (playwright-core): log in, node statuses, a query
// against the simulated PACS serving generated dose studies, its progress and counts, Retrieve,
// the objects arriving in the store node (exactly the manifest's), history and details; a viewer
// cannot reach the configuration page; a form without the CSRF token is refused; after a restart
// an interrupted job shows as interrupted. Screenshots of each page go to test-artifacts/web/.

import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashPassword, openDatabase } from '../../src/db/index.js';
import { generateDoseDataset, type Manifest } from '../../src/pacs/generate.js';
import { startSimulatedPacs, type SimulatedPacs } from '../../src/pacs/simulated.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { requireProgram } from '../support/live.js';

const test = suite('web: the page in chromium');
const ARTIFACTS = path.resolve('test-artifacts/web');
const PASSWORD = 'correct horse battery';
let root = '';
let home = '';
let store = '';
let manifest: Manifest;
let pacs: SimulatedPacs;
let web: WebServer;
let browser: Browser | undefined;
/** The admin's browser context, shared by the tests (its session cookie outlives a restart of the server). */
let admin: BrowserContext;
const chromium = requireProgram('chromium');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function login(context: BrowserContext, user: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${web.url}/login`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(/\/(query|history)$/), page.click('button[type=submit]')]);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  const t = performance.now();
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true, timeout: 10_000 });
  process.stderr.write(`shot ${name} ${Math.round(performance.now() - t)} ms at ${Math.round(performance.now())}\n`);
}
const arrived = (): string[] => (existsSync(store) ? readdirSync(store).filter((f) => f.endsWith('.dcm')).map((f) => f.slice(0, -4)).sort() : []);

test.before(async () => {
  if (!chromium) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  root = mkdtempSync(path.join(tmpdir(), 'qrscu-web-'));
  manifest = await generateDoseDataset({ directory: path.join(root, 'pacs'), studies: 14, seed: 'web-test', startDate: '2024-01-01', days: 14 });
  const storePort = await freePort();
  pacs = await startSimulatedPacs({ files: path.join(root, 'pacs'), port: 0, aeTitle: 'SIMPACS', destinations: { QRSCU_STORE: { host: '127.0.0.1', port: storePort } } });
  home = path.join(root, 'home');
  store = path.join(home, 'store');
  const db = await openDatabase({ home });
  db.addQrNode({ id: 'pacs1', name: 'Simulated PACS', aeTitle: 'SIMPACS', host: '127.0.0.1', port: pacs.port, maxAssociations: 2, dimseTimeoutMs: 10_000 });
  db.addStoreNode({ id: 'store1', aeTitle: 'QRSCU_STORE', host: '127.0.0.1', port: storePort, directory: store });
  db.addUser({ name: 'ada', role: 'admin', passwordHash: await hashPassword(PASSWORD) });
  db.addUser({ name: 'vic', role: 'viewer', passwordHash: await hashPassword(PASSWORD) });
  await db.close();
  web = await startWebServer({ home, port: 0, arrivalGraceMs: 3000, echoTimeoutMs: 2000 });
  const { chromium: pw } = await import('playwright-core');
  browser = await pw.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
});

test.after(async () => {
  await browser?.close();
  await web?.close();
  await pacs?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('log in, see node statuses, query, watch progress, see counts, Retrieve: the manifest\'s objects arrive; history and details', async () => {
  if (!browser) return;
  admin = await browser.newContext();
  const page = await login(admin, 'ada');
  await shot(page, '1-query-page');
  const status = await page.textContent('#node-status tr[data-node=pacs1]');
  assert.match(status ?? '', /responding to DICOM echo/);
  assert.match((await page.textContent('#node-status tr[data-node=store1]')) ?? '', /own store node/);
  // The date defaults to yesterday and "ignore studies already held" is ticked.
  const y = new Date(Date.now() - 86_400_000);
  assert.is(await page.inputValue('input[name=dfrom]'), `${y.getFullYear()}-${String(y.getMonth() + 1).padStart(2, '0')}-${String(y.getDate()).padStart(2, '0')}`);
  assert.ok(await page.isChecked('input[name=dup_ignore]'));

  // No modality: the CLI's message.
  await page.click('#submit-query');
  assert.match((await page.textContent('#error')) ?? '', /At least one modality must be specified/);

  const polled: string[] = [];
  page.on('response', (r) => { if (r.url().includes('/api/jobs/')) polled.push(r.url()); });
  for (const m of ['ct', 'mg', 'fl', 'dx']) await page.check(`input[name=${m}]`);
  await page.fill('input[name=dfrom]', '2024-01-01');
  await page.fill('input[name=duntil]', '2024-01-31');
  await Promise.all([page.waitForURL(/\/query\?job=/), page.click('#submit-query')]);
  await shot(page, '2-query-progress');
  await page.waitForSelector('#counts', { timeout: 15_000 });
  assert.ok(polled.length > 0, 'the page polled the job progress');
  await shot(page, '3-query-counts');
  assert.is(await page.textContent('#job-status'), 'complete', (await page.textContent('#progress')) ?? '');
  const kept = manifest.studies.filter((s) => s.expected['ct-mg-fl-dx'].length > 0).length;
  assert.is(Number(await page.textContent('#kept-total')), kept);
  assert.equal(arrived(), [], 'a query moves nothing');

  await Promise.all([page.waitForURL(/\/query\?job=/), page.click('#retrieve')]);
  await page.waitForSelector('#retrieve-result', { timeout: 20_000 });
  await shot(page, '4-retrieve-done');
  assert.match((await page.textContent('#retrieve-result')) ?? '', /Retrieve complete/, (await page.textContent('#progress')) ?? '');
  const expected = manifest.studies.flatMap((s) => s.expected['ct-mg-fl-dx'].flatMap((m) => m.sopInstanceUids)).sort();
  assert.equal(arrived(), expected);

  await page.goto(`${web.url}/history`);
  await shot(page, '5-history');
  const rows = await page.locator('#history tr[data-query]').count();
  assert.is(rows, 1);
  assert.match((await page.textContent('#history tr[data-query] .status')) ?? '', /complete/);
  await Promise.all([page.waitForURL(/\/history\/[0-9a-f-]{36}$/), page.click('#history tr[data-query] a')]);
  await shot(page, '6-query-detail');
  assert.match((await page.textContent('#explain')) ?? '', /kept|dropped/i);
  assert.ok((await page.locator('#moves tr').count()) > 1);

  await page.goto(`${web.url}/nodes`);
  await page.click('#qr-nodes a[href="/nodes?echo=pacs1"]');
  await page.waitForSelector('#echo-result');
  assert.match((await page.textContent('#echo-result')) ?? '', /pacs1: responding/);
  await shot(page, '7-nodes');
  // Add and remove a node from the page.
  await page.fill('#add-qr input[name=id]', 'pacs2');
  await page.fill('#add-qr input[name=aeTitle]', 'OTHER');
  await page.fill('#add-qr input[name=host]', '127.0.0.1');
  await page.fill('#add-qr input[name=port]', '1');
  await Promise.all([page.waitForURL(/msg=/), page.click('#add-qr button[type=submit]')]);
  assert.match((await page.textContent('#message')) ?? '', /node pacs2 added/);
  await Promise.all([page.waitForURL(/msg=/), page.click('#qr-nodes tr:has-text("pacs2") button')]);
  assert.match((await page.textContent('#message')) ?? '', /node pacs2 removed/);
  await page.goto(`${web.url}/users`);
  await shot(page, '8-users');
  await page.close();
});

test('a viewer reads history but cannot reach the configuration or query pages', async () => {
  if (!browser) return;
  const context = await browser.newContext();
  const page = await login(context, 'vic');
  assert.match(page.url(), /\/history$/);
  assert.is(await page.locator('a[href="/nodes"]').count(), 0);
  const r = await page.goto(`${web.url}/nodes`);
  assert.is(r?.status(), 403);
  await shot(page, '9-viewer-forbidden');
  assert.is((await page.goto(`${web.url}/query`))?.status(), 403);
  await context.close();
});

test('a form posted without the CSRF token is refused (403)', async () => {
  if (!browser) return;
  const context = admin;
  const page = await context.newPage();
  const without = await context.request.post(`${web.url}/nodes`, { form: { kind: 'qr', id: 'evil', aeTitle: 'EVIL', host: '127.0.0.1', port: '104' }, maxRedirects: 0 });
  assert.is(without.status(), 403);
  const wrong = await context.request.post(`${web.url}/nodes`, { form: { _csrf: 'forged', kind: 'qr', id: 'evil', aeTitle: 'EVIL', host: '127.0.0.1', port: '104' }, maxRedirects: 0 });
  assert.is(wrong.status(), 403);
  await page.goto(`${web.url}/nodes`);
  assert.is(await page.locator('#qr-nodes tr:has-text("evil")').count(), 0);
  await page.close();
});

test('after a restart, interrupted jobs show as interrupted; Resume fetches only what is missing, or runs the query again', async () => {
  if (!browser) return;
  await web.close();
  // What a server killed mid-job leaves behind: records still marked running. One was retrieving
  // (its selection is stored; one study's objects had not arrived), one had not finished its query.
  const db = await openDatabase({ home });
  const done = db.listQueries().find((q) => q.status === 'complete')!;
  db.updateQuery(done.id, { status: 'running' });
  const missingStudy = manifest.studies.find((s) => s.expected['ct-mg-fl-dx'].length > 0)!;
  const missing = missingStudy.expected['ct-mg-fl-dx'].flatMap((m) => m.sopInstanceUids);
  db.forgetHeld(missingStudy.studyInstanceUid);
  for (const sop of missing) rmSync(path.join(store, `${sop}.dcm`));
  const q = db.createQuery({ parameters: { qrNodeId: 'pacs1', storeNodeId: 'store1', argv: ['(web)', 'pacs1', 'store1', '-ct'], dryRun: true, options: { groups: ['CT'], dateFrom: '2024-01-01', dateUntil: '2024-01-31', dryRun: true, selection: { flags: {}, descriptionInclude: [], descriptionExclude: [], stationInclude: [], stationExclude: [], stationNameStudyLevel: false, removeDuplicates: true } } } });
  await db.close();
  web = await startWebServer({ home, port: 0, arrivalGraceMs: 3000, echoTimeoutMs: 2000 });
  // The session cookie is still good: it is signed with the home's secret, not held in memory.
  const page = await admin.newPage();
  await page.goto(`${web.url}/history`);
  assert.match(page.url(), /\/history$/);
  await shot(page, '10-history-interrupted');
  assert.match((await page.textContent(`#history tr[data-query="${done.id}"] .status`)) ?? '', /interrupted/);
  assert.match((await page.textContent(`#history tr[data-query="${q.id}"] .status`)) ?? '', /interrupted/);

  const before = pacs.requests().length;
  await Promise.all([page.waitForURL(/\/query\?job=/), page.click(`#history tr[data-query="${done.id}"] button`)]);
  await page.waitForSelector('#retrieve-result', { timeout: 20_000 });
  assert.match((await page.textContent('#retrieve-result')) ?? '', /Retrieve complete/, (await page.textContent('#progress')) ?? '');
  const moved = pacs.requests().slice(before).filter((r) => r.type === 'C-MOVE');
  assert.ok(moved.length > 0 && moved.every((m) => m.keys.StudyInstanceUID === missingStudy.studyInstanceUid), 'only the missing study is moved again');
  const expected = manifest.studies.flatMap((s) => s.expected['ct-mg-fl-dx'].flatMap((m) => m.sopInstanceUids)).sort();
  assert.equal(arrived(), expected);

  await page.goto(`${web.url}/history`);
  await Promise.all([page.waitForURL(/\/query\?job=/), page.click(`#history tr[data-query="${q.id}"] button`)]);
  await page.waitForSelector('#counts', { timeout: 15_000 }).catch(async (e: unknown) => { throw new Error(`${(e as Error).message}\n${await page.textContent('#progress')}`); });
  assert.is(await page.textContent('#job-status'), 'complete', (await page.textContent('#progress')) ?? '');
  await page.close();
});

test.run();
