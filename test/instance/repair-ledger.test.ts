/** The repair's memory on an instance (src/instance/repair/ledger.ts), on a clock of the test's: sessions' expiry, what is forgotten when, the per-id lock. */
import { describe, expect, test } from "bun:test";
import { KeyedLock, RepairLedger } from "../../src/instance/repair/ledger.ts";
import { Ring } from "../../src/ring/ring.ts";

const ring = new Ring([{ name: "a", url: "http://127.0.0.1:1", weight: 1 }], { vnodes: 4 });
const limits = { sessionTtlMs: 1000, placedTtlMs: 10_000, maxDeleted: 3, maxPlaced: 2 };

function ledger() {
  const clock = { now: 0 };
  return { clock, ledger: new RepairLedger(() => clock.now, limits) };
}

describe("RepairLedger", () => {
  test("a session lasts its TTL after its last request; tracking while one lasts", () => {
    const { clock, ledger: l } = ledger();
    expect(l.tracking).toBe(false);
    const s = l.begin(ring, null);
    clock.now = 900;
    expect(l.session(s.id)?.id).toBe(s.id);
    clock.now = 1800;
    expect(l.tracking).toBe(true);
    clock.now = 1901;
    expect([l.session(s.id), l.tracking]).toEqual([undefined, false]);
  });

  test("deletes and placements are gone; the oldest forgotten past the cap; placements after their TTL", () => {
    const { clock, ledger: l } = ledger();
    for (const id of ["1", "2", "3", "4"]) l.noteDelete(id);
    expect(["1", "2", "3", "4"].map((id) => l.gone(id))).toEqual([false, true, true, true]);
    l.noteDelete("2"); // noted again: the newest now
    l.noteDelete("5");
    expect(["2", "3", "4", "5"].map((id) => l.gone(id))).toEqual([true, false, true, true]);
    l.notePlaced("10");
    clock.now = 5000;
    l.notePlaced("11");
    clock.now = 10_001;
    expect([l.gone("10"), l.gone("11")]).toEqual([false, true]);
  });

  test("a session that ends complete, alone: the deletes before it and every placement forgotten; not while another runs, not when incomplete", () => {
    const { ledger: l } = ledger();
    l.noteDelete("1");
    l.notePlaced("7");
    const other = l.begin(ring, null);
    const s = l.begin(ring, null);
    l.noteDelete("2");
    expect(l.end(s.id, true)).toBe(true);
    expect([l.gone("1"), l.gone("7")]).toEqual([true, true]);
    const t = l.begin(ring, null);
    l.noteDelete("3");
    l.end(other.id, false);
    expect(l.gone("1")).toBe(true);
    l.end(t.id, true);
    expect([l.gone("1"), l.gone("2"), l.gone("7"), l.gone("3")]).toEqual([false, false, false, true]);
    expect(l.end(t.id, true)).toBe(false);
  });
});

describe("KeyedLock", () => {
  test("holders of a key take turns in arrival order; other keys do not wait; a caller of several keys waits for each", async () => {
    const lock = new KeyedLock();
    const order: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const first = lock.with(["1"], async () => {
      await gate;
      order.push("first 1");
    });
    const both = lock.with(["2", "1"], async () => {
      order.push("2 and 1");
    });
    const other = lock.with(["3"], async () => {
      order.push("3");
    });
    await other;
    expect(order).toEqual(["3"]);
    open();
    await Promise.all([first, both]);
    expect(order).toEqual(["3", "first 1", "2 and 1"]);
    expect(lock.size).toBe(0);
  });

  test("a holder that throws releases its keys", async () => {
    const lock = new KeyedLock();
    await expect(lock.with(["1"], async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await lock.with(["1"], async () => "next")).toBe("next");
  });
});
