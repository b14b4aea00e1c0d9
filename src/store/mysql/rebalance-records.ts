/**
 * What a rebalance keeps on MySQL (RebalanceRecords): its one row in the rebalance table
 * (saved by a compare-and-set on the token, under a row lock), the change log of writes to
 * moving ids (expense-records.ts writes it), and the bulk reads and writes of the copy.
 */
import type mysql from "mysql2/promise";
import { eq, gt, asc, sql } from "drizzle-orm";
import type { MySql2Database } from "drizzle-orm/mysql2";
import type { RebalanceRecords } from "../../rebalance/records.ts";
import { chunks } from "../chunks.ts";
import type { RowCount } from "../row-count.ts";
import { fromRow, rebalanceFromRow, toRow, type ExpenseRow } from "../row.ts";
import { CURRENT_REBALANCE } from "../types.ts";
import { isDuplicateKey } from "./errors.ts";
import { insertStatement } from "./expense-records.ts";
import type { Runner, Session } from "./runner.ts";
import { expenses, rebalance } from "./schema.ts";
import { columnsToRow, EXPENSE_COLUMNS, statement, type Rows } from "./statement.ts";

/**
 * A rebalance's bulk operations (thousands of rows) get more time than one request's
 * operation; ids go 1,000 to an IN list, rows as many as fit in BULK_STATEMENT_BYTES
 * (far below the server's max_allowed_packet of 16 MiB, whatever the records hold).
 */
const BULK_DEADLINE_MS = 30_000;
const IDS_PER_STATEMENT = 1000;
const BULK_STATEMENT_BYTES = 2 << 20;

/** `deadlineMs`: an API operation's; a bulk one gets at least BULK_DEADLINE_MS. */
export function rebalanceRecords(db: MySql2Database, run: Runner, count: RowCount, deadlineMs: number): RebalanceRecords {
  const bulk = <T>(work: (s: Session) => Promise<T>) => run(work, Math.max(deadlineMs, BULK_DEADLINE_MS));
  const insertRow = insertStatement(db);
  // The first page asks for ids above -1: every id (ids are unsigned), one statement for all pages.
  const idsAfter = statement(
    db
      .select({ id: expenses.id })
      .from(expenses)
      .where(gt(expenses.id, sql.placeholder("after")))
      .orderBy(asc(expenses.id))
      .limit(sql.placeholder("limit"))
      .toSQL(),
  );
  const selectRebalance = db.select().from(rebalance).where(eq(rebalance.name, CURRENT_REBALANCE)).toSQL();
  const loadRebalance = async (s: Session, lock = false) => {
    const [row] = await s.execute<Rows>(selectRebalance.sql + (lock ? " FOR UPDATE" : ""), selectRebalance.params);
    return (
      row &&
      rebalanceFromRow({ job: String(row.job), phase: String(row.phase), token: row.token === null ? null : String(row.token), record: String(row.record) })
    );
  };

  return {
    loadRebalance: () => run((s) => loadRebalance(s)),
    saveRebalance: (next, expectedToken) =>
      // The read locks the row (or, without one, the gap where it goes), so two saves cannot both see the expected token.
      run((s) =>
        s.transaction(async () => {
          const current = await loadRebalance(s, true);
          if ((current?.token ?? null) !== expectedToken) return { saved: false as const, current };
          const row = { job: next.job, phase: next.phase, token: next.token, record: next.text, savedAt: sql`NOW(3)` };
          const save = db
            .insert(rebalance)
            .values({ name: CURRENT_REBALANCE, ...row })
            .onDuplicateKeyUpdate({ set: row })
            .toSQL();
          await s.execute(save.sql, save.params);
          return { saved: true as const };
        }),
      ),
    deleteRebalance: (expectedToken) =>
      run((s) =>
        s.transaction(async () => {
          const current = await loadRebalance(s, true);
          if (!current || current.token !== expectedToken) return false;
          await s.execute("DELETE FROM rebalance WHERE name = ?", [CURRENT_REBALANCE]);
          await s.execute("DELETE FROM rebalance_changes", []);
          return true;
        }),
      ),
    changes: (limit, afterSeq = -1) =>
      run(async (s) => {
        const rows = await s.execute<Rows>("SELECT seq, id FROM rebalance_changes WHERE seq > ? ORDER BY seq LIMIT ?", [afterSeq, limit]);
        return rows.map((r) => ({ seq: Number(r.seq), id: String(r.id) }));
      }),
    dropChanges: (seqs) =>
      bulk(async (s) => {
        for (const part of chunks(seqs, IDS_PER_STATEMENT)) await s.query("DELETE FROM rebalance_changes WHERE seq IN (?)", [part]);
      }),
    clearChanges: () => bulk((s) => s.execute("DELETE FROM rebalance_changes", [])).then(() => {}),
    getMany: (ids) =>
      bulk(async (s) => {
        const rows: ExpenseRow[] = [];
        for (const part of chunks(ids, IDS_PER_STATEMENT)) {
          const found = await s.query<Rows>("SELECT * FROM expenses WHERE id IN (?)", [part.map(Number)]);
          for (const r of found) rows.push(columnsToRow(r));
        }
        return rows.sort((a, b) => a.id - b.id).map(fromRow);
      }),
    putMany: async (records) => {
      // Rows are made first: a record that cannot be stored throws before anything is written.
      const rows = records.map(toRow);
      await count.track(
        bulk((s) =>
          s.transaction(async () => {
            // The rows it adds, as each statement itself reports them (under its own locks,
            // whatever runs beside it): a multi-row upsert's "Records: N  Duplicates: D" says
            // N - D were added. A one-row upsert reports no such line, and its affected rows
            // (1 for added, and 1 for an unchanged row too: mysql2 asks for found rows) cannot
            // tell, so one row is the plain INSERT that insert() sends, an upsert only when its id is stored.
            let inserted = 0;
            for (const part of rowBatches(rows)) {
              if (part.length === 1) {
                try {
                  await s.execute(insertRow.sql, insertRow.bind(part[0]!));
                  inserted += 1;
                } catch (e) {
                  if (!isDuplicateKey(e)) throw e;
                  await s.query(upsertRows(1), rowValues(part[0]!));
                }
                continue;
              }
              const result = await s.query<mysql.ResultSetHeader>(upsertRows(part.length), part.flatMap(rowValues));
              inserted += addedByUpsert(result, part.length);
            }
            return inserted;
          }),
        ),
        (inserted) => inserted,
      );
    },
    deleteMany: (ids) =>
      count.track(
        bulk((s) =>
          s.transaction(async () => {
            let deleted = 0;
            for (const part of chunks(ids, IDS_PER_STATEMENT)) {
              deleted += (await s.query<mysql.ResultSetHeader>("DELETE FROM expenses WHERE id IN (?)", [part.map(Number)])).affectedRows;
            }
            return deleted;
          }),
        ),
        (deleted) => -deleted,
      ),
    listIds: (after, limit) =>
      run(async (s) => {
        const rows = await s.execute<Rows>(idsAfter.sql, idsAfter.bind({ after: after === undefined ? -1 : Number(after), limit }));
        return rows.map((r) => String(r.id));
      }),
  };
}

/** A row's values in the order of the columns of upsertRows. */
function rowValues(r: ExpenseRow): unknown[] {
  return EXPENSE_COLUMNS.map(({ key }) => r[key]);
}

/** The rows a multi-row upsert added: Records - Duplicates from the statement's info line. */
function addedByUpsert(result: { readonly info?: string }, rows: number): number {
  const m = /Records:\s*(\d+)\s+Duplicates:\s*(\d+)/.exec(result.info ?? "");
  if (!m || Number(m[1]) !== rows) throw new Error(`an upsert of ${rows} rows reported ${JSON.stringify(result.info)}, not "Records: ${rows}  Duplicates: D"`);
  return rows - Number(m[2]);
}

/** `rows` rows into the expenses table, each replacing what its id held. */
function upsertRows(rows: number): string {
  const names = EXPENSE_COLUMNS.map((c) => c.name);
  const one = `(${names.map(() => "?").join(", ")})`;
  const update = names
    .filter((c) => c !== "id")
    .map((c) => `${c} = VALUES(${c})`)
    .join(", ");
  return `INSERT INTO expenses (${names.join(", ")}) VALUES ${Array(rows).fill(one).join(", ")} ON DUPLICATE KEY UPDATE ${update}`;
}

/** Rows in batches whose statement stays under BULK_STATEMENT_BYTES (texts may be up to 4 bytes a character). */
function rowBatches(rows: readonly ExpenseRow[]): ExpenseRow[][] {
  const batches: ExpenseRow[][] = [];
  let batch: ExpenseRow[] = [];
  let bytes = 0;
  for (const r of rows) {
    let size = 128;
    for (const value of Object.values(r)) if (typeof value === "string") size += 4 * value.length;
    if (batch.length > 0 && (bytes + size > BULK_STATEMENT_BYTES || batch.length >= IDS_PER_STATEMENT)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(r);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
