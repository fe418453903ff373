// Bounds-checked cursor over a Buffer: the only code that indexes raw bytes. Every read names its
// field so a fault reports what was being read and where. PDUs are big-endian, datasets little-endian
// (or big-endian for the retired Explicit VR Big Endian syntax); the method names say which.

import { DatasetError, ErrorCode, type DicomError } from './errors.js';

export type ErrorFactory = (message: string, field: string, offset: number) => DicomError;

const datasetTruncated: ErrorFactory = (message, field, offset) =>
  new DatasetError(ErrorCode.DatasetTruncated, message, { field, offset });

/** A read position over `buf[start, end)`; `base` is added to offsets in errors (position in a larger stream). */
export interface Cursor {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  readonly base: number;
  readonly fail: ErrorFactory;
}

export function createCursor(buf: Buffer, start = 0, end = buf.length, base = 0, fail: ErrorFactory = datasetTruncated): Cursor {
  return { buf, pos: start, end, base, fail };
}

export function remaining(c: Cursor): number {
  return c.end - c.pos;
}

/** Throws unless `n` bytes remain. */
export function need(c: Cursor, n: number, field: string): void {
  if (n < 0 || c.pos + n > c.end) {
    throw c.fail(`${field}: needs ${n} bytes, ${c.end - c.pos} remain`, field, c.base + c.pos);
  }
}

export function u8(c: Cursor, field: string): number {
  need(c, 1, field);
  return c.buf[c.pos++]!;
}

export function u16be(c: Cursor, field: string): number {
  need(c, 2, field);
  const v = c.buf.readUInt16BE(c.pos);
  c.pos += 2;
  return v;
}

export function u32be(c: Cursor, field: string): number {
  need(c, 4, field);
  const v = c.buf.readUInt32BE(c.pos);
  c.pos += 4;
  return v;
}

export function u16le(c: Cursor, field: string): number {
  need(c, 2, field);
  const v = c.buf.readUInt16LE(c.pos);
  c.pos += 2;
  return v;
}

export function u32le(c: Cursor, field: string): number {
  need(c, 4, field);
  const v = c.buf.readUInt32LE(c.pos);
  c.pos += 4;
  return v;
}

/** A view (not a copy) of the next `n` bytes. */
export function bytes(c: Cursor, n: number, field: string): Buffer {
  need(c, n, field);
  const v = c.buf.subarray(c.pos, c.pos + n);
  c.pos += n;
  return v;
}

export function skip(c: Cursor, n: number, field: string): void {
  need(c, n, field);
  c.pos += n;
}

/** `n` bytes as latin1 text (AE titles, UIDs, ASCII fields). */
export function ascii(c: Cursor, n: number, field: string): string {
  need(c, n, field);
  const v = c.buf.toString('latin1', c.pos, c.pos + n);
  c.pos += n;
  return v;
}

/** A write position over a buffer allocated once at its final size. */
export interface Writer {
  readonly buf: Buffer;
  pos: number;
}

/** Zero-filled, so reserved fields are written as zero. */
export function createWriter(length: number): Writer {
  return { buf: Buffer.alloc(length), pos: 0 };
}

export function writeU8(w: Writer, v: number): void {
  w.buf[w.pos++] = v;
}

export function writeU16be(w: Writer, v: number): void {
  w.buf.writeUInt16BE(v, w.pos);
  w.pos += 2;
}

export function writeU32be(w: Writer, v: number): void {
  w.buf.writeUInt32BE(v >>> 0, w.pos);
  w.pos += 4;
}

export function writeU16le(w: Writer, v: number): void {
  w.buf.writeUInt16LE(v, w.pos);
  w.pos += 2;
}

export function writeU32le(w: Writer, v: number): void {
  w.buf.writeUInt32LE(v >>> 0, w.pos);
  w.pos += 4;
}

export function writeBytes(w: Writer, b: Uint8Array): void {
  w.buf.set(b, w.pos);
  w.pos += b.length;
}

/** Latin1 text, padded with `pad` to `width` bytes when given. */
export function writeAscii(w: Writer, s: string, width?: number, pad = 0x20): void {
  const n = w.buf.write(s, w.pos, 'latin1');
  w.pos += n;
  if (width !== undefined) {
    w.buf.fill(pad, w.pos, w.pos + (width - n));
    w.pos += width - n;
  }
}

/** Advance over reserved bytes (already zero). */
export function writeZeros(w: Writer, n: number): void {
  w.pos += n;
}
