/**
 * RowCount on its own, with a count function the test controls: a count owed after a
 * write of unknown outcome is tried again until one succeeds, never forgotten.
 */
import { describe, expect, test } from "bun:test";
import { RowCount } from "../../src/store/row-count.ts";
import { StoreUnavailable } from "../../src/store/types.ts";

/** A write whose outcome is unknown: the database went away while it ran. */
function lostAnswer(): Promise<never> {
  const e = new StoreUnavailable("the connection broke under the statement");
  e.outcomeUnknown = true;
  return Promise.reject(e);
}

describe("RowCount", () => {
  test("writes move the figure by what they report", async () => {
    const count = new RowCount(5, async () => 0);
    await count.track(Promise.resolve(true), (added) => (added ? 1 : 0));
    await count.track(Promise.resolve(3), (deleted) => -deleted);
    expect(count.records).toBe(3);
  });

  test("a write of unknown outcome makes it count again", async () => {
    const count = new RowCount(10, async () => 11);
    await expect(count.track(lostAnswer(), () => 1)).rejects.toThrow(StoreUnavailable);
    await count.settled();
    expect(count.records).toBe(11);
  });

  test("a count that fails (the database is still away) is tried again by the next write that succeeds, and by retry()", async () => {
    let clock = 0;
    let stored = 11; // the lost write did commit: 10 before, 11 now
    let reachable = false;
    let counts = 0;
    const count = new RowCount(
      10,
      async () => {
        counts++;
        if (!reachable) throw new StoreUnavailable("cannot reach the database");
        return stored;
      },
      1000,
      () => clock,
    );
    await expect(count.track(lostAnswer(), () => 1)).rejects.toThrow(StoreUnavailable);
    await count.settled();
    expect({ records: count.records, counts }).toEqual({ records: 10, counts: 1 });

    // back; within the retry interval, a successful write only adds its own row
    reachable = true;
    stored = 12;
    await count.track(Promise.resolve(true), () => 1);
    await count.settled();
    expect({ records: count.records, counts }).toEqual({ records: 11, counts: 1 });

    // after it, the next successful write (or a ping's retry) counts again: exact from then on
    clock = 1000;
    stored = 13;
    await count.track(Promise.resolve(true), () => 1);
    await count.settled();
    expect({ records: count.records, counts }).toEqual({ records: 13, counts: 2 });

    // nothing owed any more: no more counts
    clock = 5000;
    count.retry();
    await count.track(Promise.resolve(true), () => 1);
    await count.settled();
    expect({ records: count.records, counts }).toEqual({ records: 14, counts: 2 });
  });

  test("retry() alone (a ping) pays a count that is owed", async () => {
    let reachable = false;
    let clock = 0;
    const count = new RowCount(
      1,
      async () => {
        if (!reachable) throw new StoreUnavailable("away");
        return 2;
      },
      1000,
      () => clock,
    );
    count.unsure();
    await count.settled();
    expect(count.records).toBe(1);
    reachable = true;
    clock = 999;
    count.retry();
    await count.settled();
    expect(count.records).toBe(1);
    clock = 1000;
    count.retry();
    await count.settled();
    expect(count.records).toBe(2);
  });
});
