/**
 * Where a stopped rebalance goes on (resumeOf), one row per state a run killed at some
 * point leaves in the nodes' databases: a, b and c hold the old ring 1:old, d joins with
 * the new ring 2:new; each node's ring and its record of the job (phase, fencedAt, the
 * progress it was told) as the survey reads them.
 */
import { describe, expect, test } from "bun:test";
import type { RebalancePhase } from "../../src/rebalance/protocol.ts";
import { type NodeRecords, type Resume, resumeOf } from "../../src/rebalance/resume.ts";

const move = { job: "1:old -> 2:new", to: { label: "2:new" } };
const T1 = "2026-01-01T00:00:01.000Z";
const T2 = "2026-01-01T00:00:02.000Z";

/** Node `name` holding ring `ring`, with a record of this job in `phase` (none when undefined). */
function node(name: string, ring: "old" | "new", phase?: RebalancePhase, more: { fencedAt?: string; toCopy?: number; job?: string } = {}): NodeRecords {
  const rebalance =
    phase === undefined
      ? undefined
      : {
          job: more.job ?? move.job,
          phase,
          fencedAt: more.fencedAt ?? null,
          progress: more.toCopy === undefined ? null : { step: "copy" as const, copied: 0, toCopy: more.toCopy },
        };
  return { name, ring: ring === "old" ? "1:old" : "2:new", rebalance };
}

const ALL = ["a", "b", "c", "d"];

const rows: [string, NodeRecords[], Resume][] = [
  [
    "nothing happened yet",
    [node("a", "old"), node("b", "old"), node("c", "old"), node("d", "new")],
    { found: "new", from: "copy", unfinished: ALL, unswitched: ALL, fencedSince: undefined, toCopy: 0 },
  ],
  [
    "killed while leasing: a leased, the others not",
    [node("a", "old", "copying"), node("b", "old"), node("c", "old"), node("d", "new")],
    { found: "unfinished", from: "copy", unfinished: ALL, unswitched: ALL, fencedSince: undefined, toCopy: 0 },
  ],
  [
    "killed during the copy, the catch-up or the verification (or stopped by Ctrl-C)",
    [node("a", "old", "copying", { toCopy: 120 }), node("b", "old", "copying", { toCopy: 120 }), node("c", "old", "copying"), node("d", "new", "copying")],
    { found: "unfinished", from: "copy", unfinished: ALL, unswitched: ALL, fencedSince: undefined, toCopy: 120 },
  ],
  [
    "killed while raising the fence: a and b fenced, c and d not yet",
    [
      node("a", "old", "fenced", { fencedAt: T2, toCopy: 120 }),
      node("b", "old", "fenced", { fencedAt: T1, toCopy: 120 }),
      node("c", "old", "copying", { toCopy: 120 }),
      node("d", "new", "copying"),
    ],
    { found: "unfinished", from: "fence", unfinished: ALL, unswitched: ALL, fencedSince: T1, toCopy: 120 },
  ],
  [
    "killed under the fence before any switch",
    [
      node("a", "old", "fenced", { fencedAt: T1 }),
      node("b", "old", "fenced", { fencedAt: T1 }),
      node("c", "old", "fenced", { fencedAt: T2 }),
      node("d", "new", "fenced", { fencedAt: T2 }),
    ],
    { found: "unfinished", from: "fence", unfinished: ALL, unswitched: ALL, fencedSince: T1, toCopy: 0 },
  ],
  [
    "killed between two switches: d switched (it holds the new ring), a, b and c fenced",
    [
      node("a", "old", "fenced", { fencedAt: T1 }),
      node("b", "old", "fenced", { fencedAt: T1 }),
      node("c", "old", "fenced", { fencedAt: T1 }),
      node("d", "new", "switched", { fencedAt: T1, toCopy: 90 }),
    ],
    { found: "unfinished", from: "switch", unfinished: ALL, unswitched: ["a", "b", "c"], fencedSince: T1, toCopy: 90 },
  ],
  [
    "killed during the cleanup: every node switched",
    [node("a", "new", "switched"), node("b", "new", "switched"), node("c", "new", "switched"), node("d", "new", "switched")],
    { found: "unfinished", from: "switch", unfinished: ALL, unswitched: [], fencedSince: undefined, toCopy: 0 },
  ],
  [
    "killed while finishing: a and b done, c and d switched",
    [node("a", "new", "done"), node("b", "new", "done"), node("c", "new", "switched"), node("d", "new", "switched")],
    { found: "unfinished", from: "finish", unfinished: ["c", "d"], unswitched: [], fencedSince: undefined, toCopy: 0 },
  ],
  [
    "finished: done on every node, every node on the new ring",
    [node("a", "new", "done"), node("b", "new", "done"), node("c", "new", "done"), node("d", "new", "done")],
    { found: "done", from: "nothing", unfinished: [], unswitched: [], fencedSince: undefined, toCopy: 0 },
  ],
  [
    "every node on the new ring, none with a record of the job (switched some other way): nothing to do",
    [node("a", "new"), node("b", "new"), node("c", "new"), node("d", "new")],
    { found: "done", from: "nothing", unfinished: ALL, unswitched: ALL, fencedSince: undefined, toCopy: 0 },
  ],
  [
    "an earlier rebalance done on every node: this one is new",
    [
      node("a", "old", "done", { job: "0:older -> 1:old" }),
      node("b", "old", "done", { job: "0:older -> 1:old" }),
      node("c", "old", "done", { job: "0:older -> 1:old" }),
      node("d", "new"),
    ],
    { found: "new", from: "copy", unfinished: ALL, unswitched: ALL, fencedSince: undefined, toCopy: 0 },
  ],
];

describe("resumeOf: where a stopped rebalance goes on", () => {
  for (const [state, nodes, expected] of rows) {
    test(state, () => {
      expect(resumeOf(move, nodes)).toEqual(expected);
    });
  }

  test("the order of the nodes does not matter", () => {
    for (const [, nodes, expected] of rows) {
      const reversed = resumeOf(move, [...nodes].reverse());
      const sorted: Resume = { ...reversed, unfinished: [...reversed.unfinished].sort(), unswitched: [...reversed.unswitched].sort() };
      expect(sorted).toEqual(expected);
    }
  });
});
