/**
 * What the expense rules need from storage, in the records' canonical API form
 * (model.ts). src/store/ implements it for MySQL and SQLite; the rules never see SQL.
 */
import type { Expense } from "./model.ts";

/** The fields PUT may change: everything but the id. */
export type ExpenseChanges = Partial<Omit<Expense, "id">>;

/** How a write is made: decided per request by the ring guard, never by the rules. */
export interface WriteOptions {
  /**
   * Also note the id in the rebalance's change log, in the same transaction as the write
   * (the id is moving to another node: the rebalance copies it again).
   */
  readonly journal?: boolean;
}

export interface ExpenseRecords {
  /** Stores a new record; false (and nothing changed) when its id is already stored. */
  insert(record: Expense, options?: WriteOptions): Promise<boolean>;
  get(id: string): Promise<Expense | undefined>;
  /** Applies the changes; the record as this change left it, or undefined when the id is not stored. */
  update(id: string, changes: ExpenseChanges, options?: WriteOptions): Promise<Expense | undefined>;
  /** False when the id was not stored. */
  delete(id: string, options?: WriteOptions): Promise<boolean>;
  /** Up to `limit` records with an id numerically above `after` (from the start when undefined), in id order. */
  list(after: string | undefined, limit: number): Promise<Expense[]>;
}
