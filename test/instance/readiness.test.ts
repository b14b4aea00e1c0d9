/**
 * /readyz follows the database: 200 while MariaDB answers, 503 (and expense requests
 * 503, never 500) while it is down, 200 again once it is back on the same data dir
 * and port, with the records still there; 503 naming the table while the schema is gone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import { mysqlUnavailable, startMariaDB, type MariaDB } from "../support/mariadb.ts";
import { waitFor } from "../support/net.ts";

describe.skipIf(!!mysqlUnavailable)("readiness follows the database", () => {
  let server: MariaDB;
  let instance: Instance;

  beforeAll(async () => {
    server = await startMariaDB();
    instance = await startInstance({ port: 0, db: server.url("readiness"), name: "ready-node", log: false });
  });
  afterAll(async () => {
    await instance?.stop();
    await server?.stop();
  });

  test("200 -> 503 when MariaDB stops -> 200 when it is back", async () => {
    const readyz = () => fetch(`${instance.url}/readyz`);
    expect((await readyz()).status).toBe(200);
    const post = await fetch(`${instance.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("1")) });
    expect(post.status).toBe(201);

    // The server process stops; its data dir and port stay for the restart.
    await server.halt();

    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.headers.get("x-shard-node")).toBe("ready-node");
    const body = (await down.json()) as { ready: boolean; message: string };
    expect(body.ready).toBe(false);
    // each thing said once: not "database: database unavailable: ECONNREFUSED connect ECONNREFUSED ..." (refused, or the
    // pooled connection lost when the server stopped)
    expect(body.message).toStartWith("the database cannot be reached: ");
    expect(body.message).not.toMatch(/\b([A-Z][A-Z_]{4,})\b.*\b\1\b/);
    expect(body.message).not.toMatch(/database.*database/);

    // A request that needs the database is the server's problem: 503, not a 500 and not a 4xx.
    const get = await fetch(`${instance.url}/v1/expenses/1`);
    expect(get.status).toBe(503);
    expect(((await get.json()) as { error: string }).error).toBe("database_unavailable");

    await server.restart();
    const status = await waitFor(
      async () => {
        const r = await readyz();
        return r.status === 200 ? r.status : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(status).toBe(200);
    const back = await fetch(`${instance.url}/v1/expenses/1`);
    expect(back.status).toBe(200);
    expect(((await back.json()) as { name: string }).name).toBe("Foo 1");
  });
});

/**
 * The schema gone under a running instance (the database dropped, its tables dropped):
 * /readyz and /status say not ready naming what is missing, and a request is a 503 naming
 * it, said once in the log, never a 500 with a stack trace per request.
 */
async function expectSchemaGone(instance: Instance, errors: string[], missing: RegExp, missingThings = 1) {
  const ready = await fetch(`${instance.url}/readyz`);
  expect(ready.status).toBe(503);
  const readyBody = (await ready.json()) as { ready: boolean; message: string };
  expect(readyBody.ready).toBe(false);
  expect(readyBody.message).toMatch(missing);
  const status = (await (await fetch(`${instance.url}/status`)).json()) as { ready: boolean; message: string };
  expect([status.ready, status.message]).toEqual([false, readyBody.message]);
  for (let i = 0; i < 5; i++) {
    for (const request of [
      fetch(`${instance.url}/v1/expenses/1`),
      fetch(`${instance.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(String(100 + i))) }),
      fetch(`${instance.url}/v1/expenses?limit=5`),
    ]) {
      const r = await request;
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).toBe("1");
      const body = (await r.json()) as { error: string; message: string };
      expect(body.error).toBe("database_unavailable");
      expect(body.message).toMatch(missing);
    }
  }
  // one line for each thing missing (MySQL: the table, to a connection opened before the drop; the
  // database, to one opened after), none per request and no stack
  const told = errors.filter((line) => missing.test(line));
  expect(told.length).toBeGreaterThanOrEqual(1);
  expect(told.length).toBeLessThanOrEqual(missingThings);
  expect(new Set(told).size).toBe(told.length);
  // the instance names itself; the command that runs it (serve, demo) puts its own name first
  for (const line of told) expect(line).toStartWith(`node ${instance.name}: the database cannot serve requests: the `);
  expect(errors.filter((line) => /\bat .*:\d+:\d+|\[.*\] (GET|POST)/.test(line))).toEqual([]);
}

/** console.error's lines while `work` runs. */
async function capturingErrors<T>(work: (errors: string[]) => Promise<T>): Promise<T> {
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void errors.push(args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : String(a))).join(" "));
  try {
    return await work(errors);
  } finally {
    console.error = original;
  }
}

describe("the schema dropped under a running instance", () => {
  test("sqlite: its tables dropped by another connection", async () => {
    const dir = mkdtempSync(join(tmpdir(), "shardctl-dropped-"));
    const path = join(dir, "dropped.sqlite");
    try {
      await capturingErrors(async (errors) => {
        const instance = await startInstance({ port: 0, db: `sqlite:${path}`, name: "dropped-node", log: false });
        const other = new Database(path);
        try {
          expect((await fetch(`${instance.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("1")) })).status).toBe(201);
          expect((await fetch(`${instance.url}/readyz`)).status).toBe(200);
          for (const table of ["expenses", "instance_ring", "rebalance", "rebalance_changes"]) other.exec(`DROP TABLE ${table}`);
          await expectSchemaGone(instance, errors, /the table expenses does not exist/);
        } finally {
          other.close();
          await instance.stop();
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.skipIf(!!mysqlUnavailable)("mysql", () => {
    let server: MariaDB;
    beforeAll(async () => {
      server = await startMariaDB();
    });
    afterAll(async () => {
      await server?.stop();
    });

    test("its database dropped", async () => {
      await capturingErrors(async (errors) => {
        const instance = await startInstance({ port: 0, db: server.url("dropped_db"), name: "dropped-node", log: false });
        const root = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root" });
        try {
          expect((await fetch(`${instance.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("1")) })).status).toBe(201);
          expect((await fetch(`${instance.url}/readyz`)).status).toBe(200);
          await root.query("DROP DATABASE dropped_db");
          await expectSchemaGone(instance, errors, /the (table expenses|database dropped_db) does not exist/, 2);
        } finally {
          await root.end();
          await instance.stop();
        }
      });
    });
  });
});
