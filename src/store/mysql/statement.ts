/**
 * drizzle-built statements run as real server-side prepared statements, and the rows they
 * answer (keyed by column name, as the driver returns them).
 *
 * The SQL is built by drizzle once and run with mysql2 `execute` through the driver's
 * callback API (runner.ts): drizzle's own "prepared" queries are re-sent as text with the
 * values escaped in, and each call of mysql2's promise API captures a stack trace. Measured
 * under load (GET, concurrency 32): about 69 -> 49 CPU-us of the instance per request.
 */
import type mysql from "mysql2/promise";
import { getTableColumns, is, Param, Placeholder } from "drizzle-orm";
import type { ExpenseRow } from "../row.ts";
import { expenses } from "./schema.ts";

/** Rows as the driver returns them: keys are column names. */
export type Rows = Record<string, unknown>[];

/** A statement built by drizzle once, run with mysql2 `execute` (binary protocol, prepared once per connection). */
export interface Statement {
  sql: string;
  /** The values for the `?` in `sql`, in order, from the placeholders' values. */
  bind(values: object): mysql.ExecuteValues[];
}

/** drizzle's SQL for a query whose every value is a placeholder; the binding is worked out once. */
export function statement(built: { sql: string; params: unknown[] }): Statement {
  const slots = built.params.map((p): ((values: Record<string, unknown>) => unknown) => {
    if (is(p, Placeholder)) return (values) => values[p.name];
    if (is(p, Param) && is(p.value, Placeholder)) {
      const { name } = p.value;
      return (values) => p.encoder.mapToDriverValue(values[name]);
    }
    throw new Error(`statement ${built.sql}: every value must be a placeholder`);
  });
  return { sql: built.sql, bind: (values) => slots.map((slot) => slot(values as Record<string, unknown>) as mysql.ExecuteValues) };
}

/** The columns of the expenses table, in the schema's order: each row's key (ExpenseRow) and column name. */
export const EXPENSE_COLUMNS = Object.entries(getTableColumns(expenses)).map(([key, column]) => ({ key: key as keyof ExpenseRow, name: column.name }));

/** A row as the driver returns it (keys are column names) -> ExpenseRow (keys are the schema's). */
export function columnsToRow(r: Record<string, unknown>): ExpenseRow {
  const out: Record<string, unknown> = {};
  for (const { key, name } of EXPENSE_COLUMNS) out[key] = r[name];
  return out as unknown as ExpenseRow;
}
