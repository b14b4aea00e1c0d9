import type { Node } from "../ring/node.ts";
import { ringOfDocument } from "../ring/ring-file.ts";
import { parseRingLabel, type Ring } from "../ring/ring.ts";
import { failureReason } from "./errors.ts";
import { callShard, bodyMessage, type RetryOptions } from "./transport.ts";

/** What `followRing` found: nothing to do, a newer ring to adopt, or rings that disagree (why, naming both labels). */
export type RingFollow =
  | { readonly kind: "none" }
  | { readonly kind: "adopt"; readonly ring: Ring }
  | { readonly kind: "disagree"; readonly reason: string; readonly theirs?: string };

/** The parts of an answer that say something about the ring. */
export interface RingAnswer {
  readonly status: number;
  /** The answer's X-Shard-Ring, or null. */
  readonly ring: string | null;
}

/** Whether `answer` calls for a look at the node's ring: a 421, or a ring with a larger epoch than `current`'s. */
export function answerSuggestsNewerRing(current: Ring, answer: RingAnswer): boolean {
  if (answer.status === 421) return true;
  const theirs = answer.ring === null ? undefined : parseRingLabel(answer.ring);
  return theirs !== undefined && theirs.epoch > current.epoch;
}

/** Why a node's ring `theirs` is not one to adopt over `current`: which one is stale, both labels. */
export function ringDisagreement(theirs: string, current: Ring): string {
  const parsed = parseRingLabel(theirs);
  if (parsed && parsed.epoch < current.epoch) {
    return (
      `its ring ${theirs} is older than this client's ring ${current.label}: the instance is the stale one (switch it ` +
      `with PUT /ring, or restart it with the new ring)`
    );
  }
  if (theirs === current.label) return `it holds ring ${theirs}, as this client does`;
  return (
    `its ring ${theirs} and this client's ring ${current.label} differ with no newer epoch on the instance's side: ` +
    `give the client the cluster's ring (shardctl ring check shows which instance holds which)`
  );
}

/** The ring a `GET /ring` body describes; throws with the reason when it is not a ring file. */
export function ringOfAnswer(body: unknown): Ring {
  return ringOfDocument(body, { what: "the answer" });
}

/**
 * One step of following the ring after `answer` came from `node` to a request sent
 * under `current`: when the answer calls for it, reads the node's `GET /ring` (one
 * attempt) and says whether to adopt it. A 421 whose own label is not newer is
 * decided from that label, without a read.
 */
export async function followRing(node: Pick<Node, "name" | "url">, current: Ring, answer: RingAnswer, options: RetryOptions = {}): Promise<RingFollow> {
  if (!answerSuggestsNewerRing(current, answer)) return { kind: "none" };
  const label = answer.ring === null ? undefined : parseRingLabel(answer.ring);
  if (answer.ring !== null && label && label.epoch <= current.epoch) {
    return { kind: "disagree", reason: ringDisagreement(answer.ring, current), theirs: answer.ring };
  }
  let ring: Ring;
  try {
    const res = await callShard(node, { method: "GET", path: "/ring" }, { ...options, retries: 0 });
    if (res.status !== 200) return { kind: "disagree", reason: `GET /ring answered HTTP ${res.status}: ${bodyMessage(res.body)}` };
    ring = ringOfAnswer(res.body);
  } catch (e) {
    const why = failureReason(e);
    return { kind: "disagree", reason: `its ring could not be read (GET /ring): ${why}` };
  }
  if (ring.epoch > current.epoch) return { kind: "adopt", ring };
  return { kind: "disagree", reason: ringDisagreement(ring.label, current), theirs: ring.label };
}
