/**
 * Which mysql2 errors mean "the database is not there" (503, never blamed on the client),
 * and the error inside drizzle's wrapper.
 */
import { StoreLoginRefused, StoreSchemaMissing, StoreUnavailable } from "../types.ts";

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
  // A Galera member outside the primary component (or not yet synced): "WSREP has not yet
  // prepared node for application use". It serves nothing; another member may.
  "ER_UNKNOWN_COM_ERROR",
  // A COMMIT that failed in the server: on Galera, the member left the primary component
  // under it ("... provider status: Not connected to Primary Component").
  "ER_ERROR_DURING_COMMIT",
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

/** The statement was refused because the primary key is stored already. */
export const isDuplicateKey = (e: unknown) => driverError(e)?.code === "ER_DUP_ENTRY";

/** The driver's message with its code, said once (`connect ECONNREFUSED 127.0.0.1:3306` has it already). */
function described(d: DriverError): string {
  const message = d.message ?? "";
  return d.code && !message.includes(d.code) ? `${d.code} ${message}`.trim() : message;
}

/**
 * StoreUnavailable (or StoreLoginRefused, or StoreSchemaMissing for a table or database
 * dropped under the instance) for a driver error that means the database is not usable; else undefined.
 */
export function unavailable(e: unknown): StoreUnavailable | undefined {
  const d = driverError(e);
  if (d?.code === "ER_NO_SUCH_TABLE" || d?.code === "ER_BAD_DB_ERROR") {
    // "Table 'shard1.expenses' doesn't exist", "Unknown database 'shard1'"
    const name = /'(?:[^'.]*\.)?([^']*)'/.exec(d.message ?? "")?.[1] ?? "?";
    return new StoreSchemaMissing(`${d.code === "ER_NO_SUCH_TABLE" ? "table" : "database"} ${name}`, { cause: e });
  }
  if (d?.code && LOGIN_REFUSED.has(d.code)) {
    return new StoreLoginRefused(`login refused: ${described(d)}`, { cause: e });
  }
  if (d && ((d.code && UNREACHABLE.has(d.code)) || d.fatal)) {
    return new StoreUnavailable(`the database cannot be reached: ${described(d)}`, { cause: e });
  }
  return undefined;
}
