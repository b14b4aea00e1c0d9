/**
 * The one plain-text table of the CLI, used by every command that prints rows:
 *
 *   node  url                     ids  ok  failed
 *   ----  ----------------------  ---  --  ------
 *   1     http://127.0.0.1:42013    3   3       0
 *
 * A header, a rule of dashes under it, the rows, and optionally a rule and footer rows
 * (totals). Columns are two spaces apart and as wide as their widest cell as a terminal
 * shows it, so that CJK names and emoji line up too; numbers align right. A table fits
 * 80 columns: cells of the columns marked `shrink` (messages, hashes) are cut, with "…",
 * as far as needed; `maxWidth: Infinity` (the commands' --wide) shows them whole.
 */

/** Rows shown in full up to this many; longer reports show the first ones (or only the failed) and say how many more --json lists. */
export const FULL_TABLE_LIMIT = 100;

/** The width a table fits unless told otherwise. */
export const TABLE_WIDTH = 80;

export interface Column {
  readonly title: string;
  /** `right` for numbers, so that their digits line up. Default `left`. */
  readonly align?: "left" | "right";
  /**
   * May be cut to fit the width: `end` for long text whose start says enough (messages,
   * hashes), `middle` for text whose both ends count (addresses: scheme and port).
   */
  readonly shrink?: "end" | "middle";
}

/** A column of numbers: aligned right. */
export function numeric(title: string): Column {
  return { title, align: "right" };
}

/** A column that may be cut to fit the width (at its end, or in the middle). */
export function shrinkable(title: string, where: "end" | "middle" = "end"): Column {
  return { title, shrink: where };
}

/** A shrinkable column keeps at least this many columns (or its title's width). */
const MIN_SHRUNK = 7;

export function renderTable(
  columns: readonly (string | Column)[],
  rows: readonly (readonly string[])[],
  footer: readonly (readonly string[])[] = [],
  { maxWidth = TABLE_WIDTH }: { maxWidth?: number } = {},
): string {
  const cols = columns.map((c) => (typeof c === "string" ? { title: c } : c));
  const widths = cols.map((c, i) => Math.max(Bun.stringWidth(c.title), ...[...rows, ...footer].map((r) => Bun.stringWidth(r[i] ?? ""))));
  let excess = widths.reduce((a, b) => a + b, 0) + 2 * (cols.length - 1) - maxWidth;
  const floor = cols.map((c) => Math.max(Bun.stringWidth(c.title), MIN_SHRUNK));
  // Text cut at its end goes first (one column at a time off the widest, so that they end
  // up alike), then text cut in the middle.
  for (const mode of ["end", "middle"] as const) {
    while (excess > 0) {
      let widest = -1;
      for (const [i, c] of cols.entries()) {
        if (c.shrink === mode && widths[i]! > floor[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      }
      if (widest < 0) break;
      widths[widest]!--;
      excess--;
    }
  }
  const line = (cells: readonly string[]) =>
    cols
      .map((c, i) => {
        const cell = cut(cells[i] ?? "", widths[i]!, c.shrink);
        const gap = " ".repeat(widths[i]! - Bun.stringWidth(cell));
        return c.align === "right" ? gap + cell : cell + gap;
      })
      .join("  ")
      .trimEnd();
  const rule = line(widths.map((w) => "-".repeat(w)));
  const out = [line(cols.map((c) => c.title)), rule, ...rows.map(line)];
  if (footer.length > 0) out.push(rule, ...footer.map(line));
  return out.join("\n");
}

/** `text` cut to `width` terminal columns with "…" where it was cut. */
function cut(text: string, width: number, where: Column["shrink"]): string {
  if (Bun.stringWidth(text) <= width) return text;
  const head = (chars: string[], room: number) => {
    let out = "";
    for (const ch of chars) {
      if (Bun.stringWidth(out + ch) > room) break;
      out += ch;
    }
    return out;
  };
  const chars = [...text];
  if (where !== "middle") return `${head(chars, width - 1)}…`;
  const tail = head(chars.toReversed(), Math.floor((width - 1) / 2));
  return `${head(chars, width - 1 - Bun.stringWidth(tail))}…${[...tail].toReversed().join("")}`;
}
