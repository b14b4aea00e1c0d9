/**
 * The MySQL/MariaDB store: a mysql2 pool through drizzle-orm, one module a port beside it
 * (expense-records.ts, ring-records.ts, rebalance-records.ts). Opening creates the database
 * if missing and runs the migrations on one connection before the pool opens (connection.ts);
 * each operation then runs on one pooled connection within a deadline (runner.ts). A URL
 * naming several servers is a Galera cluster: the operations go to one member at a time,
 * another when that one cannot serve (galera.ts).
 */
import type mysql from "mysql2/promise";
import { drizzle } from "drizzle-orm/mysql2";
import { Availability, type StoreLog } from "../availability.ts";
import { RowCount } from "../row-count.ts";
import type { ClusterStats, ExpenseStore } from "../types.ts";
import { COUNT_RECORDS, type MysqlTarget, openPool, poolFigures, prepareDatabase, runnerOptions, SESSION_SETUP } from "./connection.ts";
import { expenseRecords } from "./expense-records.ts";
import { GaleraMembers } from "./galera.ts";
import { rebalanceRecords } from "./rebalance-records.ts";
import { ringRecords } from "./ring-records.ts";
import { type Runner, runner } from "./runner.ts";
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
  const availability = new Availability(tuning.log);
  const sessionSetup = tuning.sessionSetup ?? SESSION_SETUP;
  const migrationLockWaitS = tuning.migrationLockWaitS ?? MIGRATION_LOCK_WAIT_S;
  if (target.members.length > 1) {
    const { members, records } = await GaleraMembers.open(target, { availability, log: tuning.log, sessionSetup, migrationLockWaitS });
    return composeStore(target, records, members.run, availability, {
      ping: (probe, timeoutMs) => members.ping(probe, timeoutMs),
      pool: () => members.pool,
      cluster: () => members.stats(),
      close: () => members.close(),
    });
  }
  const records = await prepareDatabase(target, target.members[0]!, migrationLockWaitS);
  const pool = openPool(target, target.members[0]!, sessionSetup);
  const run = runner(pool, availability, runnerOptions(target));
  return composeStore(target, records, run, availability, {
    ping: (probe, timeoutMs) => run((s) => s.execute(probe, []), timeoutMs),
    pool: () => pool,
    cluster: () => undefined,
    close: () => pool.end(),
  });
}

/** Where the operations go (one server's pool, or a Galera cluster's member in use), and what the store says of it. */
interface Connections {
  /** Runs the readiness probe (a read of every table) where the operations go, within `timeoutMs`. */
  ping(probe: string, timeoutMs: number): Promise<unknown>;
  /** The pool operations use now (none while a Galera cluster has no usable member). */
  pool(): mysql.Pool | undefined;
  cluster(): ClusterStats | undefined;
  close(): Promise<void>;
}

function composeStore(target: MysqlTarget, records: number, run: Runner, availability: Availability, connections: Connections): ExpenseStore {
  // No `mode` here: drizzle 0.45 isConfig() rejects any object with a `mode` key. drizzle only
  // builds the SQL here (the runner sends it), so the pool it is given is never asked for a connection.
  const db = drizzle({ client: connections.pool() as mysql.Pool });
  const count = new RowCount(records, () => run(async (s) => Number((await s.execute<Rows>(COUNT_RECORDS, []))[0]!.n), COUNT_DEADLINE_MS));
  const idle = { max: target.poolSize, busy: 0, idle: 0, waiting: 0 };

  return {
    dialect: "mysql",
    ...expenseRecords(db, run, count),
    ...ringRecords(db, run),
    ...rebalanceRecords(db, run, count, target.timeoutMs),
    async ping() {
      await connections.ping(READY_PROBE, Math.min(PING_TIMEOUT_MS, target.timeoutMs));
      availability.tablesFound();
      count.retry();
    },
    stats: () => {
      const pool = connections.pool();
      const cluster = connections.cluster();
      return {
        records: count.records,
        unavailable: availability.unavailable,
        pool: pool ? poolFigures(pool, target.poolSize) : idle,
        ...(cluster ? { cluster } : {}),
      };
    },
    async close() {
      // not waiting for a count in the background (its deadline is long): ending the pool ends it
      await connections.close();
    },
  };
}
