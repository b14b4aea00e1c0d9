import { compareWords, md5Into, md5Words, wordsToHex, type Words } from "./hash.ts";

/** A member of the ring. Only `name` takes part in placement. */
export interface RingNode {
  /** Placement identity: moving a node to a new address keeps its name, so moves no data. */
  readonly name: string;
  /** Where the node answers, e.g. `http://127.0.0.1:5001`. Not hashed. */
  readonly url?: string;
  /** Relative capacity; the node gets `round(vnodes * weight)` points. Default 1. */
  readonly weight?: number;
}

export interface RingOptions {
  /** Virtual nodes (points) per node of weight 1. Default 160. */
  readonly vnodes?: number;
}

export const DEFAULT_VNODES = 160;

/** One point on the ring: the hash of a vnode label, owned by a node. */
export interface RingPoint {
  /** The string that was hashed: `name` for a single-point node, else `name:i`. */
  readonly label: string;
  readonly node: string;
  readonly hash: Words;
}

/** Why a key lands where it lands. */
export interface Placement {
  readonly key: string;
  /** The node that owns the key. */
  readonly node: RingNode;
  /** The key's hash, 32 hex digits. */
  readonly keyHash: string;
  /** The owning point: the first point strictly greater than the key's hash. */
  readonly point: RingPoint & { readonly hex: string };
  /** Index of that point among the sorted points. */
  readonly pointIndex: number;
  /** True when the key's hash is past the largest point and wrapped to the smallest. */
  readonly wrapped: boolean;
}

export class RingError extends Error {
  override readonly name = "RingError";
}

/** The labels a node contributes: `name` alone for one point, else `name:0` ... `name:n-1`. */
export function pointLabels(name: string, count: number): string[] {
  if (count === 1) return [name];
  return Array.from({ length: count }, (_, i) => `${name}:${i}`);
}

/** How many points a node of this weight gets with `vnodes` per unit weight. */
export function pointCount(vnodes: number, weight = 1): number {
  return Math.round(vnodes * weight);
}

/**
 * A consistent hash ring (MD5, named nodes, virtual nodes, weights).
 *
 * Immutable: a change of membership builds a new ring. Lookups are one MD5 and one
 * binary search over the sorted points, comparing 32-bit words.
 */
export class HashRing {
  readonly nodes: readonly RingNode[];
  readonly vnodes: number;
  /** All points, sorted by hash. */
  readonly points: readonly RingPoint[];

  // Sorted point hashes, 4 words each, and the owning node's index per point.
  readonly #words: Uint32Array;
  readonly #owner: Uint16Array;
  readonly #byName: ReadonlyMap<string, RingNode>;

  constructor(nodes: readonly RingNode[], options: RingOptions = {}) {
    const vnodes = options.vnodes ?? DEFAULT_VNODES;
    if (!Number.isInteger(vnodes) || vnodes < 1) {
      throw new RingError(`vnodes must be a positive integer, got ${vnodes}`);
    }
    if (nodes.length === 0) throw new RingError("the ring needs at least one node");
    if (nodes.length > 0xffff) throw new RingError(`at most 65535 nodes, got ${nodes.length}`);

    const byName = new Map<string, RingNode>();
    const points: RingPoint[] = [];
    for (const node of nodes) {
      if (node.name === "") throw new RingError("a node name must not be empty");
      if (byName.has(node.name)) throw new RingError(`duplicate node name "${node.name}"`);
      byName.set(node.name, node);
      const weight = node.weight ?? 1;
      if (!(Number.isFinite(weight) && weight > 0)) {
        throw new RingError(`node "${node.name}": weight must be a positive number, got ${weight}`);
      }
      const count = pointCount(vnodes, weight);
      if (count < 1) {
        throw new RingError(
          `node "${node.name}": weight ${weight} x ${vnodes} vnodes rounds to 0 points; use a larger weight or more vnodes`,
        );
      }
      for (const label of pointLabels(node.name, count)) {
        points.push({ label, node: node.name, hash: md5Words(label) });
      }
    }

    points.sort((a, b) => compareWords(a.hash, b.hash));
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1]!;
      const b = points[i]!;
      if (compareWords(a.hash, b.hash) === 0) {
        throw new RingError(`points collide: "${a.label}" and "${b.label}" hash to ${wordsToHex(a.hash)}`);
      }
    }

    const index = new Map<string, number>();
    nodes.forEach((n, i) => index.set(n.name, i));
    const words = new Uint32Array(points.length * 4);
    const owner = new Uint16Array(points.length);
    points.forEach((p, i) => {
      words.set(p.hash, i * 4);
      owner[i] = index.get(p.node)!;
    });

    this.nodes = Object.freeze([...nodes]);
    this.vnodes = vnodes;
    this.points = Object.freeze(points);
    this.#words = words;
    this.#owner = owner;
    this.#byName = byName;
  }

  /** The name of the node that owns `key`. */
  get(key: string): string {
    return this.nodes[this.#owner[this.#successor(key)]!]!.name;
  }

  /** The node that owns `key`. */
  ownerOf(key: string): RingNode {
    return this.nodes[this.#owner[this.#successor(key)]!]!;
  }

  /** The owner of `key` and why: its hash, the owning point, whether it wrapped. */
  locate(key: string): Placement {
    const keyHash = md5Words(key);
    const i = this.#successor(key);
    const point = this.points[i]!;
    return {
      key,
      node: this.ownerOf(key),
      keyHash: wordsToHex(keyHash),
      point: { ...point, hex: wordsToHex(point.hash) },
      pointIndex: i,
      wrapped: i === 0 && compareWords(keyHash, point.hash) >= 0,
    };
  }

  node(name: string): RingNode | undefined {
    return this.#byName.get(name);
  }

  /** Index of the first point strictly greater than md5(key), wrapping to 0. */
  #successor(key: string): number {
    const v = md5Into(key);
    const k0 = v.getUint32(0);
    const k1 = v.getUint32(4);
    const k2 = v.getUint32(8);
    const k3 = v.getUint32(12);
    const w = this.#words;
    let lo = 0;
    let hi = this.#owner.length;
    // Invariant: points below lo are <= key, points at or above hi are > key.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const o = mid * 4;
      let greater: boolean;
      if (w[o]! !== k0) greater = w[o]! > k0;
      else if (w[o + 1]! !== k1) greater = w[o + 1]! > k1;
      else if (w[o + 2]! !== k2) greater = w[o + 2]! > k2;
      else greater = w[o + 3]! > k3;
      if (greater) hi = mid;
      else lo = mid + 1;
    }
    return lo === this.#owner.length ? 0 : lo;
  }
}
