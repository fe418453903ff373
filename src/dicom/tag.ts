// Tags are uint32 numbers: group in the high 16 bits, element in the low 16 (PS3.5 §7.1).

export type Tag = number;

export function tag(group: number, element: number): Tag {
  return ((group << 16) | element) >>> 0;
}

export function tagGroup(t: Tag): number {
  return t >>> 16;
}

export function tagElement(t: Tag): number {
  return t & 0xffff;
}

/** "(0010,0010)", upper-case hex as dcmdump prints it. */
export function formatTag(t: Tag): string {
  return `(${hex4(t >>> 16)},${hex4(t & 0xffff)})`;
}

/** "0010,0010" style or "00100010" → Tag; undefined when not a tag. */
export function parseTag(s: string): Tag | undefined {
  const m = /^\(?([0-9A-Fa-f]{4}),?([0-9A-Fa-f]{4})\)?$/.exec(s.trim());
  return m ? tag(parseInt(m[1]!, 16), parseInt(m[2]!, 16)) : undefined;
}

/** PS3.5 §7.8.1: odd groups other than 0001, 0003, 0005, 0007 and FFFF hold private elements. */
export function isPrivateTag(t: Tag): boolean {
  const g = t >>> 16;
  return (g & 1) === 1 && g > 0x0007 && g !== 0xffff;
}

/** (gggg,0010)–(gggg,00FF) in a private group: a Private Creator element (VR LO). */
export function isPrivateCreator(t: Tag): boolean {
  const e = t & 0xffff;
  return isPrivateTag(t) && e >= 0x0010 && e <= 0x00ff;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

// PS3.5 §7.5: item and delimitation tags of group FFFE.
export const ItemTag = 0xfffee000;
export const ItemDelimitationTag = 0xfffee00d;
export const SequenceDelimitationTag = 0xfffee0dd;
export const UndefinedLength = 0xffffffff;
