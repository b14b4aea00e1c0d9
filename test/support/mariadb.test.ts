import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import mysql from "mysql2/promise";
import { mysqlUnavailable, startMariaDBs, type MariaDB } from "./mariadb.ts";

describe.skipIf(!!mysqlUnavailable)("test harness: MariaDB", () => {
  test("starts three independent servers on 127.0.0.1 and stops them by PID", async () => {
    const servers = await startMariaDBs(3);
    try {
      expect(new Set(servers.map((s) => s.port)).size).toBe(3);
      for (const [i, s] of servers.entries()) {
        const c = await mysql.createConnection({ host: "127.0.0.1", port: s.port, user: "root" });
        await c.query(`CREATE DATABASE own_${i}`);
        const [rows] = await c.query("SHOW DATABASES LIKE 'own_%'");
        await c.end();
        // each server sees only its own database: separate data dirs
        expect((rows as object[]).map((r) => Object.values(r)[0])).toEqual([`own_${i}`]);
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
    for (const s of servers) {
      expect(existsSync(s.dir)).toBe(false);
      expect(() => process.kill(s.pid, 0)).toThrow();
    }
  }, 120_000); // three installs and starts: far over bun's default 5 s on a loaded machine
});

test("startMariaDBs stops the servers that started when another one fails", async () => {
  const stopped: number[] = [];
  let n = 0;
  // Server 1 fails at once; server 2 finishes starting only after that failure, server 0 before it.
  let failed!: () => void;
  const failure = new Promise<void>((resolve) => (failed = resolve));
  const fake = async (): Promise<MariaDB> => {
    const i = n++;
    if (i === 1) {
      failed();
      throw new Error("mariadbd did not start");
    }
    if (i === 2) await failure;
    const noop = async () => {};
    return { port: i, dir: "", pid: 0, url: () => "", stop: async () => void stopped.push(i), kill: noop, halt: noop, restart: noop };
  };
  await expect(startMariaDBs(3, fake)).rejects.toThrow("mariadbd did not start");
  expect(stopped.sort()).toEqual([0, 2]);
});
