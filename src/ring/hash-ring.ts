/**
 * The consistent hash ring. Every client, instance and router places ids by the rule
 * below, so it never changes (a client with another rule looks for records on the wrong
 * node). Pure and immutable: a change of membership builds a new ring.
 *
 * The rule:
 *   - a node of weight w contributes round(vnodes * w) points (halves round up):
 *     md5("<name>:0") ... md5("<name>:<n-1>"), or md5("<name>") when it has one point;
 *   - a key belongs to the node of the first point strictly greater than md5(key),
 *     wrapping past the largest point to the smallest;
 *   - two points with one hash are an error at construction.
 *
 * The class reads that rule top-down; the two speed-ups that keep a lookup within
 * about 1.2x of a bare MD5 (a sort of the points that needs no comparator, and a
 * bucket table that finds the successor with one 32-bit compare) come after it.
 */
import { compareWords, md5Bytes, md5Words, wordAt, wordsToHex, type Words } from "./hash.ts";
import type { Node } from "./node.ts";

/** What the ring needs of a node: its name (hashed) and weight. Any richer node type (Node) fits. */
export type RingMember = Pick<Node, "name"> & Partial<Pick<Node, "weight">>;

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
export interface Placement<N extends RingMember = Node> {
  readonly key: string;
  /** The node that owns the key. */
  readonly node: N;
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

/** How many points a node of this weight gets with `vnodes` per unit weight (halves round up). */
export function pointCount(vnodes: number, weight = 1): number {
  return Math.round(vnodes * weight);
}

export class HashRing<N extends RingMember = Node> {
  readonly nodes: readonly N[];
  readonly vnodes: number;

  readonly #byName: ReadonlyMap<string, N>;
  /** The points in hash order: each point's four hash words, its node, its label. */
  readonly #words: Uint32Array;
  readonly #pointNode: readonly N[];
  readonly #pointLabel: readonly string[];
  readonly #search: SuccessorSearch;
  /** The points as objects, made on first use: lookups never need them. */
  #points?: readonly RingPoint[];

  constructor(nodes: readonly N[], options: RingOptions = {}) {
    const vnodes = options.vnodes ?? DEFAULT_VNODES;
    if (!Number.isInteger(vnodes) || vnodes < 1) {
      throw new RingError(`vnodes must be a positive integer, got ${vnodes}`);
    }
    if (nodes.length === 0) throw new RingError("the ring needs at least one node");

    // Every node's labels, and the node each label belongs to.
    const byName = new Map<string, N>();
    const labels: string[] = [];
    const labelNode: N[] = [];
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
        throw new RingError(`node "${node.name}": weight ${weight} x ${vnodes} vnodes rounds to 0 points; use a larger weight or more vnodes`);
      }
      if (labels.length + count > MAX_POINTS) {
        throw new RingError(`the ring would have more than ${MAX_POINTS} points; use fewer vnodes or smaller weights`);
      }
      for (const label of pointLabels(node.name, count)) {
        labels.push(label);
        labelNode.push(node);
      }
    }

    // Hash every label, then lay the points out in hash order.
    const n = labels.length;
    const hashed = new Uint32Array(n * 4);
    for (let i = 0; i < n; i++) {
      const h = md5Bytes(labels[i]!);
      for (let w = 0; w < 4; w++) hashed[i * 4 + w] = wordAt(h, w);
    }
    const order = sortByHash(hashed, n);
    const words = new Uint32Array(n * 4);
    const pointNode: N[] = new Array(n);
    const pointLabel: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const from = order[i]!;
      words.set(hashed.subarray(from * 4, from * 4 + 4), i * 4);
      pointNode[i] = labelNode[from]!;
      pointLabel[i] = labels[from]!;
      // Equal hashes sit side by side once sorted; only a shared top word needs the full compare.
      if (i > 0 && words[i * 4] === words[i * 4 - 4] && compareWords(wordsOf(words, i - 1), wordsOf(words, i)) === 0) {
        throw new RingError(`points collide: "${pointLabel[i - 1]}" and "${pointLabel[i]}" both hash to ${wordsToHex(wordsOf(words, i))}`);
      }
    }

    this.nodes = Object.freeze([...nodes]);
    this.vnodes = vnodes;
    this.#byName = byName;
    this.#words = words;
    this.#pointNode = pointNode;
    this.#pointLabel = pointLabel;
    this.#search = new SuccessorSearch(words);
  }

  /** The node that owns `key`: the node of the first point strictly greater than md5(key), wrapping. */
  ownerOf(key: string): N {
    return this.#pointNode[this.#search.successor(md5Bytes(key))]!;
  }

  /** The name of the node that owns `key`. */
  get(key: string): string {
    return this.ownerOf(key).name;
  }

  /** The owner of `key` and why: its hash, the owning point, whether it wrapped. */
  locate(key: string): Placement<N> {
    const i = this.#search.successor(md5Bytes(key));
    const keyHash = md5Words(key);
    const point = this.#point(i);
    const largest = wordsOf(this.#words, this.#pointNode.length - 1);
    return {
      key,
      node: this.#pointNode[i]!,
      keyHash: wordsToHex(keyHash),
      point: { ...point, hex: wordsToHex(point.hash) },
      pointIndex: i,
      wrapped: i === 0 && compareWords(keyHash, largest) >= 0,
    };
  }

  /** The member called `name`, if any. */
  node(name: string): N | undefined {
    return this.#byName.get(name);
  }

  /** All points, sorted by hash. */
  get points(): readonly RingPoint[] {
    this.#points ??= Array.from({ length: this.#pointNode.length }, (_, i) => this.#point(i));
    return this.#points;
  }

  #point(i: number): RingPoint {
    return { label: this.#pointLabel[i]!, node: this.#pointNode[i]!.name, hash: wordsOf(this.#words, i) };
  }
}

/** Point i's hash out of a flat array of four words per point. */
function wordsOf(words: Uint32Array, i: number): Words {
  return [words[i * 4]!, words[i * 4 + 1]!, words[i * 4 + 2]!, words[i * 4 + 3]!];
}

// ---------------------------------------------------------------------------------
// Speed-up 1: sorting the points without a comparator.
// ---------------------------------------------------------------------------------

/**
 * Indices 0..n-1 of the hashes in `hashed` (4 words each), in increasing hash order.
 *
 * A comparator sort costs milliseconds before the JIT warms up, and a CLI builds its ring
 * once, cold. So: sort `top word * 2^21 + index` as doubles (exact: 32 + 21 bits), a native
 * numeric sort, then order the rare runs that share a top word by their other words.
 */
function sortByHash(hashed: Uint32Array, n: number): Uint32Array {
  const keyed = new Float64Array(n);
  for (let i = 0; i < n; i++) keyed[i] = hashed[i * 4]! * MAX_POINTS + i;
  keyed.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = keyed[i]! % MAX_POINTS;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && hashed[order[end]! * 4] === hashed[order[start]! * 4]) end++;
    if (end - start > 1) {
      order.subarray(start, end).sort((a, b) => compareWords(wordsOf(hashed, a), wordsOf(hashed, b)));
    }
    start = end;
  }
  return order;
}

// ---------------------------------------------------------------------------------
// Speed-up 2: finding the successor point with a bucket table instead of a binary search.
// ---------------------------------------------------------------------------------

/**
 * The index of the first point strictly greater than a hash, wrapping to 0.
 *
 * A table indexed by the top bits of the hash gives the range of points that share
 * those bits. It is sized so that a bucket holds about half a point: most lookups
 * compare one 32-bit word, none use BigInt.
 */
class SuccessorSearch {
  /** Each point's most significant word, in point order. */
  readonly #top: Uint32Array;
  readonly #words: Uint32Array;
  /** #bucket[b] = index of the first point whose top word >>> #shift is >= b. */
  readonly #bucket: Uint32Array;
  readonly #shift: number;

  constructor(words: Uint32Array) {
    const n = words.length / 4;
    const top = new Uint32Array(n);
    for (let i = 0; i < n; i++) top[i] = words[i * 4]!;
    const bits = Math.min(20, Math.ceil(Math.log2(n)) + 1);
    const shift = 32 - bits;
    const bucket = new Uint32Array((1 << bits) + 1);
    for (let b = 0, p = 0; b < bucket.length; b++) {
      while (p < n && top[p]! >>> shift < b) p++;
      bucket[b] = p;
    }
    this.#top = top;
    this.#words = words;
    this.#bucket = bucket;
    this.#shift = shift;
  }

  /** `hash`: the 16 bytes of an MD5. The hot path. */
  successor(hash: Uint8Array): number {
    const k0 = ((hash[0]! << 24) | (hash[1]! << 16) | (hash[2]! << 8) | hash[3]!) >>> 0;
    const top = this.#top;
    const b = k0 >>> this.#shift;
    let i = this.#bucket[b]!;
    const end = this.#bucket[b + 1]!;
    // Points before the bucket are below the key and points after it are above, so
    // the answer is the first point of the bucket above the key, else `end`.
    while (i < end) {
      const t = top[i]!;
      if (t > k0 || (t === k0 && this.#lowerWordsGreater(i, hash))) break;
      i++;
    }
    return i === top.length ? 0 : i;
  }

  /** Whether point i's lower three words exceed the hash's (its top word being equal). */
  #lowerWordsGreater(i: number, hash: Uint8Array): boolean {
    for (let w = 1; w < 4; w++) {
      const p = this.#words[i * 4 + w]!;
      const k = wordAt(hash, w);
      if (p !== k) return p > k;
    }
    return false;
  }
}
