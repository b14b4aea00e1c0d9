import type { Expense } from "../expenses/model.ts";

/** The fields PUT may change: everything but the id. */
export type ExpenseChanges = Partial<Omit<Expense, "id">>;

/**
 * Where expense records live. Records go in and come out in their canonical API
 * form (see model.ts); each implementation maps them to its own columns. One contract
 * suite (test/store/store.contract.ts) holds every implementation to the same behaviour.
 */
export interface ExpenseStore {
  readonly dialect: "mysql" | "sqlite";
  /** Stores a new record; false (and nothing changed) when its id is already stored. */
  insert(record: Expense): Promise<boolean>;
  get(id: string): Promise<Expense | undefined>;
  /** Applies the changes; the updated record, or undefined when the id is not stored. */
  update(id: string, changes: ExpenseChanges): Promise<Expense | undefined>;
  /** False when the id was not stored. */
  delete(id: string): Promise<boolean>;
  /** Up to `limit` records with an id numerically above `after` (from the start when undefined), in id order. */
  list(after: string | undefined, limit: number): Promise<Expense[]>;
  /** Resolves when the database answers a query now; rejects with the reason otherwise. */
  ping(): Promise<void>;
  /** Closes connections; waits for queries in flight. */
  close(): Promise<void>;
}

/** The database cannot be reached (a server-side problem: 503, never blamed on the client). */
export class StoreUnavailable extends Error {
  override readonly name: string = "StoreUnavailable";
  readonly status = 503;
  readonly kind = "database_unavailable";
}

/**
 * The database server answered but refused the login (wrong user or password, or no
 * access to the database): still unavailable to requests (503), but at start the message
 * says so rather than "cannot reach".
 */
export class StoreLoginRefused extends StoreUnavailable {
  override readonly name = "StoreLoginRefused";
}

/** A --db value that names no store this program knows. */
export class StoreUrlError extends Error {
  override readonly name = "StoreUrlError";
}
