/**
 * The expense records on SQLite (ExpenseRecords). Each write is one write transaction
 * (BEGIN IMMEDIATE); a journaled write notes its id in the change log (rebalance-records.ts
 * reads it) in the same transaction.
 */
import { asc, eq, gt } from "drizzle-orm";
import type { BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import type { ExpenseRecords } from "../../expenses/records.ts";
import type { RowCount } from "../row-count.ts";
import { fromRow, toChanges, toRow } from "../row.ts";
import type { Run, Write } from "./runner.ts";
import { expenses, rebalanceChanges } from "./schema.ts";

export function expenseRecords(db: BunSQLiteDatabase, run: Run, write: Write, count: RowCount): ExpenseRecords {
  const get = (id: string) => {
    const row = db
      .select()
      .from(expenses)
      .where(eq(expenses.id, Number(id)))
      .get();
    return row && fromRow(row);
  };
  const journal = (id: string) =>
    db
      .insert(rebalanceChanges)
      .values({ id: Number(id) })
      .run();

  return {
    insert: (record, options) =>
      count.track(
        write(() => {
          const stored =
            db.insert(expenses).values(toRow(record)).onConflictDoNothing({ target: expenses.id }).returning({ id: expenses.id }).all().length === 1;
          if (stored && options?.journal) journal(record.id);
          return stored;
        }),
        (inserted) => (inserted ? 1 : 0),
      ),
    get: (id) => run(() => get(id)),
    update: (id, changes, options) =>
      write(() => {
        const set = toChanges(changes);
        if (Object.keys(set).length === 0) return get(id);
        const row = db
          .update(expenses)
          .set(set)
          .where(eq(expenses.id, Number(id)))
          .returning()
          .get();
        if (row && options?.journal) journal(id);
        return row && fromRow(row);
      }),
    delete: (id, options) =>
      count.track(
        write(() => {
          const deleted =
            db
              .delete(expenses)
              .where(eq(expenses.id, Number(id)))
              .returning({ id: expenses.id })
              .all().length === 1;
          if (deleted && options?.journal) journal(id);
          return deleted;
        }),
        (deleted) => (deleted ? -1 : 0),
      ),
    list: (after, limit) =>
      run(() => {
        const q = db.select().from(expenses);
        const rows = (after === undefined ? q : q.where(gt(expenses.id, Number(after)))).orderBy(asc(expenses.id)).limit(limit).all();
        return rows.map(fromRow);
      }),
  };
}
