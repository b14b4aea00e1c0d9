/**
 * The router's GET /metrics and JSON log lines: counters grow by exactly the requests
 * sent through it, by route template (never an id), including answers it made itself
 * (503 for a node that is down); a JSON line carries the request id it passed on and the
 * node that answered.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { parsePrometheusText, sampleValue } from "../support/prom-text.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { freePort } from "../support/net.ts";
import { routerFor } from "./support.ts";

let cluster: Cluster;
let down: { name: string; url: string };
beforeAll(async () => {
  cluster = await startCluster({ nodes: ["a", "b"], db: () => "sqlite::memory:" });
  down = { name: "c", url: `http://127.0.0.1:${await freePort()}` };
});
afterAll(async () => {
  await cluster.stop();
});

const nodes = () => [...cluster.nodes, down];

async function scrape(url: string) {
  const r = await fetch(`${url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheusText(await r.text());
}

describe("router metrics and JSON log", () => {
  test("counters grow by exactly the requests sent, under route templates; the ring is shown", async () => {
    const lines: string[] = [];
    const router = routerFor(nodes(), { log: (line) => lines.push(line), logFormat: "json" });
    try {
      const owner = refOwnerOf([{ name: "a" }, { name: "b" }, { name: "c" }]);
      const ids = Array.from({ length: 40 }, (_, k) => String(7000 + k));
      const live = ids.filter((id) => owner(id) !== "c").slice(0, 4);
      const dead = ids.filter((id) => owner(id) === "c").slice(0, 2);
      const before = await scrape(router.url);
      for (const id of live) expect((await fetch(`${router.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(id)) })).status).toBe(201);
      for (const id of live) expect((await fetch(`${router.url}/v1/expenses/${id}`)).status).toBe(200);
      for (const id of dead) expect((await fetch(`${router.url}/v1/expenses/${id}`, { headers: { "x-request-id": `dead-${id}` } })).status).toBe(503);
      expect((await fetch(`${router.url}/nowhere/1`)).status).toBe(404);
      const after = await scrape(router.url);
      const grew = (method: string, route: string, status: number) => {
        const labels = { method, route, status: String(status) };
        return sampleValue(after, "shardctl_http_requests_total", labels) - sampleValue(before, "shardctl_http_requests_total", labels);
      };
      expect({
        post201: grew("POST", "/v1/expenses", 201),
        get200: grew("GET", "/v1/expenses/:id", 200),
        get503: grew("GET", "/v1/expenses/:id", 503),
        unmatched: grew("GET", "unmatched", 404),
        metrics: grew("GET", "/metrics", 200),
      }).toEqual({ post201: 4, get200: 4, get503: 2, unmatched: 1, metrics: 1 });
      expect(sampleValue(after, "shardctl_ring_info", { label: router.ring.label })).toBe(1);

      // the JSON lines of the 503s: the id the client gave, no node answered
      const failed = lines.map((l) => JSON.parse(l)).filter((e) => e.status === 503);
      expect(failed.map((e) => [e.node, e.route, e.request_id, e.upstream])).toEqual(dead.map((id) => ["router", "/v1/expenses/:id", `dead-${id}`, undefined]));
      // a relayed GET names the node that answered and the id the router made
      const relayed = lines.map((l) => JSON.parse(l)).find((e) => e.method === "GET" && e.status === 200 && e.path === `/v1/expenses/${live[0]}`);
      expect(relayed.upstream).toBe(owner(live[0]!));
      expect(relayed.request_id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await router.stop();
    }
  });
});
