/**
 * Owners that do not answer properly. Real instances behind local servers that delay,
 * drop the connection, cap their pages or answer under another name; nodes where
 * nothing listens. Whatever happens, a request goes to its owner or nowhere, a POST is
 * never sent twice once it may have arrived, and every answer names the node and cause.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import { Ring } from "../../src/ring/ring.ts";
import { startRouter, type Router } from "../../src/router/index.ts";
import { ringDocument } from "../../src/ring/ring-file.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { freePort, waitFor } from "../support/net.ts";
import { call } from "../support/http.ts";
import { heldNode, nodeAnswer, routerFor, stubNode, type StubNode } from "./support.ts";

const body = (id: string) => JSON.stringify(seedRecord(id));

describe("an owner that is down", () => {
  // a, b, c are real; d is in the ring but nothing listens at its address.
  const NAMES = ["a", "b", "c", "d"];
  const ownerOf = refOwnerOf(NAMES.map((name) => ({ name })));
  let cluster: Cluster;
  let router: Router;
  let dUrl: string;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: ["a", "b", "c"] });
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
      const r = await call(router.url, "POST", "/v1/expenses", body(id));
      expect({ id, status: r.status }).toEqual({ id, status: 503 });
      expect(r.json).toMatchObject({ error: "node_unavailable", node: "d", url: dUrl, cause: "refused" });
      expect(r.json.message).toStartWith(`node d (${dUrl}): connection refused`);
      expect(r.json.message).toContain("not sent to any other node");
      expect(r.headers.get("x-shard-node")).toBeNull();
    }
    for (const method of ["GET", "PUT", "DELETE"]) {
      const r = await call(router.url, method, `/v1/expenses/${ids[0]}`, method === "PUT" ? '{"name":"x"}' : undefined);
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
      const r = await call(router.url, "POST", "/v1/expenses", body(id));
      expect([r.status, r.headers.get("x-shard-node")]).toEqual([201, ownerOf(id)]);
    }
  });

  test("readyz is 503 naming it (and only it); the listing is 503 rather than a listing without its records", async () => {
    const ready = await call(router.url, "GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.json.ready).toBe(false);
    expect(ready.json.nodes.filter((n: { ready: boolean }) => !n.ready).map((n: { name: string }) => n.name)).toEqual(["d"]);
    expect(ready.json.message).toStartWith(`not ready: node d (${dUrl}): down: connection refused`);
    const listing = await call(router.url, "GET", "/v1/expenses");
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
    const r = await call(router.url, "POST", "/v1/expenses", body("41"));
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
      const r = await call(router.url, method, "/v1/expenses/42", method === "PUT" ? '{"name":"Late"}' : undefined);
      expect({ method, status: r.status, error: r.json.error, node: r.json.node }).toEqual({ method, status: 504, error: "node_timeout", node: "slow" });
      expect(r.json.message).toContain("after 2 attempts");
      expect(seenOf(method, "/v1/expenses/42")).toBe(2);
    }
  });

  test("an answer within the timeout is passed on", async () => {
    holdMs = 0;
    const r = await call(router.url, "POST", "/v1/expenses", body("43"));
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
    const post = await call(router.url, "POST", "/v1/expenses", body("51"));
    expect([post.status, post.json.error, post.json.cause, post.json.node]).toEqual([504, "outcome_unknown", "reset", "rude"]);
    expect(connections).toBe(1);
    connections = 0;
    const get = await call(router.url, "GET", "/v1/expenses/51");
    expect([get.status, get.json.error, get.json.cause]).toEqual([503, "node_unavailable", "reset"]);
    expect(connections).toBe(2);
  });
});

describe("an owner that drops the connection, then is gone (finding 6 of issue 18)", () => {
  test("a PUT whose first attempt may have reached it: the cause is that attempt's (reset), not the refused retries', and the message says both", async () => {
    let connections = 0;
    // Reads the first request, closes the connection without a word and stops listening: the retries are refused.
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: () => void connections++,
        data: (socket) => {
          socket.end();
          listener.stop(true);
        },
      },
    });
    const router = routerFor([{ name: "gone", url: `http://127.0.0.1:${listener.port}` }]);
    try {
      const put = await call(router.url, "PUT", "/v1/expenses/61", '{"name":"Maybe"}');
      expect([put.status, put.json.error, put.json.cause, put.json.node]).toEqual([503, "node_unavailable", "reset", "gone"]);
      expect(put.json.message).toMatch(
        /^node gone \(http:\/\/127\.0\.0\.1:\d+\): the connection closed before the answer was complete, then connection refused after \d attempts \(is the instance running\?\); the PUT may or may not have been applied; not sent to any other node$/,
      );
      expect(connections).toBe(1);
    } finally {
      await router.stop();
    }
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
      const r = await call(router.url, "GET", "/v1/expenses/1");
      expect([r.status, r.json.error, r.json.node]).toEqual([502, "wrong_node", "x"]);
      expect(r.json.message).toContain('answered as node "a"');
      const ready = await call(router.url, "GET", "/readyz");
      expect([ready.status, ready.json.nodes[0].message]).toEqual([503, 'answers as node "a" (X-Shard-Node), but the router\'s node list calls it "x"']);
      // and the node list that would match, as client run prints it
      expect(ready.json.message).toEndWith(`; the node list that matches the instances: --nodes a=${instance.url.slice("http://".length)}`);
      expect(ready.json.matchingNodes).toBe(`a=${instance.url.slice("http://".length)}`);
    } finally {
      await router.stop();
    }
  });

  test("a node that answers smaller pages than asked is read on, page by page", async () => {
    const router = routerFor([{ name: "a", url: capped.url }]);
    try {
      const first = await call(router.url, "GET", "/v1/expenses?limit=25");
      expect(first.json.items.map((r: { id: string }) => r.id)).toEqual(Array.from({ length: 25 }, (_, i) => String(i + 1)));
      expect(first.json.next).toBe("25");
      const rest = await call(router.url, "GET", "/v1/expenses?after=25&limit=25");
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

describe("a request whose chain outlasts the router's deadline", () => {
  const record = (id: string) => ({ ...seedRecord(id), status: "pending", decision_date: "" });

  test("a listing that needs many slow rounds is a 504 naming the node, within the deadline, never a reset connection", async () => {
    // one record a page, each page 400 ms: 20 records take 8 s, past the idle timeout the router had (7 s for a 1 s timeout)
    const slow = stubNode("s", async (seen) => {
      await Bun.sleep(400);
      const after = Number(new URL(`http://x${seen.path}`).searchParams.get("after") ?? "0");
      return nodeAnswer("s", { items: [record(String(after + 1))], next: after + 1 < 20 ? String(after + 1) : null });
    });
    const router = routerFor([slow], { timeoutMs: 1000, deadlineMs: 2000 });
    try {
      const started = performance.now();
      const r = await call(router.url, "GET", "/v1/expenses?limit=20");
      const took = performance.now() - started;
      expect([r.status, r.json.error, r.json.node, r.json.url]).toEqual([504, "node_timeout", "s", slow.url]);
      expect(r.json.message).toContain("deadline");
      // cut at the deadline, not earlier (no upper bound: a loaded machine answers late)
      expect(took).toBeGreaterThanOrEqual(1900);
    } finally {
      await router.stop();
      slow.stop();
    }
  });

  /** A node answering 421 (after `slow421` ms) with a newer ring, whose /ring takes `slowRing` ms (never: hangs), and hanging on the request sent again. */
  function misdirecting(slow421: number, slowRing: number | "never") {
    let newer: Ring | undefined;
    let sent = 0;
    const hang = Promise.withResolvers<void>();
    const stub = stubNode("n", async (seen) => {
      if (seen.path === "/ring") {
        await (slowRing === "never" ? hang.promise : Bun.sleep(slowRing));
        return nodeAnswer("n", ringDocument(newer!));
      }
      if (++sent === 1) {
        await Bun.sleep(slow421);
        return nodeAnswer("n", { error: "misdirected", message: "not mine", ring: newer!.label }, 421, { "x-shard-ring": newer!.label });
      }
      await hang.promise;
      return nodeAnswer("n", record("7"));
    });
    newer = new Ring([{ name: "n", url: stub.url, weight: 1 }], { vnodes: 8, epoch: 5 });
    const initial = new Ring([{ name: "n", url: stub.url, weight: 1 }], { vnodes: 160 });
    return { stub, initial, release: () => hang.resolve() };
  }

  test("a PUT sent again after a 421 to an owner that then hangs: a 504 at the deadline that says the PUT may have been applied", async () => {
    // 421 after 0.9 s, /ring 0.9 s, then two attempts of 1 s: 3.8 s without a deadline
    const { stub, initial, release } = misdirecting(900, 900);
    const router = startRouter({ port: 0, ring: initial, log: false, note: () => {}, timeoutMs: 1000, deadlineMs: 2500 });
    try {
      const started = performance.now();
      const r = await call(router.url, "PUT", "/v1/expenses/7", { status: "approved", decision_date: "13-10-2016" });
      const took = performance.now() - started;
      expect([r.status, r.json.error, r.json.node, r.json.url]).toEqual([504, "node_timeout", "n", stub.url]);
      expect(r.json.message).toContain("deadline for the request (2500 ms in all) ran out");
      expect(r.json.message).toContain("the PUT may or may not have been applied");
      // cut at the deadline (the message says so), not earlier; no upper bound: a loaded machine answers late
      expect(took).toBeGreaterThanOrEqual(2400);
    } finally {
      release();
      await router.stop();
      stub.stop();
    }
  });

  test("a 421 whose node's /ring does not answer before the deadline: a 504 that says the request was not executed", async () => {
    const { stub, initial, release } = misdirecting(900, "never");
    const router = startRouter({ port: 0, ring: initial, log: false, note: () => {}, timeoutMs: 1000, deadlineMs: 1500 });
    try {
      const r = await call(router.url, "POST", "/v1/expenses", body("7"));
      expect([r.status, r.json.error, r.json.node, r.json.cause]).toEqual([504, "node_timeout", "n", "deadline"]);
      expect(r.json.message).toContain("before its GET /ring answered; the POST was not executed (it answered 421)");
      expect(stub.seen.map((s) => `${s.method} ${s.path}`)).toEqual(["POST /v1/expenses", "GET /ring"]);
    } finally {
      release();
      await router.stop();
      stub.stop();
    }
  });
});
