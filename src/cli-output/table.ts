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

/** Rows shown in full up to this many; longer reports show the first ones (or only the failed) and say how many more --json lists. */
export const FULL_TABLE_LIMIT = 100;

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
    Math.max(Bun.stringWidth(c.title), ...[...rows, ...footer].map((r) => Bun.stringWidth(r[i] ?? ""))),
  );
  const line = (cells: readonly string[]) =>
    cols
      .map((c, i) => {
        const cell = cells[i] ?? "";
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
