/**
 * The orchestrator's branches on in-memory participants (fake-participant.ts, held to the
 * real endpoints' answers by participant.contract.ts): a whole run, a run stopped at each
 * step and the next one going on from where the nodes' records say, a run whose nodes all
 * vanish between two switches, leases raced for, taken over or lost. Expected owners come
 * from the reference ring; the records are read back from the fakes' maps.
 */
import { describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import { Interrupted } from "../../src/errors.ts";
import type { Expense } from "../../src/expenses/model.ts";
import { RebalanceFailed } from "../../src/rebalance/errors.ts";
import { REBALANCE_STEPS, type RebalanceStep } from "../../src/rebalance/protocol.ts";
import type { RebalanceEvent } from "../../src/rebalance/report.ts";
import { type RebalanceOptions, rebalance } from "../../src/rebalance/run.ts";
import { Ring } from "../../src/ring/ring.ts";
import { ringDocument } from "../../src/ring/ring-file.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { stored } from "../store/store.contract.ts";
import { FakeDown, FakeParticipant } from "./fake-participant.ts";

const VNODES = 40;

/** Fake nodes of an old ring and a new one (epochs 1 and 2); the old owners hold the records of ids 1..records. */
class FakeCluster {
  readonly nodes = new Map<string, FakeParticipant>();
  readonly old: Ring;
  readonly next: Ring;
  readonly oldOwner: (id: string) => string;
  readonly newOwner: (id: string) => string;
  readonly ids: string[];

  constructor(old: readonly string[], next: readonly string[], records: number) {
    const names = [...new Set([...old, ...next])].sort();
    const node = (name: string) => ({ name, url: `http://127.0.0.1:${1 + names.indexOf(name)}`, weight: 1 });
    this.old = new Ring(old.map(node), { vnodes: VNODES, epoch: 1 });
    this.next = new Ring(next.map(node), { vnodes: VNODES, epoch: 2 });
    this.oldOwner = refOwnerOf(
      old.map((name) => ({ name })),
      VNODES,
    );
    this.newOwner = refOwnerOf(
      next.map((name) => ({ name })),
      VNODES,
    );
    for (const name of names) this.nodes.set(name, new FakeParticipant(name, old.includes(name) ? this.old : this.next, node(name).url));
    this.ids = Array.from({ length: records }, (_, i) => String(i + 1));
    for (const id of this.ids) this.node(this.oldOwner(id)).put(stored(id));
  }

  node(name: string): FakeParticipant {
    return this.nodes.get(name)!;
  }

  /** The ids whose owner changes. */
  get moving(): string[] {
    return this.ids.filter((id) => this.oldOwner(id) !== this.newOwner(id));
  }

  run(options: Partial<RebalanceOptions> = {}) {
    return rebalance({ from: this.old, to: this.next, batchSize: 50, participant: (n) => this.node(n.name), ...options });
  }

  /** Each node's phase of the job (undefined: no record). */
  phases(): Record<string, string | undefined> {
    return Object.fromEntries([...this.nodes].map(([name, n]) => [name, n.record?.phase]));
  }

  /** Every id once, on its new owner, as `expected` has it (default: as seeded); every node done, on the new ring, its log empty. */
  expectFinished(expected: ReadonlyMap<string, Expense> = new Map(this.ids.map((id) => [id, stored(id)]))) {
    const where = new Map<string, string[]>();
    for (const [name, n] of this.nodes) for (const id of n.stored.keys()) where.set(id, [...(where.get(id) ?? []), name]);
    const misplaced = [...where].filter(([id, at]) => at.length !== 1 || at[0] !== this.newOwner(id));
    expect(misplaced.slice(0, 5)).toEqual([]);
    expect([...where.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [id, record] of expected) expect(this.node(this.newOwner(id)).stored.get(id)).toEqual(record);
    for (const [name, n] of this.nodes) {
      expect({ name, phase: n.record?.phase, ring: n.held?.label, log: n.log.length, token: n.record?.token }).toEqual({
        name,
        phase: "done",
        ring: this.next.label,
        log: 0,
        token: null,
      });
    }
  }
}

/** The steps a run went through, from its events. */
function stepsOf(events: readonly RebalanceEvent[]): RebalanceStep[] {
  return events.flatMap((e) => (e.kind === "step" ? [e.step] : []));
}

const failure = (run: Promise<unknown>) =>
  run.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("a rebalance on in-memory participants", () => {
  test("3 -> 4: every record once on its new owner, each step in order, targets switched first", async () => {
    const c = new FakeCluster(["a", "b", "c"], ["a", "b", "c", "d"], 600);
    const events: RebalanceEvent[] = [];
    const report = await c.run({ onEvent: (e) => events.push(e) });
    expect(stepsOf(events)).toEqual([...REBALANCE_STEPS]);
    const moving = c.moving.length;
    expect(moving).toBeGreaterThan(50);
    expect([report.outcome, report.found, report.plan?.moving, report.copy?.missing, report.verify?.same]).toEqual(["done", "new", moving, moving, moving]);
    expect(report.switched).toEqual(["d", "a", "b", "c"]);
    expect(report.cleanup).toEqual({ deleted: moving });
    expect(Object.keys(report.steps)).toEqual([...REBALANCE_STEPS, "done"]);
    expect(report.steps.done).toBe(report.steps.finish!);
    c.expectFinished();
    // the progress the nodes were told last
    expect(c.node("a").record?.progress).toMatchObject({ step: "done", copied: moving, toCopy: moving });
    expect(await c.run()).toMatchObject({ outcome: "already-done", found: "done" });
  });

  test("writes during the copy are caught up, and a write under the fence waits: the last acknowledged state ends on the new owner", async () => {
    const c = new FakeCluster(["a", "b", "c"], ["a", "b", "c", "d"], 400);
    const [changed, deleted, fencedOut] = c.moving;
    const source = (id: string) => c.node(c.oldOwner(id!));
    const answers: (string | number)[] = [];
    await c.run({
      onEvent: (e) => {
        if (e.kind !== "step") return;
        if (e.step === "copy") {
          answers.push(source(changed!).request(changed!, stored(changed!, { name: "during the copy" })));
          answers.push(source(deleted!).request(deleted!, null));
        }
        if (e.step === "switch") answers.push(source(fencedOut!).request(fencedOut!, stored(fencedOut!, { name: "under the fence" })));
      },
    });
    expect(answers).toEqual(["served", "served", 503]);
    const expected = new Map(c.ids.filter((id) => id !== deleted).map((id) => [id, stored(id)]));
    expected.set(changed!, stored(changed!, { name: "during the copy" }));
    c.expectFinished(expected);
  });
});

describe("a rebalance stopped at a step (Ctrl-C), then run again", () => {
  // What the stop leaves (each node's phase), and what the next run then does: from the copy
  // again (a plan, records compared again), or only the switches that remain and the rest.
  // `missing`: what the next run's copy finds missing (all: the stop came before any batch was written).
  const cases: [RebalanceStep, "interrupted" | "done", string, { plan: boolean; switched: string[]; missing?: "all" | "none" }][] = [
    ["plan", "interrupted", "copying", { plan: true, switched: ["d", "a", "b", "c"], missing: "all" }],
    ["copy", "interrupted", "copying", { plan: true, switched: ["d", "a", "b", "c"], missing: "all" }],
    ["catch-up", "interrupted", "copying", { plan: true, switched: ["d", "a", "b", "c"], missing: "none" }],
    ["verify", "interrupted", "copying", { plan: true, switched: ["d", "a", "b", "c"], missing: "none" }],
    // under the fence the stop lifts it again: no node switched
    ["fence", "interrupted", "copying", { plan: true, switched: ["d", "a", "b", "c"], missing: "none" }],
    // from the first switch on, a stop waits until every node switched
    ["switch", "interrupted", "switched", { plan: false, switched: [] }],
    ["cleanup", "interrupted", "switched", { plan: false, switched: [] }],
    // the finish has no safe point left: it runs to its end
    ["finish", "done", "done", { plan: false, switched: [] }],
  ];
  for (const [step, outcome, left, next] of cases) {
    const then = outcome === "done" ? "it runs to its end" : next.plan ? "the next run copies again" : "the next run goes on after the switch";
    test(`at ${step}: the nodes are left ${left}; ${then}`, async () => {
      const c = new FakeCluster(["a", "b", "c"], ["a", "b", "c", "d"], 300);
      const stop = new AbortController();
      const first = await failure(
        c.run({
          signal: stop.signal,
          onEvent: (e) => {
            if (e.kind === "step" && e.step === step) stop.abort();
          },
        }),
      );
      if (outcome === "interrupted") {
        expect(first).toBeInstanceOf(Interrupted);
        expect((first as Error).message).toBe(`interrupted during ${step}; the rebalance stays where it is: run the same command again to go on`);
      } else expect(first).toBeUndefined();
      expect(new Set(Object.values(c.phases()))).toEqual(new Set([left]));
      // the lease was given up at once: the next run takes the job up without a takeover
      for (const n of c.nodes.values()) expect(n.record?.holder).toBeNull();

      const report = await c.run();
      if (outcome === "done") {
        expect(report.outcome).toBe("already-done");
      } else {
        expect([report.outcome, report.found, report.tookOver]).toEqual(["done", "unfinished", undefined]);
        expect([report.plan !== undefined, report.switched]).toEqual([next.plan, next.switched]);
        if (next.missing) expect([report.copy?.missing, report.copy?.examined]).toEqual([next.missing === "all" ? c.moving.length : 0, c.moving.length]);
      }
      c.expectFinished();
    });
  }
});

describe("a rebalance whose process dies (nothing released)", () => {
  test("every node gone between two switches: the fence holds the rest until the next run takes the job over and switches them", async () => {
    const c = new FakeCluster(["a", "b", "c"], ["a", "b", "c", "d"], 300);
    let dead = false;
    for (const n of c.nodes.values()) {
      n.fault = () => {
        if (dead) throw new FakeDown(`node ${n.name}: connection refused`);
      };
    }
    // d switches first; right after, every node goes away (so the run can release nothing)
    c.node("d").lost = (call) => {
      if (call === "switchRing") dead = true;
    };
    const first = await failure(c.run());
    expect(first).toBeInstanceOf(RebalanceFailed);
    expect((first as Error).message).toMatch(/^switch: node a \(http:\/\/127\.0\.0\.1:1\): node a: connection refused$/);
    dead = false;
    expect(c.phases()).toEqual({ a: "fenced", b: "fenced", c: "fenced", d: "switched" });
    // the tokens are still in force: the nodes did not hear of the run's end
    for (const n of c.nodes.values()) expect(n.record?.token).not.toBeNull();
    const leavingA = c.moving.find((id) => c.oldOwner(id) === "a")!;
    expect(c.node("a").request(leavingA)).toBe(503);

    const events: RebalanceEvent[] = [];
    const report = await c.run({ onEvent: (e) => events.push(e) });
    const takeover = `took over rebalance ${c.old.label} -> ${c.next.label} from pid ${process.pid} on ${hostname()}: this process holds it no longer (a run of it failed and could not release it)`;
    expect([report.found, report.tookOver, report.switched, report.plan]).toEqual(["unfinished", takeover, ["a", "b", "c"], undefined]);
    expect(events.filter((e) => e.kind === "took-over")).toEqual([
      { kind: "took-over", message: takeover, from: expect.objectContaining({ pid: process.pid }), why: expect.any(String) },
    ]);
    expect(stepsOf(events)).toEqual(["survey", "lease", "fence", "switch", "cleanup", "finish"]);
    // between switches there is no going back: no comparison again, the fence only confirmed
    expect([report.verify, report.fence?.compared]).toEqual([undefined, 0]);
    c.expectFinished();
  });

  test("a holder on another host, silent for longer than the lease: taken over; heard of lately: refused naming it", async () => {
    const c = new FakeCluster(["a", "b"], ["a", "b", "c"], 200);
    const stop = new AbortController();
    await failure(c.run({ signal: stop.signal, onProgress: ({ step }) => step === "copy" && stop.abort() }));
    const stranger = { pid: 4242, host: "ops-elsewhere", since: "2026-01-01T00:00:00.000Z" };
    const heardAgo = (ms: number) => {
      for (const n of c.nodes.values())
        n.record = { ...n.record!, token: "the-strangers-token", holder: stranger, heartbeat: new Date(Date.now() - ms).toISOString() };
    };
    heardAgo(1000);
    const refused = await failure(c.run());
    expect(refused).toBeInstanceOf(RebalanceFailed);
    expect((refused as Error).message).toContain(`lease: rebalance ${c.old.label} -> ${c.next.label} is running: held by pid 4242 on ops-elsewhere`);
    for (const n of c.nodes.values()) expect(n.record?.token).toBe("the-strangers-token");

    heardAgo(30_000);
    const report = await c.run();
    expect(report.tookOver).toBe(
      `took over rebalance ${c.old.label} -> ${c.next.label} from pid 4242 on ops-elsewhere: no node has heard from pid 4242 on ops-elsewhere for 30 s`,
    );
    c.expectFinished();
  });
});

describe("leases raced for, and lost", () => {
  test("two runs of the same job at once: the first node decides, the loser changes nothing", async () => {
    const c = new FakeCluster(["a", "b", "c"], ["a", "b", "c", "d"], 300);
    const results = await Promise.allSettled([c.run(), c.run()]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect([won.length, lost.length]).toEqual([1, 1]);
    expect(lost[0]).toBeInstanceOf(RebalanceFailed);
    expect((lost[0] as RebalanceFailed).step).toBe("lease");
    expect((lost[0] as Error).message).toStartWith("lease: node a: POST /rebalance/lease: HTTP 409: rebalance ");
    c.expectFinished();
  });

  test("another rebalance leases b and c between this one's survey and its lease: this one gives a up again, the other's job untouched", async () => {
    const c = new FakeCluster(["b", "c"], ["a", "b", "c"], 200);
    const other = new Ring(c.old.nodes, { vnodes: 20, epoch: 2 });
    const theirs = {
      from: ringDocument(c.old),
      to: ringDocument(other),
      token: "the-other-runs-token",
      expect: null,
      holder: { pid: 4242, host: "ops2", since: "2026-01-01T00:00:00.000Z" },
    };
    let raced = false;
    c.node("a").fault = (call) => {
      if (call !== "lease" || raced) return;
      raced = true;
      void c.node("b").lease(theirs);
      void c.node("c").lease(theirs);
    };
    const lost = await failure(c.run());
    expect(lost).toBeInstanceOf(RebalanceFailed);
    expect((lost as Error).message).toContain("lease: node b: ");
    expect(c.node("a").record).toBeUndefined();
    expect(c.node("a").calls.filter((call) => call === "abandon").length).toBe(1);
    for (const name of ["b", "c"])
      expect([c.node(name).record?.move.job, c.node(name).record?.token]).toEqual([`${c.old.label} -> ${other.label}`, theirs.token]);
  });

  test("the lease taken over while the run copies: it stops naming the node, the new holder's token stays in force", async () => {
    const c = new FakeCluster(["a", "b", "c"], ["a", "b", "c", "d"], 600);
    let taken = false;
    const lost = await failure(
      c.run({
        onProgress: ({ step }) => {
          if (step !== "copy" || taken) return;
          taken = true;
          for (const n of c.nodes.values()) n.record = { ...n.record!, token: "a-newer-holders-token" };
        },
      }),
    );
    expect(lost).toBeInstanceOf(RebalanceFailed);
    // the copy pass was told last when it ended: the catch-up is the first to be refused
    expect((lost as Error).message).toMatch(
      /^catch-up: node a \(http:\/\/127\.0\.0\.1:1\): POST \/rebalance\/changes: HTTP 409: .* this process's token is no longer the one in force; nothing changed$/,
    );
    for (const n of c.nodes.values()) expect([n.name, n.record?.token, n.record?.phase]).toEqual([n.name, "a-newer-holders-token", "copying"]);
  });
});

describe("a target that does not keep what it is sent", () => {
  test("the fence fails naming the record, is lifted on every node, and no node switched", async () => {
    const c = new FakeCluster(["a", "b", "c"], ["a", "b", "c", "d"], 300);
    const victim = c.moving.find((id) => c.newOwner(id) === "d")!;
    const d = c.node("d");
    const put = d.put.bind(d);
    d.put = (record) => put(record.id === victim ? { ...record, name: "corrupted" } : record);
    const failed = await failure(c.run());
    expect(failed).toBeInstanceOf(RebalanceFailed);
    expect((failed as RebalanceFailed).where).toEqual({ node: "d", record: victim });
    expect((failed as Error).message).toContain(`record ${victim} (${c.oldOwner(victim)} -> d): differs in name`);
    expect(new Set(Object.values(c.phases()))).toEqual(new Set(["copying"]));
    for (const n of c.nodes.values()) expect(n.held?.label).toBe(n.name === "d" ? c.next.label : c.old.label);

    d.put = put;
    expect((await c.run()).outcome).toBe("done");
    c.expectFinished();
  });
});
