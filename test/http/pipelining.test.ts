/**
 * Pipelined requests and chunked trailers over raw sockets: no request is lost (done, but
 * not answered) and no write is acknowledged as an error. Bun 1.4.5 closes a connection
 * without answering when it reads the next request while an answer is pending (and takes a
 * trailer section for a request): the servers then do nothing of what they did not answer
 * (whenSettled in src/http/listen.ts). An instance on SQLite answers within the turn, and
 * Bun answers its pipelined requests in order.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import type { Router } from "../../src/router/index.ts";
import { mysqlUnavailable, startMariaDB, type MariaDB } from "../support/mariadb.ts";
import { routerFor, stubNode, type StubNode } from "../router/support.ts";

/** Writes each part (the first at once, each next `gapMs` later); every answer's status line, in order, until the server closes or `ms` pass. */
function pipeline(port: number, parts: readonly string[], { gapMs = 0, ms = 3000 } = {}): Promise<{ statuses: number[]; closed: boolean }> {
  return new Promise((resolve) => {
    let text = "";
    let closed = false;
    const socket = connect(port, "127.0.0.1", async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0 && gapMs > 0) await Bun.sleep(gapMs);
        if (!closed) socket.write(part);
      }
    });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])), closed });
    };
    const timer = setTimeout(done, ms);
    socket.on("data", (chunk) => (text += chunk.toString("latin1")));
    socket.on("close", () => {
      closed = true;
      done();
    });
    socket.on("error", () => (closed = true));
  });
}

const body = (id: string) => JSON.stringify(seedRecord(id));
const post = (id: string) => `POST /v1/expenses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body(id).length}\r\n\r\n${body(id)}`;
/** The last request of a pipeline: Connection: close, so that a server that answers everything then closes. */
const getLast = (id: string) => `GET /v1/expenses/${id} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
/** A chunked POST whose body ends with a trailer section (RFC 9112 7.1.2). */
const postWithTrailer = (id: string) =>
  `POST /v1/expenses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
  `${body(id).length.toString(16)}\r\n${body(id)}\r\n0\r\nX-Checksum: 1234\r\n\r\n`;

/** Whether `id` is stored on the instance (asked on a connection of its own). */
const stored = async (instance: Instance, id: string) => (await fetch(`${instance.url}/v1/expenses/${id}`)).status === 200;

/**
 * For each POST of `ids`, sent in one write as `parts` (POST by POST, a GET last): it was
 * answered 201 and stored, or not answered and not stored. Never stored without a 201.
 */
async function expectNothingLost(port: number, instance: Instance, ids: readonly string[], parts: readonly string[]) {
  const { statuses } = await pipeline(port, parts);
  const seen = await Promise.all(ids.map(async (id, i) => ({ id, answer: statuses[i] ?? "none", stored: await stored(instance, id) })));
  for (const s of seen) expect(s).toEqual(s.answer === "none" ? { ...s, stored: false } : { ...s, answer: 201, stored: true });
  return statuses;
}

/** A chunked POST with a trailer: 201 and stored, or another answer and not stored. */
async function expectTrailerNotMisreported(port: number, instance: Instance, id: string) {
  const { statuses } = await pipeline(port, [postWithTrailer(id)]);
  const seen = { answer: statuses[0] ?? "none", stored: await stored(instance, id) };
  expect(seen).toEqual(seen.stored ? { answer: 201, stored: true } : { answer: seen.answer, stored: false });
  if (!seen.stored) expect(seen.answer).not.toBe(201);
}

describe("the router", () => {
  let instance: Instance;
  let router: Router;
  beforeAll(async () => {
    instance = await startInstance({ port: 0, db: "sqlite::memory:", name: "a", log: false });
    router = routerFor([{ name: "a", url: instance.url }]);
  });
  afterAll(async () => {
    await router?.stop();
    await instance?.stop();
  });

  test("requests pipelined in one write: none is done without its answer", async () => {
    await expectNothingLost(router.port, instance, ["101", "102"], [post("101") + post("102") + getLast("101")]);
  });

  test("a chunked POST with a trailer: never stored while the client is told it failed", async () => {
    await expectTrailerNotMisreported(router.port, instance, "103");
  });

  test("one request at a time on a kept-alive connection is answered as ever", async () => {
    const { statuses } = await pipeline(router.port, [post("104"), getLast("104")], { gapMs: 300 });
    expect(statuses).toEqual([201, 200]);
  });
});

describe("the router, when the next request comes while one is forwarded (Bun upstream)", () => {
  let node: StubNode;
  let router: Router;
  beforeAll(() => {
    // a node that takes 300 ms to answer a POST it has received
    node = stubNode("a", async (r) => {
      if (r.method === "POST") await Bun.sleep(300);
      return Response.json({ ...seedRecord("201"), status: "pending", decision_date: "" }, { status: 201, headers: { "x-shard-node": "a" } });
    });
    router = routerFor([node]);
  });
  afterAll(async () => {
    await router?.stop();
    node?.stop();
  });

  // Bun 1.4.5 closes the connection when it reads the GET while the POST's answer is pending:
  // the POST reached the node, and its answer is lost. Nothing in the project can answer it.
  test.failing("a request pipelined 50 ms after a POST that is being forwarded: the POST's answer is not lost", async () => {
    const { statuses } = await pipeline(router.port, [post("201"), getLast("201")], { gapMs: 50 });
    const reached = node.seen.some((r) => r.method === "POST");
    expect({ reached, answered: statuses[0] }).toEqual({ reached: true, answered: 201 });
  });
});

describe("an instance on SQLite", () => {
  let instance: Instance;
  beforeAll(async () => {
    instance = await startInstance({ port: 0, db: "sqlite::memory:", name: "s", log: false });
  });
  afterAll(() => instance?.stop());

  test("answers requests pipelined in one write, in order, each done", async () => {
    const statuses = await expectNothingLost(instance.port, instance, ["301", "302"], [post("301") + post("302") + getLast("301")]);
    expect(statuses).toEqual([201, 201, 200]);
  });

  test("a chunked POST with a trailer: never stored while the client is told it failed", async () => {
    await expectTrailerNotMisreported(instance.port, instance, "303");
  });
});

describe.skipIf(!!mysqlUnavailable)("an instance on MySQL (its answers wait for the database)", () => {
  let server: MariaDB;
  let instance: Instance;
  beforeAll(async () => {
    server = await startMariaDB();
    instance = await startInstance({ port: 0, db: server.url("pipelining"), name: "m", log: false });
  });
  afterAll(async () => {
    await instance?.stop();
    await server?.stop();
  });

  test("requests pipelined in one write: none is done without its answer", async () => {
    await expectNothingLost(instance.port, instance, ["401", "402"], [post("401") + post("402") + getLast("401")]);
  });

  test("a chunked POST with a trailer: never stored while the client is told it failed", async () => {
    await expectTrailerNotMisreported(instance.port, instance, "403");
  });
});
