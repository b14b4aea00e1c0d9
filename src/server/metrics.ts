/**
 * GET /metrics: Prometheus text format (prom-client). Per request, one counter and one
 * histogram child, looked up in a map by their labels (prom-client hashes label objects on
 * every call otherwise); everything else (in flight, database, records, ring) is read when
 * scraped, so it costs nothing per request.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Ring } from "../ring/ring.ts";
import type { ExpenseStore } from "../store/types.ts";
import { versionInfo } from "../version.ts";

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Seconds; from well under a millisecond (a cached read) to the 5 s of a timed-out database. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Methods counted under their name; any other (clients may send anything) counts as OTHER. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

/** The requests of one HTTP server (an instance or the router): counted by method, route template and status. */
export class HttpMetrics {
  readonly registry: Registry;
  #inFlight = 0;
  readonly #requests: Counter<"method" | "route" | "status">;
  readonly #duration: Histogram<"method" | "route">;
  readonly #counted = new Map<string, { inc(): void }>();
  readonly #timed = new Map<string, { observe(seconds: number): void }>();

  constructor(registry = new Registry()) {
    this.registry = registry;
    this.#requests = new Counter({
      name: "shardctl_http_requests_total",
      help: "HTTP requests answered, by method, route template and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: "shardctl_http_request_duration_seconds",
      help: "Time from a request's arrival to its answer, by method and route template",
      labelNames: ["method", "route"],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });
    const self = this;
    new Gauge({
      name: "shardctl_http_requests_in_flight",
      help: "Requests being handled now",
      registers: [registry],
      collect() {
        this.set(self.#inFlight);
      },
    });
    const build = versionInfo();
    new Gauge({
      name: "shardctl_build_info",
      help: "Always 1; the labels say which shardctl this is",
      labelNames: ["version", "commit", "bun"],
      registers: [registry],
    }).set({ version: build.version, commit: build.commit ?? "unknown", bun: build.bun }, 1);
  }

  started(): void {
    this.#inFlight++;
  }

  finished(rawMethod: string, route: string, status: number, seconds: number): void {
    this.#inFlight--;
    const method = METHODS.has(rawMethod) ? rawMethod : "OTHER";
    const key = `${method} ${route}`;
    let timed = this.#timed.get(key);
    if (!timed) {
      timed = this.#duration.labels(method, route);
      this.#timed.set(key, timed);
    }
    timed.observe(seconds);
    const countKey = `${key} ${status}`;
    let counted = this.#counted.get(countKey);
    if (!counted) {
      counted = this.#requests.labels(method, route, String(status));
      this.#counted.set(countKey, counted);
    }
    counted.inc();
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

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

/** `shardctl_ring_info{label, epoch, fingerprint} 1`: the ring an instance (or the router) holds; absent without one. */
export function ringMetric(http: HttpMetrics, ring: () => Ring | undefined): void {
  new Gauge({
    name: "shardctl_ring_info",
    help: "Always 1, labelled with the ring held (label <epoch>:<fingerprint>); absent without a ring",
    labelNames: ["label", "epoch", "fingerprint"],
    registers: [http.registry],
    collect() {
      this.reset();
      const r = ring();
      if (r) this.set({ label: r.label, epoch: String(r.epoch), fingerprint: r.fingerprint }, 1);
    },
  });
}
