// Specific Character Set decoding and encoding: the examples of PS3.5 Annexes H, I, J and K as golden bytes,
// the single-byte sets of PS3.3 Table C.12-2, backslash splitting with multi-byte sets, and errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DEFAULT_CHARACTER_SET, decodeText, decodeTextValues, encodeText, parseSpecificCharacterSet,
} from '../../src/dicom/charset.js';
import { DatasetError, ErrorCode } from '../../src/errors.js';

const test = suite('dicom/charset');

/** Bytes from the standard's "column/row" notation ("05/09 01/11") or hex ("0x57" / "57"). */
function bytes(spec: string): Buffer {
  return Buffer.from(spec.trim().split(/\s+/).map((x) => {
    if (x.includes('/')) {
      const [hi, lo] = x.split('/');
      return (Number(hi) << 4) | Number(lo);
    }
    return parseInt(x, 16);
  }));
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').replace(/(..)/g, '$1 ').trim();
}

function throwsCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, DatasetError);
    assert.is((e as DatasetError).code, code);
    if (pattern) assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

// --- PS3.5 Annex H: Japanese ----------------------------------------------------------------------

// Example H.3-1: (0008,0005) \ISO 2022 IR 87, PN "Yamada^Tarou=山田^太郎=やまだ^たろう"
//   Yamada^Tarou=            ESC $ B 山田 ESC ( B ^ ESC $ B 太郎 ESC ( B =
//   ESC $ B やまだ ESC ( B ^  ESC $ B たろう ESC ( B
const H31 = bytes(`
  05/09 06/01 06/13 06/01 06/04 06/01 05/14 05/04 06/01 07/02 06/15 07/05 03/13
  01/11 02/04 04/02 03/11 03/03 04/05 04/04 01/11 02/08 04/02 05/14
  01/11 02/04 04/02 04/02 04/00 04/15 03/10 01/11 02/08 04/02 03/13
  01/11 02/04 04/02 02/04 06/04 02/04 05/14 02/04 04/00 01/11 02/08 04/02 05/14
  01/11 02/04 04/02 02/04 03/15 02/04 06/13 02/04 02/06 01/11 02/08 04/02`);
const H31_TEXT = 'Yamada^Tarou=山田^太郎=やまだ^たろう';

// Example H.3-2: (0008,0005) ISO 2022 IR 13\ISO 2022 IR 87, PN "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"
//   ﾔﾏﾀﾞ^ﾀﾛｳ in G1 katakana (no escape: value 1), then as H.3-1 but returning to G0 with ESC ( J (romaji)
const H32 = bytes(`
  13/04 12/15 12/00 13/14 05/14 12/00 13/11 11/03 03/13
  01/11 02/04 04/02 03/11 03/03 04/05 04/04 01/11 02/08 04/10 05/14
  01/11 02/04 04/02 04/02 04/00 04/15 03/10 01/11 02/08 04/10 03/13
  01/11 02/04 04/02 02/04 06/04 02/04 05/14 02/04 04/00 01/11 02/08 04/10 05/14
  01/11 02/04 04/02 02/04 03/15 02/04 06/13 02/04 02/06 01/11 02/08 04/10`);
const H32_TEXT = '\uff94\uff8f\uff80\uff9e^\uff80\uff9b\uff73=山田^太郎=やまだ^たろう';

test('PS3.5 Example H.3-1: ISO 2022 IR 87 person name decodes and encodes byte for byte', () => {
  const cs = parseSpecificCharacterSet('\\ISO 2022 IR 87');
  assert.is(decodeText(H31, cs, 'PN'), H31_TEXT);
  assert.equal(decodeTextValues(H31, cs, 'PN'), [H31_TEXT]);
  assert.is(hex(encodeText(H31_TEXT, cs, 'PN')), hex(H31));
});

test('PS3.5 Example H.3-2: ISO 2022 IR 13 katakana with ISO 2022 IR 87', () => {
  const cs = parseSpecificCharacterSet('ISO 2022 IR 13\\ISO 2022 IR 87');
  assert.is(decodeText(H32, cs, 'PN'), H32_TEXT);
  assert.is(hex(encodeText(H32_TEXT, cs, 'PN')), hex(H32));
});

test('ISO 2022 IR 159: JIS X 0212 designated to G0 with ESC $ ( D', () => {
  const cs = parseSpecificCharacterSet(['', 'ISO 2022 IR 87', 'ISO 2022 IR 159']);
  // ESC $ ( D, row 16 cell 1 of JIS X 0212 (03/00 02/01, U+4E02 丂), ESC ( B, "^A"
  const b = bytes('1b 24 28 44 30 21 1b 28 42 5e 41');
  assert.is(decodeText(b, cs, 'PN'), '丂^A');
  assert.is(hex(encodeText('丂^A', cs, 'PN')), hex(b));
  // 亜 is in JIS X 0208 (row 16 cell 1, 03/00 02/01 too): the value-2 set is preferred to the value-3 set.
  assert.is(hex(encodeText('亜', cs, 'LO')), '1b 24 42 30 21 1b 28 42');
});

// --- PS3.5 Annex I: Korean ------------------------------------------------------------------------

// Example I.2-1: (0008,0005) \ISO 2022 IR 149, PN "Hong^Gildong=洪^吉洞=홍^길동"
//   Hong^Gildong= ESC $ ) C 洪 ^ ESC $ ) C 吉洞 = ESC $ ) C 홍 ^ ESC $ ) C 길동   (KS X 1001 in G1/GR)
const I2 = bytes(`
  04/08 06/15 06/14 06/07 05/14 04/07 06/09 06/12 06/04 06/15 06/14 06/07 03/13
  01/11 02/04 02/09 04/03 15/11 15/03 05/14
  01/11 02/04 02/09 04/03 13/01 12/14 13/04 13/07 03/13
  01/11 02/04 02/09 04/03 12/08 10/11 05/14
  01/11 02/04 02/09 04/03 11/01 14/06 11/05 11/15`);
const I2_TEXT = 'Hong^Gildong=洪^吉洞=홍^길동';

test('PS3.5 Example I.2-1: ISO 2022 IR 149 person name decodes and encodes byte for byte', () => {
  const cs = parseSpecificCharacterSet('\\ISO 2022 IR 149');
  assert.is(decodeText(I2, cs, 'PN'), I2_TEXT);
  assert.is(hex(encodeText(I2_TEXT, cs, 'PN')), hex(I2));
});

test('ISO 2022 IR 149: G1 is reset at each PN delimiter, so GR bytes after "^" without an escape are latin1', () => {
  const cs = parseSpecificCharacterSet('\\ISO 2022 IR 149');
  // ESC $ ) C 홍 (c8 ab) ^ c8 ab: the second pair has no designation in its component
  assert.is(decodeText(bytes('1b 24 29 43 c8 ab 5e c8 ab'), cs, 'PN'), '홍^\u00c8\u00ab');
  // LO has no component delimiters: the designation lasts to the end of the value
  assert.is(decodeText(bytes('1b 24 29 43 c8 ab 5e c8 ab'), cs, 'LO'), '홍^홍');
});

// --- PS3.5 Annex J: UTF-8, GB18030, GBK -------------------------------------------------------------

// Annex J, ISO_IR 192: PN "Wang^XiaoDong=王^小東=" — 王 e7 8e 8b, 小 e5 b0 8f, 東 e6 9d b1
const J_UTF8_PN = bytes('57 61 6e 67 5e 58 69 61 6f 44 6f 6e 67 3d e7 8e 8b 5e e5 b0 8f e6 9d b1 3d');
// Example J.2-1, ISO_IR 192 LT: 中 e4 b8 ad, 文 e6 96 87
const J2 = bytes(`
  54 68 65 20 66 69 72 73 74 20 6c 69 6e 65 20 69 6e 63 6c 75 64 65 73 e4 b8 ad e6 96 87 2e 0d 0a
  54 68 65 20 73 65 63 6f 6e 64 20 6c 69 6e 65 20 69 6e 63 6c 75 64 65 73 e4 b8 ad e6 96 87 2c 20 74 6f 6f 2e 0d 0a
  54 68 65 20 74 68 69 72 64 20 6c 69 6e 65 2e 0d 0a`);
const J2_TEXT = 'The first line includes中文.\r\nThe second line includes中文, too.\r\nThe third line.\r\n';
// Example J.3-1, GB18030 PN "Wang^XiaoDong=王^小东=" — 王 cd f5, 小 d0 a1, 东 b6 ab
const J3 = bytes('57 61 6e 67 5e 58 69 61 6f 44 6f 6e 67 3d cd f5 5e d0 a1 b6 ab 3d');
// Example J.4-1, GB18030 LT: 中 d6 d0, 文 ce c4
const J4 = bytes(`
  54 68 65 20 66 69 72 73 74 20 6c 69 6e 65 20 69 6e 63 6c 75 64 65 73 d6 d0 ce c4 2e 0d 0a
  54 68 65 20 73 65 63 6f 6e 64 20 6c 69 6e 65 20 69 6e 63 6c 75 64 65 73 d6 d0 ce c4 2c 20 74 6f 6f 2e 0d 0a
  54 68 65 20 74 68 69 72 64 20 6c 69 6e 65 2e 0d 0a`);

test('PS3.5 Annex J: ISO_IR 192 person name and Example J.2-1 long text', () => {
  const cs = parseSpecificCharacterSet('ISO_IR 192');
  assert.is(decodeText(J_UTF8_PN, cs, 'PN'), 'Wang^XiaoDong=王^小東=');
  assert.is(hex(encodeText('Wang^XiaoDong=王^小東=', cs, 'PN')), hex(J_UTF8_PN));
  assert.is(decodeText(J2, cs, 'LT'), J2_TEXT);
  assert.is(hex(encodeText(J2_TEXT, cs, 'LT')), hex(J2));
});

test('PS3.5 Examples J.3-1 and J.4-1: GB18030 (and GBK, which shares these code points)', () => {
  for (const term of ['GB18030', 'GBK']) {
    const cs = parseSpecificCharacterSet(term);
    assert.is(decodeText(J3, cs, 'PN'), 'Wang^XiaoDong=王^小东=', term);
    assert.is(hex(encodeText('Wang^XiaoDong=王^小东=', cs, 'PN')), hex(J3), term);
    assert.is(decodeText(J4, cs, 'LT'), J2_TEXT, term);
    assert.is(hex(encodeText(J2_TEXT, cs, 'LT')), hex(J4), term);
  }
});

test('GB18030 four-byte forms; GBK cannot encode them', () => {
  const cs = parseSpecificCharacterSet('GB18030');
  // U+0080 is the first four-byte code 81 30 81 30; U+1F600 is 94 39 fc 36 (linear index 189000 + 0xF600)
  assert.is(decodeText(bytes('81 30 81 30 94 39 fc 36'), cs, 'LT'), '\u0080\u{1f600}');
  assert.is(hex(encodeText('\u0080\u{1f600}', cs, 'LT')), '81 30 81 30 94 39 fc 36');
  throwsCode(() => encodeText('\u{1f600}', parseSpecificCharacterSet('GBK'), 'LT'), ErrorCode.ValueInvalid, /U\+1F600/);
});

// --- PS3.5 Annex K: GB 2312 with ISO 2022 ------------------------------------------------------------

// Example K.2-1: (0008,0005) \ISO 2022 IR 58, PN "Zhang^XiaoDong=张^小东=" (value padded with a space)
//   Zhang^XiaoDong= ESC $ ) A 张 ^ ESC $ ) A 小东 = SPACE    (GB 2312 in G1/GR: 张 d5 c5, 小 d0 a1, 东 b6 ab)
const K2 = bytes(`
  5A 68 61 6E 67 5E 58 69 61 6F 44 6F 6E 67 3D
  1B 24 29 41 D5 C5 5E 1B 24 29 41 D0 A1 B6 AB 3D 20`);
// Example K.3-1: LT, each line re-designates GB 2312 into G1 after CR LF
//   1. ESC $ ) A 第一行文字。 CR LF 2. ESC $ ) A 第二行文字。 CR LF 3. ESC $ ) A 第三行文字。 CR LF
const K3 = bytes(`
  31 2e 1B 24 29 41 B5 DA D2 BB D0 D0 CE C4 D7 D6 A1 A3 0D 0A
  32 2e 1B 24 29 41 B5 DA B6 FE D0 D0 CE C4 D7 D6 A1 A3 0D 0A
  33 2e 1B 24 29 41 B5 DA C8 FD D0 D0 CE C4 D7 D6 A1 A3 0D 0A`);
const K3_TEXT = '1.第一行文字。\r\n2.第二行文字。\r\n3.第三行文字。\r\n';

test('PS3.5 Examples K.2-1 and K.3-1: ISO 2022 IR 58 person name and long text', () => {
  const cs = parseSpecificCharacterSet('\\ISO 2022 IR 58');
  assert.is(decodeText(K2, cs, 'PN'), 'Zhang^XiaoDong=张^小东= ');
  assert.is(hex(encodeText('Zhang^XiaoDong=张^小东= ', cs, 'PN')), hex(K2));
  assert.is(decodeText(K3, cs, 'LT'), K3_TEXT);
  assert.is(hex(encodeText(K3_TEXT, cs, 'LT')), hex(K3));
});

// --- single-byte sets, PS3.3 Table C.12-2 ------------------------------------------------------------

// Hand-written from the ISO 8859 and TIS 620 code tables.
const SINGLE_BYTE: ReadonlyArray<readonly [string, string, string]> = [
  ['ISO_IR 100', '42 75 63 5e 4a e9 72 f4 6d 65', 'Buc^Jérôme'], // é e9, ô f4
  ['ISO_IR 101', '44 76 6f f8 e1 6b 5e a3 f3 64 bc', 'Dvořák^Łódź'], // ř f8, á e1, Ł a3, ó f3, ź bc
  ['ISO_IR 109', 'a1 61 6c 5e d5 75 bf 65 70 70 69', 'Ħal^Ġużeppi'], // Ħ a1, Ġ d5, ż bf
  ['ISO_IR 110', '4b e0 72 6c 69 73 5e aa 72 69 6b 73', 'Kārlis^Ēriks'], // ā e0, Ē aa
  ['ISO_IR 144', 'bc de e1 da d2 d0 5e bb ee d1 d0', 'Москва^Люба'], // М bc … а d0, Л bb, ю ee, б d1
  ['ISO_IR 127', 'e2 c8 c7 e6 ea 5e e6 d2 c7 d1', 'قباني^نزار'], // ق e2, ب c8, ا c7, ن e6, ي ea, ز d2, ر d1
  ['ISO_IR 126', 'c4 e9 ef ed f5 f3 e9 ef f2', 'Διονυσιος'], // Δ c4, ι e9, ο ef, ν ed, υ f5, σ f3, ς f2
  ['ISO_IR 138', 'f9 f8 e5 ef 5e e3 e1 e5 f8 e4', 'שרון^דבורה'], // ש f9, ר f8, ו e5, ן ef, ד e3, ב e1, ה e4
  ['ISO_IR 148', 'de 69 fe 6c 69 5e d0 fd dd', 'Şişli^Ğıİ'], // Ş de, ş fe, Ğ d0, ı fd, İ dd
  ['ISO_IR 203', 'bc 75 76 72 65 5e 35 a4 20 be', 'Œuvre^5€ Ÿ'], // Œ bc, € a4, Ÿ be
  ['ISO_IR 166', 'e4 b7 c2', 'ไทย'], // ไ e4, ท b7, ย c2
  ['ISO_IR 13', 'd4 cf c0 de 5e 41', '\uff94\uff8f\uff80\uff9e^A'], // JIS X 0201 katakana ﾔﾏﾀﾞ
];

test('single-byte sets without code extensions decode and encode their characters', () => {
  for (const [term, spec, text] of SINGLE_BYTE) {
    const cs = parseSpecificCharacterSet(term);
    assert.equal(cs.unknownTerms, [], term);
    assert.is(decodeText(bytes(spec), cs, 'PN'), text, term);
    assert.is(hex(encodeText(text, cs, 'PN')), hex(bytes(spec)), term);
  }
});

test('single-byte sets with code extensions: designation in G1 and reset at PN delimiters', () => {
  const cs = parseSpecificCharacterSet('ISO 2022 IR 100\\ISO 2022 IR 144');
  // "Jérôme" in value 1's G1 (latin1), "=" resets, ESC - L designates Cyrillic: "Москва", "^" resets to latin1
  const b = bytes('4a e9 72 f4 6d 65 3d 1b 2d 4c bc de e1 da d2 d0 5e e9');
  assert.is(decodeText(b, cs, 'PN'), 'Jérôme=Москва^é');
  // encoding restores value 1's G1 before the delimiter
  assert.is(hex(encodeText('Jérôme=Москва^é', cs, 'PN')), '4a e9 72 f4 6d 65 3d 1b 2d 4c bc de e1 da d2 d0 1b 2d 41 5e e9');
  // every single-byte escape of PS3.3 Table C.12-3 (ESC 02/13 F)
  const escapes: ReadonlyArray<readonly [number, number, string]> = [
    [0x41, 0xe9, 'é'], [0x42, 0xea, 'ę'], [0x43, 0xf8, 'ĝ'], [0x44, 0xea, 'ę'], [0x4c, 0xf9, 'љ'], [0x47, 0xe9, 'ى'],
    [0x46, 0xe9, 'ι'], [0x48, 0xf9, 'ש'], [0x4d, 0xfd, 'ı'], [0x62, 0xfd, 'ý'], [0x54, 0xc9, 'ษ'],
  ];
  for (const [final, byte, ch] of escapes) {
    assert.is(decodeText(Buffer.from([0x1b, 0x2d, final, byte]), cs, 'LO'), ch, `ESC - ${final.toString(16)}`);
  }
});

test('ISO_IR 13 is read as Shift_JIS: kanji written by non-conforming devices survive, 0x5C trail bytes too', () => {
  const cs = parseSpecificCharacterSet('ISO_IR 13');
  // 表 is Shift_JIS 95 5c: its trail byte is not a value delimiter
  assert.equal(decodeTextValues(bytes('95 5c 5c 41'), cs, 'LO'), ['表', 'A']);
  throwsCode(() => encodeText('表', cs, 'LO'), ErrorCode.ValueInvalid, /表/);
});

// --- backslash splitting ----------------------------------------------------------------------------

test('backslash splitting: multi-byte sets split only at real delimiters', () => {
  // GBK / GB18030: 誠 is d5 5c, its trail byte is 0x5C
  for (const term of ['GBK', 'GB18030']) {
    assert.equal(decodeTextValues(bytes('d5 5c 5c 41 5c 81 30 81 30'), parseSpecificCharacterSet(term), 'LO'), ['誠', 'A', '\u0080'], term);
  }
  // ISO 2022 IR 87: 移 is JIS X 0208 03/00 05/12 in G0; the value returns to ASCII before the real delimiter
  const jp = parseSpecificCharacterSet('\\ISO 2022 IR 87');
  assert.equal(decodeTextValues(bytes('1b 24 42 30 5c 1b 28 42 5c 41'), jp, 'LO'), ['移', 'A']);
  // ISO 2022 IR 149 and UTF-8: GR bytes never hold 0x5C
  assert.equal(decodeTextValues(bytes('1b 24 29 43 c8 ab 5c c8 ab'), parseSpecificCharacterSet('\\ISO 2022 IR 149'), 'LO'), ['홍', '\u00c8\u00ab']);
  assert.equal(decodeTextValues(bytes('e7 8e 8b 5c 5c 41'), parseSpecificCharacterSet('ISO_IR 192'), 'LO'), ['王', '', 'A']);
  assert.equal(decodeTextValues(bytes('bc de 5c d0'), parseSpecificCharacterSet('ISO_IR 144'), 'LO'), ['Мо', 'а']);
  assert.equal(decodeTextValues(bytes('41 5c 42 20'), DEFAULT_CHARACTER_SET, 'CS'), ['A', 'B ']);
  // a text VR keeps its backslashes in one value
  assert.is(decodeText(bytes('43 3a 5c 74 6d 70'), DEFAULT_CHARACTER_SET, 'LT'), 'C:\\tmp');
});

// --- tolerance -------------------------------------------------------------------------------------

test('tolerant decoding: unknown escapes, truncated pairs and bad UTF-8 become U+FFFD, never throw', () => {
  const jp = parseSpecificCharacterSet('\\ISO 2022 IR 87');
  assert.is(decodeText(bytes('41 1b 28 5a 42'), jp, 'LO'), 'A\ufffdB'); // ESC ( Z: no such set
  assert.is(decodeText(bytes('41 1b'), jp, 'LO'), 'A\ufffd'); // ESC at the end
  assert.is(decodeText(bytes('1b 24 42 30'), jp, 'LO'), '\ufffd'); // half a JIS X 0208 character
  assert.is(decodeText(bytes('1b 24 29 43 c8'), parseSpecificCharacterSet('\\ISO 2022 IR 149'), 'LO'), '\ufffd');
  assert.is(decodeText(bytes('41 ff e7 8e'), parseSpecificCharacterSet('ISO_IR 192'), 'LO'), 'A\ufffd\ufffd');
  assert.is(decodeText(bytes('41 a1'), parseSpecificCharacterSet('ISO_IR 127'), 'LO'), 'A\ufffd'); // unassigned in 8859-6
  // escapes of sets the value did not declare are still honoured
  assert.is(decodeText(bytes('1b 2d 46 e9'), jp, 'LO'), 'ι');
  // single-valued 'ISO_IR 149' (no such term; seen from devices writing EUC-KR): KS X 1001 in G1 from the start
  assert.is(decodeText(bytes('c8 ab 5e b1 e6 b5 bf'), parseSpecificCharacterSet('ISO_IR 149'), 'PN'), '홍^길동');
  // CR LF return to value 1's sets in any VR
  assert.is(decodeText(bytes('1b 2d 4c bc 0d 0a bc'), parseSpecificCharacterSet('ISO 2022 IR 100\\ISO 2022 IR 144'), 'LT'), 'М\r\n¼');
});

test('the default repertoire is ASCII; bytes above 0x7F decode as latin1', () => {
  assert.is(decodeText(bytes('44 6f 65 5e 4a 6f 68 6e'), DEFAULT_CHARACTER_SET, 'PN'), 'Doe^John');
  assert.is(decodeText(bytes('4a e9 72 f4 6d 65'), DEFAULT_CHARACTER_SET, 'PN'), 'Jérôme');
  assert.is(decodeText(new Uint8Array([0x41, 0x42]), DEFAULT_CHARACTER_SET, 'LO'), 'AB'); // a plain Uint8Array
  assert.is(decodeText(new Uint8Array(0), DEFAULT_CHARACTER_SET, 'LO'), '');
  assert.equal(decodeTextValues(new Uint8Array(0), DEFAULT_CHARACTER_SET, 'LO'), ['']);
});

// --- parsing the terms -------------------------------------------------------------------------------

test('parseSpecificCharacterSet: raw or split values, trimmed, cached', () => {
  const raw = parseSpecificCharacterSet('\\ISO 2022 IR 87 ');
  assert.equal(raw.terms, ['', 'ISO 2022 IR 87']);
  assert.equal(raw.unknownTerms, []);
  assert.is(parseSpecificCharacterSet('\\ISO 2022 IR 87 '), raw);
  const split = parseSpecificCharacterSet(['', 'ISO 2022 IR 87']);
  assert.equal(split.terms, raw.terms);
  assert.is(split.scheme, 'iso2022');
  assert.is(parseSpecificCharacterSet(''), DEFAULT_CHARACTER_SET);
  assert.is(parseSpecificCharacterSet([]), DEFAULT_CHARACTER_SET);
  assert.is(parseSpecificCharacterSet(' ISO_IR 100 ').scheme, 'latin1');
  assert.is(parseSpecificCharacterSet('ISO_IR 6').scheme, 'default');
  // PS3.3 Table C.12-5: no code extensions with UTF-8; later values are ignored
  assert.is(parseSpecificCharacterSet('ISO_IR 192\\ISO 2022 IR 87').scheme, 'utf8');
});

test('unknown terms are reported and decoded as ISO_IR 100', () => {
  const cs = parseSpecificCharacterSet('ISO_IR 999');
  assert.equal(cs.terms, ['ISO_IR 999']);
  assert.equal(cs.unknownTerms, ['ISO_IR 999']);
  assert.is(decodeText(bytes('4a e9'), cs, 'PN'), 'Jé');
  const multi = parseSpecificCharacterSet(['ISO 2022 IR 100', 'KLINGON']);
  assert.equal(multi.unknownTerms, ['KLINGON']);
  assert.is(decodeText(bytes('4a e9'), multi, 'PN'), 'Jé');
  const firstUnknown = parseSpecificCharacterSet('ISO_IR 999\\ISO 2022 IR 144');
  assert.equal(firstUnknown.unknownTerms, ['ISO_IR 999']);
  assert.is(decodeText(bytes('e9 1b 2d 4c e9'), firstUnknown, 'LO'), 'éщ');
});

// --- encoding ----------------------------------------------------------------------------------------

test('encode/decode round trips: ASCII, Latin-1, UTF-8 and every single-byte set', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['', 'Doe^John'],
    ['ISO_IR 100', 'Müller^Zoë=Ærø'],
    ['ISO_IR 192', 'Wang^XiaoDong=王^小東=😀'],
    ['ISO_IR 101', 'Žluťoučký kůň'],
    ['ISO_IR 109', 'Ĝis ŭ ĥ'],
    ['ISO_IR 110', 'Ķēniņš'],
    ['ISO_IR 144', 'Достоевский^Фёдор'],
    ['ISO_IR 127', 'محمد^علي'],
    ['ISO_IR 126', 'Ελληνικά'],
    ['ISO_IR 138', 'כהן^משה'],
    ['ISO_IR 148', 'Öztürk^Ayşe'],
    ['ISO_IR 203', 'Œdipe 5€'],
    ['ISO_IR 166', 'สมชาย^ใจดี'],
    ['ISO_IR 13', '\uff94\uff8f\uff80\uff9e'],
    ['ISO 2022 IR 100\\ISO 2022 IR 144\\ISO 2022 IR 126', 'Jérôme=Москва^Ελλάς'],
    ['\\ISO 2022 IR 87\\ISO 2022 IR 149\\ISO 2022 IR 58', '山田^홍=张 Doe'],
  ];
  for (const [term, text] of cases) {
    const cs = parseSpecificCharacterSet(term);
    assert.is(decodeText(encodeText(text, cs, 'PN'), cs, 'PN'), text, term);
  }
});

test('a character the set cannot represent is ERR_VALUE_INVALID naming it', () => {
  throwsCode(() => encodeText('Jérôme', DEFAULT_CHARACTER_SET, 'PN'), ErrorCode.ValueInvalid, /'é' \(U\+00E9\).*ISO_IR 6/);
  throwsCode(() => encodeText('Москва', parseSpecificCharacterSet('ISO_IR 100'), 'PN'), ErrorCode.ValueInvalid, /'М' \(U\+041C\) cannot be encoded in ISO_IR 100/);
  throwsCode(() => encodeText('€', parseSpecificCharacterSet('ISO_IR 100'), 'LO'), ErrorCode.ValueInvalid, /U\+20AC/);
  throwsCode(() => encodeText('😀', parseSpecificCharacterSet('ISO_IR 144'), 'LO'), ErrorCode.ValueInvalid, /'😀' \(U\+1F600\)/);
  throwsCode(() => encodeText('한', parseSpecificCharacterSet('\\ISO 2022 IR 87'), 'LO'), ErrorCode.ValueInvalid, /'한'/);
  throwsCode(() => encodeText('a\ud800b', parseSpecificCharacterSet('ISO_IR 192'), 'LO'), ErrorCode.ValueInvalid, /U\+D800/);
  // ASCII text encodes in every set
  assert.is(encodeText('Doe^John', parseSpecificCharacterSet('GB18030'), 'PN').toString('latin1'), 'Doe^John');
});

test.run();
