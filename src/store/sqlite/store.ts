/**
 * The embedded store: one bun:sqlite database file (WAL) through drizzle-orm. SQLite
 * serialises writes itself, so one connection serves every request.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { asc, eq, gt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate, type MigrationTarget } from "../migrate.ts";
import { fromRow, toChanges, toRow } from "../record.ts";
import type { ExpenseStore } from "../types.ts";
import { migrations } from "./migrations.ts";
import { CURRENT_RING } from "../types.ts";
import { expenses, instanceRing } from "./schema.ts";

/** Opens (creating if needed) the database at `path` (":memory:" for a private in-memory one) and migrates it. */
export async function openSqliteStore(path: string): Promise<ExpenseStore> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const client = new Database(path, { create: true, strict: true });
  // The wait first: switching a new file to WAL needs a moment of exclusive access, which
  // another instance opening the same file at once may hold.
  client.exec("PRAGMA busy_timeout = 5000");
  client.exec("PRAGMA journal_mode = WAL");
  await migrate(migrationTarget(client), migrations);
  const db = drizzle({ client });
  const get = (id: string) => {
    const row = db.select().from(expenses).where(eq(expenses.id, Number(id))).get();
    return row && fromRow(row);
  };
  const loadRing = () => {
    const row = db.select().from(instanceRing).where(eq(instanceRing.role, CURRENT_RING)).get();
    return row && { epoch: row.epoch, fingerprint: row.fingerprint, text: row.ring };
  };

  return {
    dialect: "sqlite",
    async insert(record) {
      const inserted = db
        .insert(expenses)
        .values(toRow(record))
        .onConflictDoNothing({ target: expenses.id })
        .returning({ id: expenses.id })
        .all();
      return inserted.length === 1;
    },
    async get(id) {
      return get(id);
    },
    async update(id, changes) {
      const set = toChanges(changes);
      if (Object.keys(set).length === 0) return get(id);
      const row = db.update(expenses).set(set).where(eq(expenses.id, Number(id))).returning().get();
      return row && fromRow(row);
    },
    async delete(id) {
      return db.delete(expenses).where(eq(expenses.id, Number(id))).returning({ id: expenses.id }).all().length === 1;
    },
    async list(after, limit) {
      const q = db.select().from(expenses);
      const rows = (after === undefined ? q : q.where(gt(expenses.id, Number(after))))
        .orderBy(asc(expenses.id))
        .limit(limit)
        .all();
      return rows.map(fromRow);
    },
    async loadRing() {
      return loadRing();
    },
    async saveRing(ring) {
      // A write transaction from the read on, so that another process on the same file cannot save in between.
      return client.transaction(() => {
        const current = loadRing();
        if (current && current.epoch >= ring.epoch) return { saved: false as const, current };
        const row = { epoch: ring.epoch, fingerprint: ring.fingerprint, ring: ring.text, savedAt: new Date().toISOString() };
        db.insert(instanceRing)
          .values({ role: CURRENT_RING, ...row })
          .onConflictDoUpdate({ target: instanceRing.role, set: row })
          .run();
        return { saved: true as const };
      }).immediate();
    },
    async ping() {
      client.query("SELECT 1").get();
    },
    async close() {
      client.close();
    },
  };
}

/** The migration lock is a write transaction (BEGIN IMMEDIATE), so the applied versions are read under it. */
function migrationTarget(client: Database): MigrationTarget {
  return {
    async prepare() {
      client.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    },
    async locked(work) {
      client.exec("BEGIN IMMEDIATE");
      try {
        await work();
        client.exec("COMMIT");
      } catch (e) {
        client.exec("ROLLBACK");
        throw e;
      }
    },
    async applied() {
      return new Set(client.query<{ version: number }, []>("SELECT version FROM schema_migrations").all().map((r) => r.version));
    },
    async apply(m) {
      for (const statement of m.statements) client.exec(statement);
      client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, new Date().toISOString());
    },
  };
}
