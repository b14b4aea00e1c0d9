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
  /** The members of a Galera cluster (a MySQL URL naming several servers); undefined for a store on one server. */
  readonly cluster?: ClusterStats;
}

/** A Galera cluster as the store saw it at its last check of each member (about once a second). */
export interface ClusterStats {
  /** `host:port` of the member the store uses now; null while none is usable. */
  readonly member: string | null;
  /** Since when it uses that member (ISO time); null while none is usable. */
  readonly since: string | null;
  /** Moves from one member to another since the store opened. */
  readonly moves: number;
  /** Every member, in the URL's order. */
  readonly members: readonly MemberStats[];
}

export interface MemberStats {
  /** `host:port`, as the URL names it. */
  readonly address: string;
  /** wsrep_local_state_comment (`Synced`, `Donor/Desynced`, `Joining`, `Initialized`, ...), or `down` when it does not answer. */
  readonly state: string;
  /** wsrep_cluster_status: `Primary`, `non-Primary`, `Disconnected`; null when down. */
  readonly component: string | null;
  /** wsrep_cluster_size: the members of the cluster as this member sees it; null when down. */
  readonly clusterSize: number | null;
  /** The store uses it now. */
  readonly inUse: boolean;
  /** Primary, synced, ready and of the cluster's newest view: the store may use it. */
  readonly usable: boolean;
  /** Why it may not be used; null when it may. */
  readonly problem: string | null;
  /** wsrep_flow_control_paused_ns: nanoseconds replication spent paused by flow control (since the member started); null when down. */
  readonly flowControlPausedNs: number | null;
  /** wsrep_local_recv_queue: write-sets this member has received and not yet applied; null when down. */
  readonly recvQueue: number | null;
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
