/**
 * The router on a socket: Bun.serve in production mode with a last-resort error
 * handler (every answer is JSON, none shows a stack), one request log line per
 * request, and a graceful `stop()` that lets requests in flight finish.
 */
import type { RequestLog } from "../server/app.ts";
import { clip, INTERNAL, pathOf } from "../server/errors.ts";
import { hostPort, routable } from "../server/instance.ts";
import type { Ring } from "../ring/ring.ts";
import { createRouterApp } from "./app.ts";
import { Upstream, type UpstreamOptions } from "./upstream.ts";

export const DEFAULT_ROUTER_PORT = 5000;
export const DEFAULT_ROUTER_TIMEOUT_MS = 5000;

export interface RouterOptions extends Partial<UpstreamOptions> {
  /** 0 picks a free port; `port` of the result is the real one. */
  readonly port: number;
  readonly host?: string;
  readonly ring: Ring;
  /** Default: one line per request on stdout. */
  readonly log?: RequestLog;
}

export interface Router {
  readonly url: string;
  readonly port: number;
  readonly ring: Ring;
  /** Stops accepting connections, lets requests in flight finish, closes the pooled connections. */
  stop(): Promise<void>;
}

/** The last resort, for an error that escapes the app: the JSON error body, never Bun's HTML page. */
function internalError(error: Error): Response {
  console.error("[router] unhandled error:", error);
  return Response.json(INTERNAL, { status: 500 });
}

/** The request's target for the log: path and query, clipped; never throws, whatever the target. */
function logTarget(url: string): string {
  const q = url.indexOf("?");
  const path = pathOf(url);
  return clip(q === -1 ? path : `${path}${url.slice(q)}`, 2048);
}

export function startRouter({ port, host = "127.0.0.1", ring, log = (line) => console.log(line), ...upstreamOptions }: RouterOptions): Router {
  const timeoutMs = upstreamOptions.timeoutMs ?? DEFAULT_ROUTER_TIMEOUT_MS;
  const upstream = new Upstream({ ...upstreamOptions, timeoutMs });
  let server: ReturnType<typeof Bun.serve> | undefined;
  const app = createRouterApp({ ring, upstream, clientAddress: (request) => server?.requestIP(request)?.address });
  const handle = app.fetch;

  server = Bun.serve({
    port,
    hostname: host,
    development: false,
    // The app answers an oversized body with the same JSON 413 as an instance (body.ts).
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // A connection waits for its answer up to two attempts at an owner; Bun would close it sooner.
    idleTimeout: Math.min(255, Math.ceil((2 * timeoutMs) / 1000) + 5),
    error: internalError,
    fetch: log
      ? async (request) => {
          const started = performance.now();
          const response = await handle(routable(request));
          const ms = performance.now() - started;
          const node = response.headers.get("x-shard-node");
          log(
            `${new Date().toISOString()} router ${clip(request.method, 16)} ${logTarget(request.url)} ${response.status} ${ms.toFixed(1)}ms` +
              `${node === null ? "" : ` -> ${node}`} req=${response.headers.get("x-request-id") ?? "-"}`,
          );
          return response;
        }
      : (request) => handle(routable(request)),
  });

  const realPort = server.port!;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${hostPort(host, realPort)}`,
    port: realPort,
    ring,
    stop: () =>
      (stopping ??= (async () => {
        await server.stop(false);
        upstream.close();
      })()),
  };
}
