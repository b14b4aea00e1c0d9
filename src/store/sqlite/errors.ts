/** Which SQLite result codes mean "the database cannot serve now" (503), and what to tell of each. */
import { StoreSchemaMissing } from "../types.ts";

/** Result codes of a database that cannot serve now (503), rather than of a wrong statement. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|NOMEM|CORRUPT|NOTADB|PROTOCOL)/;
const BUSY = /^SQLITE_(BUSY|LOCKED)/;

/** The result code of a bun:sqlite error when it means the database cannot serve now; else undefined. */
export function unavailableCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && UNAVAILABLE.test(code) ? code : undefined;
}

/** Another connection holds the lock: worth trying again in a moment. */
export const isBusy = (code: string) => BUSY.test(code);

/** For StoreUnavailable: `waitedMs`, how long a locked file was tried again. */
export function unavailableMessage(code: string, e: unknown, waitedMs: number): string {
  if (isBusy(code)) return `the database file is locked by another connection (${code}) for over ${waitedMs} ms`;
  if (code === "SQLITE_FULL") return `the database or its disk is full (${code})`;
  return `the database file cannot be used (${code}): ${(e as Error).message}`;
}

/** A statement on a table that is not there (dropped by another connection): StoreSchemaMissing naming it; else undefined. */
export function missingTable(e: unknown): StoreSchemaMissing | undefined {
  const table = /^no such table: (?:main\.)?(\S+)/.exec((e as Error | undefined)?.message ?? "")?.[1];
  return table === undefined ? undefined : new StoreSchemaMissing(`table ${table}`, { cause: e });
}
