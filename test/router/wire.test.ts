/**
 * The router on the wire, whatever a client sends: its own answers are the JSON error
 * body, never Bun's HTML page or a stack trace, and such requests reach no node.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Router } from "../../src/router/index.ts";
import { answerBody, answerHead, exchange, expectOddAnswers } from "../support/wire.ts";
import { routerFor, stubNode, type StubNode } from "./support.ts";

let node: StubNode;
let router: Router;
const lines: string[] = [];
beforeAll(() => {
  node = stubNode("n", () => Response.json({ message: "a node was contacted" }, { status: 500, headers: { "x-shard-node": "n" } }));
  // the request log on, as the command runs it: it reads the request target too
  router = routerFor([node], { log: (line) => lines.push(line) });
});
afterAll(async () => {
  await router?.stop();
  node?.stop();
});

describe("answers on the wire", () => {
  for (const method of ["CONNECT", "GET", "POST", "DELETE", "PATCH"]) {
    test(`${method} with odd request targets: JSON, the status the rules give, no HTML, no stack, no node contacted`, async () => {
      await expectOddAnswers(router.port, method);
      expect(node.seen).toEqual([]);
      expect(lines.every((l) => / router \S+ .* \d{3} \d+\.\dms /.test(l))).toBe(true);
    });
  }

  test("a body over the limit is 413 with Connection: close, and reaches no node", async () => {
    const answer = await exchange(
      router.port,
      `POST /v1/expenses HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 ** 40}\r\nContent-Type: application/json\r\n\r\n{"id":`,
    );
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large");
    expect(answerHead(answer)).toContain("connection: close");
    expect(JSON.parse(answerBody(answer)).error).toBe("body_too_large");
    expect(node.seen).toEqual([]);
  });
});
