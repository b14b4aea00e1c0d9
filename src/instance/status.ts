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

/** A member of the Galera cluster of a shard (a --db URL naming several servers), as GET /status shows it. */
const MemberBody = t.Object({
  address: t.String({ description: "host:port, as the --db URL names it", examples: ["10.0.0.11:3306"] }),
  state: t.String({ description: "the member's wsrep_local_state_comment (Synced, Donor/Desynced, Joining, Initialized, ...), or down" }),
  clusterSize: t.Union([t.Integer({ minimum: 0 }), t.Null()], { description: "wsrep_cluster_size as this member sees it; null when down" }),
  inUse: t.Boolean({ description: "the member this instance sends every database operation to now" }),
  usable: t.Boolean({ description: "in the primary component, synced, ready and of the cluster's newest view: the instance may move to it" }),
  problem: t.Optional(t.String({ description: "why the instance may not use it, when it may not" })),
});

const GaleraBody = t.Object(
  {
    dialect: t.Literal("mysql"),
    cluster: t.Literal("galera"),
    member: t.Union([t.String(), t.Null()], { description: "host:port of the member in use; null while none is usable" }),
    since: t.Union([t.String(), t.Null()], { description: "since when it is in use (ISO time)" }),
    moves: t.Integer({ minimum: 0, description: "moves from one member to another since the instance started" }),
    members: t.Array(MemberBody),
  },
  { description: "a shard on a Galera cluster: its members, in the --db URL's order" },
);

export const StatusBody = t.Object({
  node: t.String(),
  ready: t.Boolean({ description: "every table of the database can be read now (as /readyz)" }),
  message: t.Optional(t.String({ description: "why the instance is not ready" })),
  version: t.String({ description: "shardctl's version", examples: [VERSION] }),
  database: t.Union([t.UnionEnum(["mysql", "sqlite"]), GaleraBody], {
    description: "the kind of database; for a shard on a Galera cluster, an object naming its members and the one in use",
  }),
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
          database: databaseOf(store),
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

/** `mysql` or `sqlite`; a Galera cluster's members and the one in use. */
function databaseOf(store: ExpenseStore): StatusBody["database"] {
  const cluster = store.stats().cluster;
  if (!cluster) return store.dialect;
  return {
    dialect: "mysql",
    cluster: "galera",
    member: cluster.member,
    since: cluster.since,
    moves: cluster.moves,
    members: cluster.members.map((m) => ({
      address: m.address,
      state: m.state,
      clusterSize: m.clusterSize,
      inUse: m.inUse,
      usable: m.usable,
      ...(m.problem === null ? {} : { problem: m.problem }),
    })),
  };
}
