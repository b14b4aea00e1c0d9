/** The SQLite store's one connection: the file opened (created if needed) in WAL mode and migrated. */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { migrate } from "../migrate.ts";
import { migrationTarget } from "./migration-lock.ts";
import { migrations } from "./migrations.ts";

/** Opening waits longer for a lock than an operation: another instance may be migrating the same new file. */
const OPEN_BUSY_TIMEOUT_MS = 5000;

/**
 * The database at `path` (":memory:" for a private in-memory one), migrated; from then on a
 * locked file fails at once (busy_timeout 0): the runner waits, letting the loop run (runner.ts).
 * `maxPageCount` (for tests): a database that may not grow past this many pages (a full disk).
 */
export async function openDatabase(path: string, maxPageCount?: number): Promise<Database> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const client = new Database(path, { create: true, strict: true });
  // The wait first: switching a new file to WAL needs a moment of exclusive access, which
  // another instance opening the same file at once may hold.
  client.exec(`PRAGMA busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
  client.exec("PRAGMA journal_mode = WAL");
  await migrate(migrationTarget(client), migrations);
  client.exec("PRAGMA busy_timeout = 0");
  if (maxPageCount !== undefined) client.exec(`PRAGMA max_page_count = ${maxPageCount}`);
  return client;
}

/** A write that needs new pages and leaves nothing behind: can the database grow now? */
export function writeProbe(client: Database) {
  return client.transaction(() => {
    client.exec("CREATE TABLE shardctl_write_probe (x BLOB)");
    client.exec("INSERT INTO shardctl_write_probe VALUES (zeroblob(16384))");
    client.exec("DROP TABLE shardctl_write_probe");
  });
}
