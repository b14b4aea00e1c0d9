/**
 * The HTTP app of one expense instance, without a socket: `startInstance` serves it,
 * tests call `app.handle(new Request(...))`.
 */
import { Elysia } from "elysia";
import { expensesFeature } from "../expenses/index.ts";
import { ExpenseService } from "../expenses/service.ts";
import type { ExpenseStore } from "../store/types.ts";
import type { AdminPolicy } from "./admin.ts";
import { parseJsonBody } from "../http/body.ts";
import { answerError } from "../http/errors.ts";
import { healthFeature } from "./health.ts";
import { accounted } from "../http/accounting.ts";
import { HttpMetrics } from "../http/metrics.ts";
import { checkHost } from "../http/listen.ts";
import { rejectRepeatedQuery } from "../http/query.ts";
import { instanceMetrics } from "./metrics.ts";
import { ADMIN_TAG, ANY_ROUTE_ERRORS, apiDocs } from "../http/openapi-document.ts";
import { openapiPage } from "../http/openapi-page.ts";
import { jsonLine, stdoutLog, textLine, type LogFormat, type RequestLog } from "../http/request-log.ts";
import { statusFeature } from "./status.ts";
import { RingGuard } from "./ring-guard.ts";
import { bodyLimit, rebalanceFeature } from "./rebalance/routes.ts";
import type { Rebalancing } from "./rebalance/rebalancing.ts";
import { RING_HEADER } from "../ring/ring.ts";
import { ringFeature } from "./ring-routes.ts";
import { INSTANCE_ROUTES } from "./routes.ts";
import type { Repairing } from "./repair/repairing.ts";
import { repairBodyLimit, repairFeature } from "./repair/routes.ts";

export interface AppOptions {
  store: ExpenseStore;
  /** The node name, sent as X-Shard-Node on every answer. */
  name: string;
  /** The instance's ring and ownership check; default: a guard with no ring (checks nothing). */
  guard?: RingGuard;
  /** Who may make admin requests; default: no token and no peer address known, so nobody. */
  admin?: AdminPolicy;
  /** Where notes for the operator go (a ring adopted); default stderr. */
  note?: (line: string) => void;
  /** The instance's part in rebalances (the /rebalance admin endpoints); default: none. */
  rebalancing?: Rebalancing;
  /** The instance's part in repairs (the /repair admin endpoints, and the turns writes take with them); default: none. */
  repairing?: Repairing;
  /** What GET /metrics shows; default: a registry of its own. */
  metrics?: HttpMetrics;
}

/** The tags of an instance's routes, in the order its document lists them: the expense API first, admin last. */
const INSTANCE_TAGS = [
  { name: "expenses", description: "The expense records this shard holds: the service's API" },
  { name: "health", description: "Liveness, readiness, the instance at a glance, metrics" },
  { name: "ring", description: "The ring this instance holds" },
  { name: ADMIN_TAG, description: "Admin (a bearer token, or loopback): change the ring; the endpoints a rebalance drives the instance with" },
];

/** The Elysia app of an instance. Requests are logged and counted around it: see `createHandler`. */
export function createApp({
  store,
  name,
  guard = new RingGuard(name, store, undefined),
  admin = { peerAddress: () => undefined },
  note = (line) => console.error(line),
  rebalancing,
  repairing,
  metrics = new HttpMetrics(),
}: AppOptions) {
  const limitOf = repairBodyLimit(admin, bodyLimit(admin));
  return (
    new Elysia({ name: "shardctl-instance", seed: name, normalize: false })
      .onRequest(({ set, request }) => {
        set.headers["x-shard-node"] = name;
        // The ring now; a request on an id is labelled again with the ring it ran under (RingGuard.serve).
        const ring = guard.ring;
        if (ring) set.headers[RING_HEADER] = ring.label;
        checkHost(request);
      })
      .onTransform({ as: "global" }, ({ request }) => rejectRepeatedQuery(request.url))
      // only `request` taken from the context: Elysia then prepares no more of it (headers, cookies) per request
      .onParse({ as: "global" }, ({ request }) => parseJsonBody({ request }, limitOf(request)))
      .onError({ as: "global" }, ({ code, error, request, set }) => answerError(name, code, error, request, set, INSTANCE_ROUTES))
      .use(
        apiDocs({
          title: "shardctl expense instance",
          description:
            "One shard of the expense service. Every answer carries X-Shard-Node, and X-Shard-Ring (<epoch>:<fingerprint>) " +
            "when the instance has a ring. Errors are JSON {error, message, field}: malformed JSON 400, " +
            "missing/unknown/invalid field 422, duplicate id 409, body over 64 KiB 413, a body that is not sent as JSON (a " +
            "form) 415, method not served on a known path 405 (with Allow), database unreachable 503. A ring-aware instance " +
            "answers 421 {error: misdirected, message, id, owner: {name, url}, ring} for an id it does not own, and " +
            "executes nothing. Query parameters a route does not take, or given twice, are 422.",
          tags: INSTANCE_TAGS,
          errors: { ...ANY_ROUTE_ERRORS, "503": "the instance is starting (its database is not open yet), or its database cannot serve now" },
          headers: {
            "X-Shard-Node": { description: "the name of the node that answered", required: true },
            "X-Shard-Ring": { description: "the ring it answered under, <epoch>:<fingerprint>, when it has a ring" },
          },
        }),
      )
      .use(openapiPage())
      .use(healthFeature(store, name))
      .use(statusFeature(store, guard, metrics))
      .use(ringFeature(guard, admin, note, rebalancing))
      .use(rebalancing ? rebalanceFeature(rebalancing, admin) : new Elysia({ name: "no-rebalance" }))
      .use(repairing ? repairFeature(repairing, admin) : new Elysia({ name: "no-repair" }))
      .use(expensesFeature(new ExpenseService(store), repairing ? repairing.guarding(guard) : guard))
  );
}

export type App = ReturnType<typeof createApp>;
export type { LogFormat, RequestLog };

export interface HandlerOptions extends AppOptions {
  /** Where request log lines go; false for none. Default: stdout, batched (request-log.ts). */
  log?: RequestLog;
  logFormat?: LogFormat;
}

/** An instance's request handler: the app, with each request counted (/metrics) and logged around it. */
export interface Handler {
  readonly app: App;
  readonly metrics: HttpMetrics;
  handle(request: Request): Promise<Response>;
  /** Writes the log lines not yet written (at stop). */
  flushLog(): void;
}

export function createHandler({ log, logFormat = "text", ...options }: HandlerOptions): Handler {
  const metrics = options.metrics ?? new HttpMetrics();
  instanceMetrics(metrics, options.store, () => options.guard?.ring);
  const app = createApp({ ...options, metrics });
  const out = log === undefined ? stdoutLog() : { log, flush: () => {} };
  const handle = accounted(app.fetch, {
    node: options.name,
    metrics,
    routeOf: INSTANCE_ROUTES.templateOf,
    log: out.log && { format: logFormat === "json" ? jsonLine : textLine, write: out.log },
  });
  return { app, metrics, handle, flushLog: out.flush };
}
