/**
 * Exact facts about a ring for `ring stats` and `ring diff`: how much of the 2^128
 * circle each node owns, and what changes hands between two rings. Arc lengths are
 * BigInt sums, so shares are exact and add up to 2^128.
 */
import { HASH_SPACE, wordsToBigInt } from "./hash.ts";
import type { HashRing, RingMember } from "./hash-ring.ts";

/** A point as an integer, with its node. */
interface Cut {
  readonly at: bigint;
  readonly node: string;
}

function cuts(ring: HashRing<RingMember>): Cut[] {
  return ring.points.map((p) => ({ at: wordsToBigInt(p.hash), node: p.node }));
}

/**
 * Per node name, in ring order: the length of the circle it owns. A point owns the arc
 * from the previous point (included) up to itself (excluded); the first point also owns
 * the wrap-around arc past the last one.
 */
export function spaceShares(ring: HashRing<RingMember>): Map<string, bigint> {
  const owned = new Map(ring.nodes.map((n) => [n.name, 0n]));
  const points = cuts(ring);
  points.forEach((p, i) => {
    const prev = i === 0 ? points[points.length - 1]!.at - HASH_SPACE : points[i - 1]!.at;
    owned.set(p.node, owned.get(p.node)! + (p.at - prev));
  });
  return owned;
}

/** Per node name, in ring order: how many of `keys` it owns. */
export function sampleShares(ring: HashRing<RingMember>, keys: readonly string[]): Map<string, number> {
  const owned = new Map(ring.nodes.map((n) => [n.name, 0]));
  for (const key of keys) {
    const name = ring.get(key);
    owned.set(name, owned.get(name)! + 1);
  }
  return owned;
}

/** Part of the circle and of a key sample whose owner is `from` in one ring and `to` in another. */
export interface Transfer {
  readonly from: string;
  readonly to: string;
  /** Exact length of the circle concerned. */
  readonly space: bigint;
  /** How many of the sample keys. */
  readonly keys: number;
}

/**
 * Every (owner before, owner after) pair with what it covers, including `from === to`
 * (what stays). The spaces add up to 2^128 and the keys to the sample size.
 *
 * Between consecutive points of either ring, both rings have a single owner: the node
 * of their first point at or after the segment's end. So one merge of the two sorted
 * point lists accounts for the whole circle.
 */
export function transfers(before: HashRing<RingMember>, after: HashRing<RingMember>, keys: readonly string[]): Transfer[] {
  const a = cuts(before);
  const b = cuts(after);
  const ends = [...new Set([...a, ...b].map((c) => c.at))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

  const found = new Map<string, { from: string; to: string; space: bigint; keys: number }>();
  const entry = (from: string, to: string) => {
    const id = `${from}\u0000${to}`;
    let t = found.get(id);
    if (!t) {
      t = { from, to, space: 0n, keys: 0 };
      found.set(id, t);
    }
    return t;
  };

  let ia = 0;
  let ib = 0;
  ends.forEach((end, j) => {
    while (ia < a.length && a[ia]!.at < end) ia++;
    while (ib < b.length && b[ib]!.at < end) ib++;
    const start = j === 0 ? ends[ends.length - 1]! - HASH_SPACE : ends[j - 1]!;
    entry((a[ia] ?? a[0]!).node, (b[ib] ?? b[0]!).node).space += end - start;
  });
  for (const key of keys) entry(before.get(key), after.get(key)).keys++;

  const order = [...new Set([...before.nodes, ...after.nodes].map((n) => n.name))];
  const rank = (name: string) => order.indexOf(name);
  return [...found.values()].sort((x, y) => rank(x.from) - rank(y.from) || rank(x.to) - rank(y.to));
}

/** `space` as a fraction of the circle, to double precision. */
export function fractionOf(space: bigint): number {
  const scale = 10n ** 18n;
  return Number((space * scale) / HASH_SPACE) / 1e18;
}

/** `space` as a percentage with `digits` decimals, rounded half up from the exact value. */
export function percentOf(space: bigint, digits = 4): string {
  const scale = 10n ** BigInt(digits);
  const scaled = (space * 100n * scale * 2n + HASH_SPACE) / (2n * HASH_SPACE);
  const whole = scaled / scale;
  const frac = (scaled % scale).toString().padStart(digits, "0");
  return digits === 0 ? `${whole}%` : `${whole}.${frac}%`;
}
