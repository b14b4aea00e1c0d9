/**
 * The MySQL/MariaDB store: a mysql2 pool through drizzle-orm, one module a port beside it
 * (expense-records.ts, ring-records.ts, rebalance-records.ts). Opening creates the database
 * if missing and runs the migrations on one connection before the pool opens (connection.ts);
 * each operation then runs on one pooled connection within a deadline (runner.ts).
 */
import { drizzle } from "drizzle-orm/mysql2";
import { Availability, type StoreLog } from "../availability.ts";
import { RowCount } from "../row-count.ts";
import type { ExpenseStore } from "../types.ts";
import { COUNT_RECORDS, type MysqlTarget, openPool, poolFigures, prepareDatabase, runnerOptions, SESSION_SETUP } from "./connection.ts";
import { expenseRecords } from "./expense-records.ts";
import { rebalanceRecords } from "./rebalance-records.ts";
import { ringRecords } from "./ring-records.ts";
import { runner } from "./runner.ts";
import { expenses, instanceRing, rebalance, rebalanceChanges } from "./schema.ts";
import { tablesProbe } from "../tables-probe.ts";
import type { Rows } from "./statement.ts";

const PING_TIMEOUT_MS = 2_000;
/** Readiness: every table the instance uses can be read (tables-probe.ts). */
const READY_PROBE = tablesProbe([expenses, instanceRing, rebalance, rebalanceChanges]);
const MIGRATION_LOCK_WAIT_S = 30;
/** A count again (after a write of unknown outcome) may scan a big table: it gets longer than an API operation. */
const COUNT_DEADLINE_MS = 120_000;

export interface MysqlStoreOptions {
  /** Told when the database goes away and comes back. */
  readonly log?: StoreLog;
  /** For tests: the statement each pooled connection runs first (a connection where it fails is never used). */
  readonly sessionSetup?: string;
  /** For tests: how long opening waits for another instance's migration lock. */
  readonly migrationLockWaitS?: number;
}

export async function openMysqlStore(target: MysqlTarget, tuning: MysqlStoreOptions = {}): Promise<ExpenseStore> {
  const records = await prepareDatabase(target, tuning.migrationLockWaitS ?? MIGRATION_LOCK_WAIT_S);
  const pool = openPool(target, tuning.sessionSetup ?? SESSION_SETUP);
  const availability = new Availability(tuning.log);
  const run = runner(pool, availability, runnerOptions(target));
  // No `mode` here: drizzle 0.45 isConfig() rejects any object with a `mode` key.
  const db = drizzle({ client: pool });
  const count = new RowCount(records, () => run(async (s) => Number((await s.execute<Rows>(COUNT_RECORDS, []))[0]!.n), COUNT_DEADLINE_MS));

  return {
    dialect: "mysql",
    ...expenseRecords(db, run, count),
    ...ringRecords(db, run),
    ...rebalanceRecords(db, run, count, target.timeoutMs),
    async ping() {
      await run((s) => s.execute(READY_PROBE, []), Math.min(PING_TIMEOUT_MS, target.timeoutMs));
      availability.tablesFound();
      count.retry();
    },
    stats: () => ({ records: count.records, unavailable: availability.unavailable, pool: poolFigures(pool, target.poolSize) }),
    async close() {
      // not waiting for a count in the background (its deadline is long): ending the pool ends it
      await pool.end();
    },
  };
}
