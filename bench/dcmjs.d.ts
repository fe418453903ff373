// Minimal types for the parts of dcmjs the benchmarks call (dcmjs ships no declarations).
declare module 'dcmjs' {
  interface DictEntry { vr: string; Value?: unknown[] }
  const dcmjs: {
    data: {
      ReadBufferStream: new (buffer: ArrayBuffer) => unknown;
      DicomMessage: {
        _read(stream: unknown, syntax: string, options?: { ignoreErrors?: boolean }): Record<string, DictEntry | undefined>;
        readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean }): { dict: Record<string, DictEntry> };
      };
    };
  };
  export default dcmjs;
}
