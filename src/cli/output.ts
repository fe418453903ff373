// The only writer to stdout and stderr.

export interface Output {
  line(text: string): void;
  error(text: string): void;
}

export function createOutput(stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    line: (text) => void stdout.write(`${text}\n`),
    error: (text) => void stderr.write(`${text}\n`),
  };
}
