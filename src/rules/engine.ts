// The selection engine: runs the study stages of study.json over the study responses, and the first
// applicable branch file inside the `branches` step, keeping a decision for everything it keeps or
// drops. It knows step kinds, not modalities, vendors or SOP classes: those are rule data.

import debug from 'debug';
import type { RuleSet, Step } from './language.js';
import type {
  Decision,
  ImageResponse,
  ImageSelection,
  PlannedMove,
  SelectionInput,
  SelectionResult,
  SeriesResponse,
  SeriesSelection,
  StudyResponse,
  StudySelection,
} from './model.js';
import { evaluate, registerOperations, test } from './operations.js';
import { imageFacts, runFacts, seriesFacts, studyContext, type ImageFacts, type RunFacts, type SeriesFacts, type StudyContext } from './facts.js';
import { studyQueryCodes } from './groups.js';

const log = debug('qrscu:rules:engine');

interface ImageState {
  readonly response: ImageResponse;
  readonly fact: ImageFacts;
  decision?: Decision;
}

interface SeriesState {
  readonly response: SeriesResponse;
  readonly fact: SeriesFacts;
  readonly decisions: Decision[];
  readonly images: ImageState[];
  /** Created on the first probe (most series are never probed). */
  imageByUid?: Map<string, ImageState>;
  readonly notes: string[];
  probeAll?: readonly ImageResponse[];
  probeFirst?: readonly ImageResponse[];
}

interface StudyState {
  readonly response: StudyResponse;
  readonly ctx: StudyContext;
  kept: boolean;
  decisions: Decision[];
  series: SeriesState[];
  notes: string[];
  stopped: boolean;
}

/** What a run shares: rule set, input, counters, caches. */
interface Run {
  readonly rules: RuleSet;
  readonly input: SelectionInput;
  readonly facts: RunFacts;
  readonly warnings: string[];
  readonly seriesCache: Map<string, Promise<readonly SeriesResponse[]>>;
  /** Image-level answers by study, series and probe mode: split copies share them. */
  readonly imageCache: Map<string, Promise<readonly ImageResponse[]>>;
  imageQueries: number;
  seriesQueries: number;
}

type Flow = 'continue' | 'stop';

const DEFAULT_CONCURRENCY = 1;

/**
 * Select the studies, series and images to retrieve from the query responses, as the rule set says.
 * Image-level C-FINDs go through `input.port`; nothing else is done to the outside world.
 */
export async function select(rules: RuleSet, input: SelectionInput): Promise<SelectionResult> {
  registerOperations();
  const groupCodes: Record<string, readonly string[]> = {};
  for (const g of rules.groups) groupCodes[g.name] = g.codes;
  const known = input.options.groups.filter((g) => groupCodes[g] !== undefined);
  const run: Run = {
    rules,
    input,
    facts: runFacts(input.options, input.outcome, studyQueryCodes(rules, known), groupCodes),
    warnings: [],
    seriesCache: new Map(),
    imageCache: new Map(),
    imageQueries: 0,
    seriesQueries: 0,
  };
  let studies: StudyState[] = [];
  for (const r of input.studies) {
    if (!r.studyInstanceUid) {
      run.warnings.push(`study response without StudyInstanceUID skipped (queried with ModalitiesInStudy ${r.queriedCode})`);
      continue;
    }
    studies.push({ response: r, ctx: studyContext(run.facts, r), kept: true, decisions: [], series: [], notes: [], stopped: false });
  }
  for (const stage of rules.stages) {
    for (const s of studies) s.stopped = false;
    for (const step of stage.steps) {
      if (step.kind === 'uniqueStudies') uniqueStudies(studies, step, stage.name);
      else if (step.kind === 'splitStudy') studies = splitStudies(run, studies, step, stage.name);
      else {
        const limit = input.concurrency ?? DEFAULT_CONCURRENCY;
        if (limit <= 1) {
          // Synchronous steps finish at once; a step that queries is awaited before the next study.
          for (const s of studies) {
            if (!s.kept || s.stopped) continue;
            let flow = runStep(run, s, step, stage.name, '');
            if (flow !== 'stop' && flow !== 'continue') flow = await flow;
            if (flow === 'stop') s.stopped = true;
          }
        } else {
          await forEachLimit(studies, limit, async (s) => {
            if (!s.kept || s.stopped) return;
            if ((await runStep(run, s, step, stage.name, '')) === 'stop') s.stopped = true;
          });
        }
      }
    }
  }
  return result(run, studies);
}

// ---- list-level steps ----------------------------------------------------------------------------

function uniqueStudies(studies: StudyState[], step: Step & { kind: 'uniqueStudies' }, label: string): void {
  const seen = new Set<string>();
  for (const s of studies) {
    const uid = s.response.studyInstanceUid;
    if (s.kept && seen.has(uid) && whenHolds(step, s.ctx)) dropStudy(s, decision(false, label, step, step.reason));
    seen.add(uid);
  }
}

function splitStudies(run: Run, studies: StudyState[], step: Step & { kind: 'splitStudy' }, label: string): StudyState[] {
  const out: StudyState[] = [];
  for (const s of studies) {
    out.push(s);
    if (!s.kept || s.ctx.study.copy !== 0 || !whenHolds(step, s.ctx)) continue;
    const lists = step.copies.map((c) => toStrings(evaluate(c, s.ctx)));
    const targets = lists.map((_, i) => (i === 0 ? s : copyStudy(run, s)));
    lists.forEach((modalities, i) => {
      const target = targets[i];
      target.ctx.study.modalities = modalities;
      target.ctx.study.copy = i + 1;
      target.ctx.study.copies = lists.length;
      target.decisions.push(decision(true, label, step, `${step.reason}: copy ${i + 1} of ${lists.length} with modalities [${modalities.join(', ')}]`));
      if (i > 0) out.push(target);
    });
  }
  return out;
}

function copyStudy(run: Run, s: StudyState): StudyState {
  const ctx = studyContext(run.facts, s.response);
  ctx.study = { ...s.ctx.study };
  ctx.found = structuredClone(s.ctx.found);
  return { response: s.response, ctx, kept: s.kept, decisions: [...s.decisions], series: [], notes: [...s.notes], stopped: false };
}

// ---- per-study steps -----------------------------------------------------------------------------

/** Run one step on one study; `prefix` names the procedure a step came from ("srCheck/"). */
function runStep(run: Run, s: StudyState, step: Step, label: string, prefix: string): Flow | Promise<Flow> {
  if (!whenHolds(step, s.ctx)) return 'continue';
  const id = prefix + step.id;
  switch (step.kind) {
    case 'uniqueStudies':
    case 'splitStudy':
      return 'continue'; // list-level, run by select()
    case 'querySeries':
      return querySeries(run, s, step).then(() => 'continue');
    case 'termFilter':
      termFilter(s, step, label, id);
      return 'continue';
    case 'dropStudy':
      dropStudy(s, { kept: false, branch: label, step: id, reason: step.reason, source: step.source });
      return 'stop';
    case 'branches':
      return runBranches(run, s, step, label, id);
    case 'duplicates':
      return run.input.held === undefined || !run.input.options.removeDuplicates ? 'continue' : duplicates(run, s, step, label, id).then(() => 'continue');
    case 'probe': {
      const chosen = live(s).filter((x) => test(step.where, x.fact));
      return chosen.length === 0 ? 'continue' : probe(run, s, step, chosen).then(() => 'continue');
    }
    case 'set':
      s.ctx.found[step.name] = evaluate(step.value, s.ctx);
      return 'continue';
    case 'keep':
    case 'drop': {
      const kept = step.kind === 'keep';
      for (const ser of live(s).filter((x) => test(step.where, x.fact))) {
        if (step.note !== undefined) ser.notes.push(step.note);
        if (kept) ser.decisions.push({ kept, branch: label, step: id, reason: step.reason, source: step.source });
        else dropSeries(ser, { kept, branch: label, step: id, reason: step.reason, source: step.source });
      }
      refresh(s);
      return 'continue';
    }
    case 'keepFirst': {
      const matching = live(s).filter((x) => test(step.where, x.fact));
      for (const ser of matching.slice(step.count)) dropSeries(ser, { kept: false, branch: label, step: id, reason: step.reason, source: step.source });
      refresh(s);
      return 'continue';
    }
    case 'keepImages':
      keepImages(s, step, label, id);
      return 'continue';
    case 'stop':
      if (step.reason !== undefined) s.notes.push(`${label}: ${step.reason}`);
      return 'stop';
    case 'call':
      return runSteps(run, s, run.rules.procedures.get(step.procedure) ?? [], label, `${prefix}${step.procedure}/`, 0);
  }
}

/** Run `steps` from index `from` until one stops or the study is dropped; asynchronous only when a step is. */
function runSteps(run: Run, s: StudyState, steps: readonly Step[], label: string, prefix: string, from: number): Flow | Promise<Flow> {
  for (let i = from; i < steps.length; i++) {
    if (!s.kept) return 'stop';
    const flow = runStep(run, s, steps[i], label, prefix);
    if (flow === 'stop') return 'stop';
    if (flow !== 'continue') {
      return flow.then((f) => (f === 'stop' ? 'stop' : runSteps(run, s, steps, label, prefix, i + 1)));
    }
  }
  return 'continue';
}

async function querySeries(run: Run, s: StudyState, step: Step & { kind: 'querySeries' }): Promise<void> {
  const uid = s.response.studyInstanceUid;
  let pending = run.seriesCache.get(uid);
  if (pending === undefined) {
    run.seriesQueries++;
    pending = run.input.port.findSeries(s.response);
    run.seriesCache.set(uid, pending);
  }
  const responses = await pending;
  s.series = [];
  for (const r of responses) {
    if (!r.seriesInstanceUid) {
      if (s.ctx.study.copy <= 1) run.warnings.push(`series response without SeriesInstanceUID skipped (study ${uid})`);
      continue;
    }
    const fact = seriesFacts(s.ctx, r);
    s.series.push({ response: r, fact, decisions: [], images: [], notes: [] });
  }
  s.ctx.allSeries = s.series.map((x) => x.fact);
  refresh(s);
  if (step.rebuildModalities !== undefined && test(step.rebuildModalities, s.ctx)) {
    const modalities: string[] = [];
    for (const x of s.series) if (!modalities.includes(x.response.modality)) modalities.push(x.response.modality);
    s.ctx.study.modalities = modalities;
    s.ctx.study.modalitiesSource = 'rebuilt';
    s.notes.push(`modalities rebuilt from the series: [${modalities.join(', ')}]${step.reason ? ` (${step.reason})` : ''}`);
  }
}

/** Case-insensitive substring include/exclude; empty terms ignored; a missing value passes both. */
function termFilter(s: StudyState, step: Step & { kind: 'termFilter' }, label: string, id: string): void {
  const include = terms(evaluate(step.include, s.ctx));
  const exclude = terms(evaluate(step.exclude, s.ctx));
  if (include.length === 0 && exclude.length === 0) return;
  const judge = (facts: unknown): Decision | undefined => {
    const raw = evaluate(step.value, facts);
    const at = { branch: label, step: id, source: step.source };
    if (typeof raw !== 'string' || raw === '') {
      return { kept: true, ...at, reason: `${step.label} not returned: passes the include and exclude filters` };
    }
    const value = raw.toLowerCase();
    const hit = exclude.find((t) => value.includes(t));
    if (hit !== undefined) return { kept: false, ...at, reason: `${step.label} "${raw}" matches exclude term "${hit}"` };
    if (include.length > 0) {
      const inc = include.find((t) => value.includes(t));
      if (inc === undefined) return { kept: false, ...at, reason: `${step.label} "${raw}" matches no include term (${include.join(', ')})` };
      return { kept: true, ...at, reason: `${step.label} "${raw}" matches include term "${inc}"` };
    }
    return undefined;
  };
  if (step.level === 'study') {
    const d = judge(s.ctx);
    if (d === undefined) return;
    if (d.kept) s.decisions.push(d);
    else dropStudy(s, d);
    return;
  }
  for (const ser of live(s)) {
    const d = judge(ser.fact);
    if (d === undefined) continue;
    if (d.kept) ser.decisions.push(d);
    else dropSeries(ser, d);
  }
  refresh(s);
}

/** The first branch that applies runs its steps; a stop inside ends the branch, not the stage. */
function runBranches(run: Run, s: StudyState, step: Step & { kind: 'branches' }, label: string, id: string): Flow | Promise<Flow> {
  const branch = run.rules.branches.find((b) => test(b.applies, s.ctx));
  if (branch === undefined) {
    s.decisions.push({ kept: true, branch: label, step: id, reason: step.otherwise ?? 'no branch applies: kept with all its series', source: step.source });
    return 'continue';
  }
  s.ctx.study.branch = branch.name;
  s.decisions.push({ kept: true, branch: branch.name, step: 'applies', reason: branch.description || `branch ${branch.name} applies`, source: branch.source });
  const flow = runSteps(run, s, branch.steps, branch.name, '', 0);
  if (flow === 'stop' || flow === 'continue') return s.kept ? 'continue' : 'stop';
  return flow.then(() => (s.kept ? 'continue' : 'stop'));
}

/** Image-level C-FIND of the chosen series: every instance, or the first (InstanceNumber 1, then 0). */
async function probe(run: Run, s: StudyState, step: Step & { kind: 'probe' }, chosen: readonly SeriesState[]): Promise<void> {
  for (const ser of chosen) {
    const list = await imagesOf(run, s, ser, step.instances);
    if (list.length === 0 && step.emptyNote !== undefined) {
      ser.notes.push(step.emptyNote);
      run.warnings.push(`${step.emptyNote} (series ${ser.response.seriesNumber ?? '?'} ${ser.response.seriesInstanceUid} of study ${s.response.studyInstanceUid})`);
    }
  }
}

/** One probe at the port; responses without SOPInstanceUID are skipped with a warning. */
async function findImages(run: Run, study: StudyResponse, series: SeriesResponse, mode: 'all' | 'first'): Promise<readonly ImageResponse[]> {
  const port = run.input.port;
  let raw: readonly ImageResponse[];
  if (mode === 'all') {
    run.imageQueries++;
    raw = await port.findImages(study, series, {});
  } else {
    // PS3.4 C.6: InstanceNumber as a matching key; older systems count from 0.
    run.imageQueries++;
    raw = await port.findImages(study, series, { instanceNumber: 1 });
    if (raw.length === 0) {
      run.imageQueries++;
      raw = await port.findImages(study, series, { instanceNumber: 0 });
    }
  }
  const valid: ImageResponse[] = [];
  for (const r of raw) {
    if (r.sopInstanceUid) valid.push(r);
    else run.warnings.push(`image response without SOPInstanceUID skipped (series ${series.seriesInstanceUid} of study ${study.studyInstanceUid})`);
  }
  log('probe %s %s: %d', mode, series.seriesInstanceUid, valid.length);
  return valid;
}

/** The responses of one probe of a series, from the cache or the port; updates the series facts. */
async function imagesOf(run: Run, s: StudyState, ser: SeriesState, mode: 'all' | 'first'): Promise<readonly ImageResponse[]> {
  let list = mode === 'all' ? ser.probeAll : ser.probeFirst;
  if (list === undefined) {
    const key = `${s.response.studyInstanceUid}|${ser.response.seriesInstanceUid}|${mode}`;
    let pending = run.imageCache.get(key);
    if (pending === undefined) {
      pending = findImages(run, s.response, ser.response, mode);
      run.imageCache.set(key, pending);
    }
    list = await pending;
    if (mode === 'all') ser.probeAll = list;
    else ser.probeFirst = list;
  }
  const f = ser.fact;
  ser.imageByUid ??= new Map();
  for (const r of list) {
    if (ser.imageByUid.has(r.sopInstanceUid)) continue;
    const categories = run.rules.categoriesByClass.get(r.sopClassUid) ?? [];
    const img: ImageState = { response: r, fact: imageFacts(f, r, categories) };
    ser.images.push(img);
    ser.imageByUid.set(r.sopInstanceUid, img);
    for (const c of categories) if (!f.categories.includes(c)) f.categories.push(c);
  }
  f.probed = true;
  f.imageCount = list.length;
  f.firstSopClass = list.length > 0 ? list[0].sopClassUid : null;
  f.firstCategories = list.length > 0 ? [...(run.rules.categoriesByClass.get(list[0].sopClassUid) ?? [])] : [];
  const firstUid = list.length > 0 ? list[0].sopInstanceUid : undefined;
  for (const img of ser.images) img.fact.first = img.response.sopInstanceUid === firstUid;
  return list;
}

function keepImages(s: StudyState, step: Step & { kind: 'keepImages' }, label: string, id: string): void {
  for (const ser of live(s)) {
    if (!test(step.where, ser.fact)) continue;
    const candidates = ser.images.filter((i) => i.fact.kept);
    if (candidates.length === 0) continue;
    const keep = candidates.filter((i) => test(step.images, i.fact));
    const at = { branch: label, step: id, source: step.source };
    if (keep.length === 0) {
      dropSeries(ser, { kept: false, ...at, reason: `${step.reason}: no image response left` });
      continue;
    }
    const dropped = candidates.length - keep.length;
    if (dropped === 0 && step.imageLevel !== 'always') continue;
    for (const i of candidates) {
      const kept = keep.includes(i);
      i.fact.kept = kept;
      i.decision = { kept, ...at, reason: step.reason };
    }
    ser.fact.moveLevel = 'IMAGE';
    ser.decisions.push({ kept: true, ...at, reason: `${step.reason} (${keep.length} of ${candidates.length} image responses, moved at image level)` });
  }
  refresh(s);
}

/**
 * Objects already held (PS3.4 C.4: compared by SOP Instance UID): each chosen series of a held study
 * is listed at image level and only what is missing is moved.
 */
async function duplicates(run: Run, s: StudyState, step: Step & { kind: 'duplicates' }, label: string, id: string): Promise<void> {
  const { held } = run.input;
  if (held === undefined) return;
  const heldSet = await held.heldInstances(s.response.studyInstanceUid);
  s.ctx.study.held = heldSet !== undefined;
  if (heldSet === undefined) return;
  const at = { branch: label, step: id, source: step.source };
  for (const ser of live(s)) {
    if (step.where !== undefined && !test(step.where, ser.fact)) continue;
    if (ser.fact.moveLevel === 'IMAGE') {
      const selected = ser.images.filter((i) => i.fact.kept);
      const have = selected.filter((i) => heldSet.has(i.response.sopInstanceUid));
      if (have.length === 0) continue;
      for (const i of have) {
        i.fact.kept = false;
        i.decision = { kept: false, ...at, reason: 'already held' };
      }
      if (have.length === selected.length) dropSeries(ser, { kept: false, ...at, reason: `all ${selected.length} selected instances already held` });
      else ser.decisions.push({ kept: true, ...at, reason: `${selected.length - have.length} of ${selected.length} selected instances not held yet: moved at image level` });
      continue;
    }
    const list = await imagesOf(run, s, ser, 'all');
    if (list.length === 0) {
      ser.notes.push('answers nothing at image level: what it holds cannot be compared');
      ser.decisions.push({ kept: true, ...at, reason: 'study already held, but the series answers nothing at image level: moved whole at series level' });
      continue;
    }
    const inList = new Set(list.map((r) => r.sopInstanceUid));
    const have = list.filter((r) => heldSet.has(r.sopInstanceUid)).length;
    if (have === 0) {
      ser.decisions.push({ kept: true, ...at, reason: `none of its ${list.length} instances held: moved at series level` });
    } else if (have === list.length) {
      dropSeries(ser, { kept: false, ...at, reason: `all ${list.length} instances already held` });
    } else {
      for (const i of ser.images) {
        const missing = inList.has(i.response.sopInstanceUid) && !heldSet.has(i.response.sopInstanceUid);
        i.fact.kept = missing;
        i.decision = { kept: missing, ...at, reason: missing ? 'not held yet' : inList.has(i.response.sopInstanceUid) ? 'already held' : 'not listed by the image-level query' };
      }
      ser.fact.moveLevel = 'IMAGE';
      ser.decisions.push({ kept: true, ...at, reason: `${list.length - have} of ${list.length} instances not held yet: moved at image level` });
    }
  }
  refresh(s);
}

// ---- helpers -------------------------------------------------------------------------------------

function whenHolds(step: Step, ctx: StudyContext): boolean {
  return step.when === undefined || test(step.when, ctx);
}

function decision(kept: boolean, label: string, step: Step, reason: string): Decision {
  return { kept, branch: label, step: step.id, reason, source: step.source };
}

function live(s: StudyState): SeriesState[] {
  return s.series.filter((x) => x.fact.kept);
}

/** Keep the `series` fact (the kept series) in step with the states. */
function refresh(s: StudyState): void {
  s.ctx.series = s.series.filter((x) => x.fact.kept).map((x) => x.fact);
}

function dropSeries(ser: SeriesState, d: Decision): void {
  ser.fact.kept = false;
  ser.decisions.push(d);
}

function dropStudy(s: StudyState, d: Decision): void {
  s.kept = false;
  s.decisions.push(d);
}

function terms(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.filter((t): t is string => typeof t === 'string' && t.trim() !== '').map((t) => t.toLowerCase());
}

function toStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  if (limit <= 1) {
    for (const item of items) await fn(item);
    return;
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// ---- result --------------------------------------------------------------------------------------

function result(run: Run, studies: StudyState[]): SelectionResult {
  const out: StudySelection[] = [];
  const moves: PlannedMove[] = [];
  const planned = new Set<string>();
  // The engine is done with its arrays: the result takes them over instead of copying 50,000 of each.
  for (const s of studies) {
    const last = s.decisions[s.decisions.length - 1];
    const series: SeriesSelection[] = [];
    for (const ser of s.series) {
      const kept = s.kept && ser.fact.kept;
      if (!s.kept && ser.fact.kept && last !== undefined) ser.decisions.push({ ...last, kept: false, reason: `study dropped: ${last.reason}` });
      const images: ImageSelection[] = ser.images.length === 0 ? NO_IMAGES : ser.images.map(imageSelection);
      if (kept) planMoves(s, ser, moves, planned);
      series.push({
        response: ser.response,
        kept,
        decisions: ser.decisions,
        categories: ser.fact.categories,
        moveLevel: ser.fact.moveLevel,
        images,
        notes: ser.notes,
      });
    }
    out.push({
      response: s.response,
      modalities: s.ctx.study.modalities ?? [],
      modalitiesSource: s.ctx.study.modalitiesSource,
      kept: s.kept,
      branch: s.ctx.study.branch,
      decisions: s.decisions,
      series,
      notes: s.notes,
    });
  }
  return { studies: out, moves, warnings: run.warnings, imageQueries: run.imageQueries, seriesQueries: run.seriesQueries };
}

const NO_IMAGES: ImageSelection[] = [];

function imageSelection(i: ImageState): ImageSelection {
  const { sopInstanceUid, sopClassUid, instanceNumber } = i.response;
  return i.decision === undefined
    ? { sopInstanceUid, sopClassUid, instanceNumber, kept: i.fact.kept }
    : { sopInstanceUid, sopClassUid, instanceNumber, kept: i.fact.kept, decision: i.decision };
}

/** The C-MOVEs of a kept series: one at series level, or one per kept image; split copies share them. */
function planMoves(s: StudyState, ser: SeriesState, moves: PlannedMove[], planned: Set<string>): void {
  const studyInstanceUid = s.response.studyInstanceUid;
  const seriesInstanceUid = ser.response.seriesInstanceUid;
  const branch = s.ctx.study.branch;
  if (ser.fact.moveLevel === 'SERIES') {
    const key = `${studyInstanceUid}|${seriesInstanceUid}`;
    if (planned.has(key)) return;
    planned.add(key);
    moves.push({ studyInstanceUid, seriesInstanceUid, level: 'SERIES', expectedInstances: ser.response.numberOfSeriesRelatedInstances, branch });
    return;
  }
  for (const i of ser.images) {
    const key = `${studyInstanceUid}|${seriesInstanceUid}|${i.response.sopInstanceUid}`;
    if (!i.fact.kept || planned.has(key)) continue;
    planned.add(key);
    moves.push({ studyInstanceUid, seriesInstanceUid, level: 'IMAGE', sopInstanceUid: i.response.sopInstanceUid, expectedInstances: 1, branch });
  }
}
