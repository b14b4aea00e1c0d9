/**
 * Requests whatever their Host, over raw sockets, on an instance and on the router: HTTP/1.0
 * without Host and an empty Host are routed by their real path; two Host lines are a 400
 * naming the problem; a HEAD answer carries a Date, as every other answer does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import type { Router } from "../../src/router/index.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { answerBody, answerHead, exchange } from "../support/wire.ts";
import { routerFor } from "../router/support.ts";

let cluster: Cluster;
let router: Router;
beforeAll(async () => {
  cluster = await startCluster({ nodes: ["a"], db: () => "sqlite::memory:" });
  router = routerFor(cluster.nodes);
  const stored = await fetch(`${cluster.url("a")}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("2000")) });
  expect(stored.status).toBe(201);
});
afterAll(async () => {
  await router?.stop();
  await cluster?.stop();
});

const port = (server: string) => Number(new URL(server === "router" ? router.url : cluster.url("a")).port);
const statusOf = (answer: string) => Number(answer.split(" ", 2)[1]);

describe.each(["instance", "router"])("the %s", (server) => {
  test.each([
    ["HTTP/1.0 without Host", "GET /v1/expenses/2000 HTTP/1.0\r\n\r\n"],
    ["an empty Host", "GET /v1/expenses/2000 HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n"],
    ["a short Host", "GET /v1/expenses/2000 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"],
  ])("%s is routed by its real path", async (_, head) => {
    const answer = await exchange(port(server), head);
    expect(statusOf(answer)).toBe(200);
    expect(JSON.parse(answerBody(answer)).id).toBe("2000");
    expect(answerHead(answer)).toContain("x-shard-node: a");
  });

  test("HTTP/1.0 without Host, for a path no route serves, names the real path", async () => {
    const answer = await exchange(port(server), "GET /v1/nothing/here HTTP/1.0\r\n\r\n");
    expect([statusOf(answer), JSON.parse(answerBody(answer)).message]).toEqual([404, "no route for GET /v1/nothing/here"]);
  });

  test.each([
    ["two Host lines", "Host: a\r\nHost: b\r\n"],
    ["the same Host twice", "Host: a:1\r\nHost: a:1\r\n"],
  ])("%s is a 400 naming the problem, before anything is done", async (_, hosts) => {
    const answer = await exchange(port(server), `GET /v1/expenses/2000 HTTP/1.1\r\n${hosts}Connection: close\r\n\r\n`);
    expect(statusOf(answer)).toBe(400);
    expect(answerHead(answer)).toContain("content-type: application/json");
    if (server === "instance") expect(answerHead(answer)).toContain("x-shard-node: a");
    const body = JSON.parse(answerBody(answer));
    expect(body.error).toBe("bad_host");
    expect(body.message).toStartWith("Host: given more than once");
  });

  test("a HEAD answer carries one Date, as a GET answer does", async () => {
    for (const method of ["HEAD", "GET"]) {
      const answer = await exchange(port(server), `${method} /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect([method, statusOf(answer)]).toEqual([method, 200]);
      const dates = answerHead(answer)
        .split("\r\n")
        .filter((line) => line.startsWith("date: "));
      expect({ method, dates: dates.length }).toEqual({ method, dates: 1 });
      const at = Date.parse(dates[0]!.slice(6));
      expect(Math.abs(at - Date.now())).toBeLessThan(5_000);
    }
  });
});
