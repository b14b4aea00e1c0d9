/**
 * GET /metrics: Prometheus text format (prom-client). Per request, one counter and one
 * histogram child, looked up in a map by their labels (prom-client hashes label objects on
 * every call otherwise); everything else (in flight, database, records, ring) is read when
 * scraped, so it costs nothing per request.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Ring } from "../ring/ring.ts";
import { Elysia, t } from "elysia";
import { ErrorBody, NoQuery } from "../expenses/model.ts";
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

/** GET /metrics: the Prometheus text of `metrics` (an instance's or the router's). */
export function metricsFeature(metrics: HttpMetrics, what: string) {
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    async () => new Response(await metrics.text(), { headers: { "content-type": METRICS_CONTENT_TYPE } }),
    {
      query: NoQuery,
      response: { 200: t.String({ description: "Prometheus text exposition format 0.0.4" }), 422: ErrorBody },
      detail: { summary: `Metrics in the Prometheus text format: ${what}`, tags: ["health"] },
    },
  );
}
