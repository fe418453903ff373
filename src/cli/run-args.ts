// `qrscu <qr_id> <store_id> -ct -mg …`: OpenREM's command line (behaviour reference §1) → the run's
// parameters, with OpenREM's validation messages in OpenREM's order and the decisions of §9.

import { ConfigError, ErrorCode } from '../errors.js';
import { dicomDate, dicomTime } from '../qr/identifiers.js';
import type { RunParameters } from '../qr/run.js';

export { normaliseOpenRemFlags } from './run-options.js';

/** The modality flags in OpenREM's fixed order, with the rule-file group each selects. */
export const MODALITY_FLAGS = [['ct', 'CT'], ['mg', 'MG'], ['fl', 'FL'], ['dx', 'DX'], ['nm', 'NM']] as const;

export interface RunArgs {
  qr_id: string;
  store_id: string;
  ct?: boolean; mg?: boolean; fl?: boolean; dx?: boolean; nm?: boolean; sr?: boolean;
  group?: string[];
  dfrom?: string; duntil?: string; sd?: string; tf?: string; tt?: string;
  'all-dates'?: boolean;
  desc_exclude?: string; desc_include?: string; stationname_exclude?: string; stationname_include?: string;
  stationname_study_level?: boolean;
  toshiba?: boolean; dup?: boolean; emptysr?: boolean;
  flag?: string[];
  'dry-run'?: boolean;
}

/** "a, B,," → ["a", "b"]: lower-cased, trimmed, empty terms dropped (§9 Q1). */
export function parseTerms(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  return value.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
}

const usage = (m: string) => new ConfigError(ErrorCode.Usage, m);

/** @throws ConfigError ERR_USAGE with OpenREM's message, in OpenREM's order. */
export function runParameters(a: RunArgs): RunParameters {
  const groups: string[] = MODALITY_FLAGS.filter(([flag]) => a[flag]).map(([, g]) => g);
  for (const g of a.group ?? []) if (!groups.includes(g)) groups.push(g);
  if (a.sr && groups.length > 0) throw usage('The sr option can not be combined with any other modalities');
  if (a.sr) groups.push('SR');
  if (groups.length === 0) throw usage('At least one modality must be specified');
  if (a.sd && (a.dfrom || a.duntil)) throw usage('--single_date cannot be used with --dfrom or --duntil');
  if (a['all-dates'] && (a.sd || a.dfrom || a.duntil)) throw usage('--all-dates cannot be used with --dfrom, --duntil or --single_date');
  for (const d of [a.dfrom, a.duntil, a.sd]) if (d !== undefined) dicomDate(d);
  if ((a.tf || a.tt) && !a.sd) throw usage('--tfrom and --tuntil require --single_date to be used');
  for (const t of [a.tf, a.tt]) if (t !== undefined) dicomTime(t);
  const flags: Record<string, boolean> = { toshiba: Boolean(a.toshiba), emptySr: Boolean(a.emptysr) };
  for (const f of a.flag ?? []) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(f)) throw usage(`--flag ${f}: a flag name is letters, digits and _`);
    flags[f] = true;
  }
  return {
    groups,
    ...(a.dfrom ? { dateFrom: a.dfrom } : {}),
    ...(a.duntil ? { dateUntil: a.duntil } : {}),
    ...(a.sd ? { singleDate: a.sd } : {}),
    ...(a.tf ? { timeFrom: a.tf } : {}),
    ...(a.tt ? { timeUntil: a.tt } : {}),
    ...(a['all-dates'] ? { allDates: true } : {}),
    ...(a['dry-run'] ? { dryRun: true } : {}),
    selection: {
      flags,
      descriptionInclude: parseTerms(a.desc_include),
      descriptionExclude: parseTerms(a.desc_exclude),
      stationInclude: parseTerms(a.stationname_include),
      stationExclude: parseTerms(a.stationname_exclude),
      stationNameStudyLevel: Boolean(a.stationname_study_level),
      removeDuplicates: !a.dup,
    },
  };
}

