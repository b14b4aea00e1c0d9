import { describe, expect, test } from "bun:test";
import mysql from "mysql2/promise";
import { openStore, StoreUnavailable } from "../../src/store/index.ts";
import { freePort, waitFor } from "../support/net.ts";
import { mysqlUnavailable } from "../support/mariadb.ts";
import { useMariaDB } from "./fixtures.ts";
import { runRowContract, runStoreContract, stored, storedRing } from "./store.contract.ts";

describe.skipIf(!!mysqlUnavailable)("mysql store on a real MariaDB", () => {
  const mariadb = useMariaDB("contract");
  const server = () => mariadb.server();

  // Each store gets a database of its own, created by openStore.
  runStoreContract("mysql", () => openStore(mariadb.db()));

  let rows = 0;
  runRowContract("mysql", async (log) => {
    const database = `rows_${rows++}`;
    const store = await openStore(server().url(database), log);
    const other = await mysql.createConnection({ host: "127.0.0.1", port: server().port, user: "root", database });
    return { store, sql: (statement) => other.query(statement), end: () => other.end() };
  });

  test("creates the database if missing, and reopening it keeps records and the ring (migrations run once)", async () => {
    const url = server().url("created_here");
    const first = await openStore(url);
    await first.insert(stored("1"));
    await first.insert(stored("2"));
    await first.saveRing(storedRing(4, "the ring"));
    await first.close();
    const second = await openStore(url);
    expect(await second.get("1")).toEqual(stored("1"));
    // counted when opened: the records the first store left
    expect(second.stats().records).toBe(2);
    expect(await second.loadRing()).toEqual(storedRing(4, "the ring"));
    await second.close();
    const c = await mysql.createConnection({ host: "127.0.0.1", port: server().port, user: "root", database: "created_here" });
    const [migrations] = await c.query<mysql.RowDataPacket[]>("SELECT version FROM schema_migrations");
    await c.end();
    expect(migrations.map((r) => r.version).sort()).toEqual([1, 2, 3]);
  });

  test.each([3, 5])("?pool=%d opens that many connections under load, no more", async (size) => {
    const database = `pooled_${size}`;
    const store = await openStore(`${server().url(database)}?pool=${size}`);
    const locker = await mysql.createConnection({ host: "127.0.0.1", port: server().port, user: "root", database });
    // The store's connections to its database, read in PROCESSLIST (the locker's own left out).
    const connections = async (where = "TRUE") => {
      const [[row]] = await locker.query<mysql.RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID() AND ${where}`,
        [database],
      );
      return Number(row!.n);
    };
    try {
      await store.insert(stored("1"));
      // Seven updates of a locked row: each holds a pool connection until the lock goes, so
      // the pool opens every connection it may; with `size` of them waiting, it has them all.
      await locker.query("BEGIN");
      await locker.query("SELECT * FROM expenses WHERE id = 1 FOR UPDATE");
      const updates = Array.from({ length: 7 }, (_, i) => store.update("1", { name: `Name ${i}` }));
      await waitFor(async () => ((await connections("INFO LIKE 'update%'")) >= size ? true : undefined));
      await locker.query("COMMIT");
      expect((await Promise.all(updates)).every((r) => r?.id === "1")).toBe(true);
      // Every update went through; the pool keeps its idle connections, and there are `size`.
      expect(await connections()).toBe(size);
    } finally {
      await locker.end();
      await store.close();
    }
  });

  test("sessions are strict even on a server whose default sql_mode is not: too long is an error, not a truncation", async () => {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: server().port, user: "root" });
    await c.query("SET GLOBAL sql_mode = ''");
    try {
      const store = await openStore(server().url("lenient_server"));
      try {
        const tooLong = { ...stored("1"), name: "x".repeat(300) };
        await expect(store.insert(tooLong)).rejects.toThrow();
        expect(await store.get("1")).toBeUndefined();
        // a session opened the default way on the same server would have truncated it
        const [[row]] = await c.query<mysql.RowDataPacket[]>("SELECT @@GLOBAL.sql_mode AS mode");
        expect(row!.mode).toBe("");
      } finally {
        await store.close();
      }
    } finally {
      await c.query("SET GLOBAL sql_mode = DEFAULT");
      await c.end();
    }
  });

  test("a user with rights on its own database only (as compose's MARIADB_USER) opens, migrates and writes", async () => {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: server().port, user: "root" });
    await c.query("CREATE DATABASE own_only");
    await c.query("CREATE USER 'shard1'@'127.0.0.1' IDENTIFIED BY 'pw'");
    await c.query("GRANT ALL PRIVILEGES ON own_only.* TO 'shard1'@'127.0.0.1'");
    await c.end();
    const store = await openStore(`mysql://shard1:pw@127.0.0.1:${server().port}/own_only`);
    try {
      expect(await store.insert(stored("1"))).toBe(true);
      expect(await store.update("1", { status: "approved" })).toEqual(stored("1", { status: "approved" }));
    } finally {
      await store.close();
    }
  });

  test("a URL naming several servers that are no Galera members is refused at open, naming each server and why", async () => {
    const port = await freePort();
    const url = `mysql://root@127.0.0.1:${server().port},127.0.0.1:${port}/not_galera`;
    const opening = openStore(url);
    await expect(opening).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(opening).rejects.toThrow(
      `no member of the Galera cluster is usable: 127.0.0.1:${server().port} is not a Galera member (no wsrep provider: wsrep_on is off); ` +
        `127.0.0.1:${port} is down: connect ECONNREFUSED`,
    );
    // nothing was created on the plain server: a plain server is never used as a member
    const c = await mysql.createConnection({ host: "127.0.0.1", port: server().port, user: "root" });
    const [databases] = await c.query<mysql.RowDataPacket[]>("SHOW DATABASES LIKE 'not_galera'");
    await c.end();
    expect(databases).toEqual([]);
  });

  test("an unreachable server is StoreUnavailable at open", async () => {
    const port = await freePort();
    await expect(openStore(`mysql://root@127.0.0.1:${port}/nothing`)).rejects.toBeInstanceOf(StoreUnavailable);
  });
});
