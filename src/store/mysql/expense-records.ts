/**
 * The expense records on MySQL (ExpenseRecords). The statements are built by drizzle once
 * and run as server-side prepared statements (statement.ts). A journaled write notes its
 * id in the change log (rebalance-records.ts reads it) in the same transaction.
 */
import type mysql from "mysql2/promise";
import { asc, eq, gt, type Placeholder, sql } from "drizzle-orm";
import type { MySql2Database } from "drizzle-orm/mysql2";
import type { ExpenseRecords } from "../../expenses/records.ts";
import type { RowCount } from "../row-count.ts";
import { fromRow, toChanges, toRow, type ExpenseRow } from "../row.ts";
import { isDuplicateKey } from "./errors.ts";
import type { Runner, Session } from "./runner.ts";
import { expenses, rebalanceChanges } from "./schema.ts";
import { columnsToRow, EXPENSE_COLUMNS, statement, type Rows } from "./statement.ts";

/** The INSERT of one row, every column a placeholder named by its key (putMany sends it too, for a batch of one). */
export function insertStatement(db: MySql2Database) {
  const values = Object.fromEntries(EXPENSE_COLUMNS.map(({ key }) => [key, sql.placeholder(key)])) as Record<keyof ExpenseRow, Placeholder>;
  return statement(db.insert(expenses).values(values).toSQL());
}

export function expenseRecords(db: MySql2Database, run: Runner, count: RowCount): ExpenseRecords {
  const selectById = statement(
    db
      .select()
      .from(expenses)
      .where(eq(expenses.id, sql.placeholder("id")))
      .toSQL(),
  );
  const insertRow = insertStatement(db);
  const deleteById = statement(
    db
      .delete(expenses)
      .where(eq(expenses.id, sql.placeholder("id")))
      .toSQL(),
  );
  // The first page asks for ids above -1: every id (ids are unsigned), one statement for all pages.
  const pageAfter = statement(
    db
      .select()
      .from(expenses)
      .where(gt(expenses.id, sql.placeholder("after")))
      .orderBy(asc(expenses.id))
      .limit(sql.placeholder("limit"))
      .toSQL(),
  );
  const journalChange = statement(
    db
      .insert(rebalanceChanges)
      .values({ id: sql.placeholder("id") })
      .toSQL(),
  );
  const journal = (s: Session, id: string) => s.execute(journalChange.sql, journalChange.bind({ id: Number(id) }));
  const get = async (s: Session, id: string) => {
    const [row] = await s.execute<Rows>(selectById.sql, selectById.bind({ id: Number(id) }));
    return row && fromRow(columnsToRow(row));
  };

  return {
    insert: (record, options) =>
      count.track(
        run(async (s) => {
          const insert = async () => {
            try {
              await s.execute(insertRow.sql, insertRow.bind(toRow(record)));
              return true;
            } catch (e) {
              if (isDuplicateKey(e)) return false;
              throw e;
            }
          };
          if (!options?.journal) return insert();
          return s.transaction(async () => {
            const stored = await insert();
            if (stored) await journal(s, record.id);
            return stored;
          });
        }),
        (inserted) => (inserted ? 1 : 0),
      ),
    get: (id) => run((s) => get(s, id)),
    // The answer is the row as THIS change left it: the UPDATE and the read share one
    // transaction, so the row lock the UPDATE takes keeps every other writer out until the
    // read is done. No matched row (FOUND_ROWS: matched, not changed) is "not stored", even
    // if an INSERT lands a moment later.
    update: (id, changes, options) =>
      run(async (s) => {
        const set = toChanges(changes);
        if (Object.keys(set).length === 0) return get(s, id);
        const change = db
          .update(expenses)
          .set(set)
          .where(eq(expenses.id, Number(id)))
          .toSQL();
        return s.transaction(async () => {
          const result = await s.execute<mysql.ResultSetHeader>(change.sql, change.params);
          if (result.affectedRows === 0) return undefined;
          if (options?.journal) await journal(s, id);
          return get(s, id);
        });
      }),
    delete: (id, options) =>
      count.track(
        run(async (s) => {
          const remove = async () => (await s.execute<mysql.ResultSetHeader>(deleteById.sql, deleteById.bind({ id: Number(id) }))).affectedRows === 1;
          if (!options?.journal) return remove();
          return s.transaction(async () => {
            const deleted = await remove();
            if (deleted) await journal(s, id);
            return deleted;
          });
        }),
        (deleted) => (deleted ? -1 : 0),
      ),
    list: (after, limit) =>
      run(async (s) => {
        const rows = await s.execute<Rows>(pageAfter.sql, pageAfter.bind({ after: after === undefined ? -1 : Number(after), limit }));
        return rows.map((r) => fromRow(columnsToRow(r)));
      }),
  };
}
