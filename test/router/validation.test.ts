/**
 * Everything an instance rejects, the router rejects the same way (status, body, Allow)
 * without contacting any node. The expected answers come from a real instance given the
 * same requests; the router's nodes are local servers that count what reaches them and
 * would answer 500, so a request that got through would show twice.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAX_BODY_BYTES } from "../../src/http/body.ts";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import type { Router } from "../../src/router/index.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { badPosts } from "../instance/api.contract.ts";
import { routerFor, stubNode, type StubNode } from "./support.ts";

let reference: Instance;
let nodes: StubNode[];
let router: Router;

beforeAll(async () => {
  reference = await startInstance({ port: 0, db: "sqlite::memory:", name: "reference", log: false });
  nodes = ["a", "b", "c"].map((name) =>
    stubNode(name, () => Response.json({ message: "a node was contacted" }, { status: 500, headers: { "x-shard-node": name } })),
  );
  router = routerFor(nodes);
});
afterAll(async () => {
  await router?.stop();
  for (const n of nodes ?? []) n.stop();
  await reference?.stop();
});

interface Case {
  readonly label: string;
  readonly method: string;
  readonly path: string;
  /** A fresh body each time (a stream cannot be sent twice). */
  readonly body?: () => string | Uint8Array | ReadableStream;
  readonly headers?: Record<string, string>;
}

const json = (value: unknown) => () => (typeof value === "string" ? value : JSON.stringify(value));
const record = (over: object) => ({ ...seedRecord("1"), ...over });

const cases: Case[] = [
  ...badPosts.map(([label, body]): Case => ({ label: `POST ${label}`, method: "POST", path: "/v1/expenses", body: json(body) })),
  ...["007", "7.0", "-7", "x", "9007199254740992", "%20"].map((id): Case => ({ label: `GET id ${id}`, method: "GET", path: `/v1/expenses/${id}` })),
  ...["007", "x"].map((id): Case => ({ label: `DELETE id ${id}`, method: "DELETE", path: `/v1/expenses/${id}` })),
  ...[
    { id: "3" },
    { id: "02" },
    { email: "nope", name: "Changed" },
    { submit_date: "30-02-2016" },
    { decision_date: "2016-10-13" },
    { status: "done" },
    { estimated_costs: "-3" },
    { estimated_costs: 1.234 },
    { colour: "red" },
    '{"name": ',
    "[]",
    "",
    { description: "x".repeat(MAX_BODY_BYTES) },
  ].map((body): Case => ({ label: `PUT ${JSON.stringify(body).slice(0, 40)}`, method: "PUT", path: "/v1/expenses/2", body: json(body) })),
  { label: "PUT with a bad path id", method: "PUT", path: "/v1/expenses/02", body: json({ name: "x" }) },
  { label: "POST a cost finer than cents (a rule after the schema)", method: "POST", path: "/v1/expenses", body: json(record({ estimated_costs: 700.001 })) },
  ...["after=abc", "after=007", "after=-1", "limit=0", "limit=1001", "limit=ten", "limit=", "page=2", "limit=1&limit=2", "after=0&after=5"].map(
    (query): Case => ({ label: `list ?${query}`, method: "GET", path: `/v1/expenses?${query}` }),
  ),
  { label: "GET with a query", method: "GET", path: "/v1/expenses/1?x=1" },
  { label: "PUT with a query", method: "PUT", path: "/v1/expenses/1?force=true", body: json({ name: "x" }) },
  { label: "DELETE with a query", method: "DELETE", path: "/v1/expenses/1?cascade=1" },
  { label: "POST with a query", method: "POST", path: "/v1/expenses?dry_run=1", body: json(seedRecord("2")) },
  { label: "healthz with a query", method: "GET", path: "/healthz?x=1" },
  { label: "readyz with a query", method: "GET", path: "/readyz?x=1" },
  { label: "PATCH an expense", method: "PATCH", path: "/v1/expenses/1", body: json({ name: "x" }) },
  { label: "POST to an expense", method: "POST", path: "/v1/expenses/1", body: json({ name: "x" }) },
  { label: "DELETE the collection", method: "DELETE", path: "/v1/expenses" },
  { label: "PUT the collection", method: "PUT", path: "/v1/expenses", body: json({ name: "x" }) },
  { label: "OPTIONS readyz", method: "OPTIONS", path: "/readyz" },
  { label: "an unknown route", method: "GET", path: "/v2/nothing" },
  {
    label: "a body that is not UTF-8",
    method: "POST",
    path: "/v1/expenses",
    body: () => {
      const bytes = new TextEncoder().encode(JSON.stringify(seedRecord("1")));
      return new Uint8Array([...bytes.slice(0, 20), 0xff, 0xfe, ...bytes.slice(20)]);
    },
  },
  {
    label: "a chunked body over the limit",
    method: "POST",
    path: "/v1/expenses",
    body: () => {
      const bytes = new TextEncoder().encode(JSON.stringify(record({ description: "x".repeat(MAX_BODY_BYTES) })));
      return new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
          controller.close();
        },
      });
    },
  },
  {
    label: "a form content type with malformed JSON (curl -d)",
    method: "POST",
    path: "/v1/expenses",
    body: json("id=1&name=x"),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  },
];

async function answer(base: string, c: Case) {
  const res = await fetch(base + c.path, { method: c.method, body: c.body?.(), headers: c.headers });
  return { status: res.status, allow: res.headers.get("allow"), body: await res.json() };
}

describe("a request an instance rejects is rejected by the router the same way, and no node sees it", () => {
  for (const c of cases) {
    test(c.label, async () => {
      const expected = await answer(reference.url, c);
      expect(expected.status).toBeGreaterThanOrEqual(400);
      expect(expected.status).toBeLessThan(500);
      const got = await answer(router.url, c);
      expect(got).toEqual(expected);
      expect(nodes.map((n) => n.seen.length)).toEqual([0, 0, 0]);
    });
  }
});
