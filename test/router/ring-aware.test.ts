/**
 * The router in front of ring-aware instances: it sends its ring's label, follows a
 * 421 or a newer X-Shard-Ring to the instances' newer ring (GET /ring, adopt, the 421
 * sent once more), and passes a 421 on only when it cannot resolve it. Real instances
 * on SQLite, each test with a router of its own; expected owners from the reference ring.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { Ring } from "../../src/ring/ring.ts";
import { startRouter, type Router } from "../../src/router/index.ts";
import { ringDocument } from "../../src/ring/ring-file.ts";
import { localNodes, referenceOwner, ringOf, startCluster, type RingCluster } from "../support/cluster.ts";
import { call } from "../support/http.ts";
import { nodeAnswer, stubNode } from "./support.ts";

const body = (id: string) => JSON.stringify(seedRecord(id));
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));

describe("ring-aware instances", () => {
  let nodeList: string;
  /** The instances' ring: epoch 1, 64 vnodes. */
  let current: Ring;
  let cluster: RingCluster;
  beforeAll(async () => {
    nodeList = await localNodes(["a", "b", "c"]);
    current = ringOf(nodeList, { vnodes: 64, epoch: 1 });
    cluster = await startCluster({ ring: current, db: () => "sqlite::memory:" });
  });
  afterAll(() => cluster?.stop());

  /** A router with `ring`, its adoption notes kept. */
  function routerWith(ring: Ring): { router: Router; notes: string[] } {
    const notes: string[] = [];
    return { router: startRouter({ port: 0, ring, log: false, note: (line) => notes.push(line) }), notes };
  }

  /** The nodes that hold `id`, asked directly. */
  async function holders(id: string): Promise<string[]> {
    const found = await Promise.all(["a", "b", "c"].map(async (n) => ((await fetch(`${cluster.url(n)}/v1/expenses/${id}`)).status === 200 ? n : "")));
    return found.filter((n) => n !== "");
  }

  test("a router with an older ring follows the instances: each misdirected request lands on its owner under their ring", async () => {
    const older = ringOf(nodeList, { vnodes: 160, epoch: 0 });
    const [ownerNow, ownerBefore] = [referenceOwner(current), referenceOwner(older)];
    const moved = range(1000, 400)
      .filter((id) => ownerNow(id) !== ownerBefore(id))
      .slice(0, 40);
    expect(moved.length).toBe(40);
    const { router, notes } = routerWith(older);
    try {
      // all at once: the requests that meet a 421 together share the ring they adopt
      const answers = await Promise.all(moved.map((id) => call(router.url, "POST", "/v1/expenses", body(id))));
      expect(answers.map((a, i) => [moved[i], a.status, a.headers.get("x-shard-node")])).toEqual(moved.map((id) => [id, 201, ownerNow(id)]));
      for (const id of moved) expect({ id, holders: await holders(id) }).toEqual({ id, holders: [ownerNow(id)] });
      expect(router.ring.label).toBe(current.label);
      expect(notes).toEqual([expect.stringContaining(`adopted ring ${current.label}`)]);
      expect(notes[0]).toContain(`it replaces ring ${older.label}`);
      expect((await call(router.url, "GET", "/ring")).json.label).toBe(current.label);
      // and every later request is placed with the adopted ring: straight to the owner
      const back = await call(router.url, "GET", `/v1/expenses/${moved[0]}`);
      expect([back.status, back.headers.get("x-shard-node"), back.headers.get("x-shard-ring")]).toEqual([200, ownerNow(moved[0]!), current.label]);
      const listed: any = await call(router.url, "GET", "/v1/expenses?after=999&limit=1000");
      expect(listed.json.items.map((r: { id: string }) => r.id).filter((id: string) => moved.includes(id))).toEqual(moved);
    } finally {
      await router.stop();
    }
  });

  test("a readiness probe is enough to follow the instances' newer ring", async () => {
    const older = ringOf(nodeList, { vnodes: 160, epoch: 0 });
    const { router, notes } = routerWith(older);
    try {
      const ready = await call(router.url, "GET", "/readyz");
      expect(ready.status).toBe(200);
      expect(router.ring.label).toBe(current.label);
      expect(notes).toEqual([expect.stringContaining(`adopted ring ${current.label}`)]);
      expect((await call(router.url, "GET", "/ring")).json.label).toBe(current.label);
    } finally {
      await router.stop();
    }
  });

  test("a readiness probe never takes the ring of an instance that answers under another name", async () => {
    const foreign = ringOf("other=10.9.9.9:1", { vnodes: 16, epoch: 7 });
    const impostor = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request) =>
        new URL(request.url).pathname === "/ring"
          ? Response.json(ringDocument(foreign), { headers: { "x-shard-node": "other", "x-shard-ring": foreign.label } })
          : Response.json({ ready: true }, { headers: { "x-shard-node": "other", "x-shard-ring": foreign.label } }),
    });
    const mine = ringOf(`a=127.0.0.1:${impostor.port}`, { vnodes: 16, epoch: 0 });
    const { router, notes } = routerWith(mine);
    try {
      const ready = await call(router.url, "GET", "/readyz");
      expect(ready.status).toBe(503);
      expect(ready.json.message).toContain('answers as node "other"');
      expect(router.ring.label).toBe(mine.label);
      expect(notes).toEqual([]);
    } finally {
      await router.stop();
      impostor.stop(true);
    }
  });

  test("instances with an older ring than the router's: their 421 is passed on, and nothing is stored", async () => {
    const newer = ringOf(nodeList, { vnodes: 32, epoch: 2 });
    const [ownerNow, ownerNewer] = [referenceOwner(current), referenceOwner(newer)];
    const ids = range(3000, 400);
    const disputed = ids.find((id) => ownerNow(id) !== ownerNewer(id))!;
    const agreed = ids.find((id) => ownerNow(id) === ownerNewer(id))!;
    const { router, notes } = routerWith(newer);
    try {
      const r = await call(router.url, "POST", "/v1/expenses", body(disputed));
      expect([r.status, r.json.error, r.json.ring, r.headers.get("x-shard-node")]).toEqual([421, "misdirected", current.label, ownerNewer(disputed)]);
      expect(r.json.message).toContain("this instance is the stale one");
      expect(await holders(disputed)).toEqual([]);
      const ok = await call(router.url, "POST", "/v1/expenses", body(agreed));
      expect([ok.status, ok.headers.get("x-shard-node")]).toEqual([201, ownerNewer(agreed)]);
      expect(router.ring.label).toBe(newer.label);
      expect(notes).toEqual([]);
    } finally {
      await router.stop();
    }
  });
});

describe("a listing while the router's ring is replaced", () => {
  let nodeList: string;
  let cluster: RingCluster;
  beforeAll(async () => {
    nodeList = await localNodes(["a", "b"]);
    cluster = await startCluster({ ring: ringOf(nodeList, { vnodes: 64, epoch: 1 }), db: () => "sqlite::memory:" });
  });
  afterAll(() => cluster?.stop());

  test("a router that knows only node a learns of b from a's listing: its first page is made under the new ring, with b's records", async () => {
    const owner = referenceOwner(cluster.ring);
    const ids = range(1, 400);
    // x < y < z, with y on b and x and z on a
    const y = ids.find((id, i) => i > 0 && owner(id) === "b" && owner(ids[i - 1]!) === "a" && owner(ids[i + 1]!) === "a")!;
    const x = String(Number(y) - 1);
    const z = String(Number(y) + 1);
    for (const id of [x, y, z]) expect((await call(cluster.url(owner(id)), "POST", "/v1/expenses", body(id))).status).toBe(201);
    const onlyA = new Ring([cluster.ring.nodes.find((n) => n.name === "a")!], { vnodes: 64, epoch: 0 });
    const router = startRouter({ port: 0, ring: onlyA, log: false, note: () => {} });
    try {
      const first = await call(router.url, "GET", "/v1/expenses");
      expect([first.status, first.json.items.map((r: { id: string }) => r.id), first.json.next]).toEqual([200, [x, y, z], null]);
      expect(router.ring.label).toBe(cluster.ring.label);
    } finally {
      await router.stop();
    }
  });
});

describe("what the router does with a node's ring, request by request", () => {
  test("a node that keeps answering 421 gets exactly: the request, GET /ring, the request again; then its 421 is passed on", async () => {
    let newer: Ring | undefined;
    const stub = stubNode("n", (seen) =>
      seen.path === "/ring"
        ? nodeAnswer("n", ringDocument(newer!))
        : nodeAnswer("n", { error: "misdirected", message: "not mine", id: "7", owner: { name: "n", url: "x" }, ring: newer!.label }, 421, {
            "x-shard-ring": newer!.label,
          }),
    );
    newer = new Ring([{ name: "n", url: stub.url, weight: 1 }], { vnodes: 8, epoch: 5 });
    const initial = new Ring([{ name: "n", url: stub.url, weight: 1 }], { vnodes: 160 });
    const router = startRouter({ port: 0, ring: initial, log: false, note: () => {} });
    try {
      const r = await call(router.url, "POST", "/v1/expenses", body("7"));
      expect([r.status, r.json.error]).toEqual([421, "misdirected"]);
      expect(stub.seen.map((s) => `${s.method} ${s.path}`)).toEqual(["POST /v1/expenses", "GET /ring", "POST /v1/expenses"]);
      const sent = stub.seen.map((s) => s.headers.get("x-shard-ring"));
      expect([sent[0], sent[2]]).toEqual([initial.label, newer.label]);
      expect(router.ring.label).toBe(newer.label);
    } finally {
      await router.stop();
      stub.stop();
    }
  });

  test("a newer X-Shard-Ring on an ordinary answer: that answer is passed on, and the ring is adopted for the requests that follow", async () => {
    let newer: Ring | undefined;
    const record = { ...seedRecord("9"), status: "pending", decision_date: "" };
    const stub = stubNode("n", (seen) =>
      seen.path === "/ring" ? nodeAnswer("n", ringDocument(newer!)) : nodeAnswer("n", record, 200, { "x-shard-ring": newer!.label }),
    );
    newer = new Ring([{ name: "n", url: stub.url, weight: 1 }], { vnodes: 8, epoch: 3 });
    const adopted = Promise.withResolvers<void>();
    const router = startRouter({
      port: 0,
      ring: new Ring([{ name: "n", url: stub.url, weight: 1 }], { vnodes: 160 }),
      log: false,
      note: () => adopted.resolve(),
    });
    try {
      const first = await call(router.url, "GET", "/v1/expenses/9");
      expect([first.status, first.json]).toEqual([200, record]);
      // the ring is read in the background, after the answer went on
      await adopted.promise;
      expect(router.ring.label).toBe(newer.label);
      await call(router.url, "GET", "/v1/expenses/9");
      expect(stub.seen.map((s) => `${s.method} ${s.path}`)).toEqual(["GET /v1/expenses/9", "GET /ring", "GET /v1/expenses/9"]);
      expect(stub.seen[2]!.headers.get("x-shard-ring")).toBe(newer.label);
    } finally {
      await router.stop();
      stub.stop();
    }
  });

  /** A node answering record 9 with a newer X-Shard-Ring than its router's, and `ring()` for its GET /ring. */
  function newerLabelNode(ring: () => Response | Promise<Response>) {
    const record = { ...seedRecord("9"), status: "pending", decision_date: "" };
    let label = "";
    const stub = stubNode("n", (seen) => (seen.path === "/ring" ? ring() : nodeAnswer("n", record, 200, { "x-shard-ring": label })));
    label = new Ring([{ name: "n", url: stub.url, weight: 1 }], { vnodes: 8, epoch: 4 }).label;
    const initial = new Ring([{ name: "n", url: stub.url, weight: 1 }], { vnodes: 160 });
    const rings = () => stub.seen.filter((s) => s.path === "/ring").length;
    return { stub, record, initial, rings };
  }

  test("a newer X-Shard-Ring from a node whose /ring hangs: every answer goes on at once, and /ring is asked once", async () => {
    const hang = Promise.withResolvers<void>();
    const { stub, record, initial, rings } = newerLabelNode(async () => {
      await hang.promise;
      return nodeAnswer("n", { error: "unavailable", message: "gone" }, 503);
    });
    // long enough that "at once" (under half of it) holds on a loaded machine, while a request held back for the read takes all of it
    const timeoutMs = 4000;
    const router = startRouter({ port: 0, ring: initial, log: false, note: () => {}, timeoutMs });
    const timed = async () => {
      const started = performance.now();
      const r = await call(router.url, "GET", "/v1/expenses/9");
      return { status: r.status, json: r.json, fast: performance.now() - started < timeoutMs / 2 };
    };
    try {
      const burst = [...(await Promise.all(Array.from({ length: 8 }, timed)))];
      for (let i = 0; i < 8; i++) burst.push(await timed());
      expect(burst).toEqual(Array.from({ length: 16 }, () => ({ status: 200, json: record, fast: true })));
      expect(rings()).toBeLessThanOrEqual(1);
      expect(router.ring.label).toBe(initial.label);
    } finally {
      hang.resolve();
      await router.stop();
      stub.stop();
    }
  });

  test("a node whose /ring fails is not asked for it again by each request that follows", async () => {
    const { stub, record, initial, rings } = newerLabelNode(() => nodeAnswer("n", { error: "unavailable", message: "no ring" }, 503));
    const router = startRouter({ port: 0, ring: initial, log: false, note: () => {} });
    try {
      // until the (background) read has reached the node: each round is a real request
      for (let i = 0; i < 500 && rings() === 0; i++) expect((await call(router.url, "GET", "/v1/expenses/9")).status).toBe(200);
      expect(rings()).toBe(1);
      for (let i = 0; i < 20; i++) expect((await call(router.url, "GET", "/v1/expenses/9")).json).toEqual(record);
      expect(rings()).toBe(1);
      expect(router.ring.label).toBe(initial.label);
    } finally {
      await router.stop();
      stub.stop();
    }
  });
});
