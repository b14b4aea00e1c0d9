/** How the migrations (store/migrate.ts) run on SQLite: the lock is a write transaction (BEGIN IMMEDIATE), so the applied versions are read under it. */
import type { Database } from "bun:sqlite";
import type { MigrationTarget } from "../migrate.ts";

export function migrationTarget(client: Database): MigrationTarget {
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
      return new Set(
        client
          .query<{ version: number }, []>("SELECT version FROM schema_migrations")
          .all()
          .map((r) => r.version),
      );
    },
    async apply(m) {
      for (const statement of m.statements) client.exec(statement);
      client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, new Date().toISOString());
    },
  };
}
