/**
 * Where a rebalance goes on, from what the nodes' databases hold: each node's ring and
 * its record of the job (the phase it reached, when it was fenced, the progress it was
 * told). A pure function of those records: a run killed at any point leaves them, and the
 * next run reads them in its survey and again as its lease answers them.
 *
 *   no node fenced            copy: plan, copy, catch-up and verify (again), then the fence
 *   fenced, none switched     fence: everything compared again under the fence, then the switch
 *   some switched             switch: the fence confirmed, the change logs checked empty, the rest switched
 *   some done                 finish: every node switched and was cleaned up; only the finish is left
 *
 * Each is followed by what comes after it (cleanup, finish). A job done on every node of
 * the new ring, every node holding it, has nothing left.
 */
import type { RebalanceDetail } from "./protocol.ts";

/** One node's stored records: the label of its ring, and the rebalance it takes part in or took part in last. */
export interface NodeRecords {
  readonly name: string;
  readonly ring: string;
  readonly rebalance: Pick<RebalanceDetail, "job" | "phase" | "fencedAt" | "progress"> | undefined;
}

export interface Resume {
  /** new: no node holds an unfinished record of the job; unfinished: a run of it stopped; done: nothing is left to do. */
  readonly found: "new" | "unfinished" | "done";
  /** The step the job goes on from; "nothing" when it is done. */
  readonly from: "copy" | "fence" | "switch" | "finish" | "nothing";
  /** The nodes where the job is not done: the ones to lease and finish. */
  readonly unfinished: readonly string[];
  /** Of those, the nodes that have not switched yet. */
  readonly unswitched: readonly string[];
  /** When the first node was fenced, if a run stopped under the fence: the fence has been up since. */
  readonly fencedSince: string | undefined;
  /** The records to move, as an earlier run told the nodes (0 when none did): a run that goes on from the fence plans no more. */
  readonly toCopy: number;
}

/** Where the rebalance `move` goes on, on `nodes` (every node of both rings). */
export function resumeOf(move: { readonly job: string; readonly to: { readonly label: string } }, nodes: readonly NodeRecords[]): Resume {
  const mine = nodes.map((n) => ({ name: n.name, ring: n.ring, record: n.rebalance?.job === move.job ? n.rebalance : undefined }));
  const phases = new Set(mine.map((n) => n.record?.phase));
  const allNew = mine.every((n) => n.ring === move.to.label);
  const found =
    allNew && mine.every((n) => n.record === undefined || n.record.phase === "done")
      ? "done"
      : phases.has("copying") || phases.has("fenced") || phases.has("switched")
        ? "unfinished"
        : "new";
  const from = found === "done" ? "nothing" : phases.has("done") ? "finish" : phases.has("switched") ? "switch" : phases.has("fenced") ? "fence" : "copy";
  const unfinished = mine.filter((n) => n.record?.phase !== "done");
  const fencedAt = unfinished.flatMap((n) => (n.record?.fencedAt ? [n.record.fencedAt] : [])).sort();
  return {
    found,
    from,
    unfinished: unfinished.map((n) => n.name),
    unswitched: unfinished.filter((n) => n.record?.phase !== "switched").map((n) => n.name),
    fencedSince: fencedAt[0],
    toCopy: Math.max(0, ...unfinished.map((n) => n.record?.progress?.toCopy ?? 0)),
  };
}
