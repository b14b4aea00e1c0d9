/**
 * The repair (src/repair/run.ts) on in-memory nodes (fake-repair-node.ts, the instance's own
 * rules): records misplaced by a short node list, copies that agree or differ, --prefer,
 * --dry-run, clients writing between the repair's steps, a run killed at every call and run
 * again, and what the survey refuses. Owners come from the reference ring.
 */
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/errors.ts";
import type { Expense } from "../../src/expenses/model.ts";
import { RepairFailed } from "../../src/repair/errors.ts";
import { type RepairOptions, repair } from "../../src/repair/run.ts";
import { RingMove } from "../../src/ring/move.ts";
import { Ring } from "../../src/ring/ring.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { stored } from "../store/store.contract.ts";
import { FakeDown, FakeRepairNode, type RepairCall } from "./fake-repair-node.ts";

const ringOf = (names: readonly string[], epoch = 0, vnodes = 160) =>
  new Ring(
    names.map((name) => ({ name, url: `http://${name}.fake:1`, weight: 1 })),
    { vnodes, epoch },
  );
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

/** Nodes a, b, c; `held`: the ring each node holds (default none). */
function cluster(names = ["a", "b", "c"], held?: Ring) {
  const ring = held ?? ringOf(names);
  const nodes = new Map(names.map((n) => [n, new FakeRepairNode(n, held)]));
  const owner = refOwnerOf(names.map((name) => ({ name })));
  return {
    ring,
    nodes,
    owner,
    node: (name: string) => nodes.get(name)!,
    run: (options: Partial<RepairOptions> = {}) => repair({ ring, node: (n) => nodes.get(n.name)!, batchSize: 50, ...options }),
    /** Where each id is: id -> node -> record. */
    where() {
      const out = new Map<string, Map<string, Expense>>();
      for (const [name, n] of nodes) {
        for (const [id, r] of n.stored) out.set(id, new Map([...(out.get(id) ?? []), [name, r]]));
      }
      return out;
    },
    /** Every id on its owner only, with `expected`'s record (id -> record); nothing else anywhere. */
    expectPlaced(expected: ReadonlyMap<string, Expense>) {
      const where = this.where();
      const wrong = [...where].filter(([id, on]) => on.size !== 1 || !on.has(owner(id))).map(([id, on]) => ({ id, on: [...on.keys()], owner: owner(id) }));
      expect(wrong.slice(0, 5)).toEqual([]);
      expect(new Map([...where].map(([id, on]) => [id, on.get(owner(id))]))).toEqual(new Map(expected));
    },
  };
}

/** Ids 1..n written with node list {a, b} (c forgotten): each on its owner under that list. */
function misplacedByShortList(c: ReturnType<typeof cluster>, n = 300) {
  const short = refOwnerOf([{ name: "a" }, { name: "b" }]);
  const expected = new Map(range(1, n).map((id) => [id, stored(id)]));
  for (const [id, r] of expected) c.node(short(id)).put(r);
  const misplaced = [...expected.keys()].filter((id) => short(id) !== c.owner(id));
  return { expected, misplaced, short };
}

async function failure(work: Promise<unknown>): Promise<Error> {
  const e = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(e instanceof Error)) throw new Error("expected the repair to fail");
  return e;
}

describe("repair on records misplaced by a short node list", () => {
  test("each record put on its owner and removed from where it was; the counts; a run again finds nothing to do", async () => {
    const c = cluster();
    const { expected, misplaced, short } = misplacedByShortList(c);
    expect(misplaced.length).toBeGreaterThan(50);
    const report = await c.run();
    c.expectPlaced(expected);
    const from = (node: string) => misplaced.filter((id) => short(id) === node).length;
    expect(report).toMatchObject({
      outcome: "repaired",
      ringFrom: "options",
      found: { ids: misplaced.length, copies: misplaced.length },
      placed: misplaced.length,
      same: 0,
      differing: [],
      removed: misplaced.length,
      unresolved: [],
      remaining: 0,
      scanned: 300,
    });
    expect(report.pairs).toEqual([
      { from: "a", to: "c", copies: from("a") },
      { from: "b", to: "c", copies: from("b") },
    ]);
    expect(report.nodes.map((n) => [n.node, n.records, n.strays])).toEqual([
      ["a", 300 - [...expected.keys()].filter((id) => short(id) === "b").length, from("a")],
      ["b", [...expected.keys()].filter((id) => short(id) === "b").length, from("b")],
      ["c", 0, 0],
    ]);
    const again = await c.run();
    expect(again).toMatchObject({ outcome: "nothing-to-do", found: { ids: 0, copies: 0 }, placed: 0, removed: 0, remaining: 0 });
    // every session ended: no write waits for a repair, no delete is noted
    for (const n of c.nodes.values()) expect(n.repairing.ledger.tracking).toBe(false);
  });

  test("--dry-run: the counts the run then has, and nothing changed", async () => {
    const c = cluster();
    misplacedByShortList(c);
    const before = c.where();
    const dry = await c.run({ dryRun: true });
    expect(c.where()).toEqual(before);
    for (const n of c.nodes.values()) expect(n.calls.filter((call) => !["ring", "firstRecords", "count", "strays", "look"].includes(call))).toEqual([]);
    const real = await c.run();
    expect(dry.outcome).toBe("dry-run");
    expect(dry.remaining).toBeUndefined();
    const counts = (r: typeof dry) => ({
      found: r.found,
      placed: r.placed,
      same: r.same,
      differing: r.differing,
      removed: r.removed,
      pairs: r.pairs,
      nodes: r.nodes,
    });
    expect(counts(dry)).toEqual(counts(real));
  });

  test("the ring the instances hold wins over the options' node list (epoch 0); a node of it not listed is repaired too", async () => {
    const held = ringOf(["a", "b", "c"], 1);
    const c = cluster(["a", "b", "c"], held);
    const { expected } = misplacedByShortList(c, 120);
    const report = await repair({ ring: ringOf(["a", "b"]), node: (n) => c.nodes.get(n.name)!, batchSize: 50 });
    expect([report.ringFrom, report.ring, report.nodes.map((n) => [n.node, n.ring])]).toEqual([
      "cluster",
      held.label,
      [
        ["a", held.label],
        ["b", held.label],
        ["c", held.label],
      ],
    ]);
    c.expectPlaced(expected);
  });
});

describe("copies that agree and copies that differ", () => {
  /** id 1..40 on their owner; the first `n` ids whose owner is `of` get a copy on `on` too, changed by `change`. */
  function withCopies(c: ReturnType<typeof cluster>, on: string, of: string, n: number, change: (r: Expense) => Expense = (r) => r) {
    for (const id of range(1, 60)) c.node(c.owner(id)).put(stored(id));
    const ids = range(1, 60)
      .filter((id) => c.owner(id) === of)
      .slice(0, n);
    for (const id of ids) c.node(on).put(change(stored(id)));
    return ids;
  }

  test("a stray copy equal to the owner's is removed; one that differs too, the owner's kept and the difference reported with both records", async () => {
    const c = cluster();
    const equal = withCopies(c, "a", "b", 3);
    const changed = (r: Expense) => ({ ...r, name: `${r.name} (stray)`, status: "approved" as const });
    const differing = range(1, 60)
      .filter((id) => c.owner(id) === "c")
      .slice(0, 2);
    for (const id of differing) c.node("a").put(changed(stored(id)));
    const report = await c.run();
    expect(report).toMatchObject({ outcome: "repaired", placed: 0, same: 3, removed: 5 });
    expect(report.differing).toEqual(
      differing.map((id) => ({ id, owner: "c", node: "a", fields: ["name", "status"], ownerCopy: stored(id), strayCopy: changed(stored(id)), kept: "owner" })),
    );
    c.expectPlaced(new Map(range(1, 60).map((id) => [id, stored(id)])));
    expect(equal.length).toBe(3);
  });

  test("--prefer stray: the stray copy replaces the owner's; --prefer none: both left, reported, the run unresolved", async () => {
    const changed = (r: Expense) => ({ ...r, email: "stray@example.com" });
    const c = cluster();
    const ids = withCopies(c, "b", "a", 2, changed);
    const report = await c.run({ prefer: "stray" });
    expect(report.differing.map((d) => [d.id, d.kept, d.fields])).toEqual(ids.map((id) => [id, "stray", ["email"]]));
    c.expectPlaced(new Map(range(1, 60).map((id) => [id, ids.includes(id) ? changed(stored(id)) : stored(id)])));

    const d = cluster();
    withCopies(d, "b", "a", 2, changed);
    const before = d.where();
    const left = await d.run({ prefer: "none" });
    expect(left.outcome).toBe("unresolved");
    expect(left.unresolved.map((u) => [u.id, u.nodes, u.problem])).toEqual(
      ids.map((id) => [id, ["b"], "its copies on b differ from its owner's: both left (--prefer none)"]),
    );
    expect(left.remaining).toBe(2);
    expect(d.where()).toEqual(before);
  });

  test("copies on two nodes besides the owner: agreeing, one is placed and both removed; disagreeing with no owner's copy, both left and named", async () => {
    const c = cluster();
    const [agree, disagree] = range(1, 60).filter((id) => c.owner(id) === "c") as [string, string];
    c.node("a").put(stored(agree));
    c.node("b").put(stored(agree));
    c.node("a").put(stored(disagree, { name: "On a" }));
    c.node("b").put(stored(disagree, { name: "On b" }));
    const report = await c.run();
    expect(report).toMatchObject({ outcome: "unresolved", found: { ids: 2, copies: 4 }, placed: 1, removed: 2, remaining: 2 });
    expect(report.unresolved).toEqual([
      { id: disagree, owner: "c", nodes: ["a", "b"], problem: "its copies on a, b differ (name) and its owner has none: left where they are" },
    ]);
    expect(c.where().get(agree)).toEqual(new Map([["c", stored(agree)]]));
    expect([...c.where().get(disagree)!.keys()]).toEqual(["a", "b"]);
    // the owner's copy decides once there is one
    c.node("c").put(stored(disagree, { name: "On c" }));
    const next = await c.run();
    expect(next.differing.map((x) => [x.node, x.kept])).toEqual([
      ["a", "owner"],
      ["b", "owner"],
    ]);
    expect(c.where().get(disagree)).toEqual(new Map([["c", stored(disagree, { name: "On c" })]]));
  });
});

describe("clients writing while the repair runs", () => {
  test("a record a client creates on its owner between the scan and the placement: the client's is kept, the stray removed", async () => {
    const c = cluster();
    const { misplaced, expected } = misplacedByShortList(c, 100);
    const first = misplaced[0]!;
    const client = stored(first, { name: "Written by a client" });
    c.node("c").fault = async (call) => {
      if (call === "place" && !c.node("c").stored.has(first)) expect(await c.node("c").request(first, client)).toBe(201);
    };
    const report = await c.run();
    expect(report.differing.map((d) => [d.id, d.kept])).toEqual([[first, "owner"]]);
    c.expectPlaced(new Map([...expected, [first, client]]));
  });

  test("a record deleted on its owner after a killed run placed it stays deleted: the next run removes the stray copy, places nothing", async () => {
    const c = cluster();
    const { misplaced, expected } = misplacedByShortList(c, 100);
    // killed after the placements, before any stray copy went
    for (const n of ["a", "b"]) {
      c.node(n).fault = (call) => {
        if (call === "remove") throw new FakeDown(`node ${n} is gone`);
      };
    }
    const killed = await failure(c.run());
    expect(killed).toBeInstanceOf(RepairFailed);
    expect(killed.message).toMatch(/^remove: node [ab] \(fake:\/\/[ab]\): node [ab] is gone$/);
    for (const n of ["a", "b"]) c.node(n).fault = undefined;
    const deleted = misplaced[0]!;
    expect(c.node("c").stored.has(deleted)).toBe(true);
    expect(await c.node("c").request(deleted, null)).toBe(204);
    const report = await c.run();
    expect(report).toMatchObject({ outcome: "repaired", deletedOnOwner: 1, placed: 0, remaining: 0 });
    expected.delete(deleted);
    c.expectPlaced(expected);
  });

  test("a record deleted on its owner during the run (created there by a client first) is not brought back from the stray copy", async () => {
    const c = cluster();
    const { misplaced, expected } = misplacedByShortList(c, 100);
    const id = misplaced[0]!;
    c.node("c").fault = async (call) => {
      if (call !== "place" || c.node("c").stored.has(id) || c.node("c").repairing.ledger.gone(id)) return;
      expect(await c.node("c").request(id, stored(id, { name: "New" }))).toBe(201);
      expect(await c.node("c").request(id, null)).toBe(204);
    };
    const report = await c.run();
    expect(report.deletedOnOwner).toBe(1);
    expected.delete(id);
    c.expectPlaced(expected);
  });

  test("a stray copy changed on its node after it was read is left and named; the next run takes it", async () => {
    const c = cluster();
    const { misplaced, expected, short } = misplacedByShortList(c, 100);
    const id = misplaced[0]!;
    const holder = c.node(short(id));
    const later = stored(id, { name: "Changed on the stray's node" });
    holder.fault = (call) => {
      if (call === "remove" && holder.stored.get(id)?.name !== later.name) holder.put(later);
    };
    const report = await c.run();
    expect(report.outcome).toBe("unresolved");
    expect(report.unresolved).toEqual([
      {
        id,
        owner: "c",
        nodes: [short(id)],
        problem: `its copy on ${short(id)} changed during the repair (a client wrote it there): left; run the repair again`,
      },
    ]);
    holder.fault = undefined;
    const next = await c.run();
    expect(next.differing.map((d) => [d.id, d.kept, d.fields])).toEqual([[id, "owner", ["name"]]]);
    c.expectPlaced(expected);
  });
});

describe("a run killed at any call, then run again", () => {
  const CALLS: RepairCall[] = ["begin", "strays", "place", "look", "remove", "end"];

  test("failing at each call of the run in turn (and with answers lost): the next run completes, every record once on its owner", async () => {
    const probe = cluster();
    misplacedByShortList(probe, 200);
    await probe.run();
    const total = [...probe.nodes.values()].reduce((s, n) => s + n.calls.filter((call) => CALLS.includes(call)).length, 0);
    expect(total).toBeGreaterThan(10);
    for (const mode of ["fault", "lost"] as const) {
      for (let k = 1; k <= total; k++) {
        const c = cluster();
        const { expected } = misplacedByShortList(c, 200);
        let seen = 0;
        const stopAt = (call: RepairCall) => {
          if (CALLS.includes(call) && ++seen === k) throw new FakeDown(`stopped at call ${k}`);
        };
        for (const n of c.nodes.values()) n[mode] = stopAt;
        await c.run().catch(() => {});
        for (const n of c.nodes.values()) n[mode] = undefined;
        const report = await c.run();
        expect({ mode, k, outcome: report.outcome, remaining: report.remaining }).toEqual({
          mode,
          k,
          outcome: expect.stringMatching(/^(repaired|nothing-to-do)$/),
          remaining: 0,
        });
        c.expectPlaced(expected);
      }
    }
  });

  test("Ctrl-C: the run stops after the batch under way (Interrupted), the sessions end; a run again completes", async () => {
    const c = cluster();
    const { expected } = misplacedByShortList(c, 300);
    const stop = new AbortController();
    c.node("c").fault = (call) => {
      if (call === "place") stop.abort();
    };
    const e = await failure(c.run({ signal: stop.signal }));
    expect([e.name, e.message]).toEqual(["Interrupted", expect.stringContaining("run the same command again")]);
    for (const n of c.nodes.values()) expect(n.repairing.ledger.tracking).toBe(false);
    c.node("c").fault = undefined;
    await c.run();
    c.expectPlaced(expected);
  });
});

describe("what the survey refuses, nothing changed", () => {
  test("a node down, a node under another name, an unfinished rebalance, a stale node, a newer ring in the options, two nodes on one database", async () => {
    const changed = (c: ReturnType<typeof cluster>) => [...c.nodes.values()].flatMap((n) => n.calls.filter((x) => ["begin", "place", "remove"].includes(x)));

    const down = cluster();
    down.node("b").fault = (call) => {
      if (call === "ring") throw new FakeDown("connection refused");
    };
    const e1 = await failure(down.run());
    expect([e1 instanceof RepairFailed, e1.message]).toEqual([true, "survey: node b (fake://b) is not up: connection refused; a repair needs every node"]);

    const misnamed = cluster();
    misnamed.node("a").answersAs = "b";
    const e2 = await failure(misnamed.run());
    expect([e2 instanceof UsageError, e2.message]).toEqual([true, expect.stringMatching(/^fake:\/\/a answers as node "b", but the ring names it "a"/)]);

    const held = ringOf(["a", "b", "c"], 1);
    const rebalancing = cluster(["a", "b", "c"], held);
    const move = new RingMove(held, ringOf(["a", "b"], 2));
    rebalancing.node("c").rebalance = { job: move.job, phase: "switched", move };
    const e3 = await failure(rebalancing.run());
    expect(e3.message).toBe(`survey: node c takes part in rebalance ${move.job} (phase switched): finish it first (run shardctl rebalance again), then repair`);

    const stale = cluster(["a", "b", "c"], held);
    await stale.node("a").guard.adopt(ringOf(["a", "b", "c"], 2, 80));
    const e4 = await failure(stale.run());
    expect(e4.message).toMatch(/^survey: node b holds ring 1:\w+, older than the cluster's ring 2:\w+: it is stale/);

    const newer = cluster(["a", "b", "c"], held);
    const e5 = await failure(repair({ ring: ringOf(["a", "b", "c"], 2, 80), source: "--ring new.json", node: (n) => newer.nodes.get(n.name)! }));
    expect([e5 instanceof UsageError, e5.message]).toEqual([true, expect.stringMatching(/^--ring new.json gives ring 2:\w+, but the instances hold ring 1:/)]);

    const shared = cluster();
    for (const id of range(1, 20)) for (const n of ["a", "b"]) shared.node(n).put(stored(id));
    const e6 = await failure(shared.run());
    expect(e6.message).toMatch(/^survey: nodes a and b list the same records \(their first 20\): two instances answering from one database\?/);

    for (const c of [down, misnamed, rebalancing, stale, newer, shared]) expect(changed(c)).toEqual([]);
  });
});
