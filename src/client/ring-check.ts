/**
 * `ring check`: asks every node of a ring which ring it holds (`GET /ring`) and
 * compares it with that ring. Returns data; src/cli-output/ring-check-report.ts renders it.
 */
import type { Node } from "../ring/node.ts";
import type { Ring } from "../ring/ring.ts";
import { errorMessage } from "../errors.ts";
import { failureReason } from "./errors.ts";
import { ringOfAnswer } from "./ring-adoption.ts";
import { callShard, bodyMessage, type RetryOptions } from "./transport.ts";

/**
 * agrees     the node holds this ring
 * newer      it holds a ring with a larger epoch (this ring is stale)
 * older      it holds a ring with a smaller epoch (the node is stale)
 * differs    another ring with the same epoch
 * no-ring    it answers but has no ring (started without one: it checks no ownership)
 * wrong-node it answers under another name (X-Shard-Node)
 * down       no answer, or not the answer of an instance
 */
export type RingCheckState = "agrees" | "newer" | "older" | "differs" | "no-ring" | "wrong-node" | "down";

export interface RingCheckRow {
  readonly node: string;
  readonly url: string;
  readonly state: RingCheckState;
  /** The label of the ring the node holds, when it told. */
  readonly ring?: string;
  /** Why, for every state but "agrees". */
  readonly problem?: string;
}

export interface RingCheckReport {
  readonly ok: boolean;
  /** The ring checked against. */
  readonly ring: string;
  readonly rows: readonly RingCheckRow[];
}

export async function checkRings(ring: Ring, options: RetryOptions = {}): Promise<RingCheckReport> {
  const rows = await Promise.all(ring.nodes.map((node) => checkNode(node, ring, options)));
  return { ok: rows.every((r) => r.state === "agrees"), ring: ring.label, rows };
}

async function checkNode(node: Node, ring: Ring, options: RetryOptions): Promise<RingCheckRow> {
  const row = { node: node.name, url: node.url };
  let res: Awaited<ReturnType<typeof callShard>>;
  try {
    res = await callShard(node, { method: "GET", path: "/ring" }, options);
  } catch (e) {
    return { ...row, state: "down", problem: failureReason(e) };
  }
  if (res.servedBy === null) {
    return { ...row, state: "down", problem: `HTTP ${res.status} from something that is not a shardctl instance (no X-Shard-Node header)` };
  }
  if (res.servedBy !== node.name) {
    return { ...row, state: "wrong-node", problem: `answers as node "${res.servedBy}", not "${node.name}"` };
  }
  if (res.status === 404) return { ...row, state: "no-ring", problem: "it has no ring: started without one, it checks no ownership" };
  if (res.status !== 200) return { ...row, state: "down", problem: `GET /ring answered HTTP ${res.status}: ${bodyMessage(res.body)}` };
  let theirs: Ring;
  try {
    theirs = ringOfAnswer(res.body);
  } catch (e) {
    return { ...row, state: "down", problem: `GET /ring is not a ring: ${errorMessage(e)}` };
  }
  const label = theirs.label;
  if (label === ring.label) return { ...row, state: "agrees", ring: label };
  if (theirs.epoch > ring.epoch)
    return { ...row, state: "newer", ring: label, problem: `it holds a newer ring, ${label}: the ring checked (${ring.label}) is stale` };
  if (theirs.epoch < ring.epoch) return { ...row, state: "older", ring: label, problem: `it holds an older ring, ${label}: the instance is stale` };
  return { ...row, state: "differs", ring: label, problem: `it holds another ring with the same epoch, ${label}` };
}

/** The one ring every node holds, when they all told and hold the same one, other than `report.ring`. */
export function commonOtherRing(report: RingCheckReport): string | undefined {
  if (report.rows.some((r) => r.ring === undefined)) return undefined;
  const [only, ...more] = new Set(report.rows.map((r) => r.ring!));
  return more.length === 0 && only !== report.ring ? only : undefined;
}
