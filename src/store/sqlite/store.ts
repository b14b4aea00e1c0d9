/**
 * The embedded store: one bun:sqlite database file (WAL), through drizzle-orm.
 * SQLite serialises writes itself, so one connection serves every request.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { asc, eq, gt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { fromRow, toChanges, toRow } from "../record.ts";
import type { ExpenseChanges, ExpenseStore } from "../types.ts";
import { migrations } from "./migrations.ts";
import { expenses } from "./schema.ts";

/** Opens (creating if needed) the database at `path` (":memory:" for a private in-memory one) and migrates it. */
export function openSqliteStore(path: string): ExpenseStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const client = new Database(path, { create: true, strict: true });
  client.exec("PRAGMA journal_mode = WAL");
  client.exec("PRAGMA busy_timeout = 5000");
  migrate(client);
  const db = drizzle({ client });

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
      const row = db.select().from(expenses).where(eq(expenses.id, Number(id))).get();
      return row && fromRow(row);
    },
    async update(id, changes: ExpenseChanges) {
      const set = toChanges(changes);
      if (Object.keys(set).length === 0) return this.get(id);
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
    async ping() {
      client.query("SELECT 1").get();
    },
    async close() {
      client.close();
    },
  };
}

function migrate(client: Database): void {
  client.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
  const applied = new Set(client.query<{ version: number }, []>("SELECT version FROM schema_migrations").all().map((r) => r.version));
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    client.transaction(() => {
      for (const statement of m.statements) client.exec(statement);
      client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, new Date().toISOString());
    })();
  }
}
