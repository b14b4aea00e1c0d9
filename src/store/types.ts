import type { ExpenseRecords } from "../expenses/records.ts";
import type { RebalanceRecords } from "../rebalance/records.ts";
import type { RingRecords } from "../ring/ring-records.ts";

/**
 * A database of expense records: the records the rules need (ExpenseRecords), the
 * instance's ring (RingRecords) and rebalance (RebalanceRecords), plus what the server
 * needs to run it. One contract suite (test/store/store.contract.ts) holds every
 * implementation to the same behaviour.
 */
export interface ExpenseStore extends ExpenseRecords, RingRecords, RebalanceRecords {
  readonly dialect: "mysql" | "sqlite";
  /** Resolves when the database answers a query now; rejects with the reason otherwise. */
  ping(): Promise<void>;
  /** Figures for status and metrics, read from memory (no query). */
  stats(): StoreStats;
  /** Closes connections; waits for queries in flight. */
  close(): Promise<void>;
}

/** What a store can tell about itself without asking the database. */
export interface StoreStats {
  /**
   * Expense records stored: counted once when the store opens, then kept up to date by this
   * store's own inserts and deletes (a COUNT(*) per scrape would scan a big table). Writes of
   * other processes to the same database are not seen; a write whose outcome is unknown (the
   * database went away during it) makes the store count again.
   */
  readonly records: number;
  /** Operations that failed since the store opened because the database could not serve them (StoreUnavailable). */
  readonly unavailable: number;
  /** The connection pool (MySQL); undefined for a store with one connection (SQLite). */
  readonly pool?: { readonly max: number; readonly busy: number; readonly idle: number; readonly waiting: number };
}

/** The role of the ring in force in the instance_ring table (see RingRecords). */
export const CURRENT_RING = "current";

/** The key of the one row of the rebalance table (see RebalanceRecords). */
export const CURRENT_REBALANCE = "current";

/** The database cannot be reached: a server-side problem, answered 503 at the HTTP edge. */
export class StoreUnavailable extends Error {
  override readonly name: string = "StoreUnavailable";
  /** The operation had reached the database when it failed: it may have been applied (or not). */
  outcomeUnknown = false;
}

/**
 * A table the instance uses, or its whole database, does not exist: dropped (or renamed)
 * under the running instance. The statement did nothing. Unavailable (503, not ready) until
 * it is back; said once in the log, not once per request.
 */
export class StoreSchemaMissing extends StoreUnavailable {
  override readonly name = "StoreSchemaMissing";

  /** `missing`: what is gone, `table expenses` or `database shard1`. */
  constructor(
    readonly missing: string,
    options?: ErrorOptions,
  ) {
    super(`the ${missing} does not exist (dropped while the instance runs?)`, options);
  }
}

/**
 * The database server answered but refused the login (wrong user or password, or no
 * access to the database): still unavailable to requests, but at start the message
 * says so rather than "cannot reach".
 */
export class StoreLoginRefused extends StoreUnavailable {
  override readonly name = "StoreLoginRefused";
}

/** A --db value that names no store this program knows. */
export class StoreUrlError extends Error {
  override readonly name = "StoreUrlError";
}
