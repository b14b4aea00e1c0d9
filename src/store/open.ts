import { openMysqlStore } from "./mysql/store.ts";
import { openSqliteStore } from "./sqlite/store.ts";
import type { StoreLog } from "./availability.ts";
import type { ExpenseStore } from "./types.ts";
import { parseStoreUrl } from "./url.ts";

/**
 * The store a `--db` URL names, migrated and ready: `mysql://user:pass@host:port/db`
 * (database created if missing; `?pool=N` sets the pool size) or `sqlite:<path>` /
 * `sqlite::memory:`. Throws StoreUrlError for a malformed URL, StoreUnavailable when
 * the database cannot be reached. `log` is told when the database goes away and comes back.
 */
export async function openStore(url: string, log?: StoreLog): Promise<ExpenseStore> {
  const target = parseStoreUrl(url);
  return target.dialect === "sqlite" ? openSqliteStore(target.path, { log }) : openMysqlStore(target, { log });
}
