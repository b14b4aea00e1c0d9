import { Counter, Gauge } from "prom-client";
import { type HttpMetrics, ringMetric } from "../http/metrics.ts";
import type { Ring } from "../ring/ring.ts";
import type { ExpenseStore } from "../store/types.ts";

/** What an instance shows beside its requests: its database, records and ring, read at each scrape. */
export function instanceMetrics(http: HttpMetrics, store: ExpenseStore, ring: () => Ring | undefined): void {
  const registers = [http.registry];
  new Gauge({
    name: "shardctl_records",
    help: "Expense records in this instance's database (counted at start, then kept by this instance's own writes)",
    registers,
    collect() {
      const records = store.stats().records;
      if (records !== undefined) this.set(records);
    },
  });
  new Counter({
    name: "shardctl_db_errors_total",
    help: "Database operations that failed because the database could not serve them (unreachable, timed out, busy, full)",
    registers,
    collect() {
      this.reset();
      this.inc(store.stats().unavailable);
    },
  });
  new Gauge({
    name: "shardctl_db_pool_connections",
    help: "Connections of the database pool by state: busy (lent to an operation) or idle (MySQL only)",
    labelNames: ["state"],
    registers,
    collect() {
      const pool = store.stats().pool;
      if (!pool) return;
      this.set({ state: "busy" }, pool.busy);
      this.set({ state: "idle" }, pool.idle);
    },
  });
  new Gauge({
    name: "shardctl_db_pool_max_connections",
    help: "The most connections the pool opens (?pool=, MySQL only)",
    registers,
    collect() {
      const pool = store.stats().pool;
      if (pool) this.set(pool.max);
    },
  });
  new Gauge({
    name: "shardctl_db_pool_waiting",
    help: "Operations waiting for a pooled connection (MySQL only)",
    registers,
    collect() {
      const pool = store.stats().pool;
      if (pool) this.set(pool.waiting);
    },
  });
  ringMetric(http, ring);
}
