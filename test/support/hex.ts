// Annotated byte literals for golden tests: two-digit hex tokens, 'quoted latin1 text', and
// comments from '#' to the end of the line. Golden bytes are written by hand with this, never by
// our own encoder.

export function hex(...parts: string[]): Buffer {
  const out: number[] = [];
  for (const part of parts) {
    for (const rawLine of part.split('\n')) {
      const line = stripComment(rawLine);
      const re = /'([^']*)'|([0-9A-Fa-f]{2})|(\S+)/g;
      let m: RegExpExecArray | null;
      while ((m = re.exec(line)) !== null) {
        if (m[1] !== undefined) for (const ch of Buffer.from(m[1], 'latin1')) out.push(ch);
        else if (m[2] !== undefined) out.push(parseInt(m[2], 16));
        else throw new Error(`hex(): bad token '${m[3]}' in line: ${rawLine}`);
      }
    }
  }
  return Buffer.from(out);
}

function stripComment(line: string): string {
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "'") inQuote = !inQuote;
    else if (line[i] === '#' && !inQuote) return line.slice(0, i);
  }
  return line;
}

/** Every split of `buf` into two chunks, then 1-byte chunks: for framers and incremental parsers. */
export function* splits(buf: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= buf.length; i++) yield [buf.subarray(0, i), buf.subarray(i)];
  yield [...buf].map((b) => Buffer.from([b]));
}
