/**
 * The HTTP API of one instance, as the contract states it, driven through
 * the instance's handler (`createHandler`: the app with its request log; no socket). Every implementation of the store runs this same suite
 * (api.sqlite.test.ts, api.mysql.test.ts). Every answer is checked for X-Shard-Node and
 * against the instance's OpenAPI document (test/support/openapi-check.ts), and every
 * rejected request is followed by a check that nothing was stored.
 */
import { describe, expect, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { createHandler } from "../../src/instance/app.ts";
import { MAX_BODY_BYTES } from "../../src/http/body.ts";
import type { ExpenseStore } from "../../src/store/types.ts";
import { useStores } from "../store/fixtures.ts";
import { documentChecker, type DocumentChecker } from "../support/openapi-check.ts";

const NODE = "node-under-test";

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/**
 * The instance's OpenAPI document, read once from an app such as the harness makes (every
 * harness app has the same routes), as a checker of answers.
 */
let checker: Promise<DocumentChecker> | undefined;
const documentOf = (app: { handle(request: Request): Promise<Response> }) =>
  (checker ??= app
    .handle(new Request("http://localhost/openapi/json"))
    .then(async (r) => documentChecker((await r.json()) as Parameters<typeof documentChecker>[0])));

/** The routes of the document itself, which it does not list (test/http/openapi.test.ts checks them). */
const DOCS_ROUTES = new Set(["/openapi", "/openapi/", "/openapi/json"]);

export function harness(store: ExpenseStore) {
  const lines: string[] = [];
  const { app, handle } = createHandler({ store, name: NODE, log: (line) => lines.push(line) });
  async function call(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<Answer> {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const res = await handle(
      new Request(`http://localhost${path}`, {
        method,
        body: payload,
        headers: payload === undefined ? {} : { "content-type": "application/json" },
        ...init,
      }),
    );
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    // The contract: every answer, success or error, names the node.
    expect(res.headers.get("x-shard-node")).toBe(NODE);
    // ... and is as the instance's OpenAPI document says: status, headers, content type, body
    if (!DOCS_ROUTES.has(path.split("?")[0]!)) {
      expect((await documentOf(app)).problems(method, path, { status: res.status, headers: res.headers, text })).toEqual([]);
    }
    return { status: res.status, headers: res.headers, text, json };
  }
  return { app, call, lines };
}

const record = (id: string | number, over: Record<string, unknown> = {}) => ({ ...seedRecord(String(id)), id, ...over });
const storedForm = (id: string, over: Record<string, unknown> = {}) => ({
  ...seedRecord(id),
  status: "pending",
  decision_date: "",
  ...over,
});

/** Each bad POST body: expected status and the field its message must name. */
export const badPosts: [string, string | object, number, string][] = [
  ["malformed JSON", '{"id": "1", "name": ', 400, "body"],
  ["empty body", "", 400, "body"],
  ["JSON array", "[1,2]", 422, "body"],
  ["JSON string", '"hello"', 422, "body"],
  ["JSON null", "null", 422, "body"],
  ...(["id", "name", "email", "category", "description", "link", "estimated_costs", "submit_date"] as const).map((field): [string, object, number, string] => {
    const { [field]: _, ...rest } = record("1");
    return [`missing ${field}`, rest, 422, field];
  }),
  ["unknown field", record("1", { estimated_cost: "700" }), 422, "estimated_cost"],
  ["unknown field status on create", record("1", { status: "approved" }), 422, "status"],
  ...["007", "7.0", "+7", "-1", "", " 1", "1e3", "9007199254740992", "abc"].map((id): [string, object, number, string] => [
    `id ${JSON.stringify(id)}`,
    record("1", { id }),
    422,
    "id",
  ]),
  ...[1.5, -1, 9007199254740992, null, true].map((id): [string, object, number, string] => [`id ${JSON.stringify(id)}`, record("1", { id }), 422, "id"]),
  ...["foo", "foo@bar", "a b@c.de", "@bar.com", ""].map((email): [string, object, number, string] => [
    `email ${JSON.stringify(email)}`,
    record("1", { email }),
    422,
    "email",
  ]),
  ["email as a number", record("1", { email: 42 }), 422, "email"],
  ...["not a url", "ftp://example.com/x", "javascript:alert(1)", "www.apple.com", ""].map((link): [string, object, number, string] => [
    `link ${JSON.stringify(link)}`,
    record("1", { link }),
    422,
    "link",
  ]),
  ...["-1", "abc", "1.234", "", "1e3", "1,000", "1000000000000"].map((c): [string, object, number, string] => [
    `estimated_costs ${JSON.stringify(c)}`,
    record("1", { estimated_costs: c }),
    422,
    "estimated_costs",
  ]),
  ...[-1, 1.234, 1e13, null].map((c): [string, object, number, string] => [
    `estimated_costs ${JSON.stringify(c)}`,
    record("1", { estimated_costs: c }),
    422,
    "estimated_costs",
  ]),
  ...["31-02-2016", "29-02-2015", "2016-10-12", "12/10/2016", "00-01-2016", "1-1-2016", "12-13-2016", "01-01-0999", ""].map(
    (d): [string, object, number, string] => [`submit_date ${JSON.stringify(d)}`, record("1", { submit_date: d }), 422, "submit_date"],
  ),
  ["name empty", record("1", { name: "" }), 422, "name"],
  ["name too long", record("1", { name: "n".repeat(256) }), 422, "name"],
  ["name of 256 emoji (characters are code points)", record("1", { name: "😀".repeat(256) }), 422, "name"],
  ["category of 256 emoji", record("1", { category: "😀".repeat(256) }), 422, "category"],
  ["description of 4001 emoji", record("1", { description: "😀".repeat(4001) }), 422, "description"],
  ["email of 255 characters", record("1", { email: `${"😀".repeat(247)}@bar.com` }), 422, "email"],
  ["link of 2049 characters", record("1", { link: `http://example.com/${"😀".repeat(2030)}` }), 422, "link"],
  // JSON can carry a lone surrogate; UTF-8 (and so the database) cannot: it would come back as U+FFFD
  ...(["name", "category", "description", "email", "link"] as const).map((field): [string, object, number, string] => {
    const value = { name: "\ud800", category: "a\udc00b", description: "x\ud83d", email: "f\ud800@bar.com", link: "http://a.com/\ud800" }[field];
    return [`${field} with a lone surrogate`, record("1", { [field]: value }), 422, field];
  }),
  ["category as an object", record("1", { category: { a: 1 } }), 422, "category"],
  ["body over the limit", record("1", { description: "x".repeat(MAX_BODY_BYTES) }), 413, "body"],
  // JSON.parse would keep the last of a repeated key silently
  ["id given twice", JSON.stringify(record("1")).replace('{"id":"1"', '{"id":"1","id":"2"'), 400, "id"],
  ["name given twice with one value", JSON.stringify(record("1")).replace('{"id":"1"', '{"name":"Foo 1","id":"1"'), 400, "name"],
  ["id given twice, once escaped", JSON.stringify(record("1")).replace('{"id":"1"', '{"i\\u0064":"2","id":"1"'), 400, "id"],
];

export function runApiContract(name: string, open: () => Promise<ExpenseStore>) {
  describe(`HTTP API: ${name}`, () => {
    const openStore = useStores(open);
    const fresh = async () => harness(await openStore());

    test("POST stores the record: 201, Location, canonical id and cost, pending, no decision", async () => {
      const { call } = await fresh();
      const created = await call("POST", "/v1/expenses", record("1"));
      expect(created.status).toBe(201);
      expect(created.headers.get("location")).toBe("/v1/expenses/1");
      expect(created.json).toEqual(storedForm("1"));

      // JSON numbers for id and cost; cost comes back canonical
      const numeric = await call("POST", "/v1/expenses", record(42, { estimated_costs: 700.5 }));
      expect(numeric.status).toBe(201);
      expect(numeric.headers.get("location")).toBe("/v1/expenses/42");
      expect(numeric.json).toEqual(storedForm("42", { estimated_costs: "700.5" }));
      const padded = await call("POST", "/v1/expenses", record("43", { estimated_costs: "0700.50" }));
      expect(padded.json.estimated_costs).toBe("700.5");

      expect((await call("GET", "/v1/expenses/42")).json).toEqual(storedForm("42", { estimated_costs: "700.5" }));
    });

    test("lengths count characters (code points): 255 emoji are a valid name, stored and returned as sent", async () => {
      const { call } = await fresh();
      const long = record("1", {
        name: "😀".repeat(255),
        category: "東".repeat(255),
        description: "😀".repeat(4000),
        email: `${"😀".repeat(246)}@bar.com`,
        link: `http://example.com/${"😀".repeat(2048 - "http://example.com/".length)}`,
      });
      const created = await call("POST", "/v1/expenses", long);
      expect(created.status).toBe(201);
      expect(created.json).toEqual(storedForm("1", long));
      expect((await call("GET", "/v1/expenses/1")).json).toEqual(storedForm("1", long));
      const put = await call("PUT", "/v1/expenses/1", { name: "😀".repeat(128), category: "x" });
      expect(put.status).toBe(202);
      expect((await call("GET", "/v1/expenses/1")).json).toEqual(storedForm("1", { ...long, name: "😀".repeat(128), category: "x" }));
    });

    test("a lone surrogate is 422 naming the field on POST and PUT, and nothing changes", async () => {
      const { call } = await fresh();
      const bad = await call("POST", "/v1/expenses", record("1", { description: "\ud800" }));
      expect(bad.status).toBe(422);
      expect(bad.json.field).toBe("description");
      expect(bad.json.message).toContain("well-formed Unicode");
      expect((await call("GET", "/v1/expenses/1")).status).toBe(404);
      await call("POST", "/v1/expenses", record("1"));
      for (const field of ["name", "description", "category"]) {
        const put = await call("PUT", "/v1/expenses/1", { [field]: "ok \udfff" });
        expect({ field, status: put.status }).toEqual({ field, status: 422 });
        expect(put.json.message).toStartWith(`${field}:`);
      }
      expect((await call("GET", "/v1/expenses/1")).json).toEqual(storedForm("1"));
    });

    test("a JSON number id is taken by its value: 5.0 is 5 and 1e3 is 1000 (documented; only strings must be canonical)", async () => {
      const { call } = await fresh();
      const json = (id: string) => JSON.stringify(record("0")).replace('"id":"0"', `"id":${id}`);
      const five = await call("POST", "/v1/expenses", json("5.0"));
      expect(five.status).toBe(201);
      expect(five.headers.get("location")).toBe("/v1/expenses/5");
      expect(five.json.id).toBe("5");
      const thousand = await call("POST", "/v1/expenses", json("1e3"));
      expect(thousand.status).toBe(201);
      expect(thousand.json.id).toBe("1000");
      expect((await call("POST", "/v1/expenses", json("5"))).status).toBe(409);
    });

    test("GET answers 200 with the record, 404 with a JSON error naming the id", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("3"));
      const found = await call("GET", "/v1/expenses/3");
      expect(found.status).toBe(200);
      expect(found.json).toEqual(storedForm("3"));
      const missing = await call("GET", "/v1/expenses/4");
      expect(missing.status).toBe(404);
      expect(missing.json.message).toContain("4");
      expect(missing.json.error).toBe("not_found");
    });

    test("GET with a non-canonical id is 422 naming id (the shard key has one spelling)", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("7"));
      for (const bad of ["007", "7.0", "-7", "x", "9007199254740992"]) {
        const r = await call("GET", `/v1/expenses/${bad}`);
        expect(r.status).toBe(422);
        expect(r.json.message).toStartWith("id:");
      }
    });

    test("a duplicate id is 409 and the stored record is unchanged", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("5"));
      const dup = await call("POST", "/v1/expenses", record("5", { name: "Intruder", estimated_costs: "1" }));
      expect(dup.status).toBe(409);
      expect(dup.json.message).toContain("id");
      expect((await call("GET", "/v1/expenses/5")).json).toEqual(storedForm("5"));
      // the same id given as a JSON number is the same key
      expect((await call("POST", "/v1/expenses", record(5))).status).toBe(409);
    });

    test("PUT changes any of the fields: 202 and the updated record", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("1"));
      const put = await call("PUT", "/v1/expenses/1", { status: "approved", decision_date: "13-10-2016", estimated_costs: 650 });
      expect(put.status).toBe(202);
      const expected = storedForm("1", { status: "approved", decision_date: "13-10-2016", estimated_costs: "650" });
      expect(put.json).toEqual(expected);
      expect((await call("GET", "/v1/expenses/1")).json).toEqual(expected);

      // a client may send the whole record back, id included, if the id is the same
      const whole = await call("PUT", "/v1/expenses/1", { ...expected, name: "Renamed" });
      expect(whole.status).toBe(202);
      expect(whole.json).toEqual({ ...expected, name: "Renamed" });
    });

    test("PUT with a key given twice is 400 naming it, and changes nothing", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("1"));
      const put = await call("PUT", "/v1/expenses/1", '{"status":"approved","status":"rejected"}');
      expect(put.status).toBe(400);
      expect(put.json.field).toBe("status");
      expect(put.json.message).toStartWith("status: is given more than once");
      expect((await call("GET", "/v1/expenses/1")).json).toEqual(storedForm("1"));
      // the same text nested deeper is no repeated field (and then fails the schema as an object)
      const nested = await call("PUT", "/v1/expenses/1", '{"name":{"a":1},"category":{"a":2}}');
      expect(nested.status).toBe(422);
    });

    test("PUT of an absent id is 404 and creates nothing", async () => {
      const { call } = await fresh();
      const put = await call("PUT", "/v1/expenses/9", { name: "Ghost" });
      expect(put.status).toBe(404);
      expect((await call("GET", "/v1/expenses/9")).status).toBe(404);
    });

    test("PUT validates like POST, refuses to change the id, and writes nothing when rejected", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("2"));
      const cases: [unknown, number, string][] = [
        [{ id: "3" }, 422, "id"],
        [{ id: "02" }, 422, "id"],
        [{ email: "nope", name: "Changed" }, 422, "email"],
        [{ submit_date: "30-02-2016" }, 422, "submit_date"],
        [{ decision_date: "2016-10-13" }, 422, "decision_date"],
        [{ status: "done" }, 422, "status"],
        [{ estimated_costs: "-3" }, 422, "estimated_costs"],
        [{ colour: "red" }, 422, "colour"],
        ['{"name": ', 400, "body"],
        [{ description: "x".repeat(MAX_BODY_BYTES) }, 413, "body"],
      ];
      for (const [body, status, field] of cases) {
        const r = await call("PUT", "/v1/expenses/2", body);
        expect({ body, status: r.status }).toEqual({ body, status });
        expect(r.json.message).toStartWith(`${field}:`);
      }
      expect((await call("GET", "/v1/expenses/2")).json).toEqual(storedForm("2"));
    });

    test("DELETE is 204 with no body, then 404", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("8"));
      const del = await call("DELETE", "/v1/expenses/8");
      expect(del.status).toBe(204);
      expect(del.text).toBe("");
      expect((await call("GET", "/v1/expenses/8")).status).toBe(404);
      expect((await call("DELETE", "/v1/expenses/8")).status).toBe(404);
    });

    test("the list pages in numeric id order with {items, next}", async () => {
      const { call } = await fresh();
      for (const id of ["10", "2", "1", "100", "11"]) await call("POST", "/v1/expenses", record(id));
      const all = await call("GET", "/v1/expenses");
      expect(all.status).toBe(200);
      expect(all.json.items.map((r: { id: string }) => r.id)).toEqual(["1", "2", "10", "11", "100"]);
      expect(all.json.items[0]).toEqual(storedForm("1"));
      expect(all.json.next).toBeNull();

      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page: Answer = await call("GET", `/v1/expenses?limit=2${after === null ? "" : `&after=${after}`}`);
        expect(page.status).toBe(200);
        seen.push(...page.json.items.map((r: { id: string }) => r.id));
        after = page.json.next;
        pages++;
      } while (after !== null);
      expect(seen).toEqual(["1", "2", "10", "11", "100"]);
      expect(pages).toBe(3);
      expect((await call("GET", "/v1/expenses?after=11")).json).toEqual({ items: [storedForm("100")], next: null });
    });

    test("the list rejects a bad after or limit with 422 naming the parameter", async () => {
      const { call } = await fresh();
      for (const [query, field] of [
        ["after=abc", "after"],
        ["after=007", "after"],
        ["after=-1", "after"],
        ["limit=0", "limit"],
        ["limit=1001", "limit"],
        ["limit=ten", "limit"],
        ["limit=2.5", "limit"],
        ["limit=", "limit"],
        ["page=2", "page"],
      ]) {
        const r = await call("GET", `/v1/expenses?${query}`);
        expect({ query, status: r.status }).toEqual({ query, status: 422 });
        expect(r.json.message).toStartWith(`${field}:`);
      }
      expect((await call("GET", "/v1/expenses?limit=1000")).status).toBe(200);
    });

    test("a query parameter given twice is 422 naming it (no value wins silently)", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("1"));
      for (const [query, field] of [
        ["limit=1&limit=2", "limit"],
        ["after=0&after=5", "after"],
        ["after=0&limit=5&limit=5", "limit"],
      ]) {
        const r = await call("GET", `/v1/expenses?${query}`);
        expect({ query, status: r.status }).toEqual({ query, status: 422 });
        expect(r.json.field).toBe(field);
        expect(r.json.message).toStartWith(`${field}: is given more than once`);
      }
    });

    test("every route rejects unknown query parameters with 422, like the list, and changes nothing", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("1"));
      const cases: [string, string, unknown][] = [
        ["GET", "/v1/expenses/1?x=1", undefined],
        ["PUT", "/v1/expenses/1?force=true", { name: "Changed" }],
        ["DELETE", "/v1/expenses/1?cascade=1", undefined],
        ["POST", "/v1/expenses?dry_run=1", record("2")],
        ["GET", "/healthz?x=1", undefined],
        ["GET", "/readyz?x=1", undefined],
      ];
      for (const [method, path, body] of cases) {
        const r = await call(method, path, body);
        expect({ method, path, status: r.status }).toEqual({ method, path, status: 422 });
        expect(r.json.error).toBe("invalid_field");
        expect(r.json.message).toContain("unknown query parameter");
        expect(r.json.errors).toHaveLength(1);
      }
      expect((await call("GET", "/v1/expenses")).json).toEqual({ items: [storedForm("1")], next: null });
    });

    test("field errors list `errors`, whether the schema finds them (limit over 1000) or a rule after it (a PUT that changes the id)", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("1"));
      for (const over of ["1001", "9999"]) {
        const limit = await call("GET", `/v1/expenses?limit=${over}`);
        expect(limit.status).toBe(422);
        expect(limit.json.message).toBe(`limit: must be an integer from 1 to 1000 (default 100), got "${over}"`);
        expect(limit.json.errors).toEqual([{ field: "limit", message: limit.json.message }]);
      }
      const put = await call("PUT", "/v1/expenses/1", { id: "2" });
      expect(put.status).toBe(422);
      expect(put.json.errors).toEqual([{ field: "id", message: put.json.message }]);
      // the same shape as a schema failure
      const schema = await call("PUT", "/v1/expenses/1", { status: "done" });
      expect(schema.json.errors).toEqual([{ field: "status", message: schema.json.message }]);
    });

    test("DELETE ignores a body, as GET does", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("1"));
      await call("POST", "/v1/expenses", record("2"));
      const garbage = await call("DELETE", "/v1/expenses/1", "{not json");
      expect(garbage.status).toBe(204);
      const json = await call("DELETE", "/v1/expenses/2", { id: "2" });
      expect(json.status).toBe(204);
      expect((await call("GET", "/v1/expenses")).json).toEqual({ items: [], next: null });
    });

    test("an unsupported method on a known path is a JSON 405 with Allow; an unknown path stays 404", async () => {
      const { call } = await fresh();
      await call("POST", "/v1/expenses", record("1"));
      for (const [method, path, allow] of [
        ["PATCH", "/v1/expenses/1", "GET, HEAD, PUT, DELETE"],
        ["POST", "/v1/expenses/1", "GET, HEAD, PUT, DELETE"],
        ["DELETE", "/v1/expenses", "GET, HEAD, POST"],
        ["PUT", "/v1/expenses", "GET, HEAD, POST"],
        ["POST", "/healthz", "GET, HEAD"],
        ["OPTIONS", "/readyz", "GET, HEAD"],
      ]) {
        const r = await call(method!, path!, method === "OPTIONS" ? undefined : { name: "x" });
        expect({ method, path, status: r.status }).toEqual({ method, path, status: 405 });
        expect(r.headers.get("allow")).toBe(allow!);
        expect(r.json.error).toBe("method_not_allowed");
        expect(r.json.message).toContain(method!);
      }
      expect((await call("GET", "/v1/expenses/1")).json).toEqual(storedForm("1"));
      expect((await call("PATCH", "/v1/nothing")).status).toBe(404);
    });

    describe("every class of bad POST is a 4xx naming the field, and stores nothing", () => {
      for (const [label, body, status, field] of badPosts) {
        test(label, async () => {
          const { call } = await fresh();
          const r = await call("POST", "/v1/expenses", body);
          expect(r.status).toBe(status);
          expect(r.json.message).toStartWith(`${field}:`);
          expect((await call("GET", "/v1/expenses")).json).toEqual({ items: [], next: null });
        });
      }
    });

    test("a chunked body over the limit (no Content-Length) is 413 and stores nothing", async () => {
      const { call } = await fresh();
      const json = JSON.stringify(record("1", { description: "x".repeat(MAX_BODY_BYTES) }));
      const bytes = new TextEncoder().encode(json);
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
          controller.close();
        },
      });
      const r = await call("POST", "/v1/expenses", undefined, {
        body: stream,
        headers: { "content-type": "application/json" },
      });
      expect(r.status).toBe(413);
      expect((await call("GET", "/v1/expenses/1")).status).toBe(404);
    });

    test("the limit is exact: a body of MAX_BODY_BYTES is accepted, one byte more is 413", async () => {
      const { call } = await fresh();
      const json = JSON.stringify(record("1"));
      // JSON allows trailing whitespace, so a valid record can be padded to any size
      const atLimit = json + " ".repeat(MAX_BODY_BYTES - json.length);
      expect((await call("POST", "/v1/expenses", `${atLimit} `)).status).toBe(413);
      expect((await call("GET", "/v1/expenses/1")).status).toBe(404);
      expect((await call("POST", "/v1/expenses", atLimit)).status).toBe(201);
    });

    test("a body that is not UTF-8 is 400 and stores nothing", async () => {
      const { call } = await fresh();
      const json = new TextEncoder().encode(JSON.stringify(record("1")));
      const broken = new Uint8Array([...json.slice(0, 20), 0xff, 0xfe, ...json.slice(20)]);
      const variants: Record<string, string>[] = [{ "content-type": "application/json" }, { "content-length": String(broken.length) }];
      for (const headers of variants) {
        const r = await call("POST", "/v1/expenses", undefined, { body: broken, headers });
        expect(r.status).toBe(400);
        expect(r.json.message).toStartWith("body:");
      }
      expect((await call("GET", "/v1/expenses/1")).status).toBe(404);
    });

    test("a form body (urlencoded or multipart) is 415 'send application/json' on POST and PUT, and stores nothing", async () => {
      const { call } = await fresh();
      const form = new FormData();
      form.set("id", "1");
      form.set("name", "Foo 1");
      const bodies: [string | FormData, Record<string, string>][] = [
        ["id=1&name=Foo+1", { "content-type": "application/x-www-form-urlencoded" }],
        // what curl -d sends without -H: JSON text, labelled as a form
        [JSON.stringify(record("1")), { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }],
        [form, {}],
      ];
      for (const [body, headers] of bodies) {
        const r = await call("POST", "/v1/expenses", undefined, { body, headers });
        expect(r.status).toBe(415);
        expect(r.json.error).toBe("unsupported_media_type");
        expect(r.json.message).toStartWith("body: send application/json");
      }
      expect((await call("GET", "/v1/expenses/1")).status).toBe(404);
      await call("POST", "/v1/expenses", record("1"));
      const put = await call("PUT", "/v1/expenses/1", undefined, { body: "status=approved", headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(put.status).toBe(415);
      expect((await call("GET", "/v1/expenses/1")).json).toEqual(storedForm("1"));
    });

    test("JSON with another Content-Type, or none, is read as JSON", async () => {
      const { call } = await fresh();
      for (const [id, headers] of [
        ["1", { "content-type": "text/plain" }],
        ["2", {}],
      ] as const) {
        const r = await call("POST", "/v1/expenses", undefined, { body: new Blob([JSON.stringify(record(id))]), headers });
        expect({ id, status: r.status }).toEqual({ id, status: 201 });
      }
    });

    test("unknown routes are a JSON 404 that still names the node", async () => {
      const { call } = await fresh();
      const r = await call("GET", "/v2/nothing");
      expect(r.status).toBe(404);
      expect(r.json.message).toContain("/v2/nothing");
    });

    test("healthz and readyz answer 200 while the database is there", async () => {
      const { call } = await fresh();
      const live = await call("GET", "/healthz");
      expect(live.status).toBe(200);
      expect(live.json).toEqual({ status: "ok", node: NODE });
      const ready = await call("GET", "/readyz");
      expect(ready.status).toBe(200);
      expect(ready.json.ready).toBe(true);
    });

    test("the OpenAPI document describes the expense routes", async () => {
      const { call } = await fresh();
      const doc = await call("GET", "/openapi/json");
      expect(doc.status).toBe(200);
      expect(Object.keys(doc.json.paths)).toEqual(expect.arrayContaining(["/v1/expenses", "/v1/expenses/{id}", "/readyz"]));
      expect((await call("GET", "/openapi")).status).toBe(200);
    });

    test("one log line per request, with method, path and status", async () => {
      const { call, lines } = await fresh();
      const line = (n: number) => lines[n - 1];
      await call("POST", "/v1/expenses", record("1"));
      expect(line(1)).toMatch(new RegExp(`${NODE} POST /v1/expenses 201 \\d+\\.\\dms$`));
      await call("GET", "/v1/expenses/2");
      expect(line(2)).toContain("GET /v1/expenses/2 404");
      await call("POST", "/v1/expenses", "{bad");
      expect(line(3)).toContain("POST /v1/expenses 400");
      expect(lines).toHaveLength(3);
    });
  });
}
