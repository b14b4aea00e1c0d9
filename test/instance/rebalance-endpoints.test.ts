/**
 * One instance's part in a rebalance, driven through its admin endpoints as the
 * rebalance command does: the move in force (leaving ids logged, coming ids 503, the
 * fence), the lease and its token, imports, the switch, cleanup, and all of it across a
 * restart. Real instances on SQLite files; expected owners from the reference ring.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { parseRingFile } from "../../src/ring/ring-file.ts";
import { Ring } from "../../src/ring/ring.ts";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import { RingStartError } from "../../src/instance/ring-guard.ts";
import { stored } from "../store/store.contract.ts";
import { localNodes, referenceOwner, ringOf, startCluster } from "../support/cluster.ts";
import { call } from "../support/http.ts";

const dir = mkdtempSync(join(tmpdir(), "shardctl-rebalance-endpoints-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshDb = () => `sqlite:${join(dir, `db-${files++}.sqlite`)}`;

const doc = (ring: Ring) => ({ ...ring.toJSON(), label: ring.label });
const holder = () => ({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
let tokens = 0;
const newToken = () => `test-token-${tokens++}-${Math.random().toString(36).slice(2, 10)}`;

/**
 * Old ring {a, b} (epoch 1) and new ring {a, b, c} (epoch 2); instance a on the old ring
 * (a source) and instance c on the new one (joining: a target), each on its own file.
 */
async function twoInstances() {
  const nodes = await localNodes(["a", "b", "c"]);
  const all = ringOf(nodes, { epoch: 2 });
  const from = new Ring(
    all.nodes.filter((n) => n.name !== "c"),
    { vnodes: 160, epoch: 1 },
  );
  const to = all;
  const [was, will] = [referenceOwner(from), referenceOwner(to)];
  const ids = (test: (id: string) => boolean, n = 3) => {
    const out: string[] = [];
    for (let i = 1; out.length < n; i++) if (test(String(i))) out.push(String(i));
    return out;
  };
  const cluster = await startCluster({ nodes: [to.node("a")!, to.node("c")!], ring: (name) => (name === "a" ? from : to) });
  return {
    from,
    to,
    get a() {
      return cluster.instances.get("a")!;
    },
    get c() {
      return cluster.instances.get("c")!;
    },
    dbs: { a: cluster.db("a"), c: cluster.db("c") },
    /** Starts node `name` again on its port and database, with `ring` (default: the old ring for a, the new one for c). */
    start: (name: "a" | "c", ring?: Ring) => cluster.startNode(name, ring),
    /** ids that a keeps, gives to c, and that are b's under the old ring and c's under the new (c takes them from b) */
    stays: ids((id) => was(id) === "a" && will(id) === "a"),
    leaving: ids((id) => was(id) === "a" && will(id) === "c"),
    fromB: ids((id) => was(id) === "b" && will(id) === "c"),
    elsewhere: ids((id) => was(id) === "b" && will(id) === "b"),
    stop: () => cluster.stop(),
  };
}

type Setup = Awaited<ReturnType<typeof twoInstances>>;

const post = (instance: Instance, path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(instance.url, "POST", `/rebalance/${path}`, body, headers);

async function lease(s: Setup, instance: Instance, token = newToken(), expect: string | null = null) {
  const r = await post(instance, "lease", { from: doc(s.from), to: doc(s.to), token, expect, holder: holder() });
  return { ...r, token };
}

describe("an instance in a rebalance", () => {
  test("a lease starts the move: leaving ids are served and their writes logged, coming ids answer 503 with Retry-After, the rest as before", async () => {
    const s = await twoInstances();
    try {
      const [stay, leaving] = [s.stays[0]!, s.leaving[0]!];
      for (const id of [stay, leaving]) expect((await call(s.a.url, "POST", "/v1/expenses", seedRecord(id))).status).toBe(201);
      const got = await lease(s, s.a);
      expect([got.status, got.json.phase, got.json.job, got.json.token]).toEqual([200, "copying", `${s.from.label} -> ${s.to.label}`, got.token]);
      expect((await lease(s, s.c)).status).toBe(200);

      // on the source: the leaving id is read and written here, each write logged once; the staying one is not logged
      expect((await call(s.a.url, "GET", `/v1/expenses/${leaving}`)).status).toBe(200);
      expect((await call(s.a.url, "PUT", `/v1/expenses/${leaving}`, { name: "Changed" })).status).toBe(202);
      expect((await call(s.a.url, "PUT", `/v1/expenses/${stay}`, { name: "Changed too" })).status).toBe(202);
      expect((await call(s.a.url, "DELETE", `/v1/expenses/${leaving}`)).status).toBe(204);
      expect((await call(s.a.url, "POST", "/v1/expenses", seedRecord(s.leaving[1]!))).status).toBe(201);
      const changes = await post(s.a, "changes", { token: got.token, limit: 100 });
      expect(changes.json.items.map((e: { id: string }) => e.id)).toEqual([leaving, leaving, s.leaving[1]!]);

      // on the target: an id coming to it answers 503 naming both nodes, whatever the request
      for (const [method, body] of [["GET"], ["PUT", { name: "x" }], ["DELETE"]] as const) {
        const r = await call(s.c.url, method, `/v1/expenses/${s.fromB[0]}`, body);
        expect([r.status, r.json.error, r.headers.get("retry-after"), r.json.from?.name, r.json.to?.name]).toEqual([503, "moving", "1", "b", "c"]);
        expect(r.json.message).toContain(`is moving from node b to node c (rebalance ${s.from.label} -> ${s.to.label})`);
      }
      // an id of neither: 421 by the ring each holds
      const other = await call(s.a.url, "GET", `/v1/expenses/${s.elsewhere[0]}`);
      expect([other.status, other.json.owner.name, other.json.ring]).toEqual([421, "b", s.from.label]);
      const fromC = await call(s.c.url, "GET", `/v1/expenses/${s.stays[0]}`);
      expect([fromC.status, fromC.json.owner.name, fromC.json.ring]).toEqual([421, "a", s.to.label]);

      // GET /ring shows the rebalance, and is still a ring file
      const ring = await call(s.a.url, "GET", "/ring");
      expect(ring.json.rebalance).toMatchObject({ job: `${s.from.label} -> ${s.to.label}`, phase: "copying", holder: { pid: process.pid }, fence: null });
      expect(ring.json.rebalance.token).toBeUndefined();
      expect(parseRingFile(JSON.stringify(ring.json))).toMatchObject({ epoch: 1, vnodes: 160 });
    } finally {
      await s.stop();
    }
  });

  test("the fence: reads and writes of leaving ids answer 503, then the switch: 421 for them, the coming ids are served", async () => {
    const s = await twoInstances();
    try {
      const leaving = s.leaving[0]!;
      await call(s.a.url, "POST", "/v1/expenses", seedRecord(leaving));
      const { token } = await lease(s, s.a);
      const tc = (await lease(s, s.c)).token;
      // a switch before the fence is refused
      const early = await post(s.a, "switch", { token });
      expect([early.status, early.json.error]).toEqual([409, "wrong_phase"]);

      expect((await post(s.a, "phase", { token, phase: "fenced" })).json).toMatchObject({ phase: "fenced", fencedAt: expect.any(String) });
      const write = await call(s.a.url, "PUT", `/v1/expenses/${leaving}`, { name: "during the fence" });
      expect([write.status, write.json.error, write.headers.get("retry-after")]).toEqual([503, "moving", "1"]);
      expect(write.json.message).toContain("it waits while ownership switches");
      // a read waits too: a target that switched first may hold a newer write already
      const read = await call(s.a.url, "GET", `/v1/expenses/${leaving}`);
      expect([read.status, read.json.error, read.headers.get("retry-after")]).toEqual([503, "moving", "1"]);
      // ids that stay are read and written as ever
      expect((await call(s.a.url, "GET", `/v1/expenses/${s.stays[0]}`)).status).toBe(404);
      expect((await call(s.a.url, "POST", "/v1/expenses", seedRecord(s.leaving[1]!))).status).toBe(503);
      expect((await call(s.a.url, "POST", "/v1/expenses", seedRecord(s.stays[0]!))).status).toBe(201);

      // the target takes the copy, then both switch (a fenced node only)
      expect((await post(s.c, "import", { token: tc, put: [stored(leaving)], delete: [] })).json).toEqual({ put: 1, deleted: 0 });
      expect((await post(s.c, "phase", { token: tc, phase: "fenced" })).status).toBe(200);
      for (const [node, t] of [
        [s.c, tc],
        [s.a, token],
      ] as const) {
        const r = await post(node, "switch", { token: t });
        expect([r.status, r.json.label]).toEqual([200, s.to.label]);
        // again: the same answer
        expect((await post(node, "switch", { token: t })).json.label).toBe(s.to.label);
      }
      const moved = await call(s.a.url, "PUT", `/v1/expenses/${leaving}`, { name: "after" });
      expect([moved.status, moved.json.owner.name, moved.headers.get("x-shard-ring")]).toEqual([421, "c", s.to.label]);
      const there = await call(s.c.url, "PUT", `/v1/expenses/${leaving}`, { name: "after" });
      expect([there.status, there.json.name]).toEqual([202, "after"]);
      // no more imports after the switch
      const late = await post(s.c, "import", { token: tc, put: [stored(leaving)], delete: [] });
      expect([late.status, late.json.error]).toEqual([409, "wrong_phase"]);
      expect((await call(s.c.url, "GET", `/v1/expenses/${leaving}`)).json.name).toBe("after");
      // a leaving record stays on a until cleanup, which deletes only those
      const cleaned = await post(s.a, "cleanup", { token, limit: 1000 });
      expect(cleaned.json).toEqual({ deleted: 1, next: null });
      expect((await call(s.a.url, "GET", "/v1/expenses")).json.items.map((r: { id: string }) => r.id)).toEqual([s.stays[0]]);
      const done = await post(s.a, "finish", { token });
      expect(done.json).toMatchObject({ phase: "done", holder: null, finished: expect.any(String) });
      expect((await post(s.a, "changes", { token, limit: 10 })).json.error).toBe("rebalance_held");
    } finally {
      await s.stop();
    }
  });

  test("abandon: only by the holder, only before anything began; then the node is as if it never took part", async () => {
    const s = await twoInstances();
    try {
      const leaving = s.leaving[0]!;
      const { token } = await lease(s, s.a);
      expect((await call(s.a.url, "POST", "/v1/expenses", seedRecord(leaving))).status).toBe(201);
      const wrong = await post(s.a, "abandon", { token: "not-the-holder" });
      expect([wrong.status, wrong.json.error]).toEqual([409, "rebalance_held"]);
      const done = await post(s.a, "abandon", { token });
      expect([done.status, done.json.abandoned]).toEqual([200, `${s.from.label} -> ${s.to.label}`]);
      expect((await call(s.a.url, "GET", "/ring")).json.rebalance).toBeUndefined();
      // the record written meanwhile is still there
      expect((await call(s.a.url, "GET", `/v1/expenses/${leaving}`)).status).toBe(200);
      const again = await post(s.a, "abandon", { token });
      expect([again.status, again.json.error]).toEqual([409, "not_in_rebalance"]);

      // once progress was reported (a copy has begun), it can only be finished
      const second = await lease(s, s.a);
      expect((await post(s.a, "heartbeat", { token: second.token, progress: { step: "copy", copied: 1, toCopy: 2 } })).status).toBe(200);
      const late = await post(s.a, "abandon", { token: second.token });
      expect([late.status, late.json.error]).toEqual([409, "wrong_phase"]);
      expect((await call(s.a.url, "GET", "/ring")).json.rebalance.phase).toBe("copying");
    } finally {
      await s.stop();
    }
  });

  test("the lease: a second process is refused naming the holder; a takeover needs the holder's token; a replaced token changes nothing", async () => {
    const s = await twoInstances();
    try {
      const first = await lease(s, s.a);
      const second = await lease(s, s.a);
      expect([second.status, second.json.error, second.json.rebalance.holder.pid]).toEqual([409, "rebalance_held", process.pid]);
      expect(second.json.message).toContain(`held by pid ${process.pid} on ${hostname()} (this host)`);
      // another rebalance while this one is unfinished: refused naming it
      const other = new Ring(s.to.nodes, { vnodes: 40, epoch: 3 });
      const third = await post(s.a, "lease", { from: doc(s.from), to: doc(other), token: newToken(), expect: null, holder: holder() });
      expect([third.status, third.json.error, third.json.rebalance.job]).toEqual([409, "rebalance_in_progress", `${s.from.label} -> ${s.to.label}`]);
      // PUT /ring by hand: refused too
      const put = await call(s.a.url, "PUT", "/ring", doc(other));
      expect([put.status, put.json.error]).toEqual([409, "rebalance_in_progress"]);

      // take over with the token seen: the old one is refused from then on
      const takeover = await lease(s, s.a, newToken(), first.token);
      expect([takeover.status, takeover.json.phase]).toEqual([200, "copying"]);
      const stale = await post(s.a, "heartbeat", { token: first.token });
      expect([stale.status, stale.json.error]).toEqual([409, "rebalance_held"]);
      // a rotation (next) in the fence call: only the new token works after it
      const next = newToken();
      expect((await post(s.a, "phase", { token: takeover.token, phase: "fenced", next })).status).toBe(200);
      expect((await post(s.a, "heartbeat", { token: takeover.token })).status).toBe(409);
      const beat = await post(s.a, "heartbeat", { token: next, progress: { step: "fence", copied: 5, toCopy: 7 } });
      expect(beat.json.progress).toEqual({ step: "fence", copied: 5, toCopy: 7 });
      // released: anyone may take it, expecting nobody
      expect((await post(s.a, "release", { token: next })).json.holder).toBeNull();
      const again = await lease(s, s.a);
      expect([again.status, again.json.phase]).toEqual([200, "fenced"]);
    } finally {
      await s.stop();
    }
  });

  test("imports take only ids coming to the node, with the token in force; a bad batch writes nothing", async () => {
    const s = await twoInstances();
    try {
      const { token } = await lease(s, s.c);
      const good = stored(s.fromB[0]!, { status: "approved", decision_date: "01-02-2020" });
      const notHere = await post(s.c, "import", { token, put: [good, stored(s.stays[0]!)], delete: [] });
      expect([notHere.status, notHere.json.error, notHere.json.id]).toEqual([422, "not_moving_here", s.stays[0]]);
      const badValue = await post(s.c, "import", { token, put: [good, stored(s.fromB[1]!, { estimated_costs: "0700" })], delete: [] });
      expect([badValue.status, badValue.json.field]).toEqual([422, "estimated_costs"]);
      const wrongToken = await post(s.c, "import", { token: newToken(), put: [good], delete: [] });
      expect(wrongToken.status).toBe(409);
      expect((await post(s.c, "records", { ids: [good.id] })).json.items).toEqual([]);

      expect((await post(s.c, "import", { token, put: [good, stored(s.leaving[0]!)], delete: [] })).json).toEqual({ put: 2, deleted: 0 });
      expect((await post(s.c, "records", { ids: [good.id, s.leaving[0]!, "999999"] })).json.items).toEqual(
        [good, stored(s.leaving[0]!)].sort((x, y) => Number(x.id) - Number(y.id)),
      );
      expect((await post(s.c, "import", { token, put: [], delete: [good.id, s.fromB[2]!] })).json).toEqual({ put: 0, deleted: 1 });
      // the target's view of what comes in: each record with the node it comes from
      const page = await call(s.c.url, "GET", "/rebalance/records?side=in");
      expect(page.json).toEqual({ items: [{ ...stored(s.leaving[0]!), peer: "a" }], next: null });
    } finally {
      await s.stop();
    }
  });

  test("admin only: an instance with a token answers 403 to requests without it, before reading their body", async () => {
    const nodes = await localNodes(["a", "b"]);
    const from = ringOf(nodes, { epoch: 1 });
    const to = new Ring(from.nodes, { vnodes: 20, epoch: 2 });
    const port = Number(new URL(from.node("a")!.url).port);
    const a = await startInstance({ port, db: freshDb(), name: "a", log: false, ring: { ring: from, source: "test" }, adminToken: "s3cret-token" });
    try {
      const body = { from: doc(from), to: doc(to), token: newToken(), expect: null, holder: holder() };
      const none = await call(a.url, "POST", "/rebalance/lease", body);
      expect([none.status, none.json.error]).toEqual([403, "forbidden"]);
      const wrong = await call(a.url, "POST", "/rebalance/plan", body, { authorization: "Bearer nope" });
      expect(wrong.status).toBe(403);
      // a huge body is refused as forbidden before it is read, not as too large
      const huge = await call(a.url, "POST", "/rebalance/import", "x".repeat(200_000));
      expect(huge.status).toBe(403);
      expect((await call(a.url, "GET", "/rebalance")).status).toBe(403);
      const ok = await call(a.url, "POST", "/rebalance/lease", body, { authorization: "Bearer s3cret-token" });
      expect([ok.status, ok.json.phase]).toEqual([200, "copying"]);
      // an admin body over the request limit of 64 KiB is fine here
      const big = await call(a.url, "POST", "/rebalance/plan", { from: doc(from), to: doc(to) }, { authorization: "Bearer s3cret-token" });
      expect(big.status).toBe(200);
    } finally {
      await a.stop();
    }
  });

  test("a restart keeps the move in force: leaving ids still logged, the fence still up", async () => {
    const s = await twoInstances();
    try {
      const { token } = await lease(s, s.a);
      await s.a.stop();
      let a = await s.start("a");
      expect(a.notes.join("\n")).toContain(`rebalance ${s.from.label} -> ${s.to.label} is unfinished here (phase copying)`);
      expect((await call(a.url, "POST", "/v1/expenses", seedRecord(s.leaving[0]!))).status).toBe(201);
      expect((await post(a, "changes", { token, limit: 10 })).json.items.map((e: { id: string }) => e.id)).toEqual([s.leaving[0]]);
      expect((await post(a, "phase", { token, phase: "fenced" })).status).toBe(200);
      await a.stop();
      // started with the new ring this time: it keeps the ring it holds until the rebalance
      // switches it (its answers must not send clients to targets not switched yet); the fence holds
      a = await s.start("a", s.to);
      expect(a.notes.join("\n")).toContain(`this node has not switched yet in rebalance ${s.from.label} -> ${s.to.label}: it keeps ring ${s.from.label}`);
      expect(a.ring?.label).toBe(s.from.label);
      const fenced = await call(a.url, "PUT", `/v1/expenses/${s.leaving[0]}`, { name: "x" });
      expect([fenced.status, fenced.json.error, fenced.headers.get("x-shard-ring")]).toEqual([503, "moving", s.from.label]);
      // a staying id is served as before (404: never stored), not refused under the new ring's label
      expect((await call(a.url, "GET", `/v1/expenses/${s.stays[0]}`)).status).toBe(404);
      await a.stop();
      // any other ring is refused while the rebalance is unfinished
      const other = new Ring(s.to.nodes, { vnodes: 40, epoch: 9 });
      const refused = await s.start("a", other).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(RingStartError);
      expect((refused as Error).message).toContain(`takes part in rebalance ${s.from.label} -> ${s.to.label} (phase fenced)`);
      await s.start("a");
    } finally {
      await s.stop();
    }
  });

  test("a node that cannot start this rebalance: no ring, switched by hand, or another ring", async () => {
    const s = await twoInstances();
    try {
      // a node of the old ring that already holds the new one
      expect((await call(s.a.url, "PUT", "/ring", doc(s.to))).status).toBe(200);
      const byHand = await lease(s, s.a);
      expect([byHand.status, byHand.json.error]).toEqual([409, "ring_mismatch"]);
      expect(byHand.json.message).toContain("it was switched by hand");
      expect((await call(s.a.url, "GET", "/ring")).json.rebalance).toBeUndefined();
      const lonely = await startInstance({ port: 0, db: freshDb(), name: "b", log: false });
      try {
        const noRing = await lease(s, lonely);
        expect([noRing.status, noRing.json.error]).toEqual([409, "ring_mismatch"]);
        expect(noRing.json.message).toContain("node b has no ring");
      } finally {
        await lonely.stop();
      }
      const sameEpoch = await post(s.c, "lease", { from: doc(s.to), to: doc(s.to), token: newToken(), expect: null, holder: holder() });
      expect([sameEpoch.status, sameEpoch.json.error]).toEqual([422, "invalid_ring"]);
    } finally {
      await s.stop();
    }
  });

  test("the plan counts what this node's records would do, by the reference ring", async () => {
    const s = await twoInstances();
    try {
      const [was, will] = [referenceOwner(s.from), referenceOwner(s.to)];
      const ids = Array.from({ length: 400 }, (_, i) => String(i * 7 + 3));
      // a holds every one of them, its own and others' (strays)
      await post(s.a, "lease", { from: doc(s.from), to: doc(s.to), token: newToken(), expect: null, holder: holder() });
      const a = s.a;
      const expected = { records: ids.length, stays: 0, incoming: 0, strays: 0, moves: new Map<string, number>() };
      for (const id of ids) {
        const [before, after] = [was(id), will(id)];
        if (before === "a" && after === "a") expected.stays++;
        else if (before === "a") expected.moves.set(after, (expected.moves.get(after) ?? 0) + 1);
        else if (after === "a") expected.incoming++;
        else expected.strays++;
      }
      // stored straight into the database: the instance refuses the ids it does not own
      const { openStore } = await import("../../src/store/index.ts");
      await a.stop();
      const store = await openStore(s.dbs.a);
      await store.putMany(ids.map((id) => stored(id)));
      await store.close();
      await s.start("a");
      const plan = await post(s.a, "plan", { from: doc(s.from), to: doc(s.to) });
      expect(plan.json).toEqual({
        records: expected.records,
        stays: expected.stays,
        incoming: expected.incoming,
        strays: expected.strays,
        moves: [...expected.moves].map(([to, records]) => ({ to, records })),
      });
      expect(expected.stays * expected.strays * (expected.moves.get("c") ?? 0)).toBeGreaterThan(0);
      // the source's view: exactly the leaving records, with their new owner, paged
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page = await call(s.a.url, "GET", `/rebalance/records?side=out&limit=7${after === null ? "" : `&after=${after}`}`);
        for (const r of page.json.items) {
          expect(r.peer).toBe(will(r.id));
          seen.push(r.id);
        }
        after = page.json.next;
      } while (after !== null);
      expect(seen).toEqual(ids.filter((id) => was(id) === "a" && will(id) !== "a"));
    } finally {
      await s.stop();
    }
  });
});
