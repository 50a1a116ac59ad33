/**
 * Orders strings by Unicode code point, as SQLite's BINARY and PostgreSQL's "C" collations do on
 * UTF-8. JavaScript's `<` compares UTF-16 units, which puts characters above U+FFFF (surrogates,
 * 0xD800-0xDFFF) before U+E000-U+FFFF; the first differing unit decides, so remapping it suffices.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
