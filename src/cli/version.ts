// The version of the qrscu package: from the nearest package.json named "qrscu" above this module
// (src/cli, dist/cli and the bundle's chunks are all two levels below the package root). yargs would
// look for it above its own node_modules folder, which a bundled CLI does not have.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'qrscu' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here (or not ours): look higher
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}
