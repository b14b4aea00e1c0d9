/**
 * Around a request handler (an instance's app, the router's): each request is counted in
 * the metrics by method, route template and status, timed, and logged, in one place that
 * sees the final answer, whichever part of the app made it.
 */
import type { HttpMetrics } from "./metrics.ts";
import type { RequestEntry } from "./request-log.ts";

export interface AccountingOptions {
  /** The name in log lines. */
  readonly node: string;
  readonly metrics?: HttpMetrics;
  /** One line per request: how it reads and where it goes; omitted or false for no log. */
  readonly log?: { readonly format: (entry: RequestEntry) => string; readonly write: (line: string) => void } | false;
  /** The route template of a path (RouteTable.templateOf). */
  readonly routeOf: (path: string) => string;
}

/** The path of a request URL (no query): cheap, and never throws on odd targets. */
function pathOfUrl(url: string): string {
  const scheme = url.indexOf("://");
  const start = scheme === -1 ? 0 : url.indexOf("/", scheme + 3);
  if (start === -1) return "/";
  const q = url.indexOf("?", start);
  const h = url.indexOf("#", start);
  const end = q === -1 ? h : h === -1 ? q : Math.min(q, h);
  return end === -1 ? url.slice(start) : url.slice(start, end);
}

export function accounted(
  handle: (request: Request) => Response | Promise<Response>,
  { node, metrics, log, routeOf: route }: AccountingOptions,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const time = Date.now();
    const started = performance.now();
    metrics?.started();
    let response: Response | undefined;
    try {
      response = await handle(request);
      return response;
    } finally {
      const status = response?.status ?? 500;
      const durationMs = performance.now() - started;
      const url = request.url;
      const template = route(pathOfUrl(url));
      metrics?.finished(request.method, template, status, durationMs / 1000);
      if (log) log.write(log.format({ time, node, method: request.method, route: template, url, status, durationMs, request, response }));
    }
  };
}
