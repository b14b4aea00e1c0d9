/**
 * What the MySQL store needs around mysql2: which driver errors mean "the database is
 * not there" (503, never blamed on the client), and drizzle-built statements run as
 * real server-side prepared statements.
 */
import type mysql from "mysql2/promise";
import type { PoolConnection as CoreConnection } from "mysql2";
import { getTableColumns, is, Param, Placeholder } from "drizzle-orm";
import type { Availability } from "../availability.ts";
import type { ExpenseRow } from "../row.ts";
import { StoreLoginRefused, StoreUnavailable } from "../types.ts";
import { expenses } from "./schema.ts";

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

/** Codes of a server that is there but refuses this login. */
const LOGIN_REFUSED = new Set(["ER_ACCESS_DENIED_ERROR", "ER_DBACCESS_DENIED_ERROR"]);

export interface DriverError {
  code?: string;
  errno?: number;
  fatal?: boolean;
  message?: string;
  cause?: unknown;
}

/** The mysql2 error inside drizzle's wrapper, if any. */
export function driverError(e: unknown): DriverError | undefined {
  for (let c = e as DriverError | undefined, depth = 0; c && depth < 5; c = c.cause as DriverError, depth++) {
    if (typeof c.code === "string" || typeof c.errno === "number") return c;
  }
  return undefined;
}

/** StoreUnavailable (or StoreLoginRefused) for a driver error that means the database is not usable; else undefined. */
export function unavailable(e: unknown): StoreUnavailable | undefined {
  const d = driverError(e);
  if (d?.code && LOGIN_REFUSED.has(d.code)) {
    return new StoreLoginRefused(`login refused: ${d.code} ${d.message ?? ""}`.trim(), { cause: e });
  }
  if (d && ((d.code && UNREACHABLE.has(d.code)) || d.fatal)) {
    return new StoreUnavailable(`database unavailable: ${d.code ?? ""} ${d.message ?? ""}`.trim(), { cause: e });
  }
  return undefined;
}

/** Runs `work`, turning "the database is not there" into StoreUnavailable. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw unavailable(e) ?? e;
  }
}

/** A statement built by drizzle once, run with mysql2 `execute` (binary protocol, prepared once per connection). */
export interface Statement {
  sql: string;
  /** The values for the `?` in `sql`, in order, from the placeholders' values. */
  bind(values: object): mysql.ExecuteValues[];
}

/** drizzle's SQL for a query whose every value is a placeholder; the binding is worked out once. */
export function statement(built: { sql: string; params: unknown[] }): Statement {
  const slots = built.params.map((p): ((values: Record<string, unknown>) => unknown) => {
    if (is(p, Placeholder)) return (values) => values[p.name];
    if (is(p, Param) && is(p.value, Placeholder)) {
      const { name } = p.value;
      return (values) => p.encoder.mapToDriverValue(values[name]);
    }
    throw new Error(`statement ${built.sql}: every value must be a placeholder`);
  });
  return { sql: built.sql, bind: (values) => slots.map((slot) => slot(values as Record<string, unknown>) as mysql.ExecuteValues) };
}

// A row as the driver returns it (keys are column names) -> ExpenseRow (keys are the schema's).
const columns = Object.entries(getTableColumns(expenses)).map(([key, column]) => [key, column.name] as const);
export function columnsToRow(r: Record<string, unknown>): ExpenseRow {
  const out: Record<string, unknown> = {};
  for (const [key, name] of columns) out[key] = r[name];
  return out as unknown as ExpenseRow;
}

/**
 * Codes of a statement that lost a lock race (InnoDB rolled back the statement or its
 * whole transaction): nothing of it was applied, so running it again is safe.
 */
const LOCK_CONFLICT = new Set(["ER_LOCK_DEADLOCK", "ER_LOCK_WAIT_TIMEOUT"]);

/** One pooled connection, lent to one store operation. */
export interface Session {
  execute<T>(sql: string, values: readonly unknown[]): Promise<T>;
  /**
   * A statement sent as text, the values escaped in by the driver: for bulk statements,
   * whose many shapes (rows per statement) would each take a prepared-statement slot.
   */
  query<T>(sql: string, values: readonly unknown[]): Promise<T>;
  /** Runs `work` inside a transaction: COMMIT after it, ROLLBACK when it throws. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
}

export interface RunnerOptions {
  /** Time one store operation may take, waiting for a connection included. */
  readonly deadlineMs: number;
  /** Tries of an operation that loses a lock race (deadlock, lock wait timeout). */
  readonly attempts: number;
  /** The session's innodb_lock_wait_timeout: a retry starts only with this much time left. */
  readonly lockWaitMs: number;
}

/** What a store operation sees of the database: `run(work)` lends it a connection under the deadline. */
export type Runner = <T>(work: (session: Session) => Promise<T>, deadlineMs?: number) => Promise<T>;

const call = <T>(start: (done: (e: unknown, result?: unknown) => void) => void) =>
  new Promise<T>((resolve, reject) => start((e, result) => (e ? reject(e) : resolve(result as T))));

function session(c: CoreConnection): Session {
  const execute = <T>(sql: string, values: readonly unknown[]) => call<T>((done) => c.execute(sql, values as mysql.ExecuteValues[], done));
  const query = (sql: string) => call<void>((done) => c.query(sql, done));
  return {
    execute,
    query: <T>(sql: string, values: readonly unknown[]) => call<T>((done) => c.query(sql, values as unknown[], done)),
    async transaction(work) {
      await query("START TRANSACTION");
      let result: Awaited<ReturnType<typeof work>>;
      try {
        result = await work();
      } catch (e) {
        // A connection whose ROLLBACK fails is lost anyway: the runner drops it on the fatal error.
        await query("ROLLBACK").catch(() => {});
        throw e;
      }
      await query("COMMIT");
      return result;
    },
  };
}

/**
 * Runs store operations on the pool within a deadline: an operation still waiting for a
 * connection when it passes never runs (its connection is handed back unused); one whose
 * statement is still at the server has its connection closed (the server may still have
 * applied it: the caller answers 503, "not known"). Either way the caller gets
 * StoreUnavailable at the deadline, not an answer minutes later. A lost lock race is
 * tried again while time is left, then StoreUnavailable too.
 */
export function runner(pool: mysql.Pool, availability: Availability, options: RunnerOptions): Runner {
  const core = pool.pool;
  return <T>(work: (s: Session) => Promise<T>, deadlineMs = options.deadlineMs) =>
    new Promise<T>((resolve, reject) => {
      const deadline = performance.now() + deadlineMs;
      let connection: CoreConnection | undefined;
      let settled = false;
      const finish = (e: unknown, value?: T) => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        if (e === undefined) {
          availability.ok();
          resolve(value as T);
        } else {
          const error = unavailable(e) ?? e;
          // the connection broke under a statement: the server may have applied it
          if (connection && error !== e && error instanceof StoreUnavailable) error.outcomeUnknown = true;
          availability.failed(error);
          reject(error);
        }
        return true;
      };
      const timer = setTimeout(() => {
        const late = new StoreUnavailable(`the database did not answer within ${deadlineMs} ms`);
        late.outcomeUnknown = connection !== undefined;
        if (finish(late)) connection?.destroy();
      }, deadlineMs);
      core.getConnection((e, c) => {
        if (settled) return void (e ? undefined : c.release());
        if (e) {
          const busy = e.message === "Queue limit reached.";
          return void finish(busy ? new StoreUnavailable("the database is busy: too many requests wait for a connection") : e);
        }
        connection = c;
        attempt(work, session(c), deadline, options).then(
          (value) => finish(undefined, value) && c.release(),
          (error) => finish(error) && (driverError(error)?.fatal ? c.destroy() : c.release()),
        );
      });
    });
}

async function attempt<T>(work: (s: Session) => Promise<T>, s: Session, deadline: number, options: RunnerOptions): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await work(s);
    } catch (e) {
      const code = driverError(e)?.code;
      if (code === undefined || !LOCK_CONFLICT.has(code)) throw e;
      const pause = Math.random() * 10 * tries;
      if (tries >= options.attempts || performance.now() + pause + options.lockWaitMs > deadline) {
        throw new StoreUnavailable(`the change lost a lock race ${tries} time(s) (${code}) and was not applied; retry`, { cause: e });
      }
      await Bun.sleep(pause);
    }
  }
}
