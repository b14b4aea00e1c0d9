/**
 * The MySQL/MariaDB store: a mysql2 pool through drizzle-orm. Opening creates the
 * database if missing and runs the migrations on one connection before the pool opens.
 */
import mysql from "mysql2/promise";
import { asc, eq, gt, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/mysql2";
import { fromRow, toChanges, toRow } from "../record.ts";
import { StoreUnavailable, type ExpenseStore } from "../types.ts";
import type { StoreTarget } from "../url.ts";
import { migrations } from "./migrations.ts";
import { expenses } from "./schema.ts";

type MysqlTarget = Extract<StoreTarget, { dialect: "mysql" }>;

const CONNECT_TIMEOUT_MS = 5_000;
const PING_TIMEOUT_MS = 2_000;

/** Error codes that mean "the server is not there", not "your query is wrong". */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EAI_AGAIN",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
  "ER_ACCESS_DENIED_ERROR",
]);

interface DriverError {
  code?: string;
  errno?: number;
  fatal?: boolean;
  message?: string;
  cause?: unknown;
}

/** The mysql2 error inside drizzle's wrapper, if any. */
function driverError(e: unknown): DriverError | undefined {
  for (let c = e as DriverError | undefined, depth = 0; c && depth < 5; c = c.cause as DriverError, depth++) {
    if (typeof c.code === "string" || typeof c.errno === "number") return c;
  }
  return undefined;
}

function unavailable(e: unknown): StoreUnavailable | undefined {
  const d = driverError(e);
  if (d && ((d.code && UNREACHABLE.has(d.code)) || d.fatal)) {
    return new StoreUnavailable(`database unavailable: ${d.code ?? ""} ${d.message ?? ""}`.trim(), { cause: e });
  }
  return undefined;
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw unavailable(e) ?? e;
  }
}

export async function openMysqlStore(target: MysqlTarget): Promise<ExpenseStore> {
  const access = {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    connectTimeout: CONNECT_TIMEOUT_MS,
    dateStrings: true as const,
    charset: "utf8mb4_unicode_ci",
  };

  const setup = await mysql.createConnection(access).catch((e: unknown) => {
    throw unavailable(e) ?? e;
  });
  try {
    await setup.query(
      `CREATE DATABASE IF NOT EXISTS \`${target.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    await setup.query(`USE \`${target.database}\``);
    await migrate(setup);
  } finally {
    await setup.end().catch(() => {});
  }

  const pool = mysql.createPool({
    ...access,
    database: target.database,
    connectionLimit: target.poolSize,
    maxIdle: target.poolSize,
    idleTimeout: 60_000,
    enableKeepAlive: true,
    waitForConnections: true,
  });
  // No `mode` here: drizzle 0.45 isConfig() rejects any object with a `mode` key.
  const db = drizzle({ client: pool });

  // The hot statements are built once; execute() only binds the values.
  const get = db.select().from(expenses).where(eq(expenses.id, sql.placeholder("id"))).prepare();
  const insert = db
    .insert(expenses)
    .values({
      id: sql.placeholder("id"),
      name: sql.placeholder("name"),
      email: sql.placeholder("email"),
      category: sql.placeholder("category"),
      description: sql.placeholder("description"),
      link: sql.placeholder("link"),
      costCents: sql.placeholder("costCents"),
      submitDate: sql.placeholder("submitDate"),
      status: sql.placeholder("status"),
      decisionDate: sql.placeholder("decisionDate"),
    })
    .prepare();

  return {
    dialect: "mysql",
    insert: (record) =>
      guarded(async () => {
        try {
          await insert.execute({ ...toRow(record) });
          return true;
        } catch (e) {
          if (driverError(e)?.code === "ER_DUP_ENTRY") return false;
          throw e;
        }
      }),
    get: (id) =>
      guarded(async () => {
        const [row] = await get.execute({ id: Number(id) });
        return row && fromRow(row);
      }),
    update: (id, changes) =>
      guarded(async () => {
        const set = toChanges(changes);
        if (Object.keys(set).length > 0) await db.update(expenses).set(set).where(eq(expenses.id, Number(id)));
        const [row] = await get.execute({ id: Number(id) });
        return row && fromRow(row);
      }),
    delete: (id) =>
      guarded(async () => {
        const [result] = await db.delete(expenses).where(eq(expenses.id, Number(id)));
        return result.affectedRows === 1;
      }),
    list: (after, limit) =>
      guarded(async () => {
        const q = db.select().from(expenses);
        const rows = await (after === undefined ? q : q.where(gt(expenses.id, Number(after))))
          .orderBy(asc(expenses.id))
          .limit(limit);
        return rows.map(fromRow);
      }),
    async ping() {
      let timer: Timer | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StoreUnavailable(`database did not answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
      });
      try {
        await Promise.race([guarded(() => pool.query("SELECT 1")), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await pool.end();
    },
  };
}

async function migrate(conn: mysql.Connection): Promise<void> {
  await conn.query(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at DATETIME NOT NULL)",
  );
  // Two instances starting on one database must not both run a migration.
  await conn.query("SELECT GET_LOCK('shardctl_migrations', 30)");
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT version FROM schema_migrations");
    const applied = new Set(rows.map((r) => Number(r.version)));
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      for (const statement of m.statements) await conn.query(statement);
      await conn.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, NOW())", [m.version, m.name]);
    }
  } finally {
    await conn.query("SELECT RELEASE_LOCK('shardctl_migrations')");
  }
}
