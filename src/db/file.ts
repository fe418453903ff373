// The database file on disk: a lowdb adapter that reads with clear errors and writes atomically.
// steno (lowdb's node writer) renames a temp file but never fsyncs it, so a power cut can leave an
// empty or partial file after the rename: this adapter writes <dir>/.qrscu.json.<pid>.tmp, fsyncs
// it, renames it over the file and fsyncs the directory. A file that does not parse or check is
// reported (file, line and column, or JSON pointer) and never written: openDatabase refuses it.

import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Adapter } from 'lowdb';
import { ConfigError, ErrorCode } from '../errors.js';
import type { DatabaseFile, HeldIndex, QueryRecord } from './schema.js';
import { checkDatabaseFile } from './validate.js';

/** Line and column (1-based) of a character offset in text. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/** Parse the database text; a syntax error becomes a ConfigError with the file, offset, line and column. */
export function parseDatabaseText(text: string, file: string): DatabaseFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const m = /position (\d+)/.exec(message);
    let offset = m ? Number(m[1]) : undefined;
    if (offset === undefined && /Unexpected end of JSON input/.test(message)) offset = text.length;
    offset ??= findSyntaxError(text);
    const where = offset === undefined ? '' : ` at line ${lineColumn(text, offset).line}, column ${lineColumn(text, offset).column}`;
    const detail = message.replace(/\s*in JSON at position \d+.*$/, '').replace(/^Unexpected end of JSON input$/, 'unexpected end of the file');
    throw new ConfigError(ErrorCode.ConfigInvalid, `the database is not valid JSON${where}: ${detail}; fix or move the file (qrscu does not overwrite it)`, {
      file,
      ...(offset !== undefined ? { offset } : {}),
      cause: e,
    });
  }
  return checkDatabaseFile(data, file);
}

/** The offset of the first JSON syntax error in text (for engine messages that name none), or undefined. */
export function findSyntaxError(text: string): number | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const lit = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail();
      if (c === 0x5c) {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') string();
    else if (c === 't') lit('true');
    else if (c === 'f') lit('false');
    else if (c === 'n') lit('null');
    else {
      const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      if (!m) fail();
      else i += m[0].length;
    }
  };
  try {
    value();
    ws();
    return i < text.length ? i : undefined;
  } catch (at) {
    return typeof at === 'number' ? at : undefined;
  }
}

/**
 * Serialise line by line: settings pretty-printed (they are hand-edited), one line per query record and
 * per held study, so the file stays small, diffs well and error line numbers mean something.
 */
export function serializeDatabase(db: DatabaseFile, cache?: SerializeCache): string {
  const parts: string[] = ['{\n', `  "schemaVersion": ${db.schemaVersion},\n`];
  const pretty = (v: unknown) => JSON.stringify(v, null, 2).replace(/\n/g, '\n    ');
  const list = (key: string, items: readonly unknown[], one: (v: unknown) => string) => {
    if (items.length === 0) {
      parts.push(`  "${key}": [],\n`);
      return;
    }
    parts.push(`  "${key}": [\n`);
    items.forEach((v, i) => parts.push('    ', one(v), i + 1 < items.length ? ',\n' : '\n'));
    parts.push('  ],\n');
  };
  list('qrNodes', db.qrNodes, pretty);
  list('storeNodes', db.storeNodes, pretty);
  if (db.users !== undefined) list('users', db.users, (v) => JSON.stringify(v));
  list('queries', db.queries, cache ? (v) => cache.query(v as QueryRecord) : (v) => JSON.stringify(v));
  const studies = Object.keys(db.held);
  if (studies.length === 0) parts.push('  "held": {}\n');
  else {
    parts.push('  "held": {\n');
    const line = cache ? (s: string) => cache.heldStudy(s, db.held[s]) : (s: string) => `${JSON.stringify(s)}: ${JSON.stringify(db.held[s])}`;
    studies.forEach((s, i) => parts.push('    ', line(s), i + 1 < studies.length ? ',\n' : '\n'));
    parts.push('  }\n');
  }
  parts.push('}\n');
  return parts.join('');
}

/**
 * Serialised lines kept between writes, so a write re-serialises only what changed: query records are
 * replaced, never changed in place (a new object is a new line); held studies are changed in place,
 * so the database names each study it touches (touchHeld).
 */
export class SerializeCache {
  readonly #queries = new WeakMap<QueryRecord, string>();
  readonly #held = new Map<string, string>();

  query(q: QueryRecord): string {
    let line = this.#queries.get(q);
    if (line === undefined) {
      line = JSON.stringify(q);
      this.#queries.set(q, line);
    }
    return line;
  }

  heldStudy(study: string, series: HeldIndex[string] | undefined): string {
    let line = this.#held.get(study);
    if (line === undefined) {
      line = `${JSON.stringify(study)}: ${JSON.stringify(series)}`;
      this.#held.set(study, line);
    }
    return line;
  }

  touchHeld(study: string): void {
    this.#held.delete(study);
  }

  /**
   * Take the lines of a file just read (when it is in the layout serializeDatabase writes), so the
   * first write does not re-serialise every record. Each line is the very text its object was parsed
   * from; any doubt about the layout (hand edits, CRLF) and nothing is taken.
   */
  prefill(text: string, data: DatabaseFile): void {
    const queries = sectionLines(text, '\n  "queries": [\n', '  ]', data.queries.length, () => '{');
    const studies = Object.keys(data.held);
    const held = sectionLines(text, '\n  "held": {\n', '  }', studies.length, (i) => `${JSON.stringify(studies[i])}: {`);
    if (queries) queries.forEach((line, i) => this.#queries.set(data.queries[i]!, line));
    if (held) held.forEach((line, i) => this.#held.set(studies[i]!, line));
  }
}

/** The `count` lines of a section (indent and comma removed), each starting with start(i) and ending with "}", or undefined. */
function sectionLines(text: string, opening: string, closing: string, count: number, start: (i: number) => string): string[] | undefined {
  if (count === 0) return undefined;
  const at = text.indexOf(opening);
  if (at < 0) return undefined;
  let pos = at + opening.length;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const end = text.indexOf('\n', pos);
    if (end < 0) return undefined;
    let line = text.slice(pos, end);
    const last = i + 1 === count;
    if (!line.startsWith('    ')) return undefined;
    line = line.slice(4);
    if (line.endsWith(',')) {
      if (last) return undefined;
      line = line.slice(0, -1);
    } else if (!last) return undefined;
    if (!line.startsWith(start(i)) || !line.endsWith('}')) return undefined;
    lines.push(line);
    pos = end + 1;
  }
  return text.startsWith(`${closing}\n`, pos) || text.startsWith(`${closing},\n`, pos) ? lines : undefined;
}

const tempPattern = (base: string) => new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+(?:-exit)?\\.tmp$`);

/** The lowdb adapter of the database file. */
export class DatabaseAdapter implements Adapter<DatabaseFile> {
  readonly file: string;
  readonly #temp: string;
  readonly cache = new SerializeCache();
  /** Keep the lines read for the first write (writers only: the cache holds on to the text read). */
  prefill = true;

  constructor(file: string) {
    this.file = file;
    this.#temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  }

  /** null when the file does not exist yet. */
  async read(): Promise<DatabaseFile | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new ConfigError(ErrorCode.Io, `cannot read the database: ${(e as Error).message}`, { file: this.file, cause: e });
    }
    const data = parseDatabaseText(text, this.file);
    if (this.prefill) this.cache.prefill(text, data);
    return data;
  }

  /** Atomic and durable: temp file, fsync, rename, fsync of the directory. */
  async write(data: DatabaseFile): Promise<void> {
    const text = serializeDatabase(data, this.cache);
    try {
      const fh = await open(this.#temp, 'w', 0o600);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await renameRetrying(this.#temp, this.file);
    } catch (e) {
      await unlink(this.#temp).catch(() => undefined);
      throw new ConfigError(ErrorCode.Io, `cannot write the database: ${(e as Error).message}`, { file: this.file, cause: e });
    }
    syncDirectory(path.dirname(this.file));
  }

  /**
   * Write synchronously (from a process 'exit' handler, where nothing asynchronous runs any more).
   * Uses its own temp file: an asynchronous write cut off by the exit may still hold the usual one.
   */
  writeSync(data: DatabaseFile): void {
    const temp = `${this.#temp.slice(0, -'.tmp'.length)}-exit.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, serializeDatabase(data, this.cache));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
    syncDirectory(path.dirname(this.file));
  }

  /** Remove temp files a crashed writer left (call only while holding the lock). Returns how many. */
  removeStaleTemps(): number {
    const dir = path.dirname(this.file);
    const re = tempPattern(path.basename(this.file));
    let n = 0;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return 0;
    }
    for (const name of names) {
      if (!re.test(name)) continue;
      try {
        unlinkSync(path.join(dir, name));
        n++;
      } catch {
        // gone already
      }
    }
    return n;
  }
}

/** rename, retried for a second on Windows, where a reader holding the target open makes it fail for a moment. */
async function renameRetrying(from: string, to: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await rename(from, to);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (i >= 10 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** fsync a directory so a rename in it survives a power cut (not possible on Windows: ignored). */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows and some file systems cannot fsync a directory.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
