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
export class RowCount {
  #records = 0;
  #recount: Promise<void> | undefined;
  #again = false;
  /** A write's effect is unknown and no count has succeeded since. */
  #dirty = false;
  #lastTry = Number.NEGATIVE_INFINITY;

  /**
   * `records`: counted when the store opened; `countAll` counts again when a write's effect
   * is unknown. While such a count has not succeeded, a write that succeeds (or `retry()`, at
   * a ping) starts another, at most once every `retryAfterMs`.
   */
  constructor(
    records: number,
    private readonly countAll: () => Promise<number>,
    private readonly retryAfterMs = 1000,
    private readonly now: () => number = () => performance.now(),
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
      this.retry();
      return result;
    } catch (e) {
      if (e instanceof StoreUnavailable && e.outcomeUnknown) this.unsure();
      throw e;
    }
  }

  /** The database answers again: if a count is still owed (the last one failed), try it now, at most once every retryAfterMs. */
  retry(): void {
    if (this.#dirty && !this.#recount && this.now() - this.#lastTry >= this.retryAfterMs) this.unsure();
  }

  /** A write's effect is unknown: count again (one count at a time; until one succeeds, the figure is owed a count). */
  unsure(): void {
    this.#dirty = true;
    if (this.#recount) {
      this.#again = true;
      return;
    }
    this.#lastTry = this.now();
    this.#recount = (async () => {
      try {
        do {
          this.#again = false;
          this.#records = await this.countAll();
        } while (this.#again);
        this.#dirty = false;
      } catch {
        // the database is still away: the next write that succeeds, or a ping, tries again (retry)
      } finally {
        this.#recount = undefined;
      }
    })();
  }

  /** Resolves when a count in the background (if any) is done; for tests. */
  settled(): Promise<void> {
    return this.#recount ?? Promise.resolve();
  }
}
