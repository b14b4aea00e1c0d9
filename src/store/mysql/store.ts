/**
 * The MySQL/MariaDB store: a mysql2 pool through drizzle-orm. Opening creates the
 * database if missing and runs the migrations on one connection before the pool opens.
 *
 * The two hot statements (insert, select by id) are built by drizzle once and run as
 * server-side prepared statements (mysql2 `execute`, binary protocol, prepared once per
 * connection) through the driver's callback API. drizzle's own "prepared" queries are
 * re-sent as text with the values escaped in (mysql2 `query`, so MariaDB parses each one
 * again), mapped through a typeCast callback, and each call of mysql2's promise API
 * captures a stack trace. Measured under load (GET, concurrency 32): about 69 -> 49
 * CPU-us of the instance and 40 -> 34 CPU-us of MariaDB per request.
 */
import mysql from "mysql2/promise";
import { asc, eq, getTableColumns, gt, is, Param, Placeholder, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/mysql2";
import { fromRow, toChanges, toRow, type ExpenseRow } from "../record.ts";
import { StoreLoginRefused, StoreUnavailable, type ExpenseStore } from "../types.ts";
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

/** Codes of a server that is there but refuses this login. */
const LOGIN_REFUSED = new Set(["ER_ACCESS_DENIED_ERROR", "ER_DBACCESS_DENIED_ERROR"]);

function unavailable(e: unknown): StoreUnavailable | undefined {
  const d = driverError(e);
  if (d?.code && LOGIN_REFUSED.has(d.code)) {
    return new StoreLoginRefused(`login refused: ${d.code} ${d.message ?? ""}`.trim(), { cause: e });
  }
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

/**
 * Strict mode on every session, whatever the server's default: a value that does not fit
 * its column is an error, never silently truncated or zeroed (validation bounds every field
 * first; this keeps that guarantee if the two ever disagree).
 */
const STRICT_MODE =
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";

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
    await setup.query(STRICT_MODE);
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
  // Every pooled connection runs STRICT_MODE before its first statement (mysql2 queues
  // commands per connection, so the SET goes first).
  pool.pool.on("connection", (connection) => {
    connection.query(STRICT_MODE);
  });
  // No `mode` here: drizzle 0.45 isConfig() rejects any object with a `mode` key.
  const db = drizzle({ client: pool });

  // The hot statements: SQL built by drizzle once, run as prepared statements.
  const selectById = statement(db.select().from(expenses).where(eq(expenses.id, sql.placeholder("id"))).toSQL());
  const insertRow = statement(
    db
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
      .toSQL(),
  );
  const core = pool.pool;
  const execute = <T>(s: Statement, values: Record<string, unknown>) =>
    new Promise<T>((resolve, reject) => {
      core.execute(s.sql, s.bind(values), (e, result) => (e ? reject(e) : resolve(result as T)));
    });
  const get = async (id: string) => {
    const [row] = await execute<Record<string, unknown>[]>(selectById, { id: Number(id) });
    return row && fromRow(columnsToRow(row));
  };

  return {
    dialect: "mysql",
    insert: (record) =>
      guarded(async () => {
        try {
          await execute(insertRow, toRow(record) as unknown as Record<string, unknown>);
          return true;
        } catch (e) {
          if (driverError(e)?.code === "ER_DUP_ENTRY") return false;
          throw e;
        }
      }),
    get: (id) => guarded(() => get(id)),
    update: (id, changes) =>
      guarded(async () => {
        const set = toChanges(changes);
        if (Object.keys(set).length > 0) await db.update(expenses).set(set).where(eq(expenses.id, Number(id)));
        return get(id);
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

interface Statement {
  sql: string;
  /** The values for the `?` in `sql`, in order, from the placeholders' values. */
  bind(values: Record<string, unknown>): mysql.ExecuteValues[];
}

/** drizzle's SQL for a query whose every value is a placeholder; the binding is worked out once. */
function statement(built: { sql: string; params: unknown[] }): Statement {
  const slots = built.params.map((p): ((values: Record<string, unknown>) => unknown) => {
    if (is(p, Placeholder)) return (values) => values[p.name];
    if (is(p, Param) && is(p.value, Placeholder)) {
      const { name } = p.value;
      return (values) => p.encoder.mapToDriverValue(values[name]);
    }
    throw new Error(`statement ${built.sql}: every value must be a placeholder`);
  });
  return { sql: built.sql, bind: (values) => slots.map((slot) => slot(values) as mysql.ExecuteValues) };
}

// A row as the driver returns it (keys are column names) -> ExpenseRow (keys are the schema's).
const columns = Object.entries(getTableColumns(expenses)).map(([key, column]) => [key, column.name] as const);
function columnsToRow(r: Record<string, unknown>): ExpenseRow {
  const out: Record<string, unknown> = {};
  for (const [key, name] of columns) out[key] = r[name];
  return out as unknown as ExpenseRow;
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
