/**
 * The Participant contract (src/rebalance/participant.ts): what the orchestrator relies on
 * a node to answer, run the same against every implementation: the real endpoints of an
 * instance (participant.sqlite.test.ts, participant.mysql.test.ts, through NodeAdmin) and
 * the in-memory fake the orchestrator's tests use (participant.fake.test.ts). Refusals are
 * compared by status and kind (REBALANCE_ERRORS), answers by their fields; expected owners
 * come from the reference ring.
 *
 * The cluster: old ring {a, b} (epoch 1), new ring {a, b, c} (epoch 2); node a holds the old
 * ring (a source), node c joins holding the new one (a target). b is in the rings only.
 */
import { describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import type { Expense } from "../../src/expenses/model.ts";
import type { Participant } from "../../src/rebalance/participant.ts";
import { REBALANCE_ERRORS, type RebalanceErrorKind } from "../../src/rebalance/protocol.ts";
import { Ring } from "../../src/ring/ring.ts";
import { ringDocument } from "../../src/ring/ring-file.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { stored } from "../store/store.contract.ts";
import { refusal } from "../support/admin-answer.ts";

export interface ContractCluster {
  readonly from: Ring;
  readonly to: Ring;
  readonly a: Participant;
  readonly c: Participant;
  /** A client's request on `id` to node a or c (the record to store, null to delete, undefined to read): served, or the status of the refusal. */
  request(node: "a" | "c", id: string, write?: Expense | null): Promise<"served" | number>;
  stop(): Promise<void>;
}

/** The old ring {a, b} and the new ring {a, b, c} on `urls` (node name -> host:port). */
export function contractRings(urls: Readonly<Record<"a" | "b" | "c", string>>): { from: Ring; to: Ring } {
  const node = (name: "a" | "b" | "c") => ({ name, url: `http://${urls[name]}`, weight: 1 });
  return { from: new Ring([node("a"), node("b")], { vnodes: 160, epoch: 1 }), to: new Ring([node("a"), node("b"), node("c")], { vnodes: 160, epoch: 2 }) };
}

const was = refOwnerOf([{ name: "a" }, { name: "b" }]);
const will = refOwnerOf([{ name: "a" }, { name: "b" }, { name: "c" }]);
function ids(test: (id: string) => boolean, n = 3): string[] {
  const out: string[] = [];
  for (let i = 1; out.length < n; i++) if (test(String(i))) out.push(String(i));
  return out;
}
/** Ids that a keeps, that it gives to c, that c takes from b, and that b keeps. */
const stays = ids((id) => was(id) === "a" && will(id) === "a");
const leaving = ids((id) => was(id) === "a" && will(id) === "c", 5);
const fromB = ids((id) => was(id) === "b" && will(id) === "c");
const elsewhere = ids((id) => was(id) === "b" && will(id) === "b");

let tokens = 0;
const newToken = () => `contract-token-${tokens++}-${Math.random().toString(36).slice(2, 10)}`;
const holder = () => ({ pid: process.pid, host: hostname(), since: new Date().toISOString() });

const refused = (status: number, kind: RebalanceErrorKind) => ({ status, kind });

export function runParticipantContract(name: string, start: () => Promise<ContractCluster>) {
  describe(`Participant contract: ${name}`, () => {
    /** A fresh cluster for `work`, stopped after. */
    async function withCluster(
      work: (c: ContractCluster & { lease: (p: Participant, token?: string, expect?: string | null) => Promise<string> }) => Promise<void>,
    ) {
      const c = await start();
      const lease = async (p: Participant, token = newToken(), expect: string | null = null) => {
        await p.lease({ from: ringDocument(c.from), to: ringDocument(c.to), token, expect, holder: holder() });
        return token;
      };
      try {
        await work({ ...c, lease });
      } finally {
        await c.stop();
      }
    }

    test("before any lease: no rebalance; the ring each holds, answered by the node itself", async () => {
      await withCluster(async (c) => {
        expect(await c.a.detail()).toBeUndefined();
        const ring = await c.a.ring();
        expect([ring?.doc.label, ring?.doc.rebalance, ring?.servedBy]).toEqual([c.from.label, undefined, "a"]);
        expect((await c.c.ring())?.doc.label).toBe(c.to.label);
      });
    });

    test("a lease starts the move (copying, the token, both rings); the same lease again answers the same", async () => {
      await withCluster(async (c) => {
        const token = newToken();
        const request = { from: ringDocument(c.from), to: ringDocument(c.to), token, expect: null, holder: holder() };
        const first = await c.a.lease(request);
        expect(first).toMatchObject({ job: `${c.from.label} -> ${c.to.label}`, phase: "copying", token, holder: { pid: process.pid }, progress: null });
        expect([(first.fromRing as { label: string }).label, (first.toRing as { label: string }).label]).toEqual([c.from.label, c.to.label]);
        expect(await c.a.lease(request)).toMatchObject({ phase: "copying", token });
        expect((await c.a.detail())?.token).toBe(token);
        expect((await c.a.ring())?.doc.rebalance).toMatchObject({ phase: "copying", job: first.job });
      });
    });

    test("the lease: another token is refused while it is held; a takeover with the token seen works, and the old token is refused from then on", async () => {
      await withCluster(async (c) => {
        const first = await c.lease(c.a);
        expect(await refusal(c.lease(c.a))).toEqual(refused(409, REBALANCE_ERRORS.held));
        const second = await c.lease(c.a, newToken(), first);
        expect((await c.a.detail())?.token).toBe(second);
        expect(await refusal(c.a.heartbeat(first))).toEqual(refused(409, REBALANCE_ERRORS.held));
        expect(await refusal(c.lease(c.c, newToken(), "a-token-never-held"))).toEqual(refused(409, REBALANCE_ERRORS.held));
      });
    });

    test("another rebalance while this one is unfinished, a node in neither ring, a ring the node does not hold", async () => {
      await withCluster(async (c) => {
        const third = new Ring(c.to.nodes, { vnodes: 40, epoch: 3 });
        const lease = (p: Participant, from: Ring, to: Ring) =>
          p.lease({ from: ringDocument(from), to: ringDocument(to), token: newToken(), expect: null, holder: holder() });
        // a holds ring 1, not the ring 2 a rebalance 2 -> 3 starts from
        expect(await refusal(lease(c.a, c.to, third))).toEqual(refused(409, REBALANCE_ERRORS.ringMismatch));
        const without = new Ring(
          c.from.nodes.filter((n) => n.name !== "a"),
          { vnodes: 160, epoch: 2 },
        );
        expect(await refusal(lease(c.a, new Ring(without.nodes, { vnodes: 160, epoch: 1 }), without))).toEqual(refused(409, REBALANCE_ERRORS.notInRebalance));
        await c.lease(c.a);
        const other = new Ring(c.from.nodes, { vnodes: 40, epoch: 2 });
        expect(await refusal(lease(c.a, c.from, other))).toEqual(refused(409, REBALANCE_ERRORS.inProgress));
      });
    });

    test("the move: writes to leaving ids are served and logged; ids coming to the target answer 503; others 421 by the ring held", async () => {
      await withCluster(async (c) => {
        for (const id of [leaving[0]!, stays[0]!]) expect(await c.request("a", id, stored(id))).toBe("served");
        const token = await c.lease(c.a);
        await c.lease(c.c);
        expect(await c.request("a", leaving[0]!, stored(leaving[0]!, { name: "Changed" }))).toBe("served");
        expect(await c.request("a", leaving[0]!)).toBe("served");
        expect(await c.request("a", stays[0]!, stored(stays[0]!, { name: "Changed too" }))).toBe("served");
        expect(await c.request("a", leaving[0]!, null)).toBe("served");
        expect(await c.request("a", leaving[1]!, stored(leaving[1]!))).toBe("served");
        // a delete of an absent id changes nothing: nothing logged
        expect(await c.request("a", leaving[2]!, null)).toBe("served");
        const log = await c.a.changes(token, 100);
        expect(log.map((e) => e.id)).toEqual([leaving[0]!, leaving[0]!, leaving[1]!]);
        expect(new Set(log.map((e) => e.seq)).size).toBe(3);
        for (const write of [undefined, stored(fromB[0]!), null]) expect(await c.request("c", fromB[0]!, write)).toBe(503);
        expect(await c.request("a", elsewhere[0]!)).toBe(421);
        expect(await c.request("c", stays[0]!)).toBe(421);

        // entries dropped by their sequence numbers: the others stay
        await c.a.dropChanges(token, [log[0]!.seq, log[2]!.seq]);
        expect((await c.a.changes(token, 100)).map((e) => e.seq)).toEqual([log[1]!.seq]);
        expect(await refusal(c.a.changes(newToken(), 100))).toEqual(refused(409, REBALANCE_ERRORS.held));
      });
    });

    test("the fence: reads and writes of leaving ids answer 503, the staying ids are served; a rotation (next) leaves only the new token in force", async () => {
      await withCluster(async (c) => {
        const token = await c.lease(c.a);
        const next = newToken();
        const fenced = await c.a.phase(token, "fenced", next);
        expect([fenced.phase, fenced.fencedAt === null]).toEqual(["fenced", false]);
        for (const write of [undefined, stored(leaving[0]!)]) expect(await c.request("a", leaving[0]!, write)).toBe(503);
        expect(await c.request("a", stays[0]!, stored(stays[0]!))).toBe("served");
        expect(await refusal(c.a.heartbeat(token))).toEqual(refused(409, REBALANCE_ERRORS.held));
        // sent again (its answer lost): the same, the fence's time kept
        expect(await c.a.phase(token, "fenced", next)).toMatchObject({ phase: "fenced", fencedAt: fenced.fencedAt });
        // lifted before the switch: leaving ids served again
        expect((await c.a.phase(next, "copying")).fencedAt).toBeNull();
        expect(await c.request("a", leaving[0]!, stored(leaving[0]!))).toBe("served");
      });
    });

    test("the switch: refused before the fence; under it the new ring, again the same; then the fence no longer changes", async () => {
      await withCluster(async (c) => {
        const token = await c.lease(c.a);
        expect(await refusal(c.a.switchRing(token))).toEqual(refused(409, REBALANCE_ERRORS.wrongPhase));
        await c.a.phase(token, "fenced");
        expect((await c.a.switchRing(token)).label).toBe(c.to.label);
        expect((await c.a.switchRing(token)).label).toBe(c.to.label);
        const after = await c.a.detail();
        expect([after?.phase, after?.switchedAt === null]).toEqual(["switched", false]);
        expect((await c.a.ring())?.doc.label).toBe(c.to.label);
        expect(await refusal(c.a.phase(token, "copying"))).toEqual(refused(409, REBALANCE_ERRORS.wrongPhase));
        // a leaving id now belongs to c: 421 from a
        expect(await c.request("a", leaving[0]!)).toBe(421);
      });
    });

    test("imports: ids coming to the node only (nothing written otherwise), with the token in force, before its switch", async () => {
      await withCluster(async (c) => {
        const token = await c.lease(c.c);
        const good = stored(fromB[0]!, { status: "approved", decision_date: "01-02-2020" });
        expect(await refusal(c.c.import(token, [good, stored(stays[0]!)], []))).toEqual(refused(422, REBALANCE_ERRORS.notMovingHere));
        expect(await refusal(c.c.import(token, [], [elsewhere[0]!]))).toEqual(refused(422, REBALANCE_ERRORS.notMovingHere));
        expect(await refusal(c.c.import(token, [good, stored(fromB[1]!, { estimated_costs: "0700" })], []))).toEqual({ status: 422, kind: "invalid_field" });
        expect(await refusal(c.c.import(newToken(), [good], []))).toEqual(refused(409, REBALANCE_ERRORS.held));
        expect(await c.c.fetch([good.id])).toEqual([]);

        expect(await c.c.import(token, [good, stored(leaving[0]!)], [])).toEqual({ put: 2, deleted: 0 });
        expect(await c.c.fetch([leaving[0]!, good.id, "999999"])).toEqual([good, stored(leaving[0]!)].sort((x, y) => Number(x.id) - Number(y.id)));
        expect(await c.c.import(token, [], [good.id, fromB[2]!])).toEqual({ put: 0, deleted: 1 });
        // the target's view of what comes in: each record with the node it comes from
        expect(await c.c.records("in", undefined, 100)).toEqual({ items: [{ ...stored(leaving[0]!), peer: "a" }], next: null });

        await c.c.phase(token, "fenced");
        await c.c.switchRing(token);
        expect(await refusal(c.c.import(token, [stored(leaving[1]!)], []))).toEqual(refused(409, REBALANCE_ERRORS.wrongPhase));
      });
    });

    test("the source's records leaving it: exactly those, in id order, each with its new owner, page by page", async () => {
      await withCluster(async (c) => {
        const mine = [...stays, ...leaving].sort((x, y) => Number(x) - Number(y));
        for (const id of mine) expect(await c.request("a", id, stored(id))).toBe("served");
        expect(await refusal(c.a.records("out", undefined, 10))).toEqual(refused(409, REBALANCE_ERRORS.notInRebalance));
        await c.lease(c.a);
        const seen: { id: string; peer: string }[] = [];
        let after: string | undefined;
        let pages = 0;
        do {
          const page = await c.a.records("out", after, 2);
          seen.push(...page.items.map((r) => ({ id: r.id, peer: r.peer })));
          after = page.next ?? undefined;
          pages++;
        } while (after !== undefined);
        expect(seen).toEqual(leaving.map((id) => ({ id, peer: "c" })));
        expect(pages).toBeGreaterThanOrEqual(3);
        expect((await c.a.records("in", undefined, 100)).items).toEqual([]);
      });
    });

    test("the plan counts the node's records (and changes nothing)", async () => {
      await withCluster(async (c) => {
        for (const id of [...stays, ...leaving]) expect(await c.request("a", id, stored(id))).toBe("served");
        const plan = await c.a.plan(ringDocument(c.from), ringDocument(c.to));
        expect(plan).toEqual({ records: 8, stays: 3, incoming: 0, strays: 0, moves: [{ to: "c", records: 5 }] });
        expect(await c.a.detail()).toBeUndefined();
      });
    });

    test("cleanup after the switch only, deleting the records that left; finish after the switch only: done, the lease released, the log emptied", async () => {
      await withCluster(async (c) => {
        for (const id of [...stays, ...leaving]) expect(await c.request("a", id, stored(id))).toBe("served");
        const token = await c.lease(c.a);
        expect(await c.request("a", leaving[0]!, stored(leaving[0]!, { name: "logged" }))).toBe("served");
        expect(await refusal(c.a.cleanup(token, undefined, 100))).toEqual(refused(409, REBALANCE_ERRORS.wrongPhase));
        expect(await refusal(c.a.finish(token))).toEqual(refused(409, REBALANCE_ERRORS.wrongPhase));
        await c.a.phase(token, "fenced");
        await c.a.switchRing(token);
        expect(await c.a.cleanup(token, undefined, 100)).toEqual({ deleted: leaving.length, next: null });
        expect((await c.a.fetch([...stays, ...leaving])).map((r) => r.id)).toEqual(stays);
        const progress = { step: "done" as const, copied: 5, toCopy: 5 };
        const done = await c.a.finish(token, progress);
        expect(done).toMatchObject({ phase: "done", holder: null, progress });
        expect(done.finished).not.toBeNull();
        expect(await c.a.finish(token)).toMatchObject({ phase: "done", finished: done.finished });
        expect((await c.a.detail())?.token).toBeNull();
        expect(await refusal(c.a.changes(token, 10))).toEqual(refused(409, REBALANCE_ERRORS.held));
        expect(await refusal(c.lease(c.a, newToken(), null))).toEqual(refused(409, REBALANCE_ERRORS.done));
      });
    });

    test("heartbeat and release: the progress kept; released, the phase stays and anyone may lease expecting nobody", async () => {
      await withCluster(async (c) => {
        const token = await c.lease(c.a);
        await c.a.phase(token, "fenced");
        const progress = { step: "fence" as const, copied: 5, toCopy: 7 };
        expect((await c.a.heartbeat(token, progress)).progress).toEqual(progress);
        expect((await c.a.ring())?.doc.rebalance?.progress).toEqual(progress);
        const released = await c.a.release(token);
        expect([released.holder, released.phase]).toEqual([null, "fenced"]);
        expect((await c.a.release(token)).holder).toBeNull();
        const again = await c.lease(c.a);
        expect(await c.a.detail()).toMatchObject({ token: again, phase: "fenced", progress });
      });
    });

    test("abandon: by the holder only, before anything began; then the node is as if it never took part", async () => {
      await withCluster(async (c) => {
        const token = await c.lease(c.a);
        expect(await c.request("a", leaving[0]!, stored(leaving[0]!))).toBe("served");
        expect(await refusal(c.a.abandon("not-the-holders-token"))).toEqual(refused(409, REBALANCE_ERRORS.held));
        expect(await c.a.abandon(token)).toEqual({ abandoned: `${c.from.label} -> ${c.to.label}` });
        expect(await c.a.detail()).toBeUndefined();
        expect((await c.a.fetch([leaving[0]!])).length).toBe(1);
        expect(await refusal(c.a.abandon(token))).toEqual(refused(409, REBALANCE_ERRORS.notInRebalance));
        // a fresh lease finds an empty log
        const second = await c.lease(c.a);
        expect(await c.a.changes(second, 10)).toEqual([]);
        await c.a.heartbeat(second, { step: "copy", copied: 1, toCopy: 2 });
        expect(await refusal(c.a.abandon(second))).toEqual(refused(409, REBALANCE_ERRORS.wrongPhase));
      });
    });
  });
}
