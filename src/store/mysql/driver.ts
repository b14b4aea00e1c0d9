/**
 * What the MySQL store needs around mysql2: which driver errors mean "the database is
 * not there" (503, never blamed on the client), and drizzle-built statements run as
 * real server-side prepared statements.
 */
import type mysql from "mysql2/promise";
import { getTableColumns, is, Param, Placeholder } from "drizzle-orm";
import type { ExpenseRow } from "../record.ts";
import { StoreLoginRefused, StoreUnavailable } from "../types.ts";
import { expenses } from "./schema.ts";

/** Error codes that mean "the server is not there", not "your query is wrong". */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EAI_AGAIN",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_CON_COUNT_ERROR",
  "ER_SERVER_SHUTDOWN",
]);

/** Codes of a server that is there but refuses this login. */
const LOGIN_REFUSED = new Set(["ER_ACCESS_DENIED_ERROR", "ER_DBACCESS_DENIED_ERROR"]);

export interface DriverError {
  code?: string;
  errno?: number;
  fatal?: boolean;
  message?: string;
  cause?: unknown;
}

/** The mysql2 error inside drizzle's wrapper, if any. */
export function driverError(e: unknown): DriverError | undefined {
  for (let c = e as DriverError | undefined, depth = 0; c && depth < 5; c = c.cause as DriverError, depth++) {
    if (typeof c.code === "string" || typeof c.errno === "number") return c;
  }
  return undefined;
}

/** StoreUnavailable (or StoreLoginRefused) for a driver error that means the database is not usable; else undefined. */
export function unavailable(e: unknown): StoreUnavailable | undefined {
  const d = driverError(e);
  if (d?.code && LOGIN_REFUSED.has(d.code)) {
    return new StoreLoginRefused(`login refused: ${d.code} ${d.message ?? ""}`.trim(), { cause: e });
  }
  if (d && ((d.code && UNREACHABLE.has(d.code)) || d.fatal)) {
    return new StoreUnavailable(`database unavailable: ${d.code ?? ""} ${d.message ?? ""}`.trim(), { cause: e });
  }
  return undefined;
}

/** Runs `work`, turning "the database is not there" into StoreUnavailable. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw unavailable(e) ?? e;
  }
}

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

// A row as the driver returns it (keys are column names) -> ExpenseRow (keys are the schema's).
const columns = Object.entries(getTableColumns(expenses)).map(([key, column]) => [key, column.name] as const);
export function columnsToRow(r: Record<string, unknown>): ExpenseRow {
  const out: Record<string, unknown> = {};
  for (const [key, name] of columns) out[key] = r[name];
  return out as unknown as ExpenseRow;
}
