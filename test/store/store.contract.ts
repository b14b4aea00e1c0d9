/**
 * The ExpenseStore contract: every implementation runs this same suite
 * (sqlite.test.ts, mysql.test.ts). `open` returns a fresh, empty store each time.
 * runRowContract adds what a store does with rows it did not write itself, through a
 * second connection to its database.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Expense } from "../../src/expenses/model.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import type { StoredRebalance } from "../../src/rebalance/records.ts";
import type { StoreLog } from "../../src/store/availability.ts";
import { StoreSchemaMissing, type ExpenseStore } from "../../src/store/types.ts";
import { useStores } from "./fixtures.ts";

/** A stored record as the service would produce it from the seed's test data. */
export function stored(id: string, over: Partial<Expense> = {}): Expense {
  const r = seedRecord(id);
  return { ...r, id, estimated_costs: String(r.estimated_costs), status: "pending", decision_date: "", ...over };
}

/** A ring as the store keeps it; the store never parses the text, so any text will do. */
export function storedRing(epoch: number, text: string) {
  return { epoch, fingerprint: epoch.toString(16).padStart(16, "0"), text };
}

/** A rebalance record as the store keeps it; the store never parses the text. */
export function storedRebalance(
  token: string | null,
  phase: StoredRebalance["phase"] = "copying",
  text = `{"token":${JSON.stringify(token)}}`,
): StoredRebalance {
  return { job: "1:0000000000000001 -> 2:0000000000000002", phase, token, text };
}

export function runStoreContract(name: string, open: () => Promise<ExpenseStore>) {
  describe(`ExpenseStore contract: ${name}`, () => {
    const fresh = useStores(open);

    test("insert then get returns the record exactly", async () => {
      const s = await fresh();
      expect(await s.insert(stored("1"))).toBe(true);
      expect(await s.get("1")).toEqual(stored("1"));
    });

    test("get of an absent id is undefined", async () => {
      const s = await fresh();
      expect(await s.get("42")).toBeUndefined();
    });

    test("a duplicate insert returns false and overwrites nothing", async () => {
      const s = await fresh();
      await s.insert(stored("7"));
      expect(await s.insert(stored("7", { name: "Intruder", estimated_costs: "1" }))).toBe(false);
      expect(await s.get("7")).toEqual(stored("7"));
    });

    test("values round-trip: cents, dates, edge ids, long and non-ASCII text", async () => {
      const s = await fresh();
      const records = [
        stored("0", { estimated_costs: "0" }),
        stored("2", { estimated_costs: "0.07", name: "Zoë 😀 — 東京", submit_date: "29-02-2016" }),
        stored("9007199254740991", {
          estimated_costs: "999999999999.99",
          description: "d".repeat(4000),
          link: `http://example.com/${"p".repeat(2020)}`,
          status: "approved",
          decision_date: "31-12-9999",
          submit_date: "01-01-1000",
        }),
        stored("3", { description: "", estimated_costs: "700.5" }),
        // the longest texts the API accepts, in characters (code points) of 4 UTF-8 bytes each
        stored("4", {
          name: "😀".repeat(255),
          category: "😀".repeat(255),
          email: `${"😀".repeat(246)}@bar.com`,
          description: "😀".repeat(4000),
          link: `http://example.com/${"😀".repeat(2048 - "http://example.com/".length)}`,
        }),
      ];
      for (const r of records) expect(await s.insert(r)).toBe(true);
      for (const r of records) expect(await s.get(r.id)).toEqual(r);
    });

    test("update changes only the given fields and returns the record", async () => {
      const s = await fresh();
      await s.insert(stored("5"));
      const updated = await s.update("5", { status: "approved", decision_date: "13-10-2016", estimated_costs: "750.25" });
      const expected = stored("5", { status: "approved", decision_date: "13-10-2016", estimated_costs: "750.25" });
      expect(updated).toEqual(expected);
      expect(await s.get("5")).toEqual(expected);
      expect(await s.update("5", { decision_date: "" })).toEqual({ ...expected, decision_date: "" });
    });

    test("update with no changes returns the record unchanged", async () => {
      const s = await fresh();
      await s.insert(stored("5"));
      expect(await s.update("5", {})).toEqual(stored("5"));
    });

    test("update of an absent id is undefined and creates nothing", async () => {
      const s = await fresh();
      expect(await s.update("8", { name: "Ghost" })).toBeUndefined();
      expect(await s.update("8", {})).toBeUndefined();
      expect(await s.get("8")).toBeUndefined();
      expect(await s.list(undefined, 10)).toEqual([]);
      expect(s.stats().records).toBe(0);
    });

    test("delete removes once, then reports absence", async () => {
      const s = await fresh();
      await s.insert(stored("4"));
      await s.insert(stored("6"));
      expect(await s.delete("4")).toBe(true);
      expect(await s.delete("4")).toBe(false);
      expect(await s.get("4")).toBeUndefined();
      expect(await s.get("6")).toEqual(stored("6"));
    });

    test("stats().records follows every insert and delete, duplicates and absent ids included, and matches what list() finds", async () => {
      const s = await fresh();
      expect(s.stats().records).toBe(0);
      let tally = 0;
      for (const id of ["1", "2", "3", "4"]) if (await s.insert(stored(id))) tally++;
      expect(await s.insert(stored("2"))).toBe(false);
      if (await s.delete("3")) tally--;
      expect(await s.delete("3")).toBe(false);
      expect(await s.delete("99")).toBe(false);
      await s.update("1", { status: "approved" });
      expect(tally).toBe(3);
      expect(s.stats().records).toBe(tally);
      expect(s.stats().records).toBe((await s.list(undefined, 1000)).length);
    });

    test("stats().records stays exact under concurrent inserts and deletes of the same ids", async () => {
      const s = await fresh();
      const ids = Array.from({ length: 12 }, (_, k) => String(k + 1));
      // every id inserted three times at once: exactly one of each wins
      await Promise.all(ids.flatMap((id) => [s.insert(stored(id)), s.insert(stored(id)), s.insert(stored(id))]));
      expect(s.stats().records).toBe(12);
      // the even ids deleted twice at once: exactly one of each removes it
      const even = ids.filter((id) => Number(id) % 2 === 0);
      await Promise.all(even.flatMap((id) => [s.delete(id), s.delete(id)]));
      expect(s.stats().records).toBe(6);
      expect((await s.list(undefined, 1000)).map((r) => r.id)).toEqual(["1", "3", "5", "7", "9", "11"]);
      expect(s.stats().unavailable).toBe(0);
    });

    test("list pages in numeric id order, not text order", async () => {
      const s = await fresh();
      const ids = ["10", "9", "100", "2", "0", "9007199254740991", "11"];
      for (const id of ids) await s.insert(stored(id));
      const all = await s.list(undefined, 100);
      expect(all.map((r) => r.id)).toEqual(["0", "2", "9", "10", "11", "100", "9007199254740991"]);
      expect(all[3]).toEqual(stored("10"));
      expect((await s.list(undefined, 2)).map((r) => r.id)).toEqual(["0", "2"]);
      expect((await s.list("2", 3)).map((r) => r.id)).toEqual(["9", "10", "11"]);
      expect((await s.list("9", 100)).map((r) => r.id)).toEqual(["10", "11", "100", "9007199254740991"]);
      expect((await s.list("5", 1)).map((r) => r.id)).toEqual(["9"]);
      expect(await s.list("9007199254740991", 10)).toEqual([]);
    });

    test("a fresh store holds no ring", async () => {
      const s = await fresh();
      expect(await s.loadRing()).toBeUndefined();
    });

    test("the first ring is saved and read back exactly, text included (large, non-ASCII)", async () => {
      const s = await fresh();
      const ring = storedRing(3, `Zoë 東京 😀 ${"n".repeat(100_000)}`);
      expect(await s.saveRing(ring)).toEqual({ saved: true });
      expect(await s.loadRing()).toEqual(ring);
    });

    test("a ring with a larger epoch replaces the saved one; an equal or smaller one changes nothing", async () => {
      const s = await fresh();
      await s.saveRing(storedRing(2, "two"));
      expect(await s.saveRing(storedRing(1, "one"))).toEqual({ saved: false, current: storedRing(2, "two") });
      expect(await s.saveRing(storedRing(2, "another two"))).toEqual({ saved: false, current: storedRing(2, "two") });
      expect(await s.loadRing()).toEqual(storedRing(2, "two"));
      expect(await s.saveRing(storedRing(9007199254740991, "max"))).toEqual({ saved: true });
      expect(await s.loadRing()).toEqual(storedRing(9007199254740991, "max"));
    });

    test("concurrent saves leave the largest epoch, and each refusal names a ring at least as new", async () => {
      const s = await fresh();
      const epochs = [7, 3, 12, 0, 5, 12, 1, 9, 4, 11, 2, 8, 6, 10];
      const results = await Promise.all(epochs.map((e, i) => s.saveRing(storedRing(e, `ring ${e} from save ${i}`))));
      expect((await s.loadRing())?.epoch).toBe(12);
      for (const [i, r] of results.entries()) {
        if (!r.saved) expect(r.current.epoch).toBeGreaterThanOrEqual(epochs[i]!);
      }
      // exactly one of the two saves of epoch 12 got in
      expect(results.filter((r, i) => r.saved && epochs[i] === 12).length).toBe(1);
    });

    test("a journaled insert, update and delete each note the id in the change log; other writes note nothing", async () => {
      const s = await fresh();
      const journal = { journal: true };
      expect(await s.insert(stored("3"), journal)).toBe(true);
      expect(await s.insert(stored("4"))).toBe(true);
      expect(await s.update("4", { name: "Changed" }, journal)).toEqual(stored("4", { name: "Changed" }));
      expect(await s.update("3", { name: "Quiet" })).toEqual(stored("3", { name: "Quiet" }));
      expect(await s.delete("3", journal)).toBe(true);
      // writes that change nothing: a duplicate, an absent id
      expect(await s.insert(stored("4"), journal)).toBe(false);
      expect(await s.update("99", { name: "Ghost" }, journal)).toBeUndefined();
      expect(await s.delete("99", journal)).toBe(false);
      const entries = await s.changes(100);
      expect(entries.map((e) => e.id)).toEqual(["3", "4", "3"]);
      expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));
      expect(new Set(entries.map((e) => e.seq)).size).toBe(3);
      expect(await s.get("3")).toBeUndefined();
    });

    test("change log entries are taken lowest first; dropping some leaves exactly the others; clear empties it", async () => {
      const s = await fresh();
      for (const id of ["10", "11", "12", "13", "14"]) await s.insert(stored(id), { journal: true });
      const all = await s.changes(10);
      expect(all.map((e) => e.id)).toEqual(["10", "11", "12", "13", "14"]);
      expect(await s.changes(2)).toEqual(all.slice(0, 2));
      expect(await s.changes(2, all[1]!.seq)).toEqual(all.slice(2, 4));
      expect(await s.changes(10, all[4]!.seq)).toEqual([]);
      await s.dropChanges([all[1]!.seq, all[3]!.seq]);
      expect(await s.changes(10)).toEqual([all[0]!, all[2]!, all[4]!]);
      await s.dropChanges([all[1]!.seq]);
      expect((await s.changes(10)).length).toBe(3);
      await s.insert(stored("15"), { journal: true });
      const later = await s.changes(10);
      expect(later.at(-1)!.id).toBe("15");
      expect(later.at(-1)!.seq).toBeGreaterThan(all[4]!.seq);
      await s.clearChanges();
      expect(await s.changes(10)).toEqual([]);
    });

    test("putMany stores new records and replaces stored ones exactly; getMany answers them in id order, absent ids left out", async () => {
      const s = await fresh();
      await s.insert(stored("2", { name: "Before" }));
      const records = [
        stored("5"),
        stored("2", { status: "approved", decision_date: "01-02-2020", estimated_costs: "0.5" }),
        stored("30", { description: "Zoë 😀" }),
      ];
      await s.putMany(records);
      expect(await s.getMany(["30", "7", "2", "5"])).toEqual([records[1]!, records[0]!, records[2]!]);
      expect(await s.get("2")).toEqual(records[1]!);
      await s.putMany([]);
      expect(await s.getMany([])).toEqual([]);
      // 2 was stored already: the batch added 5 and 30
      expect(s.stats().records).toBe(3);
    });

    test("putMany of one record, new or stored (changed or the same), keeps the count exact", async () => {
      const s = await fresh();
      await s.putMany([stored("1")]);
      expect(s.stats().records).toBe(1);
      await s.putMany([stored("1", { name: "Changed" })]);
      await s.putMany([stored("1", { name: "Changed" })]);
      expect(s.stats().records).toBe(1);
      expect(await s.get("1")).toEqual(stored("1", { name: "Changed" }));
      await s.putMany([stored("2")]);
      expect(s.stats().records).toBe(2);
    });

    test("putMany counts an id given twice once, in one statement's batch and across batches", async () => {
      const s = await fresh();
      await s.putMany([stored("1"), stored("1", { name: "Second" })]);
      expect(s.stats().records).toBe(1);
      expect(await s.get("1")).toEqual(stored("1", { name: "Second" }));
      // 1,200 new ids between two mentions of 1 (stored already) and of 7 (new), far apart (other batches)
      const fresh1200 = Array.from({ length: 1200 }, (_, i) => stored(String(i + 100)));
      await s.putMany([stored("1"), stored("7"), ...fresh1200, stored("7", { name: "Last" }), stored("1", { name: "Last" })]);
      expect(s.stats().records).toBe(1 + 1 + 1200);
      expect(s.stats().records).toBe((await s.listIds(undefined, 5000)).length);
      expect(await s.getMany(["1", "7"])).toEqual([stored("1", { name: "Last" }), stored("7", { name: "Last" })]);
    });

    test("putMany keeps the count exact beside concurrent putMany and inserts of the same ids", async () => {
      const s = await fresh();
      const records = Array.from({ length: 200 }, (_, i) => stored(String(i + 1)));
      // three imports of the same ids and an insert of each, all at once: 200 records in the end
      await Promise.all([s.putMany(records), s.putMany(records), s.putMany(records), ...records.map((r) => s.insert(r))]);
      expect((await s.listIds(undefined, 1000)).length).toBe(200);
      expect(s.stats().records).toBe(200);
    });

    test("a record putMany cannot store writes nothing of the batch", async () => {
      const s = await fresh();
      await expect(s.putMany([stored("1"), stored("2", { submit_date: "31-02-2016" })])).rejects.toThrow();
      expect(await s.list(undefined, 10)).toEqual([]);
      expect(s.stats().records).toBe(0);
    });

    test("bulk operations over more ids than one statement takes", async () => {
      const s = await fresh();
      const records = Array.from({ length: 2500 }, (_, i) => stored(String(i * 3 + 1)));
      await s.putMany(records);
      const ids = records.map((r) => r.id);
      expect(await s.getMany(ids)).toEqual(records);
      expect(s.stats().records).toBe(2500);
      // again, half of it changed and 500 new: only the new ones add
      const again = [
        ...records.slice(0, 1250).map((r) => ({ ...r, status: "approved" as const })),
        ...Array.from({ length: 500 }, (_, i) => stored(String(i * 3 + 2))),
      ];
      await s.putMany(again);
      expect(s.stats().records).toBe(3000);
      await s.deleteMany(again.slice(1250).map((r) => r.id));
      expect(s.stats().records).toBe(2500);
      expect(await s.deleteMany([...ids.slice(0, 1500), "2", "5"])).toBe(1500);
      expect(await s.getMany(ids)).toEqual([...records.slice(1500)]);
      expect(await s.listIds(undefined, 5000)).toEqual(ids.slice(1500));
      expect(s.stats().records).toBe(1000);
    });

    test("deleteMany deletes the given ids and counts those that were stored; listIds pages ids in numeric order", async () => {
      const s = await fresh();
      for (const id of ["9", "10", "100", "2", "11"]) await s.insert(stored(id));
      expect(await s.listIds(undefined, 3)).toEqual(["2", "9", "10"]);
      expect(await s.listIds("10", 3)).toEqual(["11", "100"]);
      expect(await s.deleteMany(["9", "11", "12"])).toBe(2);
      expect(await s.listIds(undefined, 10)).toEqual(["2", "10", "100"]);
      expect(await s.deleteMany([])).toBe(0);
      expect(s.stats().records).toBe(3);
    });

    test("a fresh store holds no rebalance; the first is saved when none is expected, then only by the token it holds", async () => {
      const s = await fresh();
      expect(await s.loadRebalance()).toBeUndefined();
      expect(await s.saveRebalance(storedRebalance("t1"), "t0")).toEqual({ saved: false, current: undefined });
      expect(await s.saveRebalance(storedRebalance("t1"), null)).toEqual({ saved: true });
      expect(await s.loadRebalance()).toEqual(storedRebalance("t1"));
      // a stale holder, or one that expects nobody, changes nothing
      expect(await s.saveRebalance(storedRebalance("t2"), null)).toEqual({ saved: false, current: storedRebalance("t1") });
      expect(await s.saveRebalance(storedRebalance("t2"), "t0")).toEqual({ saved: false, current: storedRebalance("t1") });
      const big = storedRebalance("t2", "fenced", `{"note":"Zoë 東京 😀 ${"x".repeat(70_000)}"}`);
      expect(await s.saveRebalance(big, "t1")).toEqual({ saved: true });
      expect(await s.loadRebalance()).toEqual(big);
      // released (no token): then saved again by whoever expects nobody
      expect(await s.saveRebalance(storedRebalance(null, "done"), "t2")).toEqual({ saved: true });
      expect(await s.saveRebalance(storedRebalance("t3"), null)).toEqual({ saved: true });
      expect((await s.loadRebalance())?.token).toBe("t3");
    });

    test("deleteRebalance removes the record and empties the change log, only for the token the record holds", async () => {
      const s = await fresh();
      expect(await s.deleteRebalance("t1")).toBe(false);
      await s.saveRebalance(storedRebalance("t1"), null);
      await s.insert(stored("7"), { journal: true });
      expect((await s.changes(10)).map((e) => e.id)).toEqual(["7"]);
      expect(await s.deleteRebalance("t0")).toBe(false);
      expect(await s.loadRebalance()).toEqual(storedRebalance("t1"));
      expect((await s.changes(10)).length).toBe(1);
      expect(await s.deleteRebalance("t1")).toBe(true);
      expect(await s.loadRebalance()).toBeUndefined();
      expect(await s.changes(10)).toEqual([]);
      // the records themselves are untouched, and a new rebalance can start
      expect(await s.get("7")).toEqual(stored("7"));
      expect(await s.saveRebalance(storedRebalance("t2"), null)).toEqual({ saved: true });
    });

    test("of concurrent saves expecting the same token, exactly one gets in", async () => {
      const s = await fresh();
      await s.saveRebalance(storedRebalance("first"), null);
      const tokens = Array.from({ length: 8 }, (_, i) => `racer-${i}`);
      const results = await Promise.all(tokens.map((t) => s.saveRebalance(storedRebalance(t), "first")));
      const winners = tokens.filter((_, i) => results[i]!.saved);
      expect(winners.length).toBe(1);
      expect((await s.loadRebalance())?.token).toBe(winners[0]!);
      for (const r of results) if (!r.saved) expect(r.current?.token).toBe(winners[0]!);
    });

    test("ping resolves while the database is there", async () => {
      const s = await fresh();
      await expect(s.ping()).resolves.toBeUndefined();
    });
  });
}

/** A fresh store, and a second connection to its database (for rows the store would never write). */
export interface StoreWithSql {
  readonly store: ExpenseStore;
  sql(statement: string): Promise<unknown>;
  /** Closes the second connection (the store is closed by the suite). */
  end(): Promise<void>;
}

/** `log` receives the store's availability lines (the instance sends them to stderr). */
export function runRowContract(name: string, open: (log?: StoreLog) => Promise<StoreWithSql>) {
  describe(`ExpenseStore contract, rows written by other hands: ${name}`, () => {
    const opened: StoreWithSql[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).flatMap((o) => [o.end(), o.store.close()]));
    });
    const fresh = async (log?: StoreLog) => {
      const o = await open(log);
      opened.push(o);
      return o;
    };

    test("a rebalance row whose phase is none of the protocol's is an error naming the value and the table, at every read of it", async () => {
      const { store, sql } = await fresh();
      await store.saveRebalance(storedRebalance("t1"), null);
      // a phase written by SQL that the protocol knows reads back as itself
      await sql("UPDATE rebalance SET phase = 'fenced'");
      expect(await store.loadRebalance()).toEqual(storedRebalance("t1", "fenced"));
      for (const phase of ["paused", "", "Fenced"]) {
        await sql(`UPDATE rebalance SET phase = '${phase}'`);
        const named = `the rebalance table holds phase ${JSON.stringify(phase)}, which is not a rebalance phase (copying, fenced, switched, done)`;
        await expect(store.loadRebalance()).rejects.toThrow(named);
        // the compare-and-set reads the row first: neither saves nor deletes over it
        await expect(store.saveRebalance(storedRebalance("t2"), "t1")).rejects.toThrow(named);
        await expect(store.deleteRebalance("t1")).rejects.toThrow(named);
      }
      await sql("UPDATE rebalance SET phase = 'copying'");
      expect(await store.loadRebalance()).toEqual(storedRebalance("t1"));
    });

    test("a table gone under the store: ping and every operation on it fail as StoreSchemaMissing naming it, said once; back, ready again", async () => {
      const lines: string[] = [];
      const { store, sql } = await fresh((line) => lines.push(line));
      await store.insert(stored("1"));
      await sql("ALTER TABLE expenses RENAME TO expenses_away");
      const missing = "the table expenses does not exist (dropped while the instance runs?)";
      for (let i = 0; i < 3; i++) {
        await expect(store.ping()).rejects.toThrow(missing);
        const failure = await store.get("1").catch((e: unknown) => e);
        expect([failure instanceof StoreSchemaMissing, (failure as Error).message]).toEqual([true, missing]);
        await expect(store.insert(stored("2"))).rejects.toBeInstanceOf(StoreSchemaMissing);
      }
      // a table that is there still serves
      expect(await store.loadRing()).toBeUndefined();
      expect(lines).toEqual([`the database cannot serve requests: ${missing}`]);
      await sql("ALTER TABLE expenses_away RENAME TO expenses");
      await expect(store.ping()).resolves.toBeUndefined();
      expect(await store.get("1")).toEqual(stored("1"));
      expect(lines).toEqual([`the database cannot serve requests: ${missing}`, "the database's tables are all there again"]);
    });

    test("each table the store uses is checked by ping", async () => {
      const { store, sql } = await fresh();
      for (const table of ["instance_ring", "rebalance", "rebalance_changes"]) {
        await sql(`ALTER TABLE ${table} RENAME TO ${table}_away`);
        await expect(store.ping()).rejects.toThrow(`the table ${table} does not exist`);
        await sql(`ALTER TABLE ${table}_away RENAME TO ${table}`);
        await expect(store.ping()).resolves.toBeUndefined();
      }
    });
  });
}
