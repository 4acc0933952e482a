// The bundle's string-width (Makefile: esbuild --alias:string-width=…). yargs and its layout
// libraries (cliui, wrap-ansi) measure help text with string-width, whose module builds an
// Intl.Segmenter and compiles the \p{RGI_Emoji} regex as it loads: about 85 ms of every lkvm
// start, help shown or not, before the first guest instruction. lkvm's own texts are ASCII with a
// few typographic signs (…, —, ×); this counts terminal columns by code point, which is exact for
// them and for East Asian wide characters, and close for emoji sequences nobody puts in options.

/** CSI and OSC escape sequences: no columns. */
const ANSI_ESCAPES = /\u001b\[[0-9:;<=>?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
/** Marks that combine with the character before, and format characters: no columns. */
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}]/u;

/** Code point ranges terminals draw two columns wide (East Asian Wide and Fullwidth, emoji). */
const WIDE_RANGES: readonly [number, number][] = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x25fd, 0x25fe], [0x2614, 0x2615],
  [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xa960, 0xa97f],
  [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff], [0x20000, 0x3fffd],
];

function columnsOf(codePoint: number): number {
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0)) return 0;
  if (codePoint < 0x1100) return 1;
  for (const [lo, hi] of WIDE_RANGES) if (codePoint >= lo && codePoint <= hi) return 2;
  return 1;
}

/** Terminal columns `text` takes (string-width's signature; its options are not needed here). */
export default function stringWidth(text: string, options: { countAnsiEscapeCodes?: boolean } = {}): number {
  if (typeof text !== "string" || text.length === 0) return 0;
  const visible = options.countAnsiEscapeCodes ? text : text.replace(ANSI_ESCAPES, "");
  let width = 0;
  for (const ch of visible) {
    if (ZERO_WIDTH.test(ch)) continue;
    width += columnsOf(ch.codePointAt(0)!);
  }
  return width;
}
