/**
 * The MySQL store when requests race and the database misbehaves, on a real MariaDB:
 * a 202 is a change that was applied and shows this PUT's row; lock conflicts are
 * retried, then 503; a frozen server (SIGSTOP) gets 503 within the deadline and no
 * abandoned request runs later; a connection whose session setup fails is never used;
 * a held migration lock fails the start naming its holder.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mysql from "mysql2/promise";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { openMysqlStore } from "../../src/store/mysql/store.ts";
import { openStore, parseStoreUrl } from "../../src/store/index.ts";
import type { ExpenseStore } from "../../src/store/types.ts";
import { mysqlUnavailable, startMariaDB, type MariaDB } from "../support/mariadb.ts";
import { waitFor } from "../support/net.ts";
import { harness } from "../instance/api.contract.ts";
import { stored } from "./store.contract.ts";

describe.skipIf(!!mysqlUnavailable)("mysql store under races and faults", () => {
  let server: MariaDB;
  let admin: mysql.Connection;
  let n = 0;
  const freshUrl = (params = "") => server.url(`faults_${n++}`) + params;
  const opened: ExpenseStore[] = [];
  const open = async (params = "", log?: (line: string) => void) => {
    const store = await openStore(freshUrl(params), log);
    opened.push(store);
    return store;
  };

  beforeAll(async () => {
    server = await startMariaDB();
    admin = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root" });
  });
  afterAll(async () => {
    await Promise.allSettled(opened.map((s) => s.close()));
    await admin?.end();
    await server?.stop();
  });

  test("a PUT racing the first POST of its id: 202 only when its change is in the row, and the body shows it", async () => {
    const { call } = harness(await open());
    const ids = Array.from({ length: 300 }, (_, i) => String(i + 1));
    // ten ids at a time, so that each pair meets the other's statements rather than a queue of the other kind
    const answers = [];
    for (let i = 0; i < ids.length; i += 10)
      answers.push(
        ...(await Promise.all(
          ids.slice(i, i + 10).map(async (id) => {
            // the PUT is sent first, the POST a moment later (0-2 ms, spread over the ids), so
            // that some land between the PUT's UPDATE and anything the PUT does after it
            const put = call("PUT", `/v1/expenses/${id}`, { name: `put ${id}` });
            await Bun.sleep((Number(id) % 5) / 2);
            const post = call("POST", "/v1/expenses", seedRecord(id));
            return { id, put: await put, post: await post };
          }),
        )),
      );
    let applied = 0;
    for (const { id, put, post } of answers) {
      expect({ id, post: post.status }).toEqual({ id, post: 201 });
      expect({ id, put: [202, 404].includes(put.status) }).toEqual({ id, put: true });
      const row = (await call("GET", `/v1/expenses/${id}`)).json;
      if (put.status === 202) {
        applied++;
        expect({ id, answered: put.json.name, stored: row.name }).toEqual({ id, answered: `put ${id}`, stored: `put ${id}` });
      } else {
        // a 404 changed nothing: the row is the POST's
        expect({ id, stored: row.name }).toEqual({ id, stored: seedRecord(id).name });
      }
    }
    console.log(`[race] ${applied} of ${ids.length} PUTs found their record (202), the rest 404`);
  });

  test("1,000 concurrent PUTs of one record: each 202 shows its own change", async () => {
    // What is tested is the answer of each PUT, not speed: a deadline far above what 1,000
    // PUTs of one row take on a loaded machine (at 3 s, some answered 503 in a full run), and
    // a small pool, so that few transactions queue on the row's lock at once.
    const { call } = harness(await open("?pool=4&timeout=60000"));
    expect((await call("POST", "/v1/expenses", seedRecord("1"))).status).toBe(201);
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => call("PUT", "/v1/expenses/1", { description: `change ${i}` })));
    const wrong = answers
      .map((a, i) => ({ i, status: a.status, description: a.json?.description }))
      .filter((a) => a.status !== 202 || a.description !== `change ${a.i}`);
    expect(wrong.slice(0, 5)).toEqual([]);
    // the stored row is one of the answered changes: the last one applied
    const stored = (await call("GET", "/v1/expenses/1")).json.description as string;
    expect(stored).toMatch(/^change \d+$/);
  }, 120_000);

  describe("a row lock held by another transaction", () => {
    const holdRowLock = async (url: string, id: string) => {
      const c = await mysql.createConnection({
        host: "127.0.0.1",
        port: server.port,
        user: "root",
        database: parseStoreUrl(url).dialect === "mysql" ? (parseStoreUrl(url) as { database: string }).database : "",
      });
      await c.query("START TRANSACTION");
      await c.query("SELECT id FROM expenses WHERE id = ? FOR UPDATE", [Number(id)]);
      return c;
    };
    const lockWaits = async () => {
      const [[row]] = await admin.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Innodb_row_lock_waits'");
      return Number(row!.Value);
    };
    beforeAll(async () => {
      // the same short lock wait for any code under test, so no case waits the default 50 s
      await admin.query("SET GLOBAL innodb_lock_wait_timeout = 1");
    });
    afterAll(async () => {
      await admin.query("SET GLOBAL innodb_lock_wait_timeout = DEFAULT");
    });

    test("held past every retry: 503 with Retry-After (never 500), and the change is not applied", async () => {
      const url = freshUrl();
      const store = await openStore(url);
      opened.push(store);
      const { call } = harness(store);
      await call("POST", "/v1/expenses", seedRecord("5"));
      const holder = await holdRowLock(url, "5");
      try {
        const put = await call("PUT", "/v1/expenses/5", { name: "blocked" });
        expect(put.status).toBe(503);
        expect(put.headers.get("retry-after")).toBe("1");
        expect(put.json.error).toBe("database_unavailable");
      } finally {
        await holder.query("ROLLBACK");
        await holder.end();
      }
      expect((await call("GET", "/v1/expenses/5")).json.name).toBe(seedRecord("5").name);
    }, 30_000);

    test("a deadlock between two POSTs of one id (ER_LOCK_DEADLOCK): the loser is tried again and answers 409, never 500", async () => {
      const url = freshUrl();
      const store = await openStore(url);
      opened.push(store);
      const { call } = harness(store);
      const database = (parseStoreUrl(url) as { database: string }).database;
      // The classic InnoDB deadlock: a transaction holds a new row; two inserts of the same
      // key wait for a shared lock on it; when it rolls back, both get the shared lock and
      // both need the exclusive one.
      const holder = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root", database });
      const [[before]] = await admin.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'");
      let posts: Promise<Awaited<ReturnType<typeof call>>[]>;
      try {
        await holder.query("START TRANSACTION");
        await holder.query(
          "INSERT INTO expenses (id, name, email, category, description, link, estimated_costs_cents, submit_date) VALUES (7, 'h', 'h@h.hh', 'c', '', 'http://h', 1, '2016-10-12')",
        );
        posts = Promise.all([call("POST", "/v1/expenses", seedRecord("7")), call("POST", "/v1/expenses", seedRecord("7"))]);
        await waitFor(
          async () => {
            const [[row]] = await admin.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'");
            return Number(row!.n) >= 2 ? true : undefined;
            // InnoDB refreshes INNODB_TRX only when it was not read for 100 ms
          },
          { timeoutMs: 10_000, intervalMs: 150 },
        );
      } finally {
        await holder.query("ROLLBACK");
        await holder.end();
      }
      const answers = (await posts).map((a) => a.status).sort();
      const [[after]] = await admin.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'");
      expect(Number(after!.Value)).toBeGreaterThan(Number(before!.Value));
      expect(answers).toEqual([201, 409]);
      expect((await call("GET", "/v1/expenses/7")).json.name).toBe(seedRecord("7").name);
    }, 30_000);

    test("released after a lost try: the retry applies the change (202)", async () => {
      const url = freshUrl();
      const store = await openStore(url);
      opened.push(store);
      const { call } = harness(store);
      await call("POST", "/v1/expenses", seedRecord("6"));
      const holder = await holdRowLock(url, "6");
      const before = await lockWaits();
      const put = call("PUT", "/v1/expenses/6", { name: "after the wait" });
      try {
        // the first try waited out its lock wait; the second is waiting now
        await waitFor(async () => ((await lockWaits()) >= before + 2 ? true : undefined), { timeoutMs: 20_000, intervalMs: 20 });
      } finally {
        await holder.query("COMMIT");
        await holder.end();
      }
      const answer = await put;
      expect(answer.status).toBe(202);
      expect(answer.json.name).toBe("after the wait");
      expect((await call("GET", "/v1/expenses/6")).json.name).toBe("after the wait");
    }, 30_000);
  });

  test("a frozen database (SIGSTOP): 503 within the deadline, 503 at once past the queue, nothing abandoned runs later", async () => {
    // pool 2, queue 4, deadline 500 ms
    const lines: string[] = [];
    const { call } = harness(await open("?pool=2&queue=4&timeout=500", (line) => lines.push(line)));
    expect((await call("POST", "/v1/expenses", seedRecord("1"))).status).toBe(201);
    process.kill(server.pid, "SIGSTOP");
    let answers: { status: number; message: string; ms: number }[];
    let healthz: number;
    let readyz: number;
    try {
      const timed = async (method: string, path: string, body?: unknown) => {
        const t0 = performance.now();
        // bounded here too, so that the old behaviour (no answer until the server is back) fails instead of hanging
        const a = await Promise.race([call(method, path, body), Bun.sleep(10_000).then(() => ({ status: 0, json: { message: "no answer within 10 s" } }))]);
        return { status: a.status, message: String(a.json?.message), ms: performance.now() - t0 };
      };
      const writes = Array.from({ length: 20 }, (_, i) => timed("POST", "/v1/expenses", seedRecord(String(100 + i))));
      const read = timed("GET", "/v1/expenses/1");
      healthz = (await call("GET", "/healthz")).status;
      readyz = (await timed("GET", "/readyz")).status;
      answers = [...(await Promise.all(writes)), await read];
    } finally {
      process.kill(server.pid, "SIGCONT");
    }
    expect(healthz).toBe(200);
    expect(readyz).toBe(503);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 503));
    // 2 on connections + 4 queued wait for the deadline; the rest are refused at once
    const busy = answers.filter((a) => a.message.includes("busy"));
    expect(busy.length).toBeGreaterThanOrEqual(answers.length - 6);
    for (const a of answers) expect(a.ms).toBeLessThan(5_000);

    // back: the store recovers by itself, and of the refused POSTs only those already at
    // the server when the deadline came (at most one per pooled connection) may have run
    await waitFor(async () => ((await call("GET", "/readyz")).status === 200 ? true : undefined), { timeoutMs: 30_000, intervalMs: 100 });
    await Bun.sleep(0);
    const stored = (await call("GET", "/v1/expenses?limit=100")).json.items.map((r: { id: string }) => r.id);
    expect(stored.filter((id: string) => id !== "1").length).toBeLessThanOrEqual(2);
    expect((await call("POST", "/v1/expenses", seedRecord("200"))).status).toBe(201);
    // said once each way, not once per failed request
    expect(lines).toEqual([
      expect.stringMatching(/^the database (did not answer within 500 ms|is busy: too many requests wait for a connection)$/),
      "the database is available again",
    ]);
  }, 60_000);

  test("a pooled connection whose session setup fails is never used: 503, nothing written", async () => {
    const url = freshUrl();
    const target = parseStoreUrl(url);
    if (target.dialect !== "mysql") throw new Error("not mysql");
    const store = await openMysqlStore(target, { sessionSetup: "SET SESSION sql_mode = 'NO_SUCH_MODE'" });
    opened.push(store);
    await expect(store.insert(stored("1"))).rejects.toThrow();
    const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${target.database}\`.expenses`);
    expect(Number(rows[0]!.n)).toBe(0);
    const { call } = harness(store);
    const post = await call("POST", "/v1/expenses", seedRecord("2"));
    expect(post.status).toBe(503);
  });

  test("another holder of the migration lock: opening fails after the wait, naming the holder, and migrates nothing", async () => {
    const url = freshUrl();
    const target = parseStoreUrl(url);
    if (target.dialect !== "mysql") throw new Error("not mysql");
    const holder = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root" });
    try {
      const [[me]] = await holder.query<mysql.RowDataPacket[]>("SELECT CONNECTION_ID() AS id, GET_LOCK('shardctl_migrations', 0) AS got");
      expect(me!.got).toBe(1);
      const t0 = performance.now();
      const opening = openMysqlStore(target, { migrationLockWaitS: 1 });
      await expect(opening).rejects.toThrow(`connection ${me!.id} (root@`);
      expect(performance.now() - t0).toBeLessThan(15_000);
      const [tables] = await admin.query<mysql.RowDataPacket[]>(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'expenses'",
        [target.database],
      );
      expect(tables).toEqual([]);
    } finally {
      await holder.end();
    }
    // released: the same open succeeds
    const store = await openMysqlStore(target, { migrationLockWaitS: 1 });
    opened.push(store);
    expect(await store.get("1")).toBeUndefined();
  }, 60_000);
});
