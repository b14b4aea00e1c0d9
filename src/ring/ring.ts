/**
 * A ring as a cluster knows it: the placement (a HashRing over the nodes) and its
 * identity, `<epoch>:<fingerprint>`.
 *
 *   - epoch: a non-negative integer from the ring file (0 when the ring comes from
 *     flags); a ring with a larger epoch replaces one with a smaller epoch.
 *   - fingerprint: the first 16 hex digits of SHA-256 over the canonical form of what
 *     decides placement, the JSON text (no spaces) of
 *       ["shardctl-md5-v1", vnodes, [[name, weight], ...]]
 *     with the nodes sorted by name. Node order and addresses do not change it.
 */
import { createHash } from "node:crypto";
import { HashRing } from "./hash-ring.ts";
import type { Node } from "./node.ts";

/** The HTTP header with a ring's label: on every answer of a ring-aware instance, on every client request. */
export const RING_HEADER = "x-shard-ring";

/** The placement rule's name in the fingerprint: MD5 of `name:i` labels, first point strictly above. */
export const PLACEMENT_ALGORITHM = "shardctl-md5-v1";

/** The canonical text the fingerprint hashes. */
export function canonicalRingText(vnodes: number, nodes: readonly Pick<Node, "name" | "weight">[]): string {
  const sorted = [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return JSON.stringify([PLACEMENT_ALGORITHM, vnodes, sorted.map((n) => [n.name, n.weight])]);
}

export function fingerprintOf(vnodes: number, nodes: readonly Pick<Node, "name" | "weight">[]): string {
  return createHash("sha256").update(canonicalRingText(vnodes, nodes)).digest("hex").slice(0, 16);
}

export function ringLabel(epoch: number, fingerprint: string): string {
  return `${epoch}:${fingerprint}`;
}

/** `3:0123456789abcdef` -> its parts; undefined when it is not a ring label. */
export function parseRingLabel(text: string): { epoch: number; fingerprint: string } | undefined {
  const m = /^(0|[1-9]\d{0,15}):([0-9a-f]{16})$/.exec(text);
  if (!m || !Number.isSafeInteger(Number(m[1]))) return undefined;
  return { epoch: Number(m[1]), fingerprint: m[2]! };
}

/** The JSON form of a ring: a ring file, and the body of `GET /ring`. */
export interface RingJson {
  readonly epoch: number;
  readonly fingerprint: string;
  readonly vnodes: number;
  readonly nodes: readonly Node[];
}

export class Ring {
  readonly epoch: number;
  readonly fingerprint: string;
  /** `<epoch>:<fingerprint>`, as sent in X-Shard-Ring. */
  readonly label: string;
  /** Where each key goes. */
  readonly placement: HashRing<Node>;

  /** Throws RingError when the nodes cannot form a ring (none, duplicates, colliding points). */
  constructor(nodes: readonly Node[], { vnodes, epoch = 0 }: { vnodes: number; epoch?: number }) {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be a non-negative integer, got ${epoch}`);
    this.placement = new HashRing(nodes, { vnodes });
    this.epoch = epoch;
    this.fingerprint = fingerprintOf(vnodes, nodes);
    this.label = ringLabel(epoch, this.fingerprint);
  }

  get nodes(): readonly Node[] {
    return this.placement.nodes;
  }

  get vnodes(): number {
    return this.placement.vnodes;
  }

  /** The node that owns `key` (a canonical id). */
  ownerOf(key: string): Node {
    return this.placement.ownerOf(key);
  }

  /** The member called `name`, if any. */
  node(name: string): Node | undefined {
    return this.placement.node(name);
  }

  toJSON(): RingJson {
    return {
      epoch: this.epoch,
      fingerprint: this.fingerprint,
      vnodes: this.vnodes,
      nodes: this.nodes.map(({ name, url, weight }) => ({ name, url, weight })),
    };
  }
}
