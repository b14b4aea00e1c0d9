/**
 * The SQLite store when its file misbehaves, on real files: instances opening one new file
 * at once all succeed; a file locked by another connection is a 503 after a short wait
 * that never stalls /healthz; a database that cannot grow is 503 and not ready until it
 * can again.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { startInstance } from "../../src/instance/index.ts";
import { openSqliteStore } from "../../src/store/sqlite/store.ts";
import { harness } from "../instance/api.contract.ts";

const dir = mkdtempSync(join(tmpdir(), "shardctl-sqlite-faults-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const storeModule = join(import.meta.dir, "../../src/store/index.ts");

describe("sqlite store under faults", () => {
  test("ten instances opening one new file at once all succeed, and each migration is applied once", async () => {
    const path = join(dir, "shared-new.sqlite");
    const script = `
      const { openStore } = await import(${JSON.stringify(storeModule)});
      try { const s = await openStore(${JSON.stringify(`sqlite:${path}`)}); await s.close(); console.log("opened"); }
      catch (e) { console.log("failed: " + (e && e.message)); process.exitCode = 1; }`;
    const procs = Array.from({ length: 10 }, () => Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" }));
    const outcomes = await Promise.all(procs.map(async (p) => (await new Response(p.stdout).text()).trim() || (await new Response(p.stderr).text()).trim()));
    expect(outcomes).toEqual(Array(10).fill("opened"));
    const check = new Database(path, { readonly: true });
    const versions = check
      .query<{ version: number }, []>("SELECT version FROM schema_migrations ORDER BY version")
      .all()
      .map((r) => r.version);
    check.close();
    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions).size).toBe(versions.length);
  }, 60_000);

  test("a file locked by another connection: 503 with Retry-After after a short wait; /healthz answers meanwhile; unlocked, writes work", async () => {
    const path = join(dir, "locked.sqlite");
    const instance = await startInstance({ port: 0, db: `sqlite:${path}`, name: "busy-node", log: false });
    const holder = new Database(path);
    try {
      expect((await fetch(`${instance.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("1")) })).status).toBe(201);
      holder.exec("BEGIN IMMEDIATE");
      const t0 = performance.now();
      const post = fetch(`${instance.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("2")) }).then(async (r) => ({
        status: r.status,
        retryAfter: r.headers.get("retry-after"),
        body: (await r.json()) as { error: string; message: string },
        ms: performance.now() - t0,
      }));
      // /healthz while the write waits: the process keeps answering
      const health: number[] = [];
      for (let i = 0; i < 5; i++) {
        const h0 = performance.now();
        expect((await fetch(`${instance.url}/healthz`)).status).toBe(200);
        health.push(performance.now() - h0);
      }
      const answer = await post;
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBe("1");
      expect(answer.body.error).toBe("database_unavailable");
      expect(answer.body.message).toContain("SQLITE_BUSY");
      expect(answer.ms).toBeLessThan(4_000);
      expect(Math.max(...health)).toBeLessThan(500);
    } finally {
      if (holder.inTransaction) holder.exec("ROLLBACK");
      holder.close();
    }
    try {
      const again = await fetch(`${instance.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("2")) });
      expect(again.status).toBe(201);
    } finally {
      await instance.stop();
    }
  }, 30_000);

  test("a database that cannot grow (SQLITE_FULL): 503 on writes, not ready, reads still answer; ready again once space is freed", async () => {
    const path = join(dir, "full.sqlite");
    // measure the empty database, then allow a few pages more
    const probe = await openSqliteStore(path);
    await probe.close();
    const pages = new Database(path).query<{ page_count: number }, []>("PRAGMA page_count").get()!.page_count;
    const lines: string[] = [];
    const store = await openSqliteStore(path, { maxPageCount: pages + 8, log: (line) => lines.push(line) });
    const { call } = harness(store);
    try {
      let id = 0;
      let last: Awaited<ReturnType<typeof call>>;
      do last = await call("POST", "/v1/expenses", { ...seedRecord(String(++id)), description: "d".repeat(1000) });
      while (last.status === 201 && id < 1000);
      expect(last.status).toBe(503);
      expect(last.headers.get("retry-after")).toBe("1");
      expect(last.json.message).toContain("SQLITE_FULL");
      expect(lines).toEqual([expect.stringMatching(/^the database or its disk is full \(SQLITE_FULL\)/)]);
      expect((await call("GET", "/v1/expenses/1")).status).toBe(200);
      const notReady = await call("GET", "/readyz");
      expect(notReady.status).toBe(503);
      expect(notReady.json.message).toContain("SQLITE_FULL");
      expect((await call("GET", "/healthz")).status).toBe(200);
      // free space: deleted rows leave pages to reuse
      for (let i = 1; i < id; i++) expect((await call("DELETE", `/v1/expenses/${i}`)).status).toBe(204);
      expect((await call("GET", "/readyz")).status).toBe(200);
      expect((await call("POST", "/v1/expenses", seedRecord("5000"))).status).toBe(201);
      expect(lines).toEqual([expect.stringMatching(/^the database or its disk is full \(SQLITE_FULL\)/), "the database is available again"]);
    } finally {
      await store.close();
    }
  });
});
