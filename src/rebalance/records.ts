/**
 * What an instance needs from its database while a rebalance moves records (see
 * src/instance/rebalance/rebalancing.ts): the rebalance's record, the change log of writes to moving ids, and
 * bulk reads and writes for the copy. src/store/ implements it for MySQL and SQLite.
 *
 * The change log is a queue, not a cursor: a reader takes entries and later drops exactly
 * the ones it handled. (A cursor on the sequence number would skip an entry whose
 * transaction took its number first but committed after a later one.)
 */
import type { Expense } from "../expenses/model.ts";
import type { RebalancePhase } from "./protocol.ts";

/** A rebalance as the database keeps it: the columns a compare-and-set needs, and the rest as JSON text the store never parses. */
export interface StoredRebalance {
  /** `<from label> -> <to label>`: the same job when run again. */
  readonly job: string;
  readonly phase: RebalancePhase;
  /** The fencing token of the process that holds the rebalance; null when none does. */
  readonly token: string | null;
  readonly text: string;
}

/** What `saveRebalance` did: saved it, or kept the saved record (undefined: none), whose token was not the one expected. */
export type RebalanceSave = { readonly saved: true } | { readonly saved: false; readonly current: StoredRebalance | undefined };

/** One write to a moving id, in the order of its sequence number. */
export interface ChangeEntry {
  readonly seq: number;
  readonly id: string;
}

export interface RebalanceRecords {
  /** The rebalance this instance takes part in (or took part in last), or undefined. */
  loadRebalance(): Promise<StoredRebalance | undefined>;
  /**
   * Saves `next` when the saved record's token is `expectedToken` (null: there is no
   * record, or nobody holds it); otherwise changes nothing and answers the saved record.
   */
  saveRebalance(next: StoredRebalance, expectedToken: string | null): Promise<RebalanceSave>;
  /**
   * Deletes the rebalance record, and empties the change log, when the saved record's token
   * is `expectedToken` (a rebalance given up before it copied anything: the node is as if it
   * never took part); false, and nothing changed, otherwise.
   */
  deleteRebalance(expectedToken: string): Promise<boolean>;
  /**
   * Up to `limit` change log entries with a sequence number above `afterSeq` (all when
   * undefined), lowest first. Paging by `afterSeq` is only safe while no write can add
   * entries (under the fence): a later commit may take a lower number.
   */
  changes(limit: number, afterSeq?: number): Promise<ChangeEntry[]>;
  /** Removes the entries with these sequence numbers (the others stay, however old). */
  dropChanges(seqs: readonly number[]): Promise<void>;
  /** Empties the change log. */
  clearChanges(): Promise<void>;
  /** The records stored under these ids, in id order; absent ids are left out. */
  getMany(ids: readonly string[]): Promise<Expense[]>;
  /** Stores each record, replacing whatever its id held. */
  putMany(records: readonly Expense[]): Promise<void>;
  /** Deletes these ids; how many were stored. */
  deleteMany(ids: readonly string[]): Promise<number>;
  /** Up to `limit` stored ids above `after` (from the start when undefined), in numeric order. */
  listIds(after: string | undefined, limit: number): Promise<string[]>;
}
