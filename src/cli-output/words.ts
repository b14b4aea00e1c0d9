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
