import type { ExpenseRecords } from "../expenses/records.ts";
import type { RebalanceRecords } from "../server/rebalance-records.ts";
import type { RingRecords } from "../server/ring-records.ts";

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
  /** Closes connections; waits for queries in flight. */
  close(): Promise<void>;
}

/** The role of the ring in force in the instance_ring table (see RingRecords). */
export const CURRENT_RING = "current";

/** The key of the one row of the rebalance table (see RebalanceRecords). */
export const CURRENT_REBALANCE = "current";

/** The database cannot be reached: a server-side problem, answered 503 at the HTTP edge. */
export class StoreUnavailable extends Error {
  override readonly name: string = "StoreUnavailable";
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
