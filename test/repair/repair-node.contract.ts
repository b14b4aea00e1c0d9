/**
 * The RepairNode contract (src/repair/node.ts): what the repair relies on a node to answer,
 * run the same against every implementation: the real endpoints of an instance
 * (repair-node.sqlite.test.ts, repair-node.mysql.test.ts, through NodeRepair) and the
 * in-memory fake the orchestrator's tests use (repair-node.fake.test.ts). Refusals are
 * compared by status and kind (REPAIR_ERRORS), answers by their fields; owners come from the
 * reference ring.
 *
 * The cluster: ring {a, b} (epoch 1); node a holds it, node b holds no ring (as in a cluster
 * of the seed scenario).
 */
import { describe, expect, test } from "bun:test";
import type { Expense } from "../../src/expenses/model.ts";
import type { RepairNode } from "../../src/repair/node.ts";
import { REPAIR_ERRORS, type RepairErrorKind } from "../../src/repair/protocol.ts";
import { Ring } from "../../src/ring/ring.ts";
import { ringDocument } from "../../src/ring/ring-file.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { stored } from "../store/store.contract.ts";
import { refusal } from "../support/admin-answer.ts";

export interface RepairContractCluster {
  readonly ring: Ring;
  readonly a: RepairNode;
  readonly b: RepairNode;
  /** Stores records straight into the node's database. */
  seed(node: "a" | "b", records: readonly Expense[]): Promise<void>;
  /** What the node's database holds, by id. */
  held(node: "a" | "b"): Promise<Map<string, Expense>>;
  /** A client's request on `id` (the record to store, null to delete, undefined to read): the status answered. */
  request(node: "a" | "b", id: string, write?: Expense | null): Promise<number>;
  /** Node a takes a newer ring (PUT /ring). */
  adopt(ring: Ring): Promise<void>;
  /** A rebalance from the ring to `to` starts on node a (its lease). */
  startRebalance(to: Ring): Promise<void>;
  stop(): Promise<void>;
}

/** The ring {a, b} on `urls` (node name -> host:port). */
export function contractRing(urls: Readonly<Record<"a" | "b", string>>): Ring {
  return new Ring(
    (["a", "b"] as const).map((name) => ({ name, url: `http://${urls[name]}`, weight: 1 })),
    { vnodes: 160, epoch: 1 },
  );
}

const owner = refOwnerOf([{ name: "a" }, { name: "b" }]);
function ids(of: "a" | "b", n: number, from = 1): string[] {
  const out: string[] = [];
  for (let i = from; out.length < n; i++) if (owner(String(i)) === of) out.push(String(i));
  return out;
}
const ofA = ids("a", 8);
const ofB = ids("b", 8);

const refused = (status: number, kind: RepairErrorKind) => ({ status, kind });

export function runRepairNodeContract(name: string, start: () => Promise<RepairContractCluster>) {
  describe(`RepairNode contract: ${name}`, () => {
    async function withCluster(work: (c: RepairContractCluster) => Promise<void>) {
      const c = await start();
      try {
        await work(c);
      } finally {
        await c.stop();
      }
    }

    test("each node answers as itself, with the ring it holds (b none), its first records and its count", async () => {
      await withCluster(async (c) => {
        await c.seed(
          "a",
          [ofA[0]!, ofA[1]!, ofB[0]!].map((id) => stored(id)),
        );
        const [a, b] = [await c.a.ring(), await c.b.ring()];
        expect([a.doc?.label, a.doc?.rebalance, a.servedBy]).toEqual([c.ring.label, undefined, "a"]);
        expect([b.doc, b.servedBy]).toEqual([undefined, "b"]);
        const sorted = [ofA[0]!, ofA[1]!, ofB[0]!].sort((x, y) => Number(x) - Number(y));
        expect(await c.a.firstRecords(2)).toEqual(sorted.slice(0, 2).map((id) => stored(id)));
        expect(await c.b.firstRecords(10)).toEqual([]);
        expect(await c.b.count()).toBe(0);
      });
    });

    test("strays: the records a node holds that the other owns, in id order, page by page; `scanned` adds up to the table; nothing changes", async () => {
      await withCluster(async (c) => {
        const all = Array.from({ length: 40 }, (_, i) => String(i + 1));
        await c.seed(
          "b",
          all.map((id) => stored(id)),
        );
        const doc = ringDocument(c.ring);
        const got: string[] = [];
        let [after, scanned, pages] = [undefined as string | undefined, 0, 0];
        do {
          const page = await c.b.strays(doc, after, 3);
          expect(page.items.length).toBeLessThanOrEqual(3);
          got.push(...page.items.map((r) => r.id));
          for (const r of page.items) expect(r).toEqual(stored(r.id));
          scanned += page.scanned;
          after = page.next ?? undefined;
          pages++;
        } while (after !== undefined && pages < 100);
        expect(got).toEqual(all.filter((id) => owner(id) === "a"));
        expect(scanned).toBe(40);
        expect((await c.held("b")).size).toBe(40);
        // a, holding the ring, is asked by it too
        await c.seed("a", [stored(ofA[0]!), stored(ofB[0]!)]);
        expect((await c.a.strays(doc, undefined, 100)).items.map((r) => r.id)).toEqual([ofB[0]!]);
      });
    });

    test("begin: refused unless the node holds what the repair expects and places by; a session otherwise", async () => {
      await withCluster(async (c) => {
        const doc = ringDocument(c.ring);
        expect(await refusal(c.a.begin(doc, null))).toEqual(refused(409, REPAIR_ERRORS.ringChanged));
        expect(await refusal(c.b.begin(doc, c.ring.label))).toEqual(refused(409, REPAIR_ERRORS.ringChanged));
        const other = new Ring(c.ring.nodes, { vnodes: 40, epoch: 1 });
        expect(await refusal(c.a.begin(ringDocument(other), c.ring.label))).toEqual(refused(409, REPAIR_ERRORS.ringChanged));
        const begun = await c.a.begin(doc, c.ring.label);
        expect(begun).toMatchObject({ node: "a", ring: c.ring.label, session: expect.stringMatching(/^[A-Za-z0-9_-]{8,64}$/) });
        expect((await c.b.begin(doc, null)).session).not.toBe(begun.session);
      });
    });

    test("place: stores where the id is absent; a client's copy is kept and answered; ids of another node refused, nothing written", async () => {
      await withCluster(async (c) => {
        const { session } = await c.a.begin(ringDocument(c.ring), c.ring.label);
        const [kept, fresh] = [ofA[0]!, ofA[1]!];
        expect(await c.request("a", kept, stored(kept, { name: "The client's" }))).toBe(201);
        const answer = await c.a.place(session, [stored(kept, { name: "A stray's" }), stored(fresh)]);
        expect(answer).toEqual([
          { id: kept, outcome: "present", record: stored(kept, { name: "The client's" }) },
          { id: fresh, outcome: "placed" },
        ]);
        expect([...(await c.held("a")).values()].sort((x, y) => Number(x.id) - Number(y.id))).toEqual(
          [stored(kept, { name: "The client's" }), stored(fresh)].sort((x, y) => Number(x.id) - Number(y.id)),
        );
        // sent again: the same outcome for the one now there
        expect(await c.a.place(session, [stored(fresh)])).toEqual([{ id: fresh, outcome: "present", record: stored(fresh) }]);
        expect(await refusal(c.a.place(session, [stored(ofA[2]!), stored(ofB[0]!)]))).toEqual(refused(422, REPAIR_ERRORS.wrongNode));
        expect((await c.held("a")).has(ofA[2]!)).toBe(false);
        expect(await refusal(c.a.place("repair-no-such-session", [stored(ofA[2]!)]))).toEqual(refused(409, REPAIR_ERRORS.sessionUnknown));
      });
    });

    test("a record its owner deleted (before a session or in one), or deleted after a repair placed it, is not placed again ('gone')", async () => {
      await withCluster(async (c) => {
        const doc = ringDocument(c.ring);
        const [before, during, placedThenDeleted, untouched] = [ofA[0]!, ofA[1]!, ofA[2]!, ofA[3]!];
        expect(await c.request("a", before, stored(before))).toBe(201);
        expect(await c.request("a", before, null)).toBe(204);
        const first = (await c.a.begin(doc, c.ring.label)).session;
        expect(await c.request("a", during, stored(during))).toBe(201);
        expect(await c.request("a", during, null)).toBe(204);
        expect(await c.a.place(first, [stored(before), stored(during), stored(placedThenDeleted)])).toEqual([
          { id: before, outcome: "gone" },
          { id: during, outcome: "gone" },
          { id: placedThenDeleted, outcome: "placed" },
        ]);
        // a run killed here; a client deletes what it placed; a later run
        await c.a.end(first, false);
        expect(await c.request("a", placedThenDeleted, null)).toBe(204);
        const second = (await c.a.begin(doc, c.ring.label)).session;
        expect(await c.a.place(second, [stored(placedThenDeleted), stored(untouched)])).toEqual([
          { id: placedThenDeleted, outcome: "gone" },
          { id: untouched, outcome: "placed" },
        ]);
        expect([...(await c.held("a")).keys()]).toEqual([untouched]);
        // deleted while the run that ends complete runs: still gone after it
        const duringSecond = ids("a", 1, Number(untouched) + 1)[0]!;
        expect(await c.request("a", duringSecond, stored(duringSecond))).toBe(201);
        expect(await c.request("a", duringSecond, null)).toBe(204);
        // a run that ended complete (no stray copy anywhere): a stray copy written since is newer than the deletes before it
        await c.a.end(second, true);
        const third = (await c.a.begin(doc, c.ring.label)).session;
        expect(await c.a.place(third, [stored(before), stored(placedThenDeleted), stored(duringSecond)])).toEqual([
          { id: before, outcome: "placed" },
          { id: placedThenDeleted, outcome: "placed" },
          { id: duringSecond, outcome: "gone" },
        ]);
      });
    });

    test("remove: deletes each copy still as sent; a changed copy is left and answered, an absent one said; ids the node owns refused", async () => {
      await withCluster(async (c) => {
        const [gone, changed, absent] = [ofA[0]!, ofA[1]!, ofA[2]!];
        await c.seed("b", [stored(gone), stored(changed, { name: "Changed on b" }), stored(ofB[0]!)]);
        const { session } = await c.b.begin(ringDocument(c.ring), null);
        expect(await c.b.remove(session, [stored(gone), stored(changed), stored(absent)])).toEqual([
          { id: gone, outcome: "removed" },
          { id: changed, outcome: "changed", record: stored(changed, { name: "Changed on b" }) },
          { id: absent, outcome: "absent" },
        ]);
        expect([...(await c.held("b")).keys()].sort()).toEqual([changed, ofB[0]!].sort());
        expect(await refusal(c.b.remove(session, [stored(changed, { name: "Changed on b" }), stored(ofB[0]!)]))).toEqual(refused(422, REPAIR_ERRORS.wrongNode));
        expect((await c.held("b")).size).toBe(2);
      });
    });

    test("replace: the owner's copy replaced where it is still the one expected (again: the same); a copy changed since is left", async () => {
      await withCluster(async (c) => {
        const [x, y] = [ofA[0]!, ofA[1]!];
        await c.seed("a", [stored(x), stored(y, { name: "Written since" })]);
        const { session } = await c.a.begin(ringDocument(c.ring), c.ring.label);
        const wanted = [
          { record: stored(x, { name: "The stray's" }), expect: stored(x) },
          { record: stored(y, { name: "The stray's" }), expect: stored(y) },
        ];
        expect(await c.a.replace(session, wanted)).toEqual([
          { id: x, outcome: "replaced" },
          { id: y, outcome: "changed", record: stored(y, { name: "Written since" }) },
        ]);
        expect(await c.a.replace(session, wanted.slice(0, 1))).toEqual([{ id: x, outcome: "replaced" }]);
        const now = await c.held("a");
        expect([now.get(x)?.name, now.get(y)?.name]).toEqual(["The stray's", "Written since"]);
        expect(await refusal(c.a.replace(session, [{ record: stored(ofB[0]!), expect: stored(ofB[0]!) }]))).toEqual(refused(422, REPAIR_ERRORS.wrongNode));
      });
    });

    test("a session ends when told: its requests are refused from then on; touch keeps it", async () => {
      await withCluster(async (c) => {
        const { session } = await c.b.begin(ringDocument(c.ring), null);
        await c.b.touch(session);
        await c.b.end(session, false);
        await c.b.end(session, false);
        expect(await refusal(c.b.touch(session))).toEqual(refused(409, REPAIR_ERRORS.sessionUnknown));
        expect(await refusal(c.b.remove(session, [stored(ofA[0]!)]))).toEqual(refused(409, REPAIR_ERRORS.sessionUnknown));
      });
    });

    test("the node takes a newer ring, or starts a rebalance, under a session: its requests are refused; a new session too, while it is unfinished", async () => {
      await withCluster(async (c) => {
        const doc = ringDocument(c.ring);
        const first = (await c.a.begin(doc, c.ring.label)).session;
        await c.adopt(new Ring(c.ring.nodes, { vnodes: 160, epoch: 2 }));
        expect(await refusal(c.a.place(first, [stored(ofA[0]!)]))).toEqual(refused(409, REPAIR_ERRORS.ringChanged));
        expect((await c.held("a")).size).toBe(0);
      });
      await withCluster(async (c) => {
        const doc = ringDocument(c.ring);
        const first = (await c.a.begin(doc, c.ring.label)).session;
        await c.startRebalance(new Ring(c.ring.nodes, { vnodes: 80, epoch: 2 }));
        expect(await refusal(c.a.place(first, [stored(ofA[0]!)]))).toEqual(refused(409, REPAIR_ERRORS.rebalanceInProgress));
        expect(await refusal(c.a.begin(doc, c.ring.label))).toEqual(refused(409, REPAIR_ERRORS.rebalanceInProgress));
        expect((await c.a.ring()).doc?.rebalance).toMatchObject({ phase: "copying" });
      });
    });

    test("look: what the node holds of the ids asked, in that order: present with the record, absent, or gone (deleted there by a client)", async () => {
      await withCluster(async (c) => {
        const [here, absent, deleted] = [ofA[1]!, ofA[0]!, ofA[2]!];
        await c.seed("b", [stored(here), stored(deleted)]);
        expect(await c.request("b", deleted, null)).toBe(204);
        // a DELETE that found nothing deleted nothing: not gone
        expect(await c.request("b", absent, null)).toBe(404);
        expect(await c.b.look([deleted, here, absent])).toEqual([
          { id: deleted, state: "gone" },
          { id: here, state: "present", record: stored(here) },
          { id: absent, state: "absent" },
        ]);
      });
    });
  });
}
