import { afterAll, describe, expect, test } from "bun:test";
import { callShard, errorMessage, httpError } from "../../src/client/transport.ts";
import { ShardRequestError } from "../../src/client/errors.ts";
import { freePort } from "../support/net.ts";

// A real HTTP server whose answers the tests script per path.
let hits = new Map<string, number>();
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const path = new URL(req.url).pathname;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    const headers = { "x-shard-node": "a" };
    switch (path) {
      case "/ok":
        return Response.json({ echo: req.method === "POST" ? await req.json() : null }, { status: 200, headers });
      case "/flaky": // two 503s, then success
        return n <= 2 ? Response.json({ message: "database unavailable" }, { status: 503, headers }) : Response.json({ n }, { headers });
      case "/always-500":
        return Response.json({ message: "boom" }, { status: 500, headers });
      case "/bad-request":
        return Response.json({ message: "estimated_costs must be a number" }, { status: 422, headers });
      case "/slow":
        await Bun.sleep(300);
        return Response.json({}, { headers });
      case "/not-json":
        return new Response("<html>hello</html>", { status: 200 });
    }
    return new Response("no", { status: 404 });
  },
});
const node = { name: "a", url: server.url.origin };
afterAll(() => server.stop(true));

describe("httpError", () => {
  test("an answer without X-Shard-Node is said to come from something that is not an instance", async () => {
    const stranger = await callShard(node, { method: "GET", path: "/nowhere" }, { retries: 0 });
    expect(httpError(node, stranger).message).toBe(
      "node a (" + node.url + "): HTTP 404 from something that is not a shardctl instance (no X-Shard-Node header): no",
    );
    const own = await callShard(node, { method: "GET", path: "/bad-request" }, { retries: 0 });
    expect(httpError(node, own).message).toBe("node a (" + node.url + "): HTTP 422: estimated_costs must be a number");
  });
});

describe("callShard", () => {
  test("sends JSON and returns status, parsed body and the X-Shard-Node header", async () => {
    const res = await callShard(node, { method: "POST", path: "/ok", body: { id: "1" } });
    expect(res).toEqual({ status: 200, body: { echo: { id: "1" } }, servedBy: "a", attempts: 1 });
  });

  test("retries a 5xx with backoff until it succeeds", async () => {
    hits = new Map();
    const res = await callShard(node, { method: "GET", path: "/flaky" }, { retries: 3, backoffMs: 1 });
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(3);
    expect(hits.get("/flaky")).toBe(3);
  });

  test("returns the last 5xx when retries run out", async () => {
    hits = new Map();
    const res = await callShard(node, { method: "GET", path: "/always-500" }, { retries: 2, backoffMs: 1 });
    expect(res.status).toBe(500);
    expect(hits.get("/always-500")).toBe(3);
    expect(errorMessage(res.body)).toBe("boom");
  });

  test("never retries a 4xx", async () => {
    hits = new Map();
    const res = await callShard(node, { method: "POST", path: "/bad-request", body: {} }, { retries: 5, backoffMs: 1 });
    expect(res.status).toBe(422);
    expect(hits.get("/bad-request")).toBe(1);
    expect(errorMessage(res.body)).toBe("estimated_costs must be a number");
  });

  test("a timeout is retried, then reported with the limit", async () => {
    hits = new Map();
    const e = await callShard(node, { method: "GET", path: "/slow" }, { timeoutMs: 50, retries: 1, backoffMs: 1 }).catch((x) => x);
    expect(e).toBeInstanceOf(ShardRequestError);
    expect(e.kind).toBe("timeout");
    expect(e.attempts).toBe(2);
    expect(e.message).toBe(`node a (${node.url}): timeout: no answer within 50 ms after 2 attempts`);
    expect(hits.get("/slow")).toBe(2);
  });

  test("a refused connection names the node and says so", async () => {
    const port = await freePort();
    const down = { name: "b", url: `http://127.0.0.1:${port}` };
    const e = await callShard(down, { method: "GET", path: "/ok" }, { retries: 2, backoffMs: 20 }).catch((x) => x);
    expect(e).toBeInstanceOf(ShardRequestError);
    expect(e.kind).toBe("refused");
    expect(e.node).toBe("b");
    expect(e.attempts).toBe(3);
    expect(e.message).toBe(`node b (http://127.0.0.1:${port}): connection refused after 3 attempts (is the instance running?)`);
  });

  test("a 2xx that is not JSON is an invalid response, not a crash", async () => {
    const e = await callShard(node, { method: "GET", path: "/not-json" }).catch((x) => x);
    expect(e).toBeInstanceOf(ShardRequestError);
    expect(e.kind).toBe("invalid-response");
    expect(e.message).toContain("<html>hello</html>");
  });
});
