import { StoreUnavailable } from "./types.ts";

/**
 * How many expense records a store holds, without a COUNT(*) per question: counted once
 * when the store opens (before it serves anything), then moved by each write this store
 * makes, as the write reports it (rows inserted, rows deleted). A write whose outcome is
 * unknown (the database went away while it ran) cannot be accounted, so the store counts
 * again, in the background, once the database answers; the figure is then exact again up
 * to the writes that finish while that count runs.
 *
 * Every store method that adds or removes records (including bulk ones) runs through
 * `track`, or calls `added` / `removed` with what the database reports.
 */
export class RecordCount {
  #records = 0;
  #recount: Promise<void> | undefined;
  #again = false;

  /** `records`: counted when the store opened; `countAll` counts again when a write's effect is unknown. */
  constructor(
    records: number,
    private readonly countAll: () => Promise<number>,
  ) {
    this.#records = records;
  }

  get records(): number {
    return this.#records;
  }

  added(rows: number): void {
    this.#records += rows;
  }

  removed(rows: number): void {
    this.#records = Math.max(0, this.#records - rows);
  }

  /**
   * Runs a write and applies its effect: `delta(result)` records (negative for removed). A
   * write that failed with its outcome unknown (StoreUnavailable.outcomeUnknown) makes the
   * store count again.
   */
  async track<T>(write: Promise<T>, delta: (result: T) => number): Promise<T> {
    try {
      const result = await write;
      const rows = delta(result);
      if (rows > 0) this.added(rows);
      else if (rows < 0) this.removed(-rows);
      return result;
    } catch (e) {
      if (e instanceof StoreUnavailable && e.outcomeUnknown) this.unsure();
      throw e;
    }
  }

  /** A write's effect is unknown: count again (one count at a time; a failed count is tried again at the next doubt). */
  unsure(): void {
    if (this.#recount) {
      this.#again = true;
      return;
    }
    this.#recount = (async () => {
      try {
        do {
          this.#again = false;
          this.#records = await this.countAll();
        } while (this.#again);
      } catch {
        // the database is still away: the next write that fails or succeeds unsure tries again
      } finally {
        this.#recount = undefined;
      }
    })();
  }

  /** Resolves when a count in the background (if any) is done; for tests and orderly stops. */
  settled(): Promise<void> {
    return this.#recount ?? Promise.resolve();
  }
}
