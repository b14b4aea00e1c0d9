/**
 * What an operator asks an instance: `GET /status` (one JSON answer for `shardctl status`
 * and the cluster page: ready, ring, records, version, database) and `GET /metrics`
 * (Prometheus text). Neither costs a scan: the record count is the store's own figure.
 */
import { Elysia, t } from "elysia";
import { ErrorBody, NoQuery } from "../expenses/model.ts";
import type { ExpenseStore } from "../store/types.ts";
import { VERSION } from "../version.ts";
import { type HttpMetrics, metricsFeature } from "../http/metrics.ts";
import { databaseProblem } from "./health.ts";
import type { RingGuard } from "./ring-guard.ts";

export const StatusBody = t.Object({
  node: t.String(),
  ready: t.Boolean({ description: "every table of the database can be read now (as /readyz)" }),
  message: t.Optional(t.String({ description: "why the instance is not ready" })),
  version: t.String({ description: "shardctl's version", examples: [VERSION] }),
  database: t.UnionEnum(["mysql", "sqlite"]),
  records: t.Integer({
    minimum: 0,
    description: "expense records stored: counted when the instance started, then kept by its own writes (no scan per request)",
  }),
  ring: t.Union([t.String(), t.Null()], { description: "the ring label <epoch>:<fingerprint>; null for an instance with no ring" }),
  uptime_s: t.Number({ description: "seconds since the instance started" }),
});
export type StatusBody = typeof StatusBody.static;

export function statusFeature(store: ExpenseStore, guard: RingGuard, metrics: HttpMetrics) {
  const started = performance.now();
  return new Elysia({ name: "status", seed: guard.self })
    .get(
      "/status",
      async (): Promise<StatusBody> => {
        let message: string | undefined;
        try {
          await store.ping();
        } catch (e) {
          message = databaseProblem(e);
        }
        return {
          node: guard.self,
          ready: message === undefined,
          ...(message === undefined ? {} : { message }),
          version: VERSION,
          database: store.dialect,
          records: store.stats().records,
          ring: guard.ring?.label ?? null,
          uptime_s: Math.round((performance.now() - started) / 100) / 10,
        };
      },
      {
        query: NoQuery,
        response: { 200: StatusBody, 422: ErrorBody },
        detail: {
          summary: "The instance at a glance: ready, ring, records, version, database (200 even when not ready: read `ready`)",
          tags: ["health"],
        },
      },
    )
    .use(metricsFeature(metrics, "requests, latency, in flight, database pool and errors, records, ring"));
}
