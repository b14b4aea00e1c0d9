/**
 * Says when the database goes away and when it comes back: one line at each change,
 * not one per failed request. Both stores report every operation's outcome here.
 */
import { StoreUnavailable } from "./types.ts";

/** Where the lines go; the instance sends them to stderr. */
export type StoreLog = (line: string) => void;

export class Availability {
  private down = false;
  /** Operations that failed with StoreUnavailable so far (for metrics). */
  unavailable = 0;

  constructor(private readonly log: StoreLog | undefined) {}

  /** An operation failed: a StoreUnavailable marks the database as gone (said once). */
  failed(e: unknown): void {
    if (!(e instanceof StoreUnavailable)) return;
    this.unavailable++;
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
}
