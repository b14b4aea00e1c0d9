/**
 * How the migrations (store/migrate.ts) run on MySQL: on the setup connection, under a named
 * server lock (GET_LOCK). Without the lock after the wait, opening fails naming who holds
 * it: migrating without it could run a migration twice.
 */
import type mysql from "mysql2/promise";
import type { MigrationTarget } from "../migrate.ts";

const MIGRATION_LOCK = "shardctl_migrations";

export function migrationTarget(conn: mysql.Connection, lockWaitS: number): MigrationTarget {
  return {
    async prepare() {
      await conn.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME NOT NULL)",
      );
    },
    async locked(work) {
      const [[got]] = await conn.query<mysql.RowDataPacket[]>("SELECT GET_LOCK(?, ?) AS got", [MIGRATION_LOCK, lockWaitS]);
      if (got?.got !== 1) throw new Error(await lockHolder(conn, lockWaitS));
      try {
        await work();
      } finally {
        await conn.query("SELECT RELEASE_LOCK(?)", [MIGRATION_LOCK]);
      }
    },
    async applied() {
      const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT version FROM schema_migrations");
      return new Set(rows.map((r) => Number(r.version)));
    },
    async apply(m) {
      for (const s of m.statements) await conn.query(s);
      await conn.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, NOW())", [m.version, m.name]);
    },
  };
}

async function lockHolder(conn: mysql.Connection, waitedS: number): Promise<string> {
  const [[row]] = await conn.query<mysql.RowDataPacket[]>(
    "SELECT p.ID AS id, p.USER AS user, p.HOST AS host FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)",
    [MIGRATION_LOCK],
  );
  const who = row ? `connection ${row.id} (${row.user}@${row.host})` : "another connection";
  return `cannot migrate the database: ${who} has held the migration lock "${MIGRATION_LOCK}" for over ${waitedS} s; is another instance stuck migrating it?`;
}
