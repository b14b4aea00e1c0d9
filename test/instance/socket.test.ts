/**
 * What a client sees on the wire, over a real socket: every answer of the instance is
 * the JSON error body with X-Shard-Node, never Bun's HTML error page or a stack trace,
 * whatever the request target; an oversized body ends the connection.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import { answerBody as body, answerHead as headers, exchange, expectOddAnswers } from "../support/wire.ts";

describe("answers on the wire", () => {
  let instance: Instance;
  beforeAll(async () => {
    // the request log on, as `serve` runs it: it reads the URL too
    instance = await startInstance({ port: 0, db: "sqlite::memory:", name: "wire-node", log: () => {} });
  });
  afterAll(() => instance?.stop());

  for (const method of ["CONNECT", "GET", "POST", "DELETE", "PATCH"]) {
    test(`${method} with odd request targets: JSON with X-Shard-Node, the status the rules give, no HTML, no stack`, async () => {
      for (const head of await expectOddAnswers(instance.port, method)) expect(head).toContain("x-shard-node: wire-node");
    });
  }

  test("an unknown query parameter's name is clipped in the answer", async () => {
    // long, yet within Bun's 16 KiB header limit (beyond it Bun answers 431 itself)
    const name = "x".repeat(6 * 1024);
    const r = await fetch(`${instance.url}/v1/expenses?${name}=1`);
    expect(r.status).toBe(422);
    const text = await r.text();
    expect(text.length).toBeLessThan(1024);
    expect(JSON.parse(text).message).toContain("xxx...");
    const repeated = await fetch(`${instance.url}/v1/expenses?${name}=1&${name}=2`);
    expect(repeated.status).toBe(422);
    expect((await repeated.text()).length).toBeLessThan(1024);
  });

  test("the answers Bun makes itself (bad request line, headers too large) carry no HTML or stack", async () => {
    const cases = [
      { head: "GARBAGE\r\n\r\n", status: 400 },
      { head: `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, status: 431 },
    ];
    for (const { head, status } of cases) {
      const answer = await exchange(instance.port, head);
      expect(answer.split(" ", 2).join(" ")).toBe(`HTTP/1.1 ${status}`);
      expect(answer).not.toMatch(/<html|\.ts:\d+/i);
      expect(body(answer)).toBe("");
    }
  });

  test("after a 413 on an endless chunked body the server says Connection: close and stops reading", async () => {
    const socket: Socket = connect(instance.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    let answer = "";
    let closed = false;
    socket.on("data", (c) => (answer += c.toString("latin1")));
    socket.on("close", () => (closed = true));
    socket.on("error", () => (closed = true));
    socket.write(`POST /v1/expenses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = `10000\r\n${"a".repeat(0x10000)}\r\n`;
    let sentAfterAnswer = 0;
    const limit = 64 * 1024 * 1024;
    // Keep sending until the server closes, or until far more than it should accept after answering.
    const deadline = Date.now() + 20_000;
    while (!closed && sentAfterAnswer < limit && Date.now() < deadline) {
      // the server runs in this process: wait for each write, so it gets its turn
      await new Promise<void>((resolve) => socket.write(chunk, () => resolve()));
      if (answer.includes("\r\n\r\n")) sentAfterAnswer += chunk.length;
    }
    socket.destroy();
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large");
    expect(headers(answer)).toContain("connection: close");
    expect(headers(answer)).toContain("x-shard-node: wire-node");
    expect({ closed, sentAfterAnswerBelowLimit: sentAfterAnswer < limit }).toEqual({ closed: true, sentAfterAnswerBelowLimit: true });
  });
});

describe("the last resort", () => {
  test("an error that escapes the app (here: the request log throws) is the JSON 500 with X-Shard-Node and X-Shard-Ring, no stack", async () => {
    const { Ring } = await import("../../src/ring/ring.ts");
    const { parseNodeList } = await import("../../src/ring/node.ts");
    const ring = new Ring(parseNodeList("last=127.0.0.1:1"), { vnodes: 16 });
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    const instance = await startInstance({
      port: 0,
      db: "sqlite::memory:",
      name: "last",
      ring: { ring, source: "the test" },
      log: () => {
        throw new Error("the log is broken");
      },
    });
    try {
      const r = await fetch(`${instance.url}/healthz`);
      expect(r.status).toBe(500);
      expect(r.headers.get("x-shard-node")).toBe("last");
      expect(r.headers.get("x-shard-ring")).toBe(ring.label);
      expect(await r.json()).toEqual({ error: "internal", message: "internal error; the server log has the details" });
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      console.error = original;
      await instance.stop();
    }
  });
});
