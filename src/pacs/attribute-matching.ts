// Attribute matching of C-FIND (PS3.4 C.2.2.2) for the simulated PACS in files mode: single value,
// UID list, universal, wild card and range matching, multi-valued entity attributes. Pure functions
// over decoded values (text as getStrings returns it: trimmed as its VR says); no I/O.

import type { VR } from '../dicom/vr.js';

export interface MatchOptions {
  /**
   * PN keys match regardless of case (PS3.4 C.2.2.2.1 allows it; Orthanc and PixelMed do it).
   * Default false: case-sensitive, as dcmqrscp and as every other VR requires.
   */
  readonly caseInsensitivePersonName?: boolean;
}

/** A compiled matching key: does an entity holding `held` (undefined: attribute absent) match? */
export type Matcher = (held: readonly string[] | undefined) => boolean;

/** VRs for which "*" and "?" are wild cards (PS3.4 C.2.2.2.4). */
const WILDCARD_VRS: ReadonlySet<VR> = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);
/** VRs whose values are single text values, never split at "\". */
const RANGE_VRS: ReadonlySet<VR> = new Set(['DA', 'TM', 'DT']);

/** The key has no value (zero length, or only empty values): universal matching (PS3.4 C.2.2.2.3). */
export function isUniversal(key: readonly string[] | undefined): boolean {
  return key === undefined || key.every((v) => v === '');
}

/**
 * Compile one matching key of VR `vr` with the values `key` as sent. The rules:
 * - no value, or a wild card key that is only "*": universal, every entity matches (even one without
 *   the attribute);
 * - UI with several values: UID list matching (C.2.2.2.2), the entity's UID is one of them;
 * - DA, TM, DT: "a-b", "-b", "a-" are ranges (C.2.2.2.5), inclusive; partial times and date-times are
 *   ranges of their precision (upper bound "10" = up to 10:59:59.999999); a single value matches
 *   exactly, compared at the same precision;
 * - AE CS LO LT PN SH ST UC UT with "*" or "?": wild card matching (C.2.2.2.4), "?" is one character;
 * - otherwise single value matching: equal text, case-sensitive (PN optionally not); IS and DS
 *   compare as numbers;
 * - several values in a non-UI key (not defined by the standard for single value matching): the
 *   entity matches when any of them matches (as ModalitiesInStudy "CT\SR" does);
 * - an entity attribute with several values (ModalitiesInStudy, ImageType) matches when any value
 *   matches; an entity without the attribute, or with it empty, matches only universal keys.
 */
export function compileKey(vr: VR, key: readonly string[] | undefined, options: MatchOptions = {}): Matcher {
  if (vr === 'SQ' || isUniversal(key)) return () => true;
  const values = key!.filter((v) => v !== '');
  const tests = values.map((v) => compileValue(vr, v, options));
  if (tests.some((t) => t === undefined)) return () => true; // a "*" among the values
  const list = tests as ((held: string) => boolean)[];
  return (held) => {
    if (held === undefined) return false;
    for (const h of held) {
      if (h === '') continue;
      for (const t of list) if (t(h)) return true;
    }
    return false;
  };
}

/** One key value as a test of one held value; undefined for a universal wild card ("*"). */
function compileValue(vr: VR, value: string, options: MatchOptions): ((held: string) => boolean) | undefined {
  if (RANGE_VRS.has(vr)) return compileTemporal(vr, value);
  if (vr === 'IS' || vr === 'DS') {
    const n = Number(value);
    return (held) => (Number.isFinite(n) ? Number(held) === n : held === value);
  }
  const fold = vr === 'PN' && options.caseInsensitivePersonName === true;
  if (WILDCARD_VRS.has(vr) && /[*?]/.test(value)) {
    if (/^\*+$/.test(value)) return undefined;
    const re = wildcardRegExp(value, fold);
    return (held) => re.test(held);
  }
  if (fold) {
    const lower = value.toLowerCase();
    return (held) => held.toLowerCase() === lower;
  }
  return (held) => held === value;
}

/** "*" any sequence of characters (also none), "?" exactly one character; everything else literal. */
export function wildcardRegExp(pattern: string, ignoreCase = false): RegExp {
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[\\^$.|+()[\]{}\-/]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, `su${ignoreCase ? 'i' : ''}`);
}

// ---- dates and times -------------------------------------------------------------------------------

/** A temporal value as a closed interval of comparable strings; undefined when it cannot be read. */
type Interval = readonly [string, string];

function compileTemporal(vr: VR, value: string): (held: string) => boolean {
  const dash = rangeDash(vr, value);
  if (dash >= 0) {
    const lo = value.slice(0, dash).trim();
    const hi = value.slice(dash + 1).trim();
    const lower = lo === '' ? undefined : interval(vr, lo)?.[0];
    const upper = hi === '' ? undefined : interval(vr, hi)?.[1];
    if ((lo !== '' && lower === undefined) || (hi !== '' && upper === undefined)) return () => false;
    return (held) => {
      const h = interval(vr, held);
      if (!h) return false;
      return (lower === undefined || h[0] >= lower) && (upper === undefined || h[0] <= upper);
    };
  }
  const want = interval(vr, value.trim());
  if (!want) return () => false;
  return (held) => {
    const h = interval(vr, held);
    return h !== undefined && h[0] === want[0];
  };
}

/**
 * Where the range "-" is. A DT value may end in a "-hhmm" UTC offset: a "-" that follows at least
 * date and hour (10 digits) and precedes 4 digits ending the value (or the range) is an offset.
 */
function rangeDash(vr: VR, value: string): number {
  if (vr !== 'DT') return value.indexOf('-');
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '-') continue;
    if (/^\d{10}[\d.]*$/.test(value.slice(0, i).split('-').pop() ?? '') && /^\d{4}(-|$)/.test(value.slice(i + 1))) continue;
    return i;
  }
  return -1;
}

/** Normalised [earliest, latest] of a DA ("YYYYMMDD", also "YYYY.MM.DD"), TM or DT value at its precision. */
export function interval(vr: VR, raw: string): Interval | undefined {
  const s = raw.trim();
  if (vr === 'DA') {
    const d = s.replace(/\./g, '');
    return /^\d{8}$/.test(d) ? [d, d] : undefined;
  }
  if (vr === 'TM') return timeInterval(s.replace(/:/g, ''));
  // DT: YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX]; the offset is ignored (local times compare).
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?([+-]\d{4})?$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, t] = m;
  const lowDate = `${y}${mo ?? '01'}${d ?? '01'}`;
  const highDate = `${y}${mo ?? '12'}${d ?? (mo ? lastDay(Number(y), Number(mo)) : '31')}`;
  if (t === undefined) return [`${lowDate}000000.000000`, `${highDate}235959.999999`];
  const ti = timeInterval(t);
  if (!ti) return undefined;
  return [`${lowDate}${ti[0]}`, `${highDate}${ti[1]}`];
}

function timeInterval(s: string): Interval | undefined {
  const m = /^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) return undefined;
  const [, h, mi, sec, frac] = m;
  if (frac !== undefined && sec === undefined) return undefined;
  const low = `${h}${mi ?? '00'}${sec ?? '00'}.${(frac ?? '').padEnd(6, '0')}`;
  const high = `${h}${mi ?? '59'}${sec ?? '59'}.${(frac ?? '').padEnd(6, frac === undefined ? '9' : '0')}`;
  return [low, high];
}

function lastDay(year: number, month: number): string {
  return String(new Date(Date.UTC(year, month, 0)).getUTCDate()).padStart(2, '0');
}

/**
 * Combined date and time range matching (PS3.4 C.2.2.2.5.1, negotiated as an extended option):
 * when both keys are present and one of them is a range, the pair is one date-time range
 * ("d1-d2" with "t1-t2" = from d1 t1 to d2 t2). Returns undefined when the pair is not combined
 * (then each key matches on its own).
 */
export function compileDateTimePair(dateKey: readonly string[] | undefined, timeKey: readonly string[] | undefined): ((date: readonly string[] | undefined, time: readonly string[] | undefined) => boolean) | undefined {
  if (isUniversal(dateKey) || isUniversal(timeKey) || dateKey!.length !== 1 || timeKey!.length !== 1) return undefined;
  const d = dateKey![0]!.trim();
  const t = timeKey![0]!.trim();
  if (!d.includes('-') && !t.includes('-')) return undefined;
  const split = (v: string): [string, string] => {
    const i = v.indexOf('-');
    return i < 0 ? [v, v] : [v.slice(0, i), v.slice(i + 1)];
  };
  const [d1, d2] = split(d);
  const [t1, t2] = split(t);
  const lower = d1 === '' ? undefined : `${interval('DA', d1)?.[0] ?? '?'}${t1 === '' ? '000000.000000' : timeInterval(t1)?.[0] ?? '?'}`;
  const upper = d2 === '' ? undefined : `${interval('DA', d2)?.[1] ?? '?'}${t2 === '' ? '235959.999999' : timeInterval(t2)?.[1] ?? '?'}`;
  if (lower?.includes('?') || upper?.includes('?')) return () => false;
  return (date, time) => {
    const dd = date?.find((x) => x !== '');
    if (dd === undefined) return false;
    const di = interval('DA', dd);
    if (!di) return false;
    const tt = time?.find((x) => x !== '');
    const ti = tt === undefined ? ['000000.000000', '000000.000000'] as const : timeInterval(tt.replace(/:/g, ''));
    if (!ti) return false;
    const at = `${di[0]}${ti[0]}`;
    return (lower === undefined || at >= lower) && (upper === undefined || at <= upper);
  };
}
