// The run command's options (OpenREM's names) and the argv rewrite that lets `-ct` mean `--ct`.
// Loaded with the CLI on every start: no imports beyond types.

import type { Argv } from 'yargs';

/** OpenREM's single-dash long flags; yargs would read `-ct` as `-c -t`. */
const SINGLE_DASH = new Set(['ct', 'mg', 'fl', 'dx', 'nm', 'sd', 'tf', 'tt', 'sne', 'sni', 'sr', 'dup', 'toshiba', 'emptysr']);

/** Rewrite `-ct` to `--ct` (and `-sd=X` to `--sd=X`) so that OpenREM command lines parse as they always did. */
export function normaliseOpenRemFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    if (a === '--') { out.push(...argv.slice(out.length)); break; }
    const m = /^-([a-z]+)(=.*)?$/.exec(a);
    out.push(m && SINGLE_DASH.has(m[1]!) ? `--${m[1]}${m[2] ?? ''}` : a);
  }
  return out;
}


/** The yargs options of the run command (OpenREM's names, long and short, plus qrscu's own). */
export function runBuilder<T>(y: Argv<T>) {
  return y
    .positional('qr_id', { type: 'string', demandOption: true, describe: 'id of the remote QR node (qrscu nodes list)' })
    .positional('store_id', { type: 'string', demandOption: true, describe: 'id of the store node the objects are moved to' })
    .option('ct', { type: 'boolean', describe: 'CT (-ct)' })
    .option('mg', { type: 'boolean', describe: 'mammography (-mg)' })
    .option('fl', { type: 'boolean', describe: 'fluoroscopy: RF and XA (-fl)' })
    .option('dx', { type: 'boolean', describe: 'planar X-ray: DX, CR, PX (-dx)' })
    .option('nm', { type: 'boolean', describe: 'nuclear medicine: NM and PT (-nm)' })
    .option('sr', { type: 'boolean', describe: 'SR-only studies; not with a modality (-sr)' })
    .option('group', { type: 'string', array: true, describe: 'a rule-file group by name (site-defined groups)' })
    .option('dfrom', { alias: 'f', type: 'string', describe: 'date from, YYYY-MM-DD' })
    .option('duntil', { alias: 't', type: 'string', describe: 'date until, YYYY-MM-DD' })
    .option('sd', { alias: 'single_date', type: 'string', describe: 'one date, YYYY-MM-DD (-sd); needed for a time window' })
    .option('tf', { alias: 'tfrom', type: 'string', describe: 'time from, HHMM (-tf; needs -sd)' })
    .option('tt', { alias: 'tuntil', type: 'string', describe: 'time until, HHMM (-tt; needs -sd)' })
    .option('all-dates', { type: 'boolean', describe: 'no date limit (without date options a run asks for yesterday to today)' })
    .option('desc_exclude', { alias: 'e', type: 'string', describe: 'StudyDescription terms to exclude, comma-separated' })
    .option('desc_include', { alias: 'i', type: 'string', describe: 'StudyDescription terms to include, comma-separated' })
    .option('stationname_exclude', { alias: 'sne', type: 'string', describe: 'StationName terms to exclude (-sne)' })
    .option('stationname_include', { alias: 'sni', type: 'string', describe: 'StationName terms to include (-sni)' })
    .option('stationname_study_level', { type: 'boolean', describe: 'check the station filters on study responses instead of series' })
    .option('toshiba', { type: 'boolean', describe: 'CT without RDSR: one image per series plus secondary captures (-toshiba)' })
    .option('dup', { type: 'boolean', describe: 'also retrieve objects already held (-dup)' })
    .option('emptysr', { type: 'boolean', describe: 'SR series that answer nothing at image level count as dose reports (-emptysr)' })
    .option('flag', { type: 'string', array: true, describe: 'set a rule-file flag (site-defined switches)' })
    .option('rules', { type: 'string', describe: 'a rules folder overriding the built-in rule files, file by file' })
    .option('dry-run', { type: 'boolean', describe: 'query and filter, print the retrieve plan and the explain tree; move nothing' })
    .option('explain', { type: 'boolean', describe: 'print the explain tree after the summary' })
    .option('json', { type: 'boolean', describe: 'print the report as one JSON object' })
    .example('$0 pacs store -ct -mg -fl -dx', 'yesterday and today: CT, mammography, fluoroscopy and planar X-ray dose objects')
    .example('$0 pacs store -ct -f 2024-01-01 -t 2024-01-31 -e imported', 'CT for January, without studies described as imported')
    .example('$0 pacs store -dx -sd 2024-03-05 -tf 0800 -tt 1200', 'DX of one morning (PACS that cap their answers)')
    .example('$0 pacs store -ct -toshiba --dry-run', 'what would be fetched, with the reason for every series');
}
