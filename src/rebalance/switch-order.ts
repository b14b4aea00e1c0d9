/** The order in which the nodes take the new ring. */
import { transfers } from "../ring/analysis.ts";
import type { Ring } from "../ring/ring.ts";

/**
 * Targets first (their copies are final under the fence), then nodes that give and take,
 * then those that only give: a client sent on by a switched source finds the new owner
 * switched already, or at worst answering 503 for a moment.
 */
export function switchOrder<N extends { readonly name: string }>(from: Ring, to: Ring, nodes: readonly N[]): N[] {
  const moves = transfers(from.placement, to.placement, []).filter((t) => t.from !== t.to && t.space > 0n);
  const gives = new Set(moves.map((t) => t.from));
  const takes = new Set(moves.map((t) => t.to));
  const rank = (name: string) => (gives.has(name) ? (takes.has(name) ? 1 : 2) : 0);
  return [...nodes].sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
