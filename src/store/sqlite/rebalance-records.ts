/**
 * What a rebalance keeps on SQLite (RebalanceRecords): its one row in the rebalance table
 * (saved by a compare-and-set on the token, in one write transaction), the change log of
 * writes to moving ids (expense-records.ts writes it), and the bulk reads and writes of the copy.
 */
import type { Database } from "bun:sqlite";
import { asc, eq, getTableColumns, gt, inArray } from "drizzle-orm";
import type { BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import type { RebalanceRecords } from "../../rebalance/records.ts";
import { chunks } from "../chunks.ts";
import type { RowCount } from "../row-count.ts";
import { fromRow, rebalanceFromRow, toRow } from "../row.ts";
import { CURRENT_REBALANCE } from "../types.ts";
import type { Run, Write } from "./runner.ts";
import { expenses, rebalance, rebalanceChanges } from "./schema.ts";

/** Ids per statement in an IN list, below SQLite's limit of bound values. */
const IDS_PER_STATEMENT = 500;

/** The columns of the expenses table: each row's key (bound as `$key`) and column name. */
const COLUMNS = Object.entries(getTableColumns(expenses)).map(([key, column]) => ({ key, name: column.name }));

/** One row into the expenses table, replacing what its id held; the values bound by the row's keys. */
const UPSERT =
  `INSERT INTO expenses (${COLUMNS.map((c) => c.name).join(", ")}) VALUES (${COLUMNS.map((c) => `$${c.key}`).join(", ")}) ` +
  `ON CONFLICT (id) DO UPDATE SET ${COLUMNS.filter((c) => c.name !== "id")
    .map((c) => `${c.name} = excluded.${c.name}`)
    .join(", ")}`;

export function rebalanceRecords(client: Database, db: BunSQLiteDatabase, run: Run, write: Write, count: RowCount): RebalanceRecords {
  const loadRebalance = () => {
    const row = db.select().from(rebalance).where(eq(rebalance.name, CURRENT_REBALANCE)).get();
    return row && rebalanceFromRow(row);
  };
  const upsert = client.prepare(UPSERT);
  // The ids of a chunk already stored: an upsert of the others adds rows (inside the write transaction, nothing else writes).
  const storedAmong = (ids: number[]) => db.select({ id: expenses.id }).from(expenses).where(inArray(expenses.id, ids)).all().length;

  return {
    loadRebalance: () => run(loadRebalance),
    saveRebalance: (next, expectedToken) =>
      write(() => {
        const current = loadRebalance();
        if ((current?.token ?? null) !== expectedToken) return { saved: false as const, current };
        const row = { job: next.job, phase: next.phase, token: next.token, record: next.text, savedAt: new Date().toISOString() };
        db.insert(rebalance)
          .values({ name: CURRENT_REBALANCE, ...row })
          .onConflictDoUpdate({ target: rebalance.name, set: row })
          .run();
        return { saved: true as const };
      }),
    deleteRebalance: (expectedToken) =>
      write(() => {
        const current = loadRebalance();
        if (!current || current.token !== expectedToken) return false;
        db.delete(rebalance).where(eq(rebalance.name, CURRENT_REBALANCE)).run();
        db.delete(rebalanceChanges).run();
        return true;
      }),
    changes: (limit, afterSeq = -1) =>
      run(() =>
        db
          .select()
          .from(rebalanceChanges)
          .where(gt(rebalanceChanges.seq, afterSeq))
          .orderBy(asc(rebalanceChanges.seq))
          .limit(limit)
          .all()
          .map((r) => ({ seq: r.seq, id: String(r.id) })),
      ),
    dropChanges: (seqs) =>
      write(() => {
        for (const part of chunks(seqs, IDS_PER_STATEMENT)) {
          db.delete(rebalanceChanges)
            .where(inArray(rebalanceChanges.seq, [...part]))
            .run();
        }
      }),
    clearChanges: () => run(() => void db.delete(rebalanceChanges).run(), true),
    getMany: (ids) =>
      run(() =>
        chunks(ids, IDS_PER_STATEMENT)
          .flatMap((part) =>
            db
              .select()
              .from(expenses)
              .where(inArray(expenses.id, part.map(Number)))
              .all(),
          )
          .sort((a, b) => a.id - b.id)
          .map(fromRow),
      ),
    putMany: async (records) => {
      // Rows are made first: a record that cannot be stored throws before anything is written.
      const rows = records.map(toRow);
      await count.track(
        write(() => {
          // each id once: an id given twice (in two chunks) must not count as stored twice
          const ids = [...new Set(rows.map((r) => r.id))];
          const existing = chunks(ids, IDS_PER_STATEMENT).reduce((n, part) => n + storedAmong(part), 0);
          for (const r of rows) upsert.run(r);
          return ids.length - existing;
        }),
        (inserted) => inserted,
      );
    },
    deleteMany: (ids) =>
      count.track(
        write(() =>
          chunks(ids, IDS_PER_STATEMENT).reduce(
            (n, part) =>
              n +
              db
                .delete(expenses)
                .where(inArray(expenses.id, part.map(Number)))
                .returning({ id: expenses.id })
                .all().length,
            0,
          ),
        ),
        (deleted) => -deleted,
      ),
    listIds: (after, limit) =>
      run(() => {
        const q = db.select({ id: expenses.id }).from(expenses);
        return (after === undefined ? q : q.where(gt(expenses.id, Number(after))))
          .orderBy(asc(expenses.id))
          .limit(limit)
          .all()
          .map((r) => String(r.id));
      }),
  };
}
