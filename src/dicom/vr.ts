// Value representations of PS3.5 §6.2: header form, padding, maximum length and value kind per VR.

export const VRS = [
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
] as const;

export type VR = (typeof VRS)[number];

/**
 * How a VR's value decodes:
 * - strings: backslash-separated text values (AE AS CS DA DT LO SH TM UC UI)
 * - text: a single text value, backslash is not a delimiter (LT ST UT UR)
 * - numberString: backslash-separated decimal strings decoded as numbers (DS IS)
 * - personName: backslash-separated PN values with component groups
 * - int / float: fixed-size binary numbers; bigint: 64-bit integers (SV UV)
 * - tag: AT, pairs of uint16
 * - bytes: OB OD OF OL OV OW UN, kept as Buffer views
 * - sequence: SQ
 */
export type VrKind = 'strings' | 'text' | 'numberString' | 'personName' | 'int' | 'float' | 'bigint' | 'tag' | 'bytes' | 'sequence';

export interface VrInfo {
  /** PS3.5 Table 7.1-1: 2-byte reserved + 4-byte length in Explicit VR. */
  readonly longLength: boolean;
  readonly pad: number;
  /** Maximum bytes per value (PS3.5 Table 6.2-1); 0 = unbounded except by the 32-bit length. */
  readonly maxLength: number;
  readonly kind: VrKind;
  /** Bytes per binary word, for byte-order conversion; 1 for strings. */
  readonly wordSize: number;
  /** Text whose bytes are interpreted with the Specific Character Set (PS3.5 §6.1.2.3). */
  readonly usesCharacterSet: boolean;
  /** Fixed number of bytes for fixed-length VRs (AS, DA, AT, binary numbers). */
  readonly fixedLength?: number;
}

const s = (maxLength: number, kind: VrKind = 'strings', usesCharacterSet = false, pad = 0x20): VrInfo =>
  ({ longLength: false, pad, maxLength, kind, wordSize: 1, usesCharacterSet });
const b = (kind: VrKind, wordSize: number, longLength: boolean, fixedLength?: number): VrInfo =>
  fixedLength === undefined
    ? { longLength, pad: 0, maxLength: 0, kind, wordSize, usesCharacterSet: false }
    : { longLength, pad: 0, maxLength: fixedLength, kind, wordSize, usesCharacterSet: false, fixedLength };

export const VR_INFO: Readonly<Record<VR, VrInfo>> = {
  AE: s(16),
  AS: { ...s(4), fixedLength: 4 },
  AT: b('tag', 2, false, 4),
  CS: s(16),
  DA: s(8),
  DS: s(16, 'numberString'),
  DT: s(26),
  FD: b('float', 8, false, 8),
  FL: b('float', 4, false, 4),
  IS: s(12, 'numberString'),
  LO: s(64, 'strings', true),
  LT: s(10240, 'text', true),
  OB: b('bytes', 1, true),
  OD: b('bytes', 8, true),
  OF: b('bytes', 4, true),
  OL: b('bytes', 4, true),
  OV: b('bytes', 8, true),
  OW: b('bytes', 2, true),
  PN: s(64, 'personName', true),
  SH: s(16, 'strings', true),
  SL: b('int', 4, false, 4),
  SQ: { longLength: true, pad: 0, maxLength: 0, kind: 'sequence', wordSize: 1, usesCharacterSet: false },
  SS: b('int', 2, false, 2),
  ST: s(1024, 'text', true),
  SV: { ...b('bigint', 8, true, 8) },
  TM: s(14),
  UC: { ...s(0, 'strings', true), longLength: true },
  UI: s(64, 'strings', false, 0x00),
  UL: b('int', 4, false, 4),
  UN: b('bytes', 1, true),
  UR: { ...s(0, 'text'), longLength: true },
  US: b('int', 2, false, 2),
  UT: { ...s(0, 'text', true), longLength: true },
  UV: { ...b('bigint', 8, true, 8) },
};

const VR_SET: ReadonlySet<string> = new Set(VRS);

export function isVr(s: string): s is VR {
  return VR_SET.has(s);
}

/** The two VR bytes of an Explicit VR header as a VR, or undefined when they name none. */
export function vrFromCode(c0: number, c1: number): VR | undefined {
  const s = String.fromCharCode(c0, c1);
  return VR_SET.has(s) ? (s as VR) : undefined;
}
