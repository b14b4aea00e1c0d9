/**
 * The embedded store: one bun:sqlite database file (WAL) through drizzle-orm, one module a
 * port beside it (expense-records.ts, ring-records.ts, rebalance-records.ts). SQLite
 * serialises writes itself, so one connection serves every request (connection.ts); a
 * locked file is waited for without stalling the event loop (runner.ts).
 */
import { drizzle } from "drizzle-orm/bun-sqlite";
import { Availability, type StoreLog } from "../availability.ts";
import { RowCount } from "../row-count.ts";
import type { ExpenseStore } from "../types.ts";
import { openDatabase, writeProbe } from "./connection.ts";
import { expenseRecords } from "./expense-records.ts";
import { rebalanceRecords } from "./rebalance-records.ts";
import { ringRecords } from "./ring-records.ts";
import { runner } from "./runner.ts";
import { expenses, instanceRing, rebalance, rebalanceChanges } from "./schema.ts";
import { tablesProbe } from "../tables-probe.ts";

export interface SqliteStoreOptions {
  /** Told when the database goes away and comes back. */
  readonly log?: StoreLog;
  /** For tests: PRAGMA max_page_count, a database that may not grow past this many pages (a full disk). */
  readonly maxPageCount?: number;
}

/** Opens (creating if needed) the database at `path` (":memory:" for a private in-memory one) and migrates it. */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<ExpenseStore> {
  const client = await openDatabase(path, options.maxPageCount);
  const db = drizzle({ client });
  const availability = new Availability(options.log);
  const { run, write, writeFault } = runner(client, availability);
  const probeWrite = writeProbe(client);
  const probe = tablesProbe([expenses, instanceRing, rebalance, rebalanceChanges]);
  const countRecords = () => client.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM expenses").get()!.n;
  const count = new RowCount(countRecords(), () => run(countRecords));

  return {
    dialect: "sqlite",
    ...expenseRecords(db, run, write, count),
    ...ringRecords(db, run, write),
    ...rebalanceRecords(client, db, run, write, count),
    async ping() {
      await run(() => client.query(probe).get());
      availability.tablesFound();
      // After a write failed for want of space or I/O, ready again only once the database can grow.
      if (writeFault()) await run(() => probeWrite.immediate(), true);
      count.retry();
    },
    stats: () => ({ records: count.records, unavailable: availability.unavailable }),
    async close() {
      client.close();
    },
  };
}
