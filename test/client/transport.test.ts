import { afterAll, describe, expect, test } from "bun:test";
import { callShard, bodyMessage, httpError, MAX_REASON_CHARS } from "../../src/client/transport.ts";
import { ShardRequestError } from "../../src/client/errors.ts";
import { freePort } from "../support/net.ts";
import { endlessBody } from "./fake-nodes.ts";

/** The rebalance lease refusal of issue 20, whose explanation came after the first 80 characters. */
const LEASE_REFUSAL =
  "node b cannot start rebalance 4:0123456789abcdef -> 5:aa1c0123456789ab: it holds ring 3:fedcba9876543210, neither the " +
  "rebalance's old ring nor its new one; give it one of them (shardctl rebalance --from the ring it holds) or repair it first";

// A real HTTP server whose answers the tests script per path.
let hits = new Map<string, number>();
/** When each request arrived, per path (performance.now()). */
let arrivals = new Map<string, number[]>();
/** Bytes of endless bodies handed to the socket. */
let streamed = 0;
const endless = () => endlessBody((n) => (streamed += n));
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const path = new URL(req.url).pathname;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    arrivals.set(path, [...(arrivals.get(path) ?? []), performance.now()]);
    const headers = { "x-shard-node": "a" };
    switch (path) {
      case "/retry-after-1": // 503 asking for one second, then success
        return n === 1 ? Response.json({ message: "fenced" }, { status: 503, headers: { ...headers, "retry-after": "1" } }) : Response.json({ n }, { headers });
      case "/retry-after-120": // 503 asking for two minutes, then success
        return n === 1
          ? Response.json({ message: "fenced" }, { status: 503, headers: { ...headers, "retry-after": "120" } })
          : Response.json({ n }, { headers });
      case "/busy-429": // 429 with Retry-After: a 4xx that says when to come back
        return n === 1
          ? Response.json({ message: "slow down" }, { status: 429, headers: { ...headers, "retry-after": "0" } })
          : Response.json({ n }, { headers });
      case "/plain-429":
        return Response.json({ message: "slow down" }, { status: 429, headers });
      case "/endless": // a chunked body that never ends
        return new Response(endless(), { headers: { ...headers, "content-type": "application/json" } });
      case "/declared-huge": // says it is 1 GiB before sending any of it
        return new Response(endless(), { headers: { ...headers, "content-length": String(1 << 30) } });
      case "/many-field-errors":
        return Response.json(
          {
            error: "invalid_field",
            message: "email: must be an address",
            field: "email",
            errors: [
              { field: "email", message: "email: must be an address" },
              { field: "submit_date", message: "submit_date: must be dd-mm-yyyy" },
              { field: "link", message: "link: must be an http(s) URL" },
            ],
          },
          { status: 422, headers },
        );
      case "/lease-refused": // a long reason, as a rebalance's lease refusal gives it
        return Response.json({ error: "ring_mismatch", message: LEASE_REFUSAL }, { status: 409, headers });
      case "/huge-reason": // a reason far longer than any an instance gives, with control characters
        return Response.json({ error: "x", message: `\x1b[2J${"why ".repeat(5000)}` }, { status: 500, headers });
      case "/ok":
        return Response.json({ echo: req.method === "POST" ? await req.json() : null }, { status: 200, headers });
      case "/ring-echo": // the request's X-Shard-Ring back, as an instance's answer header
        return Response.json({}, { headers: { ...headers, "x-shard-ring": req.headers.get("x-shard-ring") ?? "" } });
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
  test("a 422 lists every field error of the body's errors array, not only the first", async () => {
    const res = await callShard(node, { method: "POST", path: "/many-field-errors", body: {} }, { retries: 0 });
    expect(httpError(node, res).reason).toBe("HTTP 422: email: must be an address; submit_date: must be dd-mm-yyyy; link: must be an http(s) URL");
  });

  test("a node's reason is kept whole (a lease refusal's explanation included)", async () => {
    const res = await callShard(node, { method: "POST", path: "/lease-refused", body: {} }, { retries: 0 });
    expect(httpError(node, res).reason).toBe(`HTTP 409: ${LEASE_REFUSAL}`);
  });

  test("a reason is bounded at MAX_REASON_CHARS, its control characters neutralised", async () => {
    const res = await callShard(node, { method: "GET", path: "/huge-reason" }, { retries: 0 });
    const reason = httpError(node, res).reason;
    expect(reason.startsWith("HTTP 500: \ufffd[2Jwhy why")).toBe(true);
    expect(reason.endsWith("...")).toBe(true);
    expect(reason.length).toBe("HTTP 500: ".length + MAX_REASON_CHARS + 3);
    expect(MAX_REASON_CHARS).toBeGreaterThanOrEqual(2048);
  });

  test("an answer without X-Shard-Node is said to come from something that is not an instance", async () => {
    const stranger = await callShard(node, { method: "GET", path: "/nowhere" }, { retries: 0 });
    expect(httpError(node, stranger).message).toBe(
      `node a (${node.url}): HTTP 404 from something that is not a shardctl instance (no X-Shard-Node header): no`,
    );
    const own = await callShard(node, { method: "GET", path: "/bad-request" }, { retries: 0 });
    expect(httpError(node, own).message).toBe(`node a (${node.url}): HTTP 422: estimated_costs must be a number`);
  });
});

describe("callShard", () => {
  test("sends JSON and returns status, parsed body and the X-Shard-Node header", async () => {
    const res = await callShard(node, { method: "POST", path: "/ok", body: { id: "1" } });
    expect(res).toEqual({ status: 200, body: { echo: { id: "1" } }, servedBy: "a", ring: null, attempts: 1 });
  });

  test("sends the request's extra headers, and returns the answer's X-Shard-Ring", async () => {
    const res = await callShard(node, { method: "GET", path: "/ring-echo", headers: { "x-shard-ring": "3:0123456789abcdef" } });
    expect(res.ring).toBe("3:0123456789abcdef");
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
    expect(bodyMessage(res.body)).toBe("boom");
  });

  test("never retries a 4xx", async () => {
    hits = new Map();
    const res = await callShard(node, { method: "POST", path: "/bad-request", body: {} }, { retries: 5, backoffMs: 1 });
    expect(res.status).toBe(422);
    expect(hits.get("/bad-request")).toBe(1);
    expect(bodyMessage(res.body)).toBe("estimated_costs must be a number");
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

  test("a body that never ends is cut at the limit: the request fails at once naming the node, the connection is dropped", async () => {
    streamed = 0;
    const started = performance.now();
    const e = await callShard(node, { method: "GET", path: "/endless", maxAnswerBytes: 4 << 20 }, { retries: 3 }).catch((x) => x);
    expect(e).toBeInstanceOf(ShardRequestError);
    expect([e.kind, e.attempts]).toEqual(["invalid-response", 1]); // not retried: a node that does this will do it again
    expect(e.message).toBe(`node a (${node.url}): HTTP 200 with an answer over 4 MiB (an instance's answers are far smaller); stopped reading it`);
    expect(performance.now() - started).toBeLessThan(3000);
    // The server stops streaming soon after: its socket buffers fill and nobody reads them.
    const atCut = streamed;
    await Bun.sleep(300);
    expect(streamed - atCut).toBeLessThan(16 << 20);
    expect(streamed).toBeLessThan(64 << 20);
  });

  test("the default limit of a one-record answer is 1 MiB; a declared Content-Length over it is refused before reading", async () => {
    streamed = 0;
    const endlessOne = await callShard(node, { method: "GET", path: "/endless" }).catch((x) => x);
    expect(endlessOne.message).toContain("HTTP 200 with an answer over 1 MiB");
    const declared = await callShard(node, { method: "GET", path: "/declared-huge" }).catch((x) => x);
    expect([declared.kind, declared.status]).toEqual(["invalid-response", 200]);
    expect(declared.message).toContain("an answer over 1 MiB");
  });

  test("Retry-After is honoured: the retry comes after the time the node asked for", async () => {
    arrivals = new Map();
    hits = new Map();
    const res = await callShard(node, { method: "GET", path: "/retry-after-1" }, { backoffMs: 1 });
    expect([res.status, res.attempts]).toEqual([200, 2]);
    const [first, second] = arrivals.get("/retry-after-1")!;
    expect(second! - first!).toBeGreaterThanOrEqual(990);
    expect(second! - first!).toBeLessThan(1600);
  });

  test("a Retry-After longer than the bound waits only the bound", async () => {
    arrivals = new Map();
    hits = new Map();
    const res = await callShard(node, { method: "GET", path: "/retry-after-120" }, { backoffMs: 1, maxRetryAfterMs: 300 });
    expect(res.status).toBe(200);
    const [first, second] = arrivals.get("/retry-after-120")!;
    expect(second! - first!).toBeGreaterThanOrEqual(290);
    expect(second! - first!).toBeLessThan(1000);
  });

  test("a 429 with Retry-After is retried; one without is the client's problem and is not", async () => {
    hits = new Map();
    expect((await callShard(node, { method: "GET", path: "/busy-429" }, { backoffMs: 1 })).status).toBe(200);
    expect(hits.get("/busy-429")).toBe(2);
    expect((await callShard(node, { method: "GET", path: "/plain-429" }, { backoffMs: 1 })).status).toBe(429);
    expect(hits.get("/plain-429")).toBe(1);
  });

  test("with the default retries, an instance that is down for 2 s (a restart) is waited for", async () => {
    const port = await freePort();
    const restarting = { name: "r", url: `http://127.0.0.1:${port}` };
    let back: ReturnType<typeof Bun.serve> | undefined;
    const downAt = performance.now();
    const restart = setTimeout(() => {
      back = Bun.serve({ port, hostname: "127.0.0.1", fetch: () => Response.json({ up: true }, { headers: { "x-shard-node": "r" } }) });
    }, 2000);
    try {
      const res = await callShard(restarting, { method: "GET", path: "/" });
      expect(res.body).toEqual({ up: true });
      expect(res.attempts).toBeGreaterThan(1);
      expect(performance.now() - downAt).toBeGreaterThanOrEqual(2000);
    } finally {
      clearTimeout(restart);
      back?.stop(true);
    }
  });
});
