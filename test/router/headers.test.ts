/**
 * What crosses the router's hop: end-to-end headers and the body as the client wrote
 * them go on; hop-by-hop headers (and those a Connection header names) stop at the
 * router in both directions; the node learns the client's address and the request id;
 * and the router keeps its connections to a node alive. A local server plays the node
 * and keeps what it received.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import type { Router } from "../../src/router/index.ts";
import { answerBody, answerHead, exchange } from "../support/wire.ts";
import { call } from "../support/http.ts";
import { nodeAnswer, routerFor, stubNode, type StubNode } from "./support.ts";

let node: StubNode;
let router: Router;
const RECORD = { ...seedRecord("1"), status: "pending", decision_date: "" };

beforeAll(() => {
  node = stubNode("n", (seen) =>
    nodeAnswer("n", RECORD, seen.method === "POST" ? 201 : 200, {
      connection: "keep-alive, x-secret",
      "x-secret": "only for the router",
      "keep-alive": "timeout=5",
      "proxy-authenticate": "Basic",
      "x-custom-answer": "yes",
      location: "/v1/expenses/1",
      "retry-after": "3",
    }),
  );
  router = routerFor([node]);
});
afterAll(async () => {
  await router?.stop();
  node?.stop();
});

/** Sends `head` (and body) on a fresh connection; the answer's status line and headers, lower-cased names. */
function rawRequest(port: number, head: string): Promise<{ status: string; headers: Map<string, string> }> {
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(head));
    socket.on("data", (chunk) => {
      text += chunk.toString("utf8");
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) return;
      socket.destroy();
      const [status, ...lines] = text.slice(0, end).split("\r\n");
      resolve({ status: status!, headers: new Map(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()])) });
    });
    socket.on("error", reject);
    socket.setTimeout(10_000, () => reject(new Error(`no answer; got ${JSON.stringify(text)}`)));
  });
}

describe("headers across the hop", () => {
  test("hop-by-hop request headers stop at the router; end-to-end ones and the body go on unchanged", async () => {
    const body = `{ "id" : "1",\n  "name":"Foo 1", "email":"foo1@bar.com", "category":"office supplies", "description":"iPad for office use", "link":"http://www.apple.com/shop/buy-ipad/ipad-pro", "estimated_costs":"700", "submit_date":"12-10-2016" }`;
    const before = node.seen.length;
    const answer = await rawRequest(
      router.port,
      [
        "POST /v1/expenses HTTP/1.1",
        `Host: router.example:${router.port}`,
        "Connection: keep-alive, X-Drop-Me",
        "X-Drop-Me: 1",
        "Keep-Alive: timeout=5",
        "TE: trailers",
        "Proxy-Authorization: Basic c2VjcmV0",
        "Authorization: Bearer end-to-end",
        "X-Custom: kept",
        "X-Forwarded-For: 10.1.2.3",
        "X-Request-Id: req-123",
        "X-Shard-Ring: 9:0123456789abcdef",
        "Content-Type: application/json",
        `Content-Length: ${Buffer.byteLength(body)}`,
        "",
        body,
      ].join("\r\n"),
    );
    expect(answer.status).toBe("HTTP/1.1 201 Created");
    expect(node.seen.length).toBe(before + 1);
    const seen = node.seen.at(-1)!;
    expect(seen.body).toBe(body);
    for (const name of ["x-drop-me", "keep-alive", "te", "proxy-authorization"]) expect({ name, value: seen.headers.get(name) }).toEqual({ name, value: null });
    expect(seen.headers.get("authorization")).toBe("Bearer end-to-end");
    expect(seen.headers.get("x-custom")).toBe("kept");
    expect(seen.headers.get("content-type")).toBe("application/json");
    expect(seen.headers.get("x-forwarded-for")).toBe("10.1.2.3, 127.0.0.1");
    expect(seen.headers.get("x-forwarded-host")).toBe(`router.example:${router.port}`);
    expect(seen.headers.get("x-forwarded-proto")).toBe("http");
    expect(seen.headers.get("x-request-id")).toBe("req-123");
    expect(answer.headers.get("x-request-id")).toBe("req-123");
    // the ring a request is placed with is the router's, whatever the client says
    expect(seen.headers.get("x-shard-ring")).toBe(router.ring.label);
  });

  test("hop-by-hop answer headers stop at the router; the node's own ones come back, with X-Shard-Url", async () => {
    const answer = await rawRequest(router.port, `GET /v1/expenses/1 HTTP/1.1\r\nHost: 127.0.0.1:${router.port}\r\nConnection: close\r\n\r\n`);
    expect(answer.status).toBe("HTTP/1.1 200 OK");
    expect(answer.headers.get("x-secret")).toBeUndefined();
    expect(answer.headers.get("proxy-authenticate")).toBeUndefined();
    expect(answer.headers.get("keep-alive")).toBeUndefined();
    expect(answer.headers.get("connection") ?? "").not.toContain("x-secret");
    expect(answer.headers.get("x-custom-answer")).toBe("yes");
    expect(answer.headers.get("location")).toBe("/v1/expenses/1");
    expect(answer.headers.get("retry-after")).toBe("3");
    expect(answer.headers.get("x-shard-node")).toBe("n");
    expect(answer.headers.get("x-shard-url")).toBe(node.url);
    const seen = node.seen.at(-1)!;
    expect(seen.headers.get("x-forwarded-for")).toBe("127.0.0.1");
    // a request without an id gets one, the same in the node's request and the client's answer
    expect(seen.headers.get("x-request-id")).toBe(answer.headers.get("x-request-id")!);
    expect(seen.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("a client whose Host is shorter than 4 characters is still named in X-Forwarded-For", async () => {
    const before = node.seen.length;
    const answer = await exchange(router.port, "GET /v1/expenses/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(answerHead(answer)).toStartWith("http/1.1 200");
    expect(node.seen.length).toBe(before + 1);
    const seen = node.seen.at(-1)!;
    expect([seen.headers.get("x-forwarded-for"), seen.headers.get("x-forwarded-host")]).toEqual(["127.0.0.1", "x"]);
  });

  test("a request id that is not visible ASCII of at most 200 characters is replaced", async () => {
    for (const bad of ["x".repeat(201), "has space"]) {
      const r = await fetch(`${router.url}/v1/expenses/1`, { headers: { "x-request-id": bad } });
      expect(r.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(node.seen.at(-1)!.headers.get("x-request-id")).toBe(r.headers.get("x-request-id")!);
    }
  });

  test("connections to a node are kept alive: 30 requests one after another use one connection", async () => {
    const before = node.seen.length;
    for (let i = 0; i < 30; i++) await (await fetch(`${router.url}/v1/expenses/1`)).arrayBuffer();
    const ports = new Set(node.seen.slice(before).map((s) => s.peerPort));
    expect(node.seen.length - before).toBe(30);
    expect(ports.size).toBe(1);
  });
});

describe("encoded answers", () => {
  /** A node that gzips its answer when the request allows gzip, or always when `always`. */
  function gzipNode(always: boolean): StubNode {
    return stubNode("z", (seen) => {
      const plain = JSON.stringify(seen.path.startsWith("/v1/expenses?") ? { items: [RECORD], next: null } : RECORD);
      if (!always && !/gzip/i.test(seen.headers.get("accept-encoding") ?? "")) return nodeAnswer("z", JSON.parse(plain));
      return new Response(Bun.gzipSync(new TextEncoder().encode(plain)), {
        headers: { "x-shard-node": "z", "content-type": "application/json", "content-encoding": "gzip" },
      });
    });
  }

  test("the router asks a node for the identity encoding: the client gets the body its headers describe", async () => {
    const z = gzipNode(false);
    const r = routerFor([z]);
    try {
      const answer = await exchange(r.port, `GET /v1/expenses/1 HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\nConnection: close\r\n\r\n`);
      expect(answerHead(answer)).toStartWith("http/1.1 200");
      expect(answerHead(answer)).not.toContain("content-encoding");
      expect(JSON.parse(answerBody(answer))).toEqual(RECORD);
      expect(z.seen.at(-1)!.headers.get("accept-encoding")).toBe("identity");
    } finally {
      await r.stop();
      z.stop();
    }
  });

  test("a node that encodes anyway: its bytes are passed on with their Content-Encoding, and its listing is a bad answer", async () => {
    const z = gzipNode(true);
    const r = routerFor([z]);
    try {
      const answer = await exchange(r.port, `GET /v1/expenses/1 HTTP/1.1\r\nHost: 127.0.0.1:${r.port}\r\nConnection: close\r\n\r\n`);
      expect(answerHead(answer)).toContain("content-encoding: gzip");
      const body = Buffer.from(answerBody(answer), "latin1");
      expect(JSON.parse(new TextDecoder().decode(Bun.gunzipSync(body)))).toEqual(RECORD);
      const listed = await call(r.url, "GET", "/v1/expenses");
      expect([listed.status, listed.json.error, listed.json.node]).toEqual([502, "bad_answer", "z"]);
      expect(listed.json.message).toContain("Content-Encoding: gzip");
    } finally {
      await r.stop();
      z.stop();
    }
  });
});
