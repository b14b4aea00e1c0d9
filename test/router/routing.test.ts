/**
 * The router in front of three real instances (SQLite, in this process): every request
 * lands on the owner the reference ring names, the owner's answer comes back with its
 * X-Shard-Node and X-Shard-Url, and the merged listing pages through everything in id
 * order. One cluster per file; each test uses ids of its own, and the listing test
 * compares with what the instances hold when it runs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import type { Router } from "../../src/router/index.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { call } from "../support/http.ts";
import { routerFor } from "./support.ts";

const NAMES = ["a", "b", "c"];
const ownerOf = refOwnerOf(NAMES.map((name) => ({ name })));
let cluster: Cluster;
let router: Router;

beforeAll(async () => {
  cluster = await startCluster({ nodes: NAMES });
  router = routerFor(cluster.nodes);
});
afterAll(async () => {
  await router?.stop();
  await cluster?.stop();
});

const urlOf = (name: string) => cluster.nodes.find((n) => n.name === name)!.url;
const stored = (id: string, over: object = {}) => ({ ...seedRecord(id), status: "pending", decision_date: "", ...over });
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));

/** The nodes that hold `id`, asked directly. */
async function holders(id: string): Promise<string[]> {
  const answers = await Promise.all(cluster.nodes.map(async (n) => ((await fetch(`${n.url}/v1/expenses/${id}`)).status === 200 ? n.name : "")));
  return answers.filter((name) => name !== "");
}

/** Every record of every instance, read directly, in numeric id order. */
async function everything(): Promise<{ id: string }[]> {
  const all: { id: string }[] = [];
  for (const n of cluster.nodes) {
    let after: string | null = null;
    do {
      const page: any = await (await fetch(`${n.url}/v1/expenses?limit=1000${after === null ? "" : `&after=${after}`}`)).json();
      all.push(...page.items);
      after = page.next;
    } while (after !== null);
  }
  return all.sort((x, y) => (BigInt(x.id) < BigInt(y.id) ? -1 : 1));
}

describe("each request goes to the owner of its id", () => {
  test("the seed's ten records and 300 more: POSTed and read back through the router, each on its owner only", async () => {
    const ids = [...range(1, 10), ...range(5000, 300)];
    for (let i = 0; i < ids.length; i += 32) {
      await Promise.all(
        ids.slice(i, i + 32).map(async (id) => {
          const r = await call(router.url, "POST", "/v1/expenses", seedRecord(id));
          expect({ id, status: r.status, node: r.headers.get("x-shard-node") }).toEqual({ id, status: 201, node: ownerOf(id) });
          expect(r.headers.get("x-shard-url")).toBe(urlOf(ownerOf(id)));
          expect(r.headers.get("location")).toBe(`/v1/expenses/${id}`);
          expect(r.json).toEqual(stored(id));
        }),
      );
    }
    for (const id of ids) {
      expect({ id, holders: await holders(id) }).toEqual({ id, holders: [ownerOf(id)] });
      const back = await call(router.url, "GET", `/v1/expenses/${id}`);
      expect({ id, status: back.status, node: back.headers.get("x-shard-node") }).toEqual({ id, status: 200, node: ownerOf(id) });
      expect(back.headers.get("x-shard-url")).toBe(urlOf(ownerOf(id)));
      expect(back.json).toEqual(stored(id));
    }
    // Every node got some: the ids are not all on one owner by accident.
    expect(new Set(ids.map(ownerOf))).toEqual(new Set(NAMES));
  });

  test("PUT and DELETE reach the owner; the owner's 404 and 409 come back as they are", async () => {
    const id = "7001";
    expect((await call(router.url, "POST", "/v1/expenses", seedRecord(id))).status).toBe(201);
    const dup = await call(router.url, "POST", "/v1/expenses", seedRecord(id));
    expect([dup.status, dup.json.error, dup.headers.get("x-shard-node")]).toEqual([409, "conflict", ownerOf(id)]);

    const put = await call(router.url, "PUT", `/v1/expenses/${id}`, { status: "approved", decision_date: "13-10-2016" });
    expect([put.status, put.headers.get("x-shard-node")]).toEqual([202, ownerOf(id)]);
    const direct = await (await fetch(`${urlOf(ownerOf(id))}/v1/expenses/${id}`)).json();
    expect(direct).toEqual(stored(id, { status: "approved", decision_date: "13-10-2016" }));

    const del = await fetch(`${router.url}/v1/expenses/${id}`, { method: "DELETE" });
    expect([del.status, await del.text(), del.headers.get("x-shard-node")]).toEqual([204, "", ownerOf(id)]);
    expect(await holders(id)).toEqual([]);
    const gone = await call(router.url, "GET", `/v1/expenses/${id}`);
    expect([gone.status, gone.json.error, gone.headers.get("x-shard-node")]).toEqual([404, "not_found", ownerOf(id)]);
    expect((await call(router.url, "DELETE", `/v1/expenses/${id}`)).status).toBe(404);
    expect((await call(router.url, "PUT", `/v1/expenses/${id}`, '{"name":"x"}')).status).toBe(404);
  });

  test("a JSON-number id is placed by its canonical form, and the body reaches the owner as it was written", async () => {
    const text = JSON.stringify(seedRecord("0")).replace('"id":"0"', '"id":7002.0');
    const r = await call(router.url, "POST", "/v1/expenses", text);
    expect([r.status, r.json.id, r.headers.get("x-shard-node")]).toEqual([201, "7002", ownerOf("7002")]);
    expect(await holders("7002")).toEqual([ownerOf("7002")]);
  });
});

describe("the merged listing", () => {
  test("pages through every record of every node in id order, for several page sizes", async () => {
    const ids = range(9000, 250);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(ids.slice(i, i + 50).map((id) => fetch(`${urlOf(ownerOf(id))}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(id)) })));
    }
    const expected = await everything();
    expect(expected.length).toBeGreaterThanOrEqual(250);
    for (const limit of [1, 7, 100, 1000]) {
      const seen: unknown[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page: any = await call(router.url, "GET", `/v1/expenses?limit=${limit}${after === null ? "" : `&after=${after}`}`);
        expect(page.status).toBe(200);
        expect(page.json.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.json.items);
        after = page.json.next;
        if (after !== null) expect(after).toBe(page.json.items.at(-1).id);
        pages++;
      } while (after !== null && pages <= expected.length + 1);
      expect({ limit, ids: seen.map((r: any) => r.id) }).toEqual({ limit, ids: expected.map((r) => r.id) });
      expect(seen).toEqual(expected);
      // A full last page says no more follows: the page count is exact.
      expect({ limit, pages }).toEqual({ limit, pages: Math.max(1, Math.ceil(expected.length / limit)) });
    }
    // `after` in the middle, and the default page size (100)
    const middle = expected[120]!.id;
    const rest = await call(router.url, "GET", `/v1/expenses?after=${middle}`);
    expect(rest.json.items).toEqual(expected.slice(121, 221));
  });
});

describe("the router's own routes", () => {
  test("healthz is the router's; readyz asks every node; GET /ring is the router's ring", async () => {
    const live = await call(router.url, "GET", "/healthz");
    expect([live.status, live.json.status, live.json.role]).toEqual([200, "ok", "router"]);
    const ready = await call(router.url, "GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ ready: true, nodes: cluster.nodes.map((n) => ({ name: n.name, url: n.url, ready: true })) });
    const ring = await call(router.url, "GET", "/ring");
    expect(ring.status).toBe(200);
    expect(ring.json).toEqual({ ...router.ring.toJSON(), nodes: cluster.nodes.map((n) => ({ ...n, weight: 1 })), label: router.ring.label });
    expect(ring.json.label).toBe(`0:${ring.json.fingerprint}`);
    expect(ring.json.vnodes).toBe(160);
  });

  test("the OpenAPI document describes the router's routes with the instance's schemas; /openapi is the page", async () => {
    const doc = await call(router.url, "GET", "/openapi/json");
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(["/v1/expenses", "/v1/expenses/{id}", "/readyz", "/ring"]));
    expect(Object.keys(doc.json.components.schemas)).toEqual(expect.arrayContaining(["Expense", "ExpenseCreate", "ErrorBody"]));
    expect((await fetch(`${router.url}/openapi`)).status).toBe(200);
  });

  test("X-Request-Id: the client's is passed on and returned; without one the router makes one", async () => {
    const given = await call(router.url, "GET", "/v1/expenses/1", undefined, { "x-request-id": "trace-42" });
    expect(given.headers.get("x-request-id")).toBe("trace-42");
    const made = await call(router.url, "GET", "/v1/expenses/1");
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const invalid = await call(router.url, "GET", "/v1/expenses/abc");
    expect([invalid.status, invalid.headers.get("x-request-id")?.length]).toEqual([422, 36]);
  });
});
