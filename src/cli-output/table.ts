/**
 * The one plain-text table of the CLI, used by every command that prints rows:
 *
 *   node  url                     ids  ok  failed
 *   ----  ----------------------  ---  --  ------
 *   1     http://127.0.0.1:42013    3   3       0
 *
 * A header, a rule of dashes under it, the rows, and optionally a rule and footer rows
 * (totals). Columns are two spaces apart and as wide as their widest cell as a terminal
 * shows it, so that CJK names and emoji line up too; numbers align right.
 */

export interface Column {
  readonly title: string;
  /** `right` for numbers, so that their digits line up. Default `left`. */
  readonly align?: "left" | "right";
}

/** A column of numbers: aligned right. */
export function numeric(title: string): Column {
  return { title, align: "right" };
}

export function renderTable(
  columns: readonly (string | Column)[],
  rows: readonly (readonly string[])[],
  footer: readonly (readonly string[])[] = [],
): string {
  const cols = columns.map((c) => (typeof c === "string" ? { title: c } : c));
  const widths = cols.map((c, i) =>
    Math.max(displayWidth(c.title), ...[...rows, ...footer].map((r) => displayWidth(r[i] ?? ""))),
  );
  const line = (cells: readonly string[]) =>
    cols
      .map((c, i) => {
        const cell = cells[i] ?? "";
        const gap = " ".repeat(widths[i]! - displayWidth(cell));
        return c.align === "right" ? gap + cell : cell + gap;
      })
      .join("  ")
      .trimEnd();
  const rule = line(widths.map((w) => "-".repeat(w)));
  const out = [line(cols.map((c) => c.title)), rule, ...rows.map(line)];
  if (footer.length > 0) out.push(rule, ...footer.map(line));
  return out.join("\n");
}

/** Printable ASCII, by far the common case: one column per character. */
const ASCII = /^[\x20-\x7e]*$/;
/** A grapheme of only combining marks and zero-width characters takes no column. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200d\u2060\ufeff]+$/u;
/** Emoji shown as pictures (also a text symbol with VS16, a flag, a keycap) take two columns. */
const EMOJI = /\p{Emoji_Presentation}|\ufe0f|\p{Regional_Indicator}/u;
/** East Asian Wide and Fullwidth code points (after Markus Kuhn's wcwidth): two columns. */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul Jamo initial consonants
  [0x2329, 0x232a],
  [0x2e80, 0x303e], // CJK radicals, Kangxi, CJK symbols and punctuation
  [0x3041, 0xa4cf], // kana, CJK ideographs, Yi
  [0xa960, 0xa97f], // Hangul Jamo extended A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6],
  [0x20000, 0x2fffd], // CJK extensions B and later
  [0x30000, 0x3fffd],
];
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * How many terminal columns `text` takes: per grapheme (a letter with its combining marks,
 * an emoji sequence), 2 for East Asian wide characters and emoji, 0 for combining marks
 * alone, else 1. Padding by `length` (UTF-16 units) would misalign such cells.
 */
export function displayWidth(text: string): number {
  if (ASCII.test(text)) return text.length;
  let width = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (ZERO_WIDTH.test(segment)) continue;
    const first = segment.codePointAt(0)!;
    width += EMOJI.test(segment) || WIDE.some(([lo, hi]) => first >= lo && first <= hi) ? 2 : 1;
  }
  return width;
}
