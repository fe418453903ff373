// The only writer to stdout and stderr.

export interface Output {
  line(text: string): void;
  error(text: string): void;
  /** Where progress goes: a terminal gets a status line redrawn in place. Absent: quiet lines on error(). */
  readonly progress?: { readonly isTTY: boolean; write(text: string): void };
}

export function createOutput(stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    line: (text) => void stdout.write(`${text}\n`),
    error: (text) => void stderr.write(`${text}\n`),
    progress: { isTTY: Boolean((stderr as NodeJS.WriteStream).isTTY), write: (text) => void stderr.write(text) },
  };
}
