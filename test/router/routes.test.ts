/**
 * The router's own route table: every route of its app is there with its methods, and
 * nothing else. A path the router does not serve (an instance's /status, /rebalance/*) is
 * 404, never a 405 whose Allow lists the very method refused; a method a route does not
 * take is 405 naming the ones it does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRouterApp, FollowedRing, Upstream, type Router } from "../../src/router/index.ts";
import { ROUTER_ROUTES } from "../../src/router/routes.ts";
import { Ring } from "../../src/ring/ring.ts";
import { parseNodeList } from "../../src/ring/node.ts";
import { expectTableOfApp } from "../support/routes.ts";
import { routerFor, stubNode, type StubNode } from "./support.ts";

test("every route of the router's app has its template and methods in router/routes.ts, and nothing else is there", () => {
  const ring = new Ring(parseNodeList("a=127.0.0.1:1"), { vnodes: 8 });
  const app = createRouterApp({ ring: new FollowedRing(ring, 1000, () => {}), upstream: new Upstream({ timeoutMs: 1000 }) });
  expect(expectTableOfApp(app, ROUTER_ROUTES)).toBe(9);
});

describe("answers for routes the router has not", () => {
  let node: StubNode;
  let router: Router;
  beforeAll(() => {
    node = stubNode("n", () => Response.json({ message: "a node was contacted" }, { status: 500, headers: { "x-shard-node": "n" } }));
    router = routerFor([node]);
  });
  afterAll(async () => {
    await router?.stop();
    node?.stop();
  });

  test.each([
    ["GET", "/status"],
    ["GET", "/rebalance"],
    ["POST", "/rebalance/lease"],
    ["GET", "/rebalance/records"],
    ["POST", "/rebalance/switch"],
  ])("%s %s is 404 (an instance's route, not the router's)", async (method, path) => {
    const r = await fetch(`${router.url}${path}`, { method, ...(method === "POST" ? { body: "{}", headers: { "content-type": "application/json" } } : {}) });
    expect([r.status, r.headers.get("allow")]).toEqual([404, null]);
    expect(await r.json()).toEqual({ error: "not_found", message: `no route for ${method} ${path}` });
  });

  test.each([
    ["PUT", "/ring", "GET, HEAD"],
    ["POST", "/healthz", "GET, HEAD"],
    ["DELETE", "/v1/expenses", "GET, HEAD, POST"],
    ["POST", "/v1/expenses/7", "GET, HEAD, PUT, DELETE"],
  ])("%s %s is 405 with Allow: %s (never the refused method)", async (method, path, allow) => {
    const r = await fetch(`${router.url}${path}`, { method, ...(method !== "DELETE" ? { body: "{}", headers: { "content-type": "application/json" } } : {}) });
    expect([r.status, r.headers.get("allow")]).toEqual([405, allow]);
    expect(allow.split(", ")).not.toContain(method);
    expect(node.seen).toEqual([]);
  });
});
