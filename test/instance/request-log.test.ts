/**
 * The request log (text by default, `--log-format json`) and the route templates it and
 * /metrics use: every route of the app has its template, a JSON line is one object with
 * the contract's fields, and `serve --log-format json` writes such lines on stdout.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { createApp, createHandler } from "../../src/instance/app.ts";
import { Rebalancing } from "../../src/instance/rebalance/rebalancing.ts";
import { Repairing } from "../../src/instance/repair/repairing.ts";
import { isoTime } from "../../src/http/request-log.ts";
import { RingGuard } from "../../src/instance/ring-guard.ts";
import { INSTANCE_ROUTES, routeOf } from "../../src/instance/routes.ts";
import { openStore } from "../../src/store/index.ts";
import { runCli } from "../support/cli.ts";
import { freePort, waitFor } from "../support/net.ts";
import { expectTableOfApp } from "../support/routes.ts";

const CLI = join(import.meta.dir, "../../src/cli.ts");

test("every route of the app has its template and methods in routes.ts", async () => {
  const store = await openStore("sqlite::memory:");
  const guard = new RingGuard("r", store, undefined);
  const app = createApp({ store, name: "r", guard, rebalancing: await Rebalancing.load("r", store, guard), repairing: new Repairing("r", store, guard) });
  expect(expectTableOfApp(app, INSTANCE_ROUTES)).toBeGreaterThan(20);
  expect(routeOf("/v1/expenses/12/x")).toBeUndefined();
  expect(routeOf("/v1/expenses//")).toBeUndefined();
  // one trailing slash is the same route, as Elysia serves it
  expect(["/v1/expenses/", "/v1/expenses/12/", "/healthz/", "/openapi/"].map((p) => routeOf(p)?.template)).toEqual([
    "/v1/expenses",
    "/v1/expenses/:id",
    "/healthz",
    "/openapi/",
  ]);
});

test("isoTime formats as Date#toISOString, across second boundaries", () => {
  const start = Date.UTC(2026, 10, 23, 23, 59, 58, 990);
  for (let ms = start; ms < start + 2100; ms += 7) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
});

describe("JSON lines", () => {
  test("one object per request: time, node, method, route, path, status, duration_ms, request_id", async () => {
    const lines: string[] = [];
    const { handle } = createHandler({ store: await openStore("sqlite::memory:"), name: "j1", log: (line) => lines.push(line), logFormat: "json" });
    const t0 = Date.now();
    const post = await handle(
      new Request("http://localhost/v1/expenses", { method: "POST", body: JSON.stringify(seedRecord("5")), headers: { "x-request-id": "abc-123" } }),
    );
    expect(post.status).toBe(201);
    expect((await handle(new Request("http://localhost/v1/expenses/6?x=1"))).status).toBe(422);
    expect((await handle(new Request("http://localhost/v1/expenses/7"))).status).toBe(404);
    const t1 = Date.now();
    const entries = lines.map((l) => JSON.parse(l));
    expect(entries).toHaveLength(3);
    for (const e of entries) {
      expect(Object.keys(e).sort()).toEqual(["duration_ms", "method", "node", "path", "request_id", "route", "status", "time"]);
      expect(e.node).toBe("j1");
      expect(new Date(e.time).toISOString()).toBe(e.time);
      expect(Date.parse(e.time)).toBeGreaterThanOrEqual(t0);
      expect(Date.parse(e.time)).toBeLessThanOrEqual(t1);
      expect(typeof e.duration_ms).toBe("number");
      expect(e.duration_ms).toBeGreaterThanOrEqual(0);
      expect(typeof e.request_id).toBe("string");
    }
    expect(entries.map((e) => [e.method, e.route, e.path, e.status])).toEqual([
      ["POST", "/v1/expenses", "/v1/expenses", 201],
      ["GET", "/v1/expenses/:id", "/v1/expenses/6", 422],
      ["GET", "/v1/expenses/:id", "/v1/expenses/7", 404],
    ]);
    // the client's id is kept; the others are made here, each its own
    expect(entries[0].request_id).toBe("abc-123");
    expect(entries[1].request_id).not.toBe(entries[2].request_id);
  });

  test("serve --log-format json writes them on stdout; a wrong format is exit 2", async () => {
    const port = await freePort();
    const proc = Bun.spawn([process.execPath, CLI, "serve", "--port", String(port), "--db", "sqlite::memory:", "--name", "jp", "--log-format", "json"], {
      stdout: "pipe",
      stderr: "ignore",
    });
    try {
      await waitFor(
        () =>
          fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => (r.ok ? true : undefined),
            () => undefined,
          ),
        { timeoutMs: 20_000 },
      );
      expect((await fetch(`http://127.0.0.1:${port}/v1/expenses/3`)).status).toBe(404);
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0);
    const out = (await new Response(proc.stdout).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(out.at(-1)).toMatchObject({ node: "jp", method: "GET", route: "/v1/expenses/:id", path: "/v1/expenses/3", status: 404 });

    const bad = await runCli("serve", "--port", "0", "--db", "sqlite::memory:", "--log-format", "xml");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--log-format "xml": give text or json');
  }, 30_000);
});
