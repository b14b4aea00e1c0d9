import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { openStore } from "../../src/store/index.ts";
import { migrations } from "../../src/store/sqlite/migrations.ts";
import { runRowContract, runStoreContract, stored, storedRing } from "./store.contract.ts";

runStoreContract("sqlite (in memory)", () => openStore("sqlite::memory:"));

const dir = mkdtempSync(join(tmpdir(), "shardctl-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
runStoreContract("sqlite (file)", () => openStore(`sqlite:${join(dir, `contract-${n++}.sqlite`)}`));

// (a second connection needs a file: an in-memory database is private to its connection)
runRowContract("sqlite (file)", async (log) => {
  const path = join(dir, `rows-${n++}.sqlite`);
  const store = await openStore(`sqlite:${path}`, log);
  const other = new Database(path);
  return { store, sql: async (statement) => other.exec(statement), end: async () => other.close() };
});

describe("sqlite file store", () => {
  test("creates missing parent folders, and records and the ring survive a reopen (migrations run once)", async () => {
    const path = join(dir, "nested", "deeper", "db.sqlite");
    const first = await openStore(`sqlite:${path}`);
    await first.insert(stored("1"));
    await first.insert(stored("2"));
    await first.saveRing(storedRing(4, "the ring"));
    await first.close();
    expect(existsSync(path)).toBe(true);
    const second = await openStore(`sqlite:${path}`);
    expect(await second.get("1")).toEqual(stored("1"));
    // counted when opened: the records the first store left
    expect(second.stats().records).toBe(2);
    expect(await second.loadRing()).toEqual(storedRing(4, "the ring"));
    await second.close();
  });

  test("a database of an earlier release (migration 1 only) gets the ring table and keeps its records", async () => {
    const path = join(dir, "release-1.sqlite");
    const old = new Database(path, { create: true });
    old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    for (const statement of migrations[0]!.statements) old.exec(statement);
    old.exec("INSERT INTO schema_migrations VALUES (1, 'create expenses', '2024-01-01T00:00:00Z')");
    old.exec(
      "INSERT INTO expenses VALUES (1, 'Foo 1', 'foo1@bar.com', 'office supplies', 'iPad for office use', 'http://www.apple.com/shop/buy-ipad/ipad-pro', 70000, '2016-10-12', 'pending', NULL)",
    );
    old.close();
    const store = await openStore(`sqlite:${path}`);
    try {
      expect(await store.get("1")).toEqual(stored("1"));
      expect(await store.loadRing()).toBeUndefined();
      expect(await store.saveRing(storedRing(1, "r"))).toEqual({ saved: true });
    } finally {
      await store.close();
    }
  });
});
