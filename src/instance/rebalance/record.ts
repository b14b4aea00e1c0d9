/**
 * The record of a rebalance on this node: what it holds, how the database keeps it (the
 * columns of StoredRebalance and the rest as JSON text), what the ring guard puts in force
 * for it, and how the endpoints show it.
 */
import { hostname } from "node:os";
import { ApiError } from "../../errors.ts";
import type { FenceFigures, RebalanceDetail, RebalanceHolder, RebalancePhase, RebalanceProgress, RebalanceSummary } from "../../rebalance/protocol.ts";
import type { StoredRebalance } from "../../rebalance/records.ts";
import { RingMove } from "../../ring/move.ts";
import type { Ring } from "../../ring/ring.ts";
import { ringDocument } from "../../ring/ring-file.ts";
import { requestRing } from "../request-ring.ts";
import type { RingState } from "../ring-guard.ts";

export interface RebalanceRecord {
  readonly phase: RebalancePhase;
  /** The fencing token of the process holding the rebalance; null when none does. */
  readonly token: string | null;
  readonly move: RingMove;
  readonly holder: RebalanceHolder | null;
  readonly started: string;
  readonly heartbeat: string | null;
  readonly fencedAt: string | null;
  readonly switchedAt: string | null;
  readonly finished: string | null;
  readonly progress: RebalanceProgress | null;
  readonly fence: FenceFigures | null;
}

export const now = () => new Date().toISOString();

/** The move from the ring document `fromDoc` to `toDoc` of a request; ApiError 422 invalid_ring when they are no such pair. */
export function moveOf(fromDoc: unknown, toDoc: unknown): RingMove {
  const from = requestRing(fromDoc, "from");
  const to = requestRing(toDoc, "to");
  try {
    return new RingMove(from, to);
  } catch (e) {
    throw new ApiError(422, "invalid_ring", `to: ${(e as Error).message}; nothing changed`, "to");
  }
}

export function toStored(r: RebalanceRecord): StoredRebalance {
  const { move, phase, token, ...rest } = r;
  const text = JSON.stringify({ from: ringDocument(move.from), to: ringDocument(move.to), ...rest });
  return { job: move.job, phase, token, text };
}

export function fromStored(s: StoredRebalance): RebalanceRecord {
  const body = JSON.parse(s.text) as Omit<RebalanceRecord, "move" | "phase" | "token"> & { from: unknown; to: unknown };
  const { from, to, ...rest } = body;
  const move = moveOf(from, to);
  if (move.job !== s.job) throw new Error(`the rebalance saved in the database names job ${s.job} but holds rings ${move.job}`);
  return { ...rest, move, phase: s.phase, token: s.token };
}

/** The guard's state for `record` with the ring `ring` in force: the move until this node switched. */
export function stateFor(ring: Ring | undefined, record: RebalanceRecord | undefined): RingState {
  if (!record || (record.phase !== "copying" && record.phase !== "fenced")) return { ring };
  return { ring, move: { move: record.move, fenced: record.phase === "fenced" } };
}

export function summaryOf(r: RebalanceRecord): RebalanceSummary {
  return {
    job: r.move.job,
    from: r.move.from.label,
    to: r.move.to.label,
    phase: r.phase,
    started: r.started,
    holder: r.holder,
    heartbeat: r.heartbeat,
    heartbeatAgeMs: r.heartbeat === null ? null : Math.max(0, Date.now() - Date.parse(r.heartbeat)),
    fencedAt: r.fencedAt,
    switchedAt: r.switchedAt,
    finished: r.finished,
    progress: r.progress,
    fence: r.fence,
  };
}

/** Everything, the token included (admin only). */
export function detailOf(r: RebalanceRecord): RebalanceDetail {
  return { ...summaryOf(r), token: r.token, fromRing: ringDocument(r.move.from), toRing: ringDocument(r.move.to) };
}

/** Who holds the rebalance, in words for a refusal. */
export function describeHolder(r: RebalanceRecord): string {
  if (!r.holder) return "held by no process now";
  const age = r.heartbeat === null ? "" : `, last heard of ${Math.round((Date.now() - Date.parse(r.heartbeat)) / 1000)} s ago`;
  return `held by pid ${r.holder.pid} on ${r.holder.host === hostname() ? `${r.holder.host} (this host)` : r.holder.host}${age}`;
}
