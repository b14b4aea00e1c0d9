/**
 * GET /metrics of an instance, read with the strict parser of test/support/prom-text.ts
 * (not prom-client's): it parses, and between two scrapes each counter grows by exactly
 * the requests sent, under the route's template (never a raw path with an id), with the
 * histogram counting the same requests; records, ring and, on MariaDB, the pool and the
 * database errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import { KNOWN_ROUTES, UNMATCHED } from "../../src/instance/routes.ts";
import { mysqlUnavailable, startMariaDB, type MariaDB } from "../support/mariadb.ts";
import { parsePrometheusText, sampleValue, type Family } from "../support/prom-text.ts";
import { localNodes, ringOf } from "../support/cluster.ts";
import { call } from "../support/http.ts";

async function scrape(url: string): Promise<Map<string, Family>> {
  const r = await fetch(`${url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheusText(await r.text());
}

const requests = (f: Map<string, Family>, method: string, route: string, status: number) =>
  sampleValue(f, "shardctl_http_requests_total", { method, route, status: String(status) });
const timed = (f: Map<string, Family>, method: string, route: string) => sampleValue(f, "shardctl_http_request_duration_seconds_count", { method, route });

describe("the strict exposition parser", () => {
  test("reads a well-formed exposition, escapes included", () => {
    const f = parsePrometheusText(
      '# HELP a_total Things.\n# TYPE a_total counter\na_total{x="q\\"uo\\\\te",y="n\\nl"} 3\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1.5\nh_count 2\n',
    );
    expect(sampleValue(f, "a_total", { x: 'q"uo\\te', y: "n\nl" })).toBe(3);
    expect(f.get("h")!.type).toBe("histogram");
  });

  test.each([
    ["a sample before its TYPE", "a 1\n"],
    ["a family split in two", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n"],
    ["a duplicate series", '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'],
    ["an unquoted label value", "# TYPE a gauge\na{x=1} 1\n"],
    ["a bad value", "# TYPE a gauge\na one\n"],
    ["buckets that are not cumulative", '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ["a +Inf bucket other than the count", '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ["no final line feed", "# TYPE a gauge\na 1"],
  ])("rejects %s", (_, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});

describe("GET /metrics of a ring-aware instance (SQLite)", () => {
  let instance: Instance;
  let label: string;
  beforeAll(async () => {
    const nodes = await localNodes(["m1"]);
    const ring = ringOf(nodes, { epoch: 2 });
    label = ring.label;
    instance = await startInstance({ port: Number(nodes.split(":").pop()), db: "sqlite::memory:", name: "m1", log: false, ring: { ring, source: "test" } });
  });
  afterAll(async () => {
    await instance?.stop();
  });

  test("counters grow by exactly the requests sent, by method, route template and status", async () => {
    const base = instance.url;
    // ids of this test only: records are not shared between tests
    const ids = ["9101", "9102", "9103"];
    const before = await scrape(base);
    for (const id of ids) expect((await call(base, "POST", "/v1/expenses", seedRecord(id))).status).toBe(201);
    expect((await call(base, "POST", "/v1/expenses", seedRecord("9101"))).status).toBe(409);
    for (const id of [...ids, ...ids]) expect((await call(base, "GET", `/v1/expenses/${id}`)).status).toBe(200);
    expect((await call(base, "GET", "/v1/expenses/9199")).status).toBe(404);
    expect((await call(base, "PUT", "/v1/expenses/9102", { status: "approved" })).status).toBe(202);
    expect((await call(base, "DELETE", "/v1/expenses/9103")).status).toBe(204);
    expect((await call(base, "GET", "/v1/expenses?limit=2")).status).toBe(200);
    expect((await call(base, "GET", "/no/such/path/42")).status).toBe(404);
    // a trailing slash is served as the same route, and counted under it
    expect((await call(base, "GET", `/v1/expenses/${ids[0]}/`)).status).toBe(200);
    expect((await call(base, "GET", "/v1/expenses/?limit=1")).status).toBe(200);
    const after = await scrape(base);

    const grew = (method: string, route: string, status: number) => requests(after, method, route, status) - requests(before, method, route, status);
    expect({
      post201: grew("POST", "/v1/expenses", 201),
      post409: grew("POST", "/v1/expenses", 409),
      get200: grew("GET", "/v1/expenses/:id", 200),
      get404: grew("GET", "/v1/expenses/:id", 404),
      put202: grew("PUT", "/v1/expenses/:id", 202),
      delete204: grew("DELETE", "/v1/expenses/:id", 204),
      list200: grew("GET", "/v1/expenses", 200),
      unmatched404: grew("GET", "unmatched", 404),
      // the first scrape, counted once it was answered
      metrics200: grew("GET", "/metrics", 200),
    }).toEqual({ post201: 3, post409: 1, get200: 7, get404: 1, put202: 1, delete204: 1, list200: 2, unmatched404: 1, metrics200: 1 });
    // the histogram counts the same requests
    expect(timed(after, "GET", "/v1/expenses/:id") - timed(before, "GET", "/v1/expenses/:id")).toBe(8);
    expect(timed(after, "POST", "/v1/expenses") - timed(before, "POST", "/v1/expenses")).toBe(4);
    // no raw path became a label
    const routes = new Set(after.get("shardctl_http_requests_total")!.samples.map((s) => s.labels.route));
    const templates = new Set([...KNOWN_ROUTES.map((r) => r.template), UNMATCHED]);
    for (const route of routes) expect({ route, template: templates.has(route!) }).toEqual({ route, template: true });
    // the scrape itself is the request in flight
    expect(sampleValue(after, "shardctl_http_requests_in_flight")).toBe(1);
  });

  test("records, ring and build are shown", async () => {
    const base = instance.url;
    const first = sampleValue(await scrape(base), "shardctl_records");
    for (const id of ["9201", "9202"]) expect((await call(base, "POST", "/v1/expenses", seedRecord(id))).status).toBe(201);
    expect((await call(base, "DELETE", "/v1/expenses/9201")).status).toBe(204);
    const f = await scrape(base);
    expect(sampleValue(f, "shardctl_records") - first).toBe(1);
    expect(f.get("shardctl_ring_info")!.samples).toEqual([
      { name: "shardctl_ring_info", labels: { label, epoch: "2", fingerprint: label.split(":")[1]! }, value: 1 },
    ]);
    expect(sampleValue(f, "shardctl_build_info")).toBe(1);
    // SQLite has one connection, no pool
    expect(f.get("shardctl_db_pool_connections")!.samples).toEqual([]);
  });
});

describe.skipIf(!!mysqlUnavailable)("GET /metrics of an instance on MariaDB", () => {
  let server: MariaDB;
  let instance: Instance;
  beforeAll(async () => {
    server = await startMariaDB();
    instance = await startInstance({ port: 0, db: `${server.url("metrics")}?pool=4&timeout=1500`, name: "my1", log: false });
  });
  afterAll(async () => {
    await instance?.stop();
    await server?.stop();
  });

  test("the pool, and database errors counted when the database goes away", async () => {
    const base = instance.url;
    expect((await call(base, "POST", "/v1/expenses", seedRecord("9301"))).status).toBe(201);
    const before = await scrape(base);
    expect(sampleValue(before, "shardctl_db_pool_max_connections")).toBe(4);
    const busy = sampleValue(before, "shardctl_db_pool_connections", { state: "busy" });
    const idle = sampleValue(before, "shardctl_db_pool_connections", { state: "idle" });
    expect(busy).toBe(0);
    expect(idle).toBeGreaterThanOrEqual(1);
    await server.halt();
    try {
      for (const id of ["9301", "9302"]) expect((await call(base, "GET", `/v1/expenses/${id}`)).status).toBe(503);
      const after = await scrape(base);
      expect(sampleValue(after, "shardctl_db_errors_total") - sampleValue(before, "shardctl_db_errors_total")).toBe(2);
      expect(requests(after, "GET", "/v1/expenses/:id", 503) - requests(before, "GET", "/v1/expenses/:id", 503)).toBe(2);
    } finally {
      await server.restart();
    }
  }, 60_000);
});
