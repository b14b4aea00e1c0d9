/**
 * The connections of the MySQL store: one setup connection that creates the database if
 * missing, migrates it and counts its records before anything is served, then the pool,
 * whose every connection is strict and gives up a lock wait after LOCK_WAIT_S.
 */
import mysql from "mysql2/promise";
import { migrate } from "../migrate.ts";
import type { DatabaseServer, StoreTarget } from "../url.ts";
import { unavailable } from "./errors.ts";
import { migrationTarget } from "./migration-lock.ts";
import { migrations } from "./migrations.ts";
import type { RunnerOptions } from "./runner.ts";

export type MysqlTarget = Extract<StoreTarget, { dialect: "mysql" }>;

const CONNECT_TIMEOUT_MS = 5_000;

/** The records stored: at open, and again after a write of unknown outcome (RowCount). */
export const COUNT_RECORDS = "SELECT COUNT(*) AS n FROM expenses";

/**
 * Strict mode on every session, whatever the server's default: a value that does not fit
 * its column is an error, never silently truncated or zeroed (validation bounds every field
 * first; this keeps that guarantee if the two ever disagree).
 */
const STRICT_MODE = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";

/**
 * A row lock is held for a few statements at most: a wait longer than this is a lost race
 * (ER_LOCK_WAIT_TIMEOUT), retried while the operation's deadline allows, not a reason to
 * sit out the server's default of 50 s.
 */
const LOCK_WAIT_S = 1;
const LOCK_CONFLICT_ATTEMPTS = 3;

/** What every pooled connection runs before its first statement. */
export const SESSION_SETUP = `${STRICT_MODE}, innodb_lock_wait_timeout = ${LOCK_WAIT_S}`;

/** How the runner (runner.ts) runs operations on the pool: the deadline, and how lost lock races are tried again. */
export function runnerOptions(target: MysqlTarget): RunnerOptions {
  return { deadlineMs: target.timeoutMs, attempts: LOCK_CONFLICT_ATTEMPTS, lockWaitMs: LOCK_WAIT_S * 1000 };
}

/** How to log in to `server`, one of the target's members. */
export function access(target: MysqlTarget, server: DatabaseServer) {
  return {
    host: server.host,
    port: server.port,
    user: target.user,
    password: target.password,
    connectTimeout: CONNECT_TIMEOUT_MS,
    dateStrings: true as const,
    charset: "utf8mb4_unicode_ci",
  };
}

/** A connection of its own to `server` (not pooled); StoreUnavailable when it cannot be had. */
export function connectTo(target: MysqlTarget, server: DatabaseServer, database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({ ...access(target, server), ...(database ? { database } : {}) }).catch((e: unknown) => {
    throw unavailable(e) ?? e;
  });
}

/** The server is a Galera member (wsrep_on): a server without the variable is not. */
async function isGaleraMember(conn: mysql.Connection): Promise<boolean> {
  try {
    const [[row]] = await conn.query<mysql.RowDataPacket[]>("SELECT @@GLOBAL.wsrep_on AS wsrep_on");
    return Number(row?.wsrep_on) === 1;
  } catch {
    return false;
  }
}

/**
 * On one connection to `server`, before the pool opens: creates the database if missing, runs
 * the migrations (waiting up to `migrationLockWaitS` for another instance's), and counts the
 * records stored. On a Galera member the connection's reads wait for the cluster's writes
 * (wsrep_sync_wait: the count and the migrations see what other members committed) and the
 * migration lock is a replicated row (migration-lock.ts). Throws StoreUnavailable when the
 * server cannot be reached.
 */
export async function prepareDatabase(target: MysqlTarget, server: DatabaseServer, migrationLockWaitS: number): Promise<number> {
  const setup = await connectTo(target, server);
  try {
    const galera = await isGaleraMember(setup);
    if (galera) await setup.query("SET SESSION wsrep_sync_wait = 1");
    await setup.query(STRICT_MODE);
    await setup.query(`CREATE DATABASE IF NOT EXISTS \`${target.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await setup.query(`USE \`${target.database}\``);
    const renewals = galera ? () => connectTo(target, server, target.database) : undefined;
    await migrate(migrationTarget(setup, migrationLockWaitS, renewals), migrations);
    // Counted once, here, before the pool serves anything (RowCount keeps the figure from now on).
    const [[counted]] = await setup.query<mysql.RowDataPacket[]>(COUNT_RECORDS);
    return Number(counted!.n);
  } finally {
    await setup.end().catch(() => {});
  }
}

/**
 * The pool of `target.poolSize` connections to `server`. Every pooled connection runs `sessionSetup`
 * before its first statement (mysql2 queues commands per connection, so it goes first).
 * Where it fails, the connection is closed before the next command is sent: that statement
 * fails (503) rather than run non-strict.
 */
export function openPool(target: MysqlTarget, server: DatabaseServer, sessionSetup: string): mysql.Pool {
  const pool = mysql.createPool({
    ...access(target, server),
    database: target.database,
    connectionLimit: target.poolSize,
    maxIdle: target.poolSize,
    idleTimeout: 60_000,
    enableKeepAlive: true,
    waitForConnections: true,
    queueLimit: target.queueLimit,
  });
  pool.pool.on("connection", (connection) => {
    connection.query(sessionSetup, (e) => {
      if (e) {
        console.error(`shardctl: a new database connection failed its session setup, closing it: ${e.message}`);
        connection.destroy();
      }
    });
  });
  return pool;
}

/** The pool's figures for stats(). */
export function poolFigures(pool: mysql.Pool, max: number) {
  // mysql2's pool keeps its connections in these (not part of its typed API; the version is pinned)
  const core = pool.pool as unknown as { _allConnections: { length: number }; _freeConnections: { length: number }; _connectionQueue: { length: number } };
  const open = core._allConnections.length;
  const idle = core._freeConnections.length;
  return { max, busy: open - idle, idle, waiting: core._connectionQueue.length };
}

/**
 * Closes a pool at once: every connection dropped (a frozen server never answers a polite
 * QUIT, so pool.end() could wait for ever), and operations waiting for a connection refused.
 */
export function dropPool(pool: mysql.Pool): void {
  // as in poolFigures: mysql2's own list of the pool's connections (the version is pinned)
  const core = pool.pool as unknown as { _allConnections: { toArray(): { destroy(): void }[] }; _closed: boolean };
  for (const c of core._allConnections.toArray()) c.destroy();
  pool.pool.end(() => {});
}
