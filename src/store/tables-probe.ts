import { getTableName, type Table } from "drizzle-orm";

/**
 * What readiness asks of a database (ping): one read of every table the instance uses, in
 * one statement, so that a table dropped under the running instance makes it not ready,
 * the error naming the table (StoreSchemaMissing), rather than ready with requests failing.
 */
export function tablesProbe(tables: readonly Table[]): string {
  return `SELECT ${tables.map((t) => `(SELECT 1 FROM ${getTableName(t)} LIMIT 1)`).join(", ")}`;
}
