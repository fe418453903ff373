// The HTML of each page, rendered on the server. Every value from the database or the request goes
// through esc(); every form carries the CSRF token.

import type { QrNode, QueryListItem, QueryView, StoreNode, UserRecord } from '../db/index.js';
import type { NodeEntry } from '../db/index.js';
import { explainLines } from '../rules/index.js';
import { can } from './auth.js';
import type { JobProgress } from './server.js';

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const csrfField = (csrf: string) => `<input type="hidden" name="_csrf" value="${esc(csrf)}">`;

export function layout(o: { title: string; body: string; user: UserRecord | undefined; csrf: string }): string {
  const u = o.user;
  const nav = u
    ? [can(u.role, 'run') ? '<a href="/query">Query remote server</a>' : '', '<a href="/history">Query history</a>',
      can(u.role, 'admin') ? '<a href="/nodes">DICOM network configuration</a>' : '', can(u.role, 'admin') ? '<a href="/users">Users</a>' : '',
      `<span class="who"><a href="/account" title="change your password">${esc(u.name)}</a> (${esc(u.role)})</span>`,
      `<form method="post" action="/logout">${csrfField(o.csrf)}<button type="submit">Log out</button></form>`].join('')
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(o.title)} · qrscu</title>
<link rel="stylesheet" href="/static/style.css"></head><body><header><b>qrscu</b>${nav}</header><main><h1>${esc(o.title)}</h1>${o.body}</main>
<script src="/static/app.js"></script></body></html>`;
}

export function errorBody(status: number, message: string): string {
  return `<p class="flash" id="error">${esc(message)}</p><p><a href="/">Back</a> · status ${status}</p>`;
}

const flash = (text: string | undefined, kind: 'info' | 'error') => (text ? `<p class="flash${kind === 'info' ? ' info' : ''}" id="${kind === 'info' ? 'message' : 'error'}">${esc(text)}</p>` : '');

export function loginPage(csrf: string, error?: string): string {
  return `${flash(error, 'error')}<form method="post" action="/login" id="login">${csrfField(csrf)}
<p><label>User name <input type="text" name="username" autocomplete="username" required></label></p>
<p><label>Password <input type="password" name="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Log in</button></p></form>`;
}

export interface EchoRow {
  readonly kind: 'QR' | 'store';
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly ok: boolean;
  readonly text: string;
}

function echoRows(rows: readonly EchoRow[]): string {
  if (rows.length === 0) return '<p class="bad">No nodes configured: an admin adds them on the DICOM network configuration page.</p>';
  return `<table id="node-status"><tr><th>Node</th><th>Kind</th><th>Address</th><th>Status</th></tr>${rows.map((r) =>
    `<tr data-node="${esc(r.id)}"><td>${esc(r.name)} <span class="muted">(${esc(r.id)})</span></td><td>${r.kind}</td><td>${esc(r.address)}</td><td class="${r.ok ? 'ok' : 'bad'}">${esc(r.text)}</td></tr>`).join('')}</table>`;
}

/** Kept studies per type (ModalitiesInStudy as the rules used it; none: "Unknown - SR only study?"). */
export function studyCounts(q: QueryView): Array<[string, number]> {
  const counts = new Map<string, number>();
  const seen = new Set<string>();
  for (const s of q.selection?.studies ?? []) {
    if (!s.kept || seen.has(s.response.studyInstanceUid)) continue;
    seen.add(s.response.studyInstanceUid);
    const k = s.modalities.length ? [...s.modalities].sort().join(', ') : 'Unknown - SR only study?';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => a[0].localeCompare(b[0]));
}

function resultBlock(q: QueryView, csrf: string, job: JobProgress | undefined, mayRun: boolean): string {
  const retrieved = q.stages.some((s) => s.stage === 'retrieve');
  const parts = [`<p>Query <a href="/history/${esc(q.id)}">${esc(q.id.slice(0, 8))}</a>: <b class="status-${esc(q.status)}" id="job-status">${esc(q.status)}</b></p>`];
  if (job?.error) parts.push(`<p class="flash" id="error">${esc(job.error)}</p>`);
  for (const e of q.errors.slice(-3)) parts.push(`<p class="bad">${esc(e.stage)}: ${esc(e.message)}</p>`);
  if (q.selection) {
    const counts = studyCounts(q);
    parts.push(`<table id="counts"><tr><th>Study type</th><th>Studies kept</th></tr>${counts.map(([k, n]) => `<tr><td>${esc(k)}</td><td>${n}</td></tr>`).join('')}
<tr><th>Total (of ${q.summary.studiesFound ?? new Set(q.selection.studies.map((s) => s.response.studyInstanceUid)).size} found)</th><th id="kept-total">${counts.reduce((n, [, c]) => n + c, 0)}</th></tr></table>
<p>${q.selection.moves.length} C-MOVE(s) planned. <span class="muted">Not what you expected? The <a href="/history/${esc(q.id)}">query details</a> say why each study and series was kept or dropped.</span></p>`);
    if (retrieved) {
      const s = q.summary;
      parts.push(`<p id="retrieve-result">Retrieve ${q.status === 'complete' ? 'complete' : esc(q.status)}: ${s.movesSucceeded ?? 0} of ${s.movesPlanned ?? 0} moves succeeded; sub-operations completed ${s.subOperationsCompleted ?? 0}, failed ${s.subOperationsFailed ?? 0}; objects arrived ${s.arrived ?? 'unknown'}.</p>`);
    }
    if (mayRun && q.status !== 'running' && (!retrieved || q.status !== 'complete') && q.selection.moves.length > 0) {
      const resume = retrieved || q.status === 'interrupted';
      parts.push(`<form method="post" action="/queries/${esc(q.id)}/${resume ? 'resume' : 'retrieve'}">${csrfField(csrf)}<button type="submit" id="retrieve">${resume ? 'Resume retrieve (what is not held yet)' : 'Retrieve'}</button> <span class="muted">to store node ${esc(q.parameters.storeNodeId)}</span></form>`);
    }
  } else if (mayRun && q.status === 'interrupted') {
    parts.push(`<form method="post" action="/queries/${esc(q.id)}/resume">${csrfField(csrf)}<button type="submit" id="resume">Resume (run the query again)</button></form>`);
  }
  return parts.join('\n');
}

export function queryPage(o: {
  csrf: string; echo: readonly EchoRow[]; qrNodes: readonly QrNode[]; storeNodes: readonly StoreNode[]; values: Record<string, string>;
  job?: JobProgress | undefined; record?: QueryView | undefined; error?: string; flash?: string | undefined;
}): string {
  const v = o.values;
  const checked = (k: string) => (v[k] === 'on' ? ' checked' : '');
  const text = (k: string, label: string, type = 'text') => `<label>${label} <input type="${type}" name="${k}" value="${esc(v[k] ?? '')}"></label>`;
  const box = (k: string, label: string) => `<label><input type="checkbox" name="${k}"${checked(k)}> ${label}</label>`;
  const options = (nodes: readonly { id: string; name: string }[], sel: string | undefined) => nodes.map((n, i) => `<option value="${esc(n.id)}"${(sel ? sel === n.id : i === 0) ? ' selected' : ''}>${esc(n.name)} (${esc(n.id)})</option>`).join('');
  const running = o.job !== undefined && !o.job.done;
  const progress = o.record || o.job
    ? `<div id="progress" data-job="${esc(o.record?.id ?? o.job?.id ?? '')}" data-running="${running ? '1' : '0'}">${running ? '<p>Starting…</p>' : o.record ? resultBlock(o.record, o.csrf, o.job, true) : ''}</div>`
    : '<div id="progress" class="muted">Submit a query: its progress shows here.</div>';
  return `${flash(o.flash, 'info')}<h2>Node status</h2>${echoRows(o.echo)}
<div class="columns"><form method="post" action="/query" id="query-form">${csrfField(o.csrf)}${flash(o.error, 'error')}
<fieldset><legend>Nodes</legend><label>Remote QR node <select name="qr_id">${options(o.qrNodes, v.qr_id)}</select></label>
<label>Local store node <select name="store_id">${options(o.storeNodes, v.store_id)}</select></label></fieldset>
<fieldset><legend>Modalities</legend>${box('ct', 'CT')}${box('fl', 'FL')}${box('dx', 'DX')}${box('mg', 'MG')}${box('nm', 'NM')}</fieldset>
<fieldset><legend>Dates</legend>${text('dfrom', 'From', 'date')}${text('duntil', 'Until', 'date')}</fieldset>
<fieldset><legend>Study description</legend>${text('desc_exclude', 'Exclude terms')}${text('desc_include', 'Include terms')}</fieldset>
<fieldset><legend>Station name</legend>${text('stationname_exclude', 'Exclude terms')}${text('stationname_include', 'Include terms')}
${box('stationname_study_level', 'Check station name include/exclude at study level')}</fieldset>
<fieldset><legend>Advanced</legend>${box('toshiba', 'Toshiba images (CT dose from images)')}${box('dup_ignore', 'Ignore studies already held')}
${box('sr', 'Include SR only studies')}${box('emptysr', 'Get SR series that return nothing at image level query')}</fieldset>
<p class="muted">Terms: comma separated, matched case-insensitively.</p>
<p><button type="submit" id="submit-query">Submit</button></p></form>${progress}</div>`;
}

function statusCell(s: string): string {
  return `<span class="status-${esc(s)}">${esc(s)}</span>`;
}

export function historyPage(list: readonly QueryListItem[], mayRun: boolean, csrf: string): string {
  if (list.length === 0) return '<p>No queries yet.</p>';
  return `<table id="history"><tr><th>Query</th><th>Started</th><th>Nodes</th><th>Modalities / options</th><th>Status</th><th>Studies kept / found</th><th>Moves</th><th></th></tr>${list.map((q) => {
    const o = q.parameters.options as { groups?: string[] } | undefined;
    const resume = mayRun && q.status === 'interrupted'
      ? `<form method="post" action="/queries/${esc(q.id)}/resume">${csrfField(csrf)}<button type="submit">Resume</button></form>` : '';
    return `<tr data-query="${esc(q.id)}"><td><a href="/history/${esc(q.id)}">${esc(q.id.slice(0, 8))}</a></td><td>${esc(q.startedAt)}</td><td>${esc(q.parameters.qrNodeId)} → ${esc(q.parameters.storeNodeId)}</td>
<td>${esc((o?.groups ?? []).join(', '))} <span class="muted">${esc((q.parameters.argv ?? []).slice(0, 12).join(' '))}</span></td><td class="status">${statusCell(q.status)}</td>
<td>${esc(q.summary.studiesKept ?? '–')} / ${esc(q.summary.studiesFound ?? '–')}</td><td>${q.moves.length}</td><td>${resume}</td></tr>`;
  }).join('')}</table>`;
}

export function detailPage(q: QueryView, mayRun: boolean, csrf: string, job: JobProgress | undefined): string {
  const summary = Object.entries(q.summary).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v ?? 'unknown')}</td></tr>`).join('');
  const moves = q.moves.length
    ? `<table id="moves"><tr><th>Level</th><th>Series / image</th><th>Expected</th><th>Status</th><th>Completed</th><th>Failed</th><th>Arrived</th><th>Error</th></tr>${q.moves.map((m) =>
      `<tr><td>${m.level}</td><td>${esc(m.level === 'IMAGE' ? m.sopInstanceUid : m.seriesInstanceUid)}</td><td>${esc(m.expectedInstances ?? '?')}</td><td>${statusCell(m.status)}</td><td>${esc(m.completed ?? '?')}</td><td>${esc(m.failed ?? '?')}</td><td>${esc(m.arrived ?? '')}</td><td>${esc(m.error ?? '')}</td></tr>`).join('')}</table>`
    : '<p class="muted">No moves made.</p>';
  const explain = q.selection ? `<pre class="explain" id="explain">${esc(explainLines(q.selection).join('\n'))}</pre>` : '<p class="muted">No selection recorded (the query did not finish).</p>';
  return `<p><a href="/history">← Query history</a></p>
<table><tr><th>Query id</th><td>${esc(q.id)}</td></tr><tr><th>Status</th><td id="detail-status">${statusCell(q.status)}</td></tr>
<tr><th>Started</th><td>${esc(q.startedAt)}</td></tr><tr><th>Finished</th><td>${esc(q.finishedAt ?? '')}</td></tr>
<tr><th>Nodes</th><td>QR ${esc(q.parameters.qrNodeId)} → store ${esc(q.parameters.storeNodeId)}</td></tr>
<tr><th>Command</th><td>${esc((q.parameters.argv ?? []).join(' '))}</td></tr></table>
${resultBlock(q, csrf, job, mayRun)}
<h2>Summary</h2><table>${summary}</table>
${q.errors.length ? `<h2>Errors and warnings</h2><ul>${q.errors.map((e) => `<li>${esc(e.at)} ${esc(e.stage)}: ${esc(e.message)}</li>`).join('')}</ul>` : ''}
<h2>Moves and results</h2>${moves}
<h2>Why each study and series was kept or dropped</h2>${explain}`;
}

export function nodesPage(o: { csrf: string; qr: readonly QrNode[]; store: readonly StoreNode[]; echo: { id: string; ok: boolean; text: string } | undefined; flash?: string | undefined; error?: string | undefined }): string {
  const echo = (id: string) => `<a href="/nodes?echo=${encodeURIComponent(id)}">echo</a>`;
  const actions = (id: string) => `${echo(id)} · <a href="/nodes/${esc(id)}/edit">edit</a> <form method="post" action="/nodes/${esc(id)}/remove" style="display:inline">${csrfField(o.csrf)}<button type="submit">remove</button></form>`;
  return `${flash(o.flash, 'info')}${flash(o.error, 'error')}${o.echo ? `<p class="flash${o.echo.ok ? ' info' : ''}" id="echo-result">${esc(o.echo.id)}: ${esc(o.echo.text)}</p>` : ''}
<h2>Remote query/retrieve nodes</h2><table id="qr-nodes"><tr><th>Id</th><th>Name</th><th>AE title</th><th>Host</th><th>Port</th><th>Calling AE</th><th>Modality tag</th><th></th></tr>
${o.qr.map((n) => `<tr><td>${esc(n.id)}</td><td>${esc(n.name)}</td><td>${esc(n.aeTitle)}</td><td>${esc(n.host)}</td><td>${n.port}</td><td>${esc(n.callingAeTitle)}</td><td>${n.useModalityTag ? 'yes' : 'no'}</td><td>${actions(n.id)}</td></tr>`).join('')}</table>
<h2>Store nodes</h2><table id="store-nodes"><tr><th>Id</th><th>Name</th><th>AE title</th><th>Host</th><th>Port</th><th>Folder</th><th>Own</th><th></th></tr>
${o.store.map((n) => `<tr><td>${esc(n.id)}</td><td>${esc(n.name)}</td><td>${esc(n.aeTitle)}</td><td>${esc(n.host)}</td><td>${n.port}</td><td>${esc(n.directory)}</td><td>${n.own ? 'yes' : 'external'}</td><td>${actions(n.id)}</td></tr>`).join('')}</table>
<div class="columns"><form method="post" action="/nodes" id="add-qr">${csrfField(o.csrf)}<input type="hidden" name="kind" value="qr"><fieldset><legend>Add a QR node</legend>
${nodeInputs('qr', undefined)}<button type="submit">Add QR node</button></fieldset></form>
<form method="post" action="/nodes" id="add-store">${csrfField(o.csrf)}<input type="hidden" name="kind" value="store"><fieldset><legend>Add a store node</legend>
${nodeInputs('store', undefined)}<button type="submit">Add store node</button></fieldset></form></div>`;
}

function nodeInputs(kind: 'qr' | 'store', n: QrNode | StoreNode | undefined): string {
  const t = (k: string, label: string, v: unknown, type = 'text') => `<label>${label} <input type="${type}" name="${k}" value="${esc(v ?? '')}"></label><br>`;
  const common = (n ? '' : t('id', 'Id (used by the CLI)', '')) + t('name', 'Name', n?.name) + t('aeTitle', 'AE title', n?.aeTitle) + t('host', 'Host', n?.host ?? (kind === 'store' ? '127.0.0.1' : '')) + t('port', 'Port', n?.port, 'number');
  if (kind === 'qr') {
    const q = n as QrNode | undefined;
    return common + t('callingAeTitle', 'Calling AE title', q?.callingAeTitle ?? 'QRSCU') + t('maxAssociations', 'Parallel associations', q?.maxAssociations ?? 4, 'number')
      + `<label><input type="checkbox" name="useModalityTag"${q?.useModalityTag ? ' checked' : ''}> Send Modality at study level</label><br>`;
  }
  const s = n as StoreNode | undefined;
  return common + t('directory', 'Storage folder', s?.directory) + `<label><input type="checkbox" name="own"${s === undefined || s.own ? ' checked' : ''}> qrscu's own store node</label><br>`;
}

export function nodeEditPage(csrf: string, found: NodeEntry): string {
  return `<p><a href="/nodes">← DICOM network configuration</a></p><form method="post" action="/nodes/${esc(found.node.id)}/edit" id="edit-node">${csrfField(csrf)}
<fieldset><legend>${found.kind === 'qr' ? 'QR' : 'Store'} node ${esc(found.node.id)}</legend>${nodeInputs(found.kind, found.node)}<button type="submit">Save</button></fieldset></form>`;
}

export function usersPage(csrf: string, users: readonly UserRecord[], message?: string, error?: string): string {
  return `${flash(message, 'info')}${flash(error, 'error')}<table id="users"><tr><th>User</th><th>Role</th><th>Since</th><th></th></tr>${users.map((u) =>
    `<tr><td>${esc(u.name)}</td><td>${esc(u.role)}</td><td>${esc(u.createdAt)}</td><td><form method="post" action="/users/${esc(u.name)}/remove">${csrfField(csrf)}<button type="submit">remove</button></form></td></tr>`).join('')}</table>
<form method="post" action="/users" id="add-user">${csrfField(csrf)}<fieldset><legend>Add a user</legend><label>Name <input type="text" name="name"></label>
<label>Password <input type="password" name="password" autocomplete="new-password"></label><label>Role <select name="role"><option>viewer</option><option>user</option><option>admin</option></select></label>
<button type="submit">Add</button></fieldset></form><p class="muted">Roles: admin manages nodes and users; user runs queries and retrieves; viewer reads the history.</p>`;
}

/** The signed-in user's own page: change the password (the current one first). */
export function accountPage(csrf: string, user: UserRecord, minLength: number, message?: string, error?: string): string {
  return `${flash(message, 'info')}${flash(error, 'error')}<p>Signed in as <b>${esc(user.name)}</b> (${esc(user.role)}).</p>
<form method="post" action="/account" id="password">${csrfField(csrf)}<fieldset><legend>Change your password</legend>
<label>Current password <input type="password" name="current" autocomplete="current-password" required></label>
<label>New password <input type="password" name="password" autocomplete="new-password" minlength="${minLength}" required></label>
<label>New password again <input type="password" name="again" autocomplete="new-password" minlength="${minLength}" required></label>
<button type="submit">Change</button></fieldset></form><p class="muted">At least ${minLength} characters. Other sessions stay signed in until they expire.</p>`;
}
