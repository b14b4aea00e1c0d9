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
 *
 * A table fits the terminal it is printed on (80 columns when standard output is not a
 * terminal). Only columns that say they may give way do, the least useful first: an
 * `optional` column (a detail the row's name already implies, such as a node's url
 * beside its name) is left out, a `shrinkable` one (a message) is cut with "…". Names,
 * addresses, hashes and numbers never give way: a table of those alone is as wide as it
 * must be. `maxWidth: Infinity` (the commands' --wide) shows everything.
 */

/** Rows shown in full up to this many; longer reports show the first ones (or only the failed) and say how many more --json lists. */
export const FULL_TABLE_LIMIT = 100;

/** The width a table fits when standard output is not a terminal. */
export const TABLE_WIDTH = 80;

/**
 * The width tables fit by default: the terminal's on a terminal, else 80 (a pipe or a
 * file has no width; 80 keeps what may be cut readable there too).
 */
export function terminalWidth(stream: Pick<NodeJS.WriteStream, "isTTY" | "columns"> = process.stdout): number {
  return stream.isTTY && stream.columns > 0 ? stream.columns : TABLE_WIDTH;
}

/** The width for a command's tables: everything with --wide, else the default. */
export function tableWidth(wide: boolean | undefined): number | undefined {
  return wide ? Infinity : undefined;
}

export interface Column {
  readonly title: string;
  /** `right` for numbers, so that their digits line up. Default `left`. */
  readonly align?: "left" | "right";
  /**
   * How the column gives way when the table is too wide; absent: never. `end`: cut at its
   * end (messages, whose start says enough); `middle`: cut in the middle (text whose both
   * ends count); `hide`: left out whole (a detail).
   */
  readonly shrink?: "end" | "middle" | "hide";
  /** Columns that may give way do so in rank order, lowest first. Default: hidden ones (0) before cut ones (1). */
  readonly rank?: number;
}

/** A column of numbers: aligned right. */
export function numeric(title: string): Column {
  return { title, align: "right" };
}

/** A column of messages that may be cut to fit the width (at its end, or in the middle). */
export function shrinkable(title: string, where: "end" | "middle" = "end", rank = 1): Column {
  return { title, shrink: where, rank };
}

/** A column left out when the table would not fit otherwise (`--wide` shows it). */
export function optional(column: string | Column, rank = 0): Column {
  return { ...(typeof column === "string" ? { title: column } : column), shrink: "hide", rank };
}

/** A cut column keeps at least this many columns (or its title's width). */
const MIN_SHRUNK = 10;

interface Layout {
  readonly cols: Column[];
  /** Per column: its width, or undefined when it is left out. */
  readonly widths: (number | undefined)[];
}

/** Which columns the table shows, and how wide, to fit `maxWidth` as far as the columns allow. */
function layout(columns: readonly (string | Column)[], cells: readonly (readonly string[])[], maxWidth: number): Layout {
  const cols = columns.map((c) => (typeof c === "string" ? { title: c } : c));
  const widths: (number | undefined)[] = cols.map((c, i) => Math.max(Bun.stringWidth(c.title), ...cells.map((r) => Bun.stringWidth(r[i] ?? ""))));
  const total = () => widths.reduce<number>((sum, w) => sum + (w === undefined ? 0 : w + 2), -2);
  const ranks = [...new Set(cols.flatMap((c) => (c.shrink ? [c.rank ?? (c.shrink === "hide" ? 0 : 1)] : [])))].sort((a, b) => a - b);
  for (const rank of ranks) {
    const mine = [...cols.keys()].filter((i) => cols[i]!.shrink && (cols[i]!.rank ?? (cols[i]!.shrink === "hide" ? 0 : 1)) === rank);
    // Hidden columns go from the right; then the cut ones lose a column at a time off the widest, so that they end up alike.
    for (const i of mine.toReversed()) if (cols[i]!.shrink === "hide" && total() > maxWidth) widths[i] = undefined;
    let excess = total() - maxWidth;
    while (excess > 0) {
      let widest = -1;
      for (const i of mine) {
        const w = widths[i];
        const floor = Math.max(Bun.stringWidth(cols[i]!.title), MIN_SHRUNK);
        const cuts = cols[i]!.shrink === "end" || cols[i]!.shrink === "middle";
        if (cuts && w !== undefined && w > floor && (widest < 0 || w > widths[widest]!)) widest = i;
      }
      if (widest < 0) break;
      widths[widest]!--;
      excess--;
    }
  }
  return { cols, widths };
}

export function renderTable(
  columns: readonly (string | Column)[],
  rows: readonly (readonly string[])[],
  footer: readonly (readonly string[])[] = [],
  { maxWidth = terminalWidth() }: { maxWidth?: number } = {},
): string {
  const { cols, widths } = layout(columns, [...rows, ...footer], maxWidth);
  const line = (cells: readonly string[]) =>
    cols
      .flatMap((c, i) => {
        const width = widths[i];
        if (width === undefined) return [];
        const cell = cut(cells[i] ?? "", width, c.shrink === "middle");
        const gap = " ".repeat(width - Bun.stringWidth(cell));
        return [c.align === "right" ? gap + cell : cell + gap];
      })
      .join("  ")
      .trimEnd();
  const rule = line(widths.map((w) => "-".repeat(w ?? 0)));
  const out = [line(cols.map((c) => c.title)), rule, ...rows.map(line)];
  if (footer.length > 0) out.push(rule, ...footer.map(line));
  return out.join("\n");
}

/**
 * The table, or, on a terminal too narrow for it even with what may give way, one block
 * per row (as psql's expanded display): the first cell as the block's heading, then a
 * line per other column, title and cell. For tables whose cells must not be cut (the
 * hashes of `ring show`).
 */
export function renderTableOrBlocks(
  columns: readonly (string | Column)[],
  rows: readonly (readonly string[])[],
  { maxWidth = terminalWidth(), terminal = process.stdout.isTTY === true }: { maxWidth?: number; terminal?: boolean } = {},
): string {
  const table = renderTable(columns, rows, [], { maxWidth });
  if (!terminal || Math.max(...table.split("\n").map((l) => Bun.stringWidth(l))) <= maxWidth) return table;
  const cols = columns.map((c) => (typeof c === "string" ? { title: c } : c));
  const titleWidth = Math.max(...cols.slice(1).map((c) => Bun.stringWidth(c.title)));
  return rows
    .map((r) => {
      const lines = cols.slice(1).map((c, i) => `  ${c.title}${" ".repeat(titleWidth - Bun.stringWidth(c.title))}  ${r[i + 1] ?? ""}`);
      return [`${cols[0]!.title} ${r[0] ?? ""}`, ...lines].join("\n");
    })
    .join("\n\n");
}

/** `text` cut to `width` terminal columns with "…" where it was cut: at its end, or in the middle. */
function cut(text: string, width: number, middle = false): string {
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
  if (!middle) return `${head(chars, width - 1)}…`;
  const tail = head(chars.toReversed(), Math.floor((width - 1) / 2));
  return `${head(chars, width - 1 - Bun.stringWidth(tail))}…${[...tail].toReversed().join("")}`;
}
