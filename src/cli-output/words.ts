/** Small pieces of English shared by the CLI's messages and reports. */

/** `3,409`: a count with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** `1 vnode`, `160 vnodes`, `3,409 ids`. */
export function plural(n: number, word: string): string {
  return `${count(n)} ${word}${n === 1 ? "" : "s"}`;
}

/** `1, 2, 3`, or the first `max` and how many more. */
export function listIds(ids: readonly string[], max = 12): string {
  return ids.length <= max ? ids.join(", ") : `${ids.slice(0, max).join(", ")} and ${count(ids.length - max)} more`;
}

/**
 * `160 vnodes each`, or `160 vnodes per unit of weight` when some node's weight is not 1
 * (a node of weight w has round(160 w) points).
 */
export function vnodesEach(ring: { vnodes: number; nodes: readonly { weight?: number }[] }): string {
  const weighted = ring.nodes.some((n) => (n.weight ?? 1) !== 1);
  return `${plural(ring.vnodes, "vnode")} ${weighted ? "per unit of weight" : "each"}`;
}

/**
 * `text` as lines of at most `width` columns, broken at spaces; `indent` spaces before
 * every line but the first (whose room is `width - first`). A word wider than the room
 * (a URL, a list without spaces) stays whole on a line of its own.
 */
export function wrap(text: string, width: number, { indent = 0, first = indent }: { indent?: number; first?: number } = {}): string[] {
  const lines: string[] = [];
  let line = "";
  let room = width - first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== "" && Bun.stringWidth(line) + 1 + Bun.stringWidth(word) > room) {
      lines.push(line);
      line = "";
      room = width - indent;
    }
    line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "" || lines.length === 0) lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : " ".repeat(indent) + l));
}
