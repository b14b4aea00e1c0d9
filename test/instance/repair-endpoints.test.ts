/**
 * The /repair admin endpoints of one instance (src/instance/repair/routes.ts), through its
 * app: who may call them (a bearer token; without one, loopback only), their bodies' limit
 * granted only after that check, the request schemas naming the field, and the OpenAPI
 * document describing each with its schemas. What each endpoint does is the RepairNode
 * contract's (test/repair/repair-node.contract.ts).
 */
import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/instance/app.ts";
import { Repairing } from "../../src/instance/repair/repairing.ts";
import { RingGuard } from "../../src/instance/ring-guard.ts";
import { Ring } from "../../src/ring/ring.ts";
import { ringDocument } from "../../src/ring/ring-file.ts";
import { openStore } from "../../src/store/index.ts";
import { stored } from "../store/store.contract.ts";

const ring = new Ring([{ name: "a", url: "http://127.0.0.1:1", weight: 1 }], { vnodes: 16 });

async function appWith(admin: { token?: string; peer: string }) {
  const store = await openStore("sqlite::memory:");
  const guard = new RingGuard("a", store, undefined);
  return createApp({ store, name: "a", guard, repairing: new Repairing("a", store, guard), admin: { token: admin.token, peerAddress: () => admin.peer } });
}

const post = async (app: Awaited<ReturnType<typeof appWith>>, path: string, body: unknown, headers: Record<string, string> = {}) => {
  const r = await app.handle(
    new Request(`http://localhost${path}`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
    }),
  );
  return { status: r.status, json: (await r.json()) as any };
};

describe("/repair admin endpoints", () => {
  test("without a token: loopback only; with one: the bearer token, checked before the body is read", async () => {
    const remote = await appWith({ peer: "10.0.0.7" });
    const refused = await post(remote, "/repair/strays", { ring: ringDocument(ring), limit: 10 });
    expect([refused.status, refused.json.error, refused.json.message]).toEqual([403, "forbidden", expect.stringContaining("from loopback addresses only")]);

    const guarded = await appWith({ token: "s3cret", peer: "127.0.0.1" });
    // a body far over 64 KiB, and not even JSON: refused as forbidden, not read
    const big = "x".repeat(200_000);
    expect((await post(guarded, "/repair/place", big)).status).toBe(403);
    expect((await post(guarded, "/repair/begin", { ring: ringDocument(ring), held: null }, { authorization: "Bearer wrong" })).status).toBe(403);
    const begun = await post(guarded, "/repair/begin", { ring: ringDocument(ring), held: null }, { authorization: "Bearer s3cret" });
    expect([begun.status, begun.json.node]).toEqual([200, "a"]);
  });

  test("a placement of 1,000 records (far over the API's 64 KiB) is taken from an admin; a body that breaks the schema is 422 naming the field", async () => {
    const app = await appWith({ peer: "127.0.0.1" });
    const { session } = (await post(app, "/repair/begin", { ring: ringDocument(ring), held: null })).json;
    const records = Array.from({ length: 1000 }, (_, i) => stored(String(i + 1), { description: "d".repeat(100) }));
    expect(JSON.stringify({ session, records }).length).toBeGreaterThan(64 << 10);
    const placed = await post(app, "/repair/place", { session, records });
    expect([placed.status, placed.json.items.length, placed.json.items.every((i: { outcome: string }) => i.outcome === "placed")]).toEqual([200, 1000, true]);
    const bad = await post(app, "/repair/place", { session, records: [{ ...stored("5"), estimated_costs: "7.001" }] });
    expect([bad.status, bad.json.field]).toEqual([422, "estimated_costs"]);
    const unknown = await post(app, "/repair/remove", { session, records: [], extra: 1 });
    expect(unknown.status).toBe(422);
    const twice = await post(app, "/repair/remove", { session, records: [stored("9"), stored("9")] });
    expect([twice.status, twice.json.message]).toEqual([422, "records: expense 9 is given twice; nothing changed"]);
  });

  test("the OpenAPI document describes every /repair endpoint: its body and its answers", async () => {
    const app = await appWith({ peer: "127.0.0.1" });
    const doc = (await (await app.handle(new Request("http://localhost/openapi/json"))).json()) as { paths: Record<string, any> };
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith("/repair/"));
    expect(paths.sort()).toEqual([
      "/repair/begin",
      "/repair/end",
      "/repair/look",
      "/repair/place",
      "/repair/remove",
      "/repair/replace",
      "/repair/strays",
      "/repair/touch",
    ]);
    for (const path of paths) {
      const op = doc.paths[path].post;
      expect({ path, body: op.requestBody?.content?.["application/json"] !== undefined, tags: op.tags }).toEqual({ path, body: true, tags: ["repair"] });
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["403", "409", "422"]));
    }
    const place = doc.paths["/repair/place"].post.responses["200"].content["application/json"].schema;
    expect(JSON.stringify(place)).toContain('"placed","present","gone"');
  });
});
