/**
 * Says when the database goes away and when it comes back: one line at each change,
 * not one per failed request. Both stores report every operation's outcome here.
 */
import { StoreSchemaMissing, StoreUnavailable } from "./types.ts";

/** Where the lines go; the instance sends them to stderr. */
export type StoreLog = (line: string) => void;

export class Availability {
  private down = false;
  /** The missing tables (or database) told so far, until readiness finds them all again. */
  private readonly missing = new Set<string>();
  /** Operations that failed with StoreUnavailable so far (for metrics). */
  unavailable = 0;

  constructor(private readonly log: StoreLog | undefined) {}

  /** An operation failed: a StoreUnavailable marks the database as gone (said once); a missing table is said once too. */
  failed(e: unknown): void {
    if (!(e instanceof StoreUnavailable)) return;
    this.unavailable++;
    if (e instanceof StoreSchemaMissing) {
      // the server answers: the database is not "gone", the table is (other tables may still serve)
      if (!this.missing.has(e.missing)) {
        this.missing.add(e.missing);
        this.log?.(`the database cannot serve requests: ${e.message}`);
      }
      return;
    }
    if (this.down || !this.log) return;
    this.down = true;
    // the store's messages say what is wrong with the database: "the database cannot be reached: ..."
    this.log(e.message);
  }

  /** An operation succeeded: the database is there (said once after it was gone). */
  ok(): void {
    if (!this.down) return;
    this.down = false;
    this.log?.("the database is available again");
  }

  /** Readiness read every table: those said missing are back (said once). */
  tablesFound(): void {
    if (this.missing.size === 0) return;
    this.missing.clear();
    this.log?.("the database's tables are all there again");
  }
}
