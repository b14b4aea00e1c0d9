/**
 * /readyz follows the database: 200 while MariaDB answers, 503 (and expense requests
 * 503, never 500) while it is down, 200 again once it is back on the same data dir
 * and port, with the records still there.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
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
