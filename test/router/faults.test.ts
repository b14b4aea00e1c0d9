/**
 * Owners that do not answer properly. Real instances behind local servers that delay,
 * drop the connection, cap their pages or answer under another name; nodes where
 * nothing listens. Whatever happens, a request goes to its owner or nowhere, a POST is
 * never sent twice once it may have arrived, and every answer names the node and cause.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { startInstance, type Instance } from "../../src/server/index.ts";
import type { Router } from "../../src/router/index.ts";
import { startLocalCluster, type LocalCluster } from "../client/cluster.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { freePort, waitFor } from "../support/net.ts";
import { call, heldNode, routerFor, stubNode, type StubNode } from "./support.ts";

const body = (id: string) => JSON.stringify(seedRecord(id));

describe("an owner that is down", () => {
  // a, b, c are real; d is in the ring but nothing listens at its address.
  const NAMES = ["a", "b", "c", "d"];
  const ownerOf = refOwnerOf(NAMES.map((name) => ({ name })));
  let cluster: LocalCluster;
  let router: Router;
  let dUrl: string;
  beforeAll(async () => {
    cluster = await startLocalCluster(["a", "b", "c"]);
    dUrl = `http://127.0.0.1:${await freePort()}`;
    router = routerFor([...cluster.nodes, { name: "d", url: dUrl }]);
  });
  afterAll(async () => {
    await router?.stop();
    await cluster?.stop();
  });
  const idsOf = (name: string, from: number) => Array.from({ length: 400 }, (_, i) => String(from + i)).filter((id) => ownerOf(id) === name);

  test("every request for its ids is a 503 naming it, and nothing is stored anywhere else", async () => {
    const ids = idsOf("d", 1000).slice(0, 20);
    expect(ids.length).toBe(20);
    for (const id of ids) {
      const r = await call(`${router.url}/v1/expenses`, { method: "POST", body: body(id) });
      expect({ id, status: r.status }).toEqual({ id, status: 503 });
      expect(r.json).toMatchObject({ error: "node_unavailable", node: "d", url: dUrl, cause: "refused" });
      expect(r.json.message).toStartWith(`node d (${dUrl}): connection refused`);
      expect(r.json.message).toContain("not sent to any other node");
      expect(r.headers.get("x-shard-node")).toBeNull();
    }
    for (const method of ["GET", "PUT", "DELETE"]) {
      const r = await call(`${router.url}/v1/expenses/${ids[0]}`, { method, body: method === "PUT" ? '{"name":"x"}' : undefined });
      expect({ method, status: r.status, node: r.json.node, cause: r.json.cause }).toEqual({ method, status: 503, node: "d", cause: "refused" });
    }
    for (const n of cluster.nodes) {
      const listing: any = await (await fetch(`${n.url}/v1/expenses?limit=1000`)).json();
      expect(listing.items.filter((r: { id: string }) => ids.includes(r.id))).toEqual([]);
    }
  });

  test("the others' ids still go through", async () => {
    const ids = ["a", "b", "c"].map((name) => idsOf(name, 2000)[0]!);
    for (const id of ids) {
      const r = await call(`${router.url}/v1/expenses`, { method: "POST", body: body(id) });
      expect([r.status, r.headers.get("x-shard-node")]).toEqual([201, ownerOf(id)]);
    }
  });

  test("readyz is 503 naming it (and only it); the listing is 503 rather than a listing without its records", async () => {
    const ready = await call(`${router.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.json.ready).toBe(false);
    expect(ready.json.nodes.filter((n: { ready: boolean }) => !n.ready).map((n: { name: string }) => n.name)).toEqual(["d"]);
    expect(ready.json.message).toStartWith(`not ready: node d (${dUrl}): connection refused`);
    const listing = await call(`${router.url}/v1/expenses`);
    expect([listing.status, listing.json.error, listing.json.node]).toEqual([503, "node_unavailable", "d"]);
    expect(listing.json.message).toContain("the listing needs every node");
  });
});

describe("an owner that answers too late", () => {
  const TIMEOUT = 300;
  let instance: Instance;
  let stub: StubNode;
  let router: Router;
  /** How long the stand-in holds each answer of the instance; changed per test. */
  let holdMs = 0;
  beforeAll(async () => {
    instance = await startInstance({ port: 0, db: "sqlite::memory:", name: "slow", log: false });
    stub = stubNode("slow", async (seen) => {
      const res = await fetch(instance.url + seen.path, { method: seen.method, body: seen.body || undefined });
      const answer = new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
      await Bun.sleep(holdMs);
      return answer;
    });
    router = routerFor([{ name: "slow", url: stub.url }], { timeoutMs: TIMEOUT });
  });
  afterAll(async () => {
    await router?.stop();
    stub?.stop();
    await instance?.stop();
  });
  const seenOf = (method: string, path: string) => stub.seen.filter((s) => s.method === method && s.path === path).length;

  test("a POST is 504 after the timeout, is not sent again, and the record is stored once", async () => {
    holdMs = TIMEOUT * 4;
    const started = performance.now();
    const r = await call(`${router.url}/v1/expenses`, { method: "POST", body: body("41") });
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT - 5);
    expect(r.status).toBe(504);
    expect(r.json).toMatchObject({ error: "outcome_unknown", node: "slow", url: stub.url, cause: "timeout" });
    expect(r.json.message).toContain(`no answer within ${TIMEOUT} ms`);
    expect(r.json.message).toContain("may or may not have been stored, so the POST was not sent again (GET /v1/expenses/41 tells which)");
    expect(stub.seen.filter((s) => s.method === "POST" && JSON.parse(s.body).id === "41")).toHaveLength(1);
    const held: any = await (await fetch(`${instance.url}/v1/expenses?limit=1000`)).json();
    expect(held.items.filter((x: { id: string }) => x.id === "41")).toHaveLength(1);
  });

  test("GET, PUT and DELETE are sent at most once more, then 504 naming the node", async () => {
    holdMs = 0;
    expect((await fetch(`${router.url}/v1/expenses`, { method: "POST", body: body("42") })).status).toBe(201);
    holdMs = TIMEOUT * 4;
    for (const method of ["GET", "PUT", "DELETE"]) {
      const r = await call(`${router.url}/v1/expenses/42`, { method, body: method === "PUT" ? '{"name":"Late"}' : undefined });
      expect({ method, status: r.status, error: r.json.error, node: r.json.node }).toEqual({ method, status: 504, error: "node_timeout", node: "slow" });
      expect(r.json.message).toContain("after 2 attempts");
      expect(seenOf(method, "/v1/expenses/42")).toBe(2);
    }
  });

  test("an answer within the timeout is passed on", async () => {
    holdMs = 0;
    const r = await call(`${router.url}/v1/expenses`, { method: "POST", body: body("43") });
    expect([r.status, r.headers.get("x-shard-node"), r.headers.get("x-shard-url")]).toEqual([201, "slow", stub.url]);
  });
});

describe("an owner that drops the connection before answering", () => {
  let connections = 0;
  let listener: Bun.TCPSocketListener<undefined>;
  let router: Router;
  beforeAll(() => {
    // Reads the request, then closes the connection without a word.
    listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: () => void connections++,
        data: (socket) => void socket.end(),
      },
    });
    router = routerFor([{ name: "rude", url: `http://127.0.0.1:${listener.port}` }]);
  });
  afterAll(async () => {
    await router?.stop();
    listener?.stop(true);
  });

  test("a POST is 504 'outcome unknown' after one attempt; a GET is tried twice, then 503", async () => {
    connections = 0;
    const post = await call(`${router.url}/v1/expenses`, { method: "POST", body: body("51") });
    expect([post.status, post.json.error, post.json.cause, post.json.node]).toEqual([504, "outcome_unknown", "reset", "rude"]);
    expect(connections).toBe(1);
    connections = 0;
    const get = await call(`${router.url}/v1/expenses/51`);
    expect([get.status, get.json.error, get.json.cause]).toEqual([503, "node_unavailable", "reset"]);
    expect(connections).toBe(2);
  });
});

describe("nodes that answer, but not as the ring says", () => {
  let instance: Instance;
  let capped: StubNode;
  beforeAll(async () => {
    instance = await startInstance({ port: 0, db: "sqlite::memory:", name: "a", log: false });
    // The instance "a" behind a server that answers at most 7 records a page, whatever was asked.
    capped = stubNode("a", async (seen) => {
      const path = seen.path.replace(/limit=\d+/, (m) => `limit=${Math.min(7, Number(m.slice(6)))}`);
      const res = await fetch(instance.url + path, { method: seen.method, body: seen.body || undefined });
      return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
    });
    for (let id = 1; id <= 40; id++) await fetch(`${instance.url}/v1/expenses`, { method: "POST", body: body(String(id)) });
  });
  afterAll(async () => {
    capped?.stop();
    await instance?.stop();
  });

  test("an instance that answers under another name: 502 wrong_node, and readyz says so", async () => {
    const router = routerFor([{ name: "x", url: instance.url }]);
    try {
      const r = await call(`${router.url}/v1/expenses/1`);
      expect([r.status, r.json.error, r.json.node]).toEqual([502, "wrong_node", "x"]);
      expect(r.json.message).toContain('answered as node "a"');
      const ready = await call(`${router.url}/readyz`);
      expect([ready.status, ready.json.nodes[0].message]).toEqual([503, 'answers as node "a" (X-Shard-Node)']);
    } finally {
      await router.stop();
    }
  });

  test("a node that answers smaller pages than asked is read on, page by page", async () => {
    const router = routerFor([{ name: "a", url: capped.url }]);
    try {
      const first = await call(`${router.url}/v1/expenses?limit=25`);
      expect(first.json.items.map((r: { id: string }) => r.id)).toEqual(Array.from({ length: 25 }, (_, i) => String(i + 1)));
      expect(first.json.next).toBe("25");
      const rest = await call(`${router.url}/v1/expenses?after=25&limit=25`);
      expect([rest.json.items.length, rest.json.next]).toEqual([15, null]);
    } finally {
      await router.stop();
    }
  });
});

describe("stopping", () => {
  test("a request in flight when the router stops still gets its answer; then nothing listens", async () => {
    const stub = heldNode("n");
    const router = routerFor([stub]);
    try {
      const pending = fetch(`${router.url}/v1/expenses/1`);
      await waitFor(() => (stub.seen.length > 0 ? true : undefined));
      const stopped = router.stop();
      stub.release();
      const r = await pending;
      expect([r.status, r.headers.get("x-shard-node"), ((await r.json()) as { id: string }).id]).toEqual([200, "n", "1"]);
      await stopped;
      await expect(fetch(`${router.url}/healthz`)).rejects.toThrow();
    } finally {
      stub.release();
      await router.stop();
      stub.stop();
    }
  });
});
