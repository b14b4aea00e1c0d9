import { compareWords, md5Bytes, md5Words, wordAt, wordsToHex, type Words } from "./hash.ts";

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

/** The largest vnode count the command line and ring files accept. */
export const MAX_VNODES = 100_000;

/**
 * A bound on the points of one ring: a typo such as weight 1e6 fails fast instead of
 * eating memory, and a point's index fits in the 21 bits that sortByHash packs it into.
 */
export const MAX_POINTS = 1 << 21;

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
 * Indices 0..n-1 of the hashes in `raw` (4 words each), in increasing hash order.
 *
 * A comparator sort costs milliseconds before the JIT warms up, and a CLI builds its ring
 * once, cold. So: sort `top word * 2^21 + index` as doubles (exact: 32 + 21 bits), a native
 * numeric sort, then order the rare runs that share a top word by their other words.
 */
function sortByHash(raw: Uint32Array, n: number): Uint32Array {
  const keyed = new Float64Array(n);
  for (let i = 0; i < n; i++) keyed[i] = raw[i * 4]! * MAX_POINTS + i;
  keyed.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = keyed[i]! % MAX_POINTS;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && raw[order[end]! * 4] === raw[order[start]! * 4]) end++;
    if (end - start > 1) {
      order.subarray(start, end).sort((a, b) => {
        for (let w = 1; w < 4; w++) {
          const d = raw[a * 4 + w]! - raw[b * 4 + w]!;
          if (d !== 0) return d;
        }
        return 0;
      });
    }
    start = end;
  }
  return order;
}

/**
 * A consistent hash ring (MD5, named nodes, virtual nodes, weights).
 *
 * Immutable: a change of membership builds a new ring. A lookup is one MD5 and a
 * search for the first point strictly greater than the key's hash. The search starts
 * from a bucket table indexed by the top bits of the hash, sized so that a bucket
 * holds about half a point: most lookups compare one 32-bit word, none use BigInt.
 */
export class HashRing {
  readonly nodes: readonly RingNode[];
  readonly vnodes: number;

  readonly #byName: ReadonlyMap<string, RingNode>;
  /** Per sorted point: its most significant word, all four words, its node. */
  readonly #top: Uint32Array;
  readonly #words: Uint32Array;
  readonly #pointNode: readonly RingNode[];
  readonly #pointLabel: readonly string[];
  /** The points as objects, made on first use: lookups never need them. */
  #points?: readonly RingPoint[];
  /** #bucket[b] = index of the first point whose top word >>> #shift is >= b. */
  readonly #bucket: Uint32Array;
  readonly #shift: number;

  constructor(nodes: readonly RingNode[], options: RingOptions = {}) {
    const vnodes = options.vnodes ?? DEFAULT_VNODES;
    if (!Number.isInteger(vnodes) || vnodes < 1) {
      throw new RingError(`vnodes must be a positive integer, got ${vnodes}`);
    }
    if (nodes.length === 0) throw new RingError("the ring needs at least one node");

    const byName = new Map<string, RingNode>();
    const labels: string[] = [];
    const labelNode: RingNode[] = [];
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
      if (labels.length + count > MAX_POINTS) {
        throw new RingError(`the ring would have more than ${MAX_POINTS} points; use fewer vnodes or smaller weights`);
      }
      for (const label of pointLabels(node.name, count)) {
        labels.push(label);
        labelNode.push(node);
      }
    }

    // Hash every label into one flat array, then sort label indices by hash.
    const n = labels.length;
    const raw = new Uint32Array(n * 4);
    for (let i = 0; i < n; i++) {
      const h = md5Bytes(labels[i]!);
      for (let w = 0; w < 4; w++) raw[i * 4 + w] = wordAt(h, w);
    }
    const order = sortByHash(raw, n);
    const top = new Uint32Array(n);
    const words = new Uint32Array(n * 4);
    const pointNode: RingNode[] = new Array(n);
    const pointLabel: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const from = order[i]!;
      words.set(raw.subarray(from * 4, from * 4 + 4), i * 4);
      top[i] = words[i * 4]!;
      pointNode[i] = labelNode[from]!;
      pointLabel[i] = labels[from]!;
      if (i > 0 && top[i] === top[i - 1]) {
        const [a, b] = [words.subarray(i * 4 - 4, i * 4), words.subarray(i * 4, i * 4 + 4)];
        if (a.every((x, w) => x === b[w])) {
          const hex = wordsToHex([b[0]!, b[1]!, b[2]!, b[3]!]);
          throw new RingError(`points collide: "${pointLabel[i - 1]}" and "${pointLabel[i]}" both hash to ${hex}`);
        }
      }
    }

    const bits = Math.min(20, Math.ceil(Math.log2(n)) + 1);
    const shift = 32 - bits;
    const bucket = new Uint32Array((1 << bits) + 1);
    for (let b = 0, p = 0; b < bucket.length; b++) {
      while (p < n && top[p]! >>> shift < b) p++;
      bucket[b] = p;
    }

    this.nodes = Object.freeze([...nodes]);
    this.vnodes = vnodes;
    this.#byName = byName;
    this.#top = top;
    this.#words = words;
    this.#pointNode = pointNode;
    this.#pointLabel = pointLabel;
    this.#bucket = bucket;
    this.#shift = shift;
  }

  /** All points, sorted by hash. */
  get points(): readonly RingPoint[] {
    return (this.#points ??= Array.from({ length: this.#top.length }, (_, i) => this.#point(i)));
  }

  /** The name of the node that owns `key`. */
  get(key: string): string {
    return this.#pointNode[this.#successor(key)]!.name;
  }

  /** The node that owns `key`. */
  ownerOf(key: string): RingNode {
    return this.#pointNode[this.#successor(key)]!;
  }

  /** The owner of `key` and why: its hash, the owning point, whether it wrapped. */
  locate(key: string): Placement {
    const i = this.#successor(key);
    const keyHash = md5Words(key);
    const point = this.#point(i);
    const last = this.#point(this.#top.length - 1);
    return {
      key,
      node: this.#pointNode[i]!,
      keyHash: wordsToHex(keyHash),
      point: { ...point, hex: wordsToHex(point.hash) },
      pointIndex: i,
      wrapped: i === 0 && compareWords(keyHash, last.hash) >= 0,
    };
  }

  /** The member called `name`, if any. */
  node(name: string): RingNode | undefined {
    return this.#byName.get(name);
  }

  #point(i: number): RingPoint {
    const w = this.#words.subarray(i * 4, i * 4 + 4);
    return { label: this.#pointLabel[i]!, node: this.#pointNode[i]!.name, hash: [w[0]!, w[1]!, w[2]!, w[3]!] };
  }

  /** Index of the first point strictly greater than md5(key), wrapping to 0. The hot path. */
  #successor(key: string): number {
    const h = md5Bytes(key);
    const k0 = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
    const top = this.#top;
    const b = k0 >>> this.#shift;
    let i = this.#bucket[b]!;
    const end = this.#bucket[b + 1]!;
    // Points before the bucket are below the key and points after it are above, so
    // the answer is the first point of the bucket above the key, else `end`.
    while (i < end) {
      const t = top[i]!;
      if (t > k0 || (t === k0 && this.#restGreater(i, h))) break;
      i++;
    }
    return i === top.length ? 0 : i;
  }

  /** Whether point i's lower three words exceed the hash's (its top word being equal). */
  #restGreater(i: number, h: Uint8Array): boolean {
    for (let w = 1; w < 4; w++) {
      const p = this.#words[i * 4 + w]!;
      const k = wordAt(h, w);
      if (p !== k) return p > k;
    }
    return false;
  }
}
