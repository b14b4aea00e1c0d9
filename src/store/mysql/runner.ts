/**
 * How a store operation reaches MySQL: one pooled connection lent to it (a Session) within
 * a deadline, a lost lock race tried again, and "the database is not there" turned into
 * StoreUnavailable.
 */
import type mysql from "mysql2/promise";
import type { PoolConnection as CoreConnection } from "mysql2";
import type { Availability } from "../availability.ts";
import { StoreSchemaMissing, StoreUnavailable } from "../types.ts";
import { driverError, unavailable } from "./errors.ts";

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
          // the connection broke under a statement: the server may have applied it (not so a statement on a missing table)
          if (connection && error !== e && error instanceof StoreUnavailable && !(error instanceof StoreSchemaMissing)) error.outcomeUnknown = true;
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
