/**
 * A change of ring as one node sees it: for each id, whether the node keeps it, gives
 * it away, takes it in, or has nothing to do with it. Pure; the instance (ring guard,
 * rebalance endpoints) and the rebalance command share it.
 *
 *   stay:  owner under `from` and under `to` is the node
 *   out:   owner under `from` is the node, under `to` another (the node is the source)
 *   in:    owner under `to` is the node, under `from` another (the node is the target)
 *   other: the node owns it under neither
 */
import type { Node } from "./node.ts";
import type { Ring } from "./ring.ts";

export type Side = "stay" | "out" | "in" | "other";

/** A rebalance's name: both rings' labels, so that running the same change again is the same job. */
export function jobOf(from: Pick<Ring, "label">, to: Pick<Ring, "label">): string {
  return `${from.label} -> ${to.label}`;
}

export class RingMove {
  /** `<from label> -> <to label>`. */
  readonly job: string;

  /** Throws RangeError unless `to` has the larger epoch. */
  constructor(
    readonly from: Ring,
    readonly to: Ring,
  ) {
    if (to.epoch <= from.epoch) {
      throw new RangeError(`ring ${to.label} does not replace ring ${from.label}: the new ring needs a larger epoch than ${from.epoch}`);
    }
    this.job = jobOf(from, to);
  }

  /** The owner of `id` (canonical) under each ring. */
  owners(id: string): { readonly from: Node; readonly to: Node } {
    return { from: this.from.ownerOf(id), to: this.to.ownerOf(id) };
  }

  /** What node `self` does with `id` in this move. */
  side(self: string, id: string): Side {
    const was = this.from.ownerOf(id).name === self;
    const will = this.to.ownerOf(id).name === self;
    return was ? (will ? "stay" : "out") : will ? "in" : "other";
  }
}
