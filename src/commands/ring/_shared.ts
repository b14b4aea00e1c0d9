/** What the ring commands share: the sample of ids, share figures, wording. */
import type { ArgsDef } from "citty";
import { fractionOf, type HashRing, type RingMember } from "../../ring/index.ts";
import { idsArg } from "../_args.ts";
import { parseIds } from "../_parse.ts";

export const DEFAULT_SAMPLE = "1..100000";

/** `--ids` as a sample of keys, with a default large enough to measure balance. */
export const sampleArg = {
  ids: {
    ...idsArg.ids,
    description: `The sample of expense ids: an inclusive range A..B, a comma list, or both (default: ${DEFAULT_SAMPLE})`,
  },
} as const satisfies ArgsDef;

export interface Sample {
  /** As given, for headers. */
  readonly spec: string;
  readonly ids: string[];
}

export function parseSample(text: string | undefined, fallback = DEFAULT_SAMPLE): Sample {
  const spec = text ?? fallback;
  return { spec, ids: parseIds(spec) };
}

/** An exact arc length and a count of sample ids, as JSON: the arc as a decimal string (it exceeds 2^53). */
export function shareJson(space: bigint, ids: number, sampleSize: number) {
  return {
    space: { arc: space.toString(), share: fractionOf(space) },
    sample: { ids, share: sampleSize === 0 ? 0 : ids / sampleSize },
  };
}

/**
 * The largest share over the fair share, where a node's fair share is its weight over
 * the total weight: with equal weights, max/mean. 1 is perfect balance.
 */
export function maxOverFair(shares: ReadonlyMap<string, number>, ring: HashRing<RingMember>): number {
  const total = ring.nodes.reduce((sum, n) => sum + (n.weight ?? 1), 0);
  return Math.max(...ring.nodes.map((n) => shares.get(n.name)! / ((n.weight ?? 1) / total)));
}

export function percent(fraction: number, digits = 4): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}
