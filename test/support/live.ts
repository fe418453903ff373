// Tests that run real programs (dcmtk, Orthanc, tshark) find them here. Outside CI a missing program
// skips those tests with one line on stderr saying why; under CI=true it fails the run, so a live
// test is never skipped silently where it matters.

import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Debian packages that provide the programs the live tests use, for the skip message. */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  dcmdump: 'dcmtk',
  dump2dcm: 'dcmtk',
  dcmqrscp: 'dcmtk',
  dcmqridx: 'dcmtk',
  storescu: 'dcmtk',
  storescp: 'dcmtk',
  findscu: 'dcmtk',
  movescu: 'dcmtk',
  echoscu: 'dcmtk',
  Orthanc: 'orthanc',
  tshark: 'tshark',
  chromium: 'chromium',
  java: 'default-jre-headless',
};

/**
 * The absolute path of `name` on PATH; undefined (after one "skip:" line on stderr) when it is missing.
 * @throws Error when the program is missing and `CI=true`: a live test must not be skipped in CI.
 */
export function requireProgram(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const found = findOnPath(name, env.PATH ?? '');
  if (found !== undefined) return found;
  const pkg = PACKAGE_OF[name] ?? 'dcmtk';
  if (env.CI === 'true') {
    throw new Error(`${name} is not installed but CI=true: live tests must run in CI (apt-get install ${pkg})`);
  }
  process.stderr.write(`skip: ${name} not installed (apt-get install ${pkg})\n`);
  return undefined;
}

function findOnPath(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here: try the next directory.
    }
  }
  return undefined;
}
