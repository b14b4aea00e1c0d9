/**
 * The router on a socket: Bun.serve in production mode with a last-resort error
 * handler (every answer is JSON, none shows a stack), one request log line per
 * request, and a graceful `stop()` that lets requests in flight finish.
 */
import { accounted } from "../http/accounting.ts";
import { INTERNAL } from "../http/errors.ts";
import { HttpMetrics, ringMetric } from "../http/metrics.ts";
import { jsonLine, stdoutLog, textLine, type LineFormat, type LogFormat, type RequestLog } from "../http/request-log.ts";
import { dated, hostPort, isWrite, LISTENER, routable, whenSettled } from "../http/listen.ts";
import type { Ring } from "../ring/ring.ts";
import { createRouterApp, defaultDeadlineMs } from "./app.ts";
import { FollowedRing } from "./followed-ring.ts";
import { ROUTER_ROUTES } from "./routes.ts";
import { Upstream, type UpstreamOptions } from "./upstream.ts";

export const DEFAULT_ROUTER_PORT = 5000;
export const DEFAULT_ROUTER_TIMEOUT_MS = 5000;
/** The longest deadline of a request: Bun's idle timeout (at most 255 s) must outlast it. */
const MAX_DEADLINE_MS = 250_000;

export interface RouterOptions extends Partial<UpstreamOptions> {
  /** 0 picks a free port; `port` of the result is the real one. */
  readonly port: number;
  readonly host?: string;
  readonly ring: Ring;
  /** Default: one line per request on stdout. */
  readonly log?: RequestLog;
  /** How request log lines read: text (default) or json. */
  readonly logFormat?: LogFormat;
  /** Where a ring adoption is told; default stderr. */
  readonly note?: (line: string) => void;
  /** How long a request may take in all before it is a 504 (see RouterAppOptions); default three timeouts, at most 250 s. */
  readonly deadlineMs?: number;
}

export interface Router {
  readonly url: string;
  readonly port: number;
  /** The ring in force now: the one given, or a newer one the cluster's instances pointed to. */
  readonly ring: Ring;
  /** Stops accepting connections, lets requests in flight finish, closes the pooled connections. */
  stop(): Promise<void>;
}

/** The last resort, for an error that escapes the app: the JSON error body, never Bun's HTML page. */
function internalError(error: Error): Response {
  console.error("[router] unhandled error:", error);
  return Response.json(INTERNAL, { status: 500 });
}

/** The instance's text line, then the node that answered and the request id: `... -> b req=<id>`. */
const routerTextLine: LineFormat = (e) => {
  const node = e.response?.headers.get("x-shard-node");
  return `${textLine(e)}${node ? ` -> ${node}` : ""} req=${e.response?.headers.get("x-request-id") ?? "-"}`;
};

export function startRouter({
  port,
  host = "127.0.0.1",
  ring,
  log,
  logFormat = "text",
  note = (line) => console.error(line),
  deadlineMs: givenDeadlineMs,
  ...upstreamOptions
}: RouterOptions): Router {
  const timeoutMs = upstreamOptions.timeoutMs ?? DEFAULT_ROUTER_TIMEOUT_MS;
  // Bun's idle timeout is at most 255 s, and it must outlast every request's deadline.
  const deadlineMs = Math.min(givenDeadlineMs ?? defaultDeadlineMs(timeoutMs), MAX_DEADLINE_MS);
  const upstream = new Upstream({ ...upstreamOptions, timeoutMs });
  const followed = new FollowedRing(ring, timeoutMs, note);
  let server: ReturnType<typeof Bun.serve> | undefined;
  const metrics = new HttpMetrics();
  ringMetric(metrics, () => followed.ring);
  // The client's address of a request routed under another Request object (see routable):
  // requestIP knows only the one Bun made.
  const peers = new WeakMap<Request, string | undefined>();
  const clientAddress = (request: Request) => (peers.has(request) ? peers.get(request) : server?.requestIP(request)?.address);
  const app = createRouterApp({ ring: followed, upstream, metrics, clientAddress, deadlineMs });
  const out = log === undefined ? stdoutLog() : { log, flush: () => {} };
  const handle = accounted(app.fetch, {
    node: "router",
    metrics,
    routeOf: ROUTER_ROUTES.templateOf,
    log: out.log && { format: logFormat === "json" ? jsonLine : routerTextLine, write: out.log },
  });

  server = Bun.serve({
    ...LISTENER,
    port,
    hostname: host,
    // The app answers an oversized body with the same JSON 413 as an instance (body.ts).
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // A connection waits for its answer until the request's deadline, which answers a 504 first:
    // Bun's idle timeout would close it (ECONNRESET, the outcome unknown to the client) sooner.
    idleTimeout: Math.ceil(deadlineMs / 1000) + 5,
    error: internalError,
    fetch: (request, bun) => {
      const routed = routable(request);
      if (routed !== request) peers.set(routed, bun.requestIP(request)?.address);
      // a write is sent on to its node only once the client's connection is known to stay (whenSettled)
      if (isWrite(request.method)) return whenSettled(request, () => handle(routed));
      return request.method === "HEAD" ? dated(handle(routed)) : handle(routed);
    },
  });

  const realPort = server.port!;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${hostPort(host, realPort)}`,
    port: realPort,
    get ring() {
      return followed.ring;
    },
    stop: () =>
      (stopping ??= (async () => {
        await server.stop(false);
        out.flush();
        upstream.close();
      })()),
  };
}
