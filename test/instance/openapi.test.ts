/**
 * The API docs: /openapi/json describes every route from the t schemas (bodies, params,
 * query, answers, named schemas), and the /openapi page shows them in a browser with
 * no network beyond the instance (headless Chromium).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/instance/app.ts";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import { openStore } from "../../src/store/index.ts";
import { chromiumMissing, dumpDom } from "../support/chromium.ts";

const noBrowser = chromiumMissing("/openapi page in a browser");

type Doc = {
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
};

describe("/openapi/json", () => {
  let doc: Doc;
  beforeAll(async () => {
    const app = createApp({ store: await openStore("sqlite::memory:"), name: "docs" });
    const r = await app.handle(new Request("http://localhost/openapi/json"));
    expect(r.status).toBe(200);
    doc = (await r.json()) as Doc;
  });

  test("named schemas for the records and errors, with their fields", () => {
    const { schemas } = doc.components;
    expect(Object.keys(schemas).sort()).toEqual(["ErrorBody", "Expense", "ExpenseCreate", "ExpensePage", "ExpenseUpdate", "MisdirectedBody"]);
    expect(schemas.ExpenseCreate!.required!.sort()).toEqual(["category", "description", "email", "estimated_costs", "id", "link", "name", "submit_date"]);
    expect(Object.keys(schemas.ExpenseUpdate!.properties!)).toContain("decision_date");
    expect(Object.keys(schemas.ErrorBody!.properties!).sort()).toEqual(["error", "errors", "field", "message"]);
  });

  test("POST and PUT document their JSON body; every route its params, query and answers", () => {
    const op = (method: string, path: string) => doc.paths[path]?.[method];
    const body = (o: any) => o.requestBody?.content?.["application/json"]?.schema?.$ref;
    const answers = (o: any) => Object.keys(o.responses ?? {}).sort();
    const params = (o: any) => (o.parameters ?? []).map((p: any) => `${p.in}:${p.name}`).sort();
    expect(body(op("post", "/v1/expenses"))).toBe("#/components/schemas/ExpenseCreate");
    expect(body(op("put", "/v1/expenses/{id}"))).toBe("#/components/schemas/ExpenseUpdate");
    expect(Object.keys(op("post", "/v1/expenses").requestBody.content)).toEqual(["application/json"]);
    // every operation also has 400 (a second Host), 422 (a query parameter it does not take), 500 and 503 (starting)
    expect(answers(op("post", "/v1/expenses"))).toEqual(["201", "400", "409", "413", "415", "421", "422", "500", "503"]);
    expect(answers(op("put", "/v1/expenses/{id}"))).toEqual(["202", "400", "404", "413", "415", "421", "422", "500", "503"]);
    expect(answers(op("delete", "/v1/expenses/{id}"))).toEqual(["204", "400", "404", "421", "422", "500", "503"]);
    expect(answers(op("get", "/v1/expenses/{id}"))).toEqual(["200", "400", "404", "421", "422", "500", "503"]);
    expect(answers(op("get", "/v1/expenses"))).toEqual(["200", "400", "422", "500", "503"]);
    expect(answers(op("get", "/readyz"))).toEqual(["200", "400", "422", "500", "503"]);
    expect(answers(op("get", "/healthz"))).toEqual(["200", "400", "422", "500", "503"]);
    expect(answers(op("get", "/status"))).toEqual(["200", "400", "422", "500", "503"]);
    expect(answers(op("get", "/metrics"))).toEqual(["200", "400", "422", "500", "503"]);
    expect(params(op("get", "/v1/expenses"))).toEqual(["query:after", "query:limit"]);
    for (const method of ["get", "put", "delete"]) expect(params(op(method, "/v1/expenses/{id}"))).toEqual(["path:id"]);
    expect(op("post", "/v1/expenses").responses["201"].content["application/json"].schema.$ref).toBe("#/components/schemas/Expense");
  });
});

describe("the /openapi page", () => {
  let instance: Instance;
  beforeAll(async () => {
    instance = await startInstance({ port: 0, db: "sqlite::memory:", name: "docs-node", log: false });
  });
  afterAll(async () => {
    await instance?.stop();
  });

  test("/openapi and /openapi/ serve one page that loads nothing from elsewhere", async () => {
    for (const path of ["/openapi", "/openapi/"]) {
      const r = await fetch(`${instance.url}${path}`);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toContain("text/html");
      const html = await r.text();
      expect(html).toContain('href="/openapi/json"');
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      expect(html).not.toMatch(/https?:\/\//);
    }
  });

  test.skipIf(!!noBrowser)(
    "headless Chromium shows every route, the body fields and the link to the document",
    async () => {
      for (const path of ["/openapi", "/openapi/"]) {
        const dom = await dumpDom(`${instance.url}${path}`);
        // the script ran and read the document from the instance
        expect(dom).not.toContain("Loading /openapi/json");
        expect(dom).toContain("shardctl expense instance");
        for (const route of [
          'POST</span><span class="path">/v1/expenses<',
          'PUT</span><span class="path">/v1/expenses/{id}<',
          'DELETE</span><span class="path">/v1/expenses/{id}<',
          'GET</span><span class="path">/readyz<',
        ]) {
          expect({ path, route, shown: dom.includes(route) }).toEqual({ path, route, shown: true });
        }
        expect(dom).toContain("Body (application/json): ExpenseCreate");
        expect(dom).toContain("<code>estimated_costs</code>");
        expect(dom).toContain("must be a date that exists, as dd-mm-yyyy");
        expect(dom).toContain('<a id="spec" href="/openapi/json">');
      }
    },
    60_000,
  );

  test.skipIf(!!noBrowser)(
    "the expense API comes first; each answer shows its schema's fields; `backticks` show as code",
    async () => {
      const dom = await dumpDom(`${instance.url}/openapi`);
      // the first section, and its first route, are the expense API's (not 15 admin routes before it)
      expect(/<h2 id="tag-[^"]+">([^<]*)<\/h2>/.exec(dom)![1]).toBe("expenses: the API");
      expect(/<section class="op"><h3><span class="method">(\w+)<\/span><span class="path">([^<]*)</.exec(dom)!.slice(1)).toEqual(["POST", "/v1/expenses"]);
      const firstOther = dom.search(/<h2 id="tag-(?!expenses)/);
      const lastExpense = dom.lastIndexOf('<span class="path">/v1/expenses');
      expect(lastExpense).toBeLessThan(firstOther);
      // answers: the status, its reason, the body's fields (not "400: ErrorBody" or "200: object"), the table a click away
      expect(dom).toContain('<summary><span class="status">400</span>Bad Request: ErrorBody { error, message, field?, errors? }</summary><table>');
      expect(dom).toContain(
        '<summary><span class="status">201</span>Created: Expense { id, name, email, category, description, link, estimated_costs, submit_date, status, decision_date }</summary>',
      );
      expect(dom).toContain('<summary><span class="status">200</span>OK: { status, node }</summary>');
      expect(dom).not.toMatch(/>\d{3}: (ErrorBody|object)</);
      // `ready` in the /status summary, `ring` in a field's rule
      expect(dom).toContain("(200 even when not ready: read <code>ready</code>)");
      expect(dom).toContain("the node that owns the id under <code>ring</code>");
      expect(dom.replace(/<script>[\s\S]*<\/script>/, "")).not.toMatch(/`[a-z]+`/);
      // a field of two types reads as both
      expect(dom).toContain("<td><code>next</code></td><td>string | null</td>");
    },
    60_000,
  );
});
