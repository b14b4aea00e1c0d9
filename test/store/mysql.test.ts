import { describe, expect, test } from "bun:test";
import mysql from "mysql2/promise";
import { openStore, StoreUnavailable } from "../../src/store/index.ts";
import { freePort } from "../support/net.ts";
import { mysqlUnavailable } from "../support/mariadb.ts";
import { useMariaDB } from "./fixtures.ts";
import { runStoreContract, stored, storedRing } from "./store.contract.ts";

describe.skipIf(!!mysqlUnavailable)("mysql store on a real MariaDB", () => {
  const mariadb = useMariaDB("contract");
  const server = () => mariadb.server();

  // Each store gets a database of its own, created by openStore.
  runStoreContract("mysql", () => openStore(mariadb.db()));

  test("creates the database if missing, and reopening it keeps records and the ring (migrations run once)", async () => {
    const url = server().url("created_here");
    const first = await openStore(url);
    await first.insert(stored("1"));
    await first.saveRing(storedRing(4, "the ring"));
    await first.close();
    const second = await openStore(url);
    expect(await second.get("1")).toEqual(stored("1"));
    expect(await second.loadRing()).toEqual(storedRing(4, "the ring"));
    await second.close();
    const c = await mysql.createConnection({ host: "127.0.0.1", port: server().port, user: "root", database: "created_here" });
    const [migrations] = await c.query<mysql.RowDataPacket[]>("SELECT version FROM schema_migrations");
    await c.end();
    expect(migrations.map((r) => r.version).sort()).toEqual([1, 2]);
  });

  test("the pool size comes from ?pool=", async () => {
    const store = await openStore(`${server().url("pooled")}?pool=3`);
    // 6 concurrent reads on 3 connections all complete
    await store.insert(stored("1"));
    const got = await Promise.all(Array.from({ length: 6 }, () => store.get("1")));
    expect(got.every((r) => r?.id === "1")).toBe(true);
    await store.close();
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

  test("an unreachable server is StoreUnavailable at open", async () => {
    const port = await freePort();
    await expect(openStore(`mysql://root@127.0.0.1:${port}/nothing`)).rejects.toBeInstanceOf(StoreUnavailable);
  });
});
