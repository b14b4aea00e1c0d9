/** Hooks shared by the store and server suites. Call them inside a describe block. */
import { afterAll, afterEach, beforeAll } from "bun:test";
import type { ExpenseStore } from "../../src/store/types.ts";
import { startMariaDB, type MariaDB } from "../support/mariadb.ts";

/** A MariaDB server for the enclosing describe block, stopped after it; `db()` names a fresh database on it. */
export function useMariaDB(prefix: string) {
  let server: MariaDB | undefined;
  let n = 0;
  beforeAll(async () => {
    server = await startMariaDB();
  });
  afterAll(async () => {
    await server?.stop();
  });
  const current = () => {
    if (!server) throw new Error("useMariaDB: the server is not started yet (use it inside a test)");
    return server;
  };
  return { server: current, db: () => current().url(`${prefix}_${n++}`) };
}

/** `fresh()` opens a store that is closed after the test. */
export function useStores(open: () => Promise<ExpenseStore>) {
  const opened: ExpenseStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  return async () => {
    const store = await open();
    opened.push(store);
    return store;
  };
}
