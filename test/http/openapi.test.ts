/**
 * The OpenAPI documents of an instance and of the router, held to tools that did not make
 * them: swagger-parser validates each, Ajv (JSON Schema 2020-12) compiles every schema in
 * them, and answers of real servers are checked against them (test/support/openapi-check.ts;
 * the API contract suite checks every one of its answers the same way). Also what the
 * documents must say: no content on a 204, 422 and the error body on every route, the PUT
 * /ring body, the admin bearer token, the bulk reads' 200, the headers, the limit's range,
 * and the expense API first.
 */
import SwaggerParser from "@apidevtools/swagger-parser";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { createApp } from "../../src/instance/app.ts";
import { Rebalancing } from "../../src/instance/rebalance/rebalancing.ts";
import { RingGuard } from "../../src/instance/ring-guard.ts";
import { parseNodeList } from "../../src/ring/node.ts";
import { Ring } from "../../src/ring/ring.ts";
import { createRouterApp, FollowedRing, Upstream, type Router } from "../../src/router/index.ts";
import { openStore } from "../../src/store/index.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { freePort } from "../support/net.ts";
import { documentChecker, type DocumentChecker } from "../support/openapi-check.ts";
import { routerFor } from "../router/support.ts";

type Json = Record<string, any>;
const METHODS = ["get", "put", "post", "delete"];
const operations = (doc: Json) =>
  Object.entries(doc.paths as Json).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => ({ path, method: m, op: item[m] as Json })));
const resolve = (doc: Json, o: Json): Json =>
  o?.$ref
    ? o.$ref
        .slice(2)
        .split("/")
        .reduce((at: Json, k: string) => at[k], doc)
    : o;

const ring = new Ring(parseNodeList("docs=127.0.0.1:1"), { vnodes: 8 });
let instanceApp: ReturnType<typeof createApp>;
let instanceDoc: Json;
let routerDoc: Json;
beforeAll(async () => {
  const store = await openStore("sqlite::memory:");
  const guard = new RingGuard("docs", store, ring);
  instanceApp = createApp({ store, name: "docs", guard, rebalancing: await Rebalancing.load("docs", store, guard) });
  instanceDoc = (await (await instanceApp.handle(new Request("http://localhost/openapi/json"))).json()) as Json;
  const routerApp = createRouterApp({ ring: new FollowedRing(ring, 1000, () => {}), upstream: new Upstream({ timeoutMs: 1000 }) });
  routerDoc = (await (await routerApp.handle(new Request("http://localhost/openapi/json"))).json()) as Json;
});

describe.each(["instance", "router"])("the %s's document", (which) => {
  const doc = () => (which === "instance" ? instanceDoc : routerDoc);

  test("swagger-parser validates it (OpenAPI 3.1)", async () => {
    const validated = (await SwaggerParser.validate(structuredClone(doc()) as never)) as Json;
    expect(validated.openapi).toBe("3.1.2");
  });

  test("Ajv compiles every schema in it (JSON Schema 2020-12, strict)", () => {
    expect(documentChecker(doc()).compileAll()).toBeGreaterThan(50);
  });

  test("an answer without a body has no content; every operation lists the errors any route gives (422 included), the error body", () => {
    const deleted = doc().paths["/v1/expenses/{id}"].delete.responses["204"];
    expect(deleted.content).toBeUndefined();
    const anyRoute = which === "instance" ? ["400", "422", "500", "503"] : ["400", "422", "500"];
    for (const { path, method, op } of operations(doc())) {
      const r = op.responses;
      expect({ path, method, missing: anyRoute.filter((s) => !r[s]) }).toEqual({ path, method, missing: [] });
      expect(r.default).toBeUndefined();
      expect(r["500"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/ErrorBody" });
    }
  });

  test("the expense API comes first: its paths lead, tagged expenses", () => {
    expect(Object.keys(doc().paths).slice(0, 2)).toEqual(["/v1/expenses", "/v1/expenses/{id}"]);
    expect(doc().tags[0].name).toBe("expenses");
    for (const method of ["get", "post"]) expect(doc().paths["/v1/expenses"][method].tags).toEqual(["expenses"]);
  });

  test("the limit of a page is 1 to 1000, as the service takes it", () => {
    const limit = doc().paths["/v1/expenses"].get.parameters.find((p: Json) => p.name === "limit");
    const pattern = new RegExp(limit.schema.pattern);
    const admitted = Array.from({ length: 10_001 }, (_, n) => String(n)).filter((s) => pattern.test(s));
    expect([admitted.length, admitted[0], admitted.at(-1)]).toEqual([1000, "1", "1000"]);
    for (const odd of ["01", "1000 ", "+5", "1e3", ""]) expect({ odd, admitted: pattern.test(odd) }).toEqual({ odd, admitted: false });
  });
});

describe("the instance's document", () => {
  test("every answer names its headers: X-Shard-Node on all, Location on the 201, Retry-After on a 503, Allow on a 405", () => {
    for (const { path, method, op } of operations(instanceDoc)) {
      for (const [status, response] of Object.entries(op.responses as Json)) {
        const headers = response.headers as Json;
        expect({ path, method, status, node: resolve(instanceDoc, headers["X-Shard-Node"])?.required }).toEqual({ path, method, status, node: true });
        expect(headers["X-Shard-Ring"]).toBeDefined();
        if (status === "503") expect({ path, method, retryAfter: !!headers["Retry-After"] }).toEqual({ path, method, retryAfter: true });
      }
    }
    const created = instanceDoc.paths["/v1/expenses"].post.responses["201"].headers;
    expect(resolve(instanceDoc, created.Location).required).toBe(true);
    expect(instanceDoc.components.responses.MethodNotAllowed.headers.Allow.required).toBe(true);
  });

  test("the admin bearer token is a security scheme, on exactly the admin endpoints (PUT /ring, /rebalance/*), tagged admin and last", () => {
    expect(instanceDoc.components.securitySchemes).toEqual({ adminToken: expect.objectContaining({ type: "http", scheme: "bearer" }) });
    const secured = operations(instanceDoc).filter(({ op }) => op.security);
    expect(secured.length).toBeGreaterThan(10);
    for (const { path, method, op } of operations(instanceDoc)) {
      const admin = path.startsWith("/rebalance") || (path === "/ring" && method === "put");
      expect({ path, method, security: op.security ?? null, tags: op.tags }).toEqual({
        path,
        method,
        security: admin ? [{ adminToken: [] }] : null,
        tags: admin ? ["admin"] : expect.not.arrayContaining(["admin"]),
      });
    }
    expect(instanceDoc.tags.at(-1).name).toBe("admin");
    const paths = Object.keys(instanceDoc.paths);
    expect(paths.findIndex((p) => p.startsWith("/rebalance"))).toBeGreaterThan(paths.indexOf("/ring"));
    expect(paths.filter((p, i) => i > paths.indexOf("/rebalance") && !p.startsWith("/rebalance"))).toEqual([]);
  });

  test("PUT /ring declares its body, and GET /ring's answer is such a body", async () => {
    const body = instanceDoc.paths["/ring"].put.requestBody;
    expect(body.required).toBe(true);
    const got = await instanceApp.handle(new Request("http://localhost/ring"));
    expect(got.status).toBe(200);
    const ringFile = (await got.json()) as Json;
    const check = documentChecker(instanceDoc).validator(body.content["application/json"].schema);
    expect({ valid: check(ringFile), errors: check.errors ?? null }).toEqual({ valid: true, errors: null });
    // ... and the body must be a ring file: no epoch, or an unknown key, is not one
    const { epoch: _, ...noEpoch } = ringFile;
    expect([check(noEpoch), check({ ...ringFile, wieght: 2 })]).toEqual([false, false]);
  });

  test("GET and POST /rebalance/records document their 200", () => {
    for (const method of ["get", "post"]) {
      const ok = instanceDoc.paths["/rebalance/records"][method].responses["200"];
      expect(ok.content["application/json"].schema.properties.items.type).toBe("array");
    }
  });
});

describe("the router's document", () => {
  test("its /healthz and /readyz list their answers; its expense routes the router's own 502, 503 and 504", () => {
    expect(Object.keys(routerDoc.paths["/healthz"].get.responses)).toContain("200");
    expect(Object.keys(routerDoc.paths["/readyz"].get.responses)).toEqual(expect.arrayContaining(["200", "503"]));
    for (const { path, method, op } of operations(routerDoc).filter(({ path }) => path.startsWith("/v1/expenses"))) {
      expect({ path, method, has: ["502", "503", "504"].filter((s) => op.responses[s]) }).toEqual({ path, method, has: ["502", "503", "504"] });
    }
    expect(routerDoc.components.securitySchemes).toBeUndefined();
    expect(Object.keys(routerDoc.paths).filter((p) => p === "/status" || p.startsWith("/rebalance"))).toEqual([]);
  });
});

describe("answers of real servers against their document", () => {
  let cluster: Cluster;
  let router: Router;
  let routerChecker: DocumentChecker;
  let downRouter: Router;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: ["a", "b"], db: () => "sqlite::memory:" });
    router = routerFor(cluster.nodes);
    downRouter = routerFor([...cluster.nodes, { name: "gone", url: `http://127.0.0.1:${await freePort()}` }]);
    routerChecker = documentChecker(routerDoc);
  });
  afterAll(async () => {
    await router?.stop();
    await downRouter?.stop();
    await cluster?.stop();
  });

  const ask = async (base: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    return { status: r.status, headers: r.headers, text: await r.text() };
  };

  test("the router's answers, its own and the nodes', are as its document says", async () => {
    const calls: [string, string, string, unknown?][] = [
      [router.url, "POST", "/v1/expenses", seedRecord("31")],
      [router.url, "POST", "/v1/expenses", seedRecord("31")],
      [router.url, "GET", "/v1/expenses/31"],
      [router.url, "PUT", "/v1/expenses/31", { status: "approved", decision_date: "13-10-2016" }],
      [router.url, "GET", "/v1/expenses?limit=5"],
      [router.url, "DELETE", "/v1/expenses/31"],
      [router.url, "GET", "/v1/expenses/31"],
      [router.url, "GET", "/v1/expenses/007"],
      [router.url, "GET", "/healthz"],
      [router.url, "GET", "/healthz?x=1"],
      [router.url, "GET", "/readyz"],
      [router.url, "GET", "/ring"],
      [router.url, "GET", "/status"],
      [router.url, "PUT", "/ring", {}],
      [downRouter.url, "GET", "/readyz"],
      [downRouter.url, "GET", "/v1/expenses"],
    ];
    const statuses: number[] = [];
    for (const [base, method, path, body] of calls) {
      const answer = await ask(base, method, path, body);
      statuses.push(answer.status);
      expect(routerChecker.problems(method, path, answer)).toEqual([]);
    }
    expect(statuses).toEqual([201, 409, 200, 202, 200, 204, 404, 422, 200, 422, 200, 200, 404, 405, 503, 503]);
  });

  test("the checker finds an answer that is not as documented", () => {
    const checker = documentChecker(instanceDoc);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
      status,
      headers: new Headers({ "content-type": "application/json", "x-shard-node": "docs", ...headers }),
      text: JSON.stringify(body),
    });
    const record = { ...seedRecord("1"), status: "pending", decision_date: "" };
    expect(checker.problems("POST", "/v1/expenses", json(201, record, { location: "/v1/expenses/1" }))).toEqual([]);
    const cases = [
      ["POST", "/v1/expenses", json(201, record)],
      ["POST", "/v1/expenses", json(201, { ...record, status: "done" }, { location: "/v1/expenses/1" })],
      ["POST", "/v1/expenses", json(418, { error: "teapot", message: "x" })],
      ["GET", "/healthz", { status: 200, headers: new Headers({ "content-type": "text/html", "x-shard-node": "docs" }), text: "<p>ok</p>" }],
      ["DELETE", "/v1/expenses/1", json(204, { deleted: true })],
      ["PATCH", "/v1/expenses/1", json(405, { error: "method_not_allowed", message: "x" })],
      ["GET", "/nowhere", json(200, {})],
    ] as const;
    for (const [method, path, answer] of cases)
      expect({ method, path, found: checker.problems(method, path, answer).length > 0 }).toEqual({ method, path, found: true });
  });
});
