/**
 * One expense instance on a socket: open the store, bind, serve the app; `stop()`
 * lets requests in flight finish, then closes the store (and its pool).
 */
import { openStore } from "../store/open.ts";
import { parseStoreUrl } from "../store/url.ts";
import type { ExpenseStore } from "../store/types.ts";
import { createApp, type RequestLog } from "./app.ts";
import { internalErrorResponse } from "./errors.ts";

export interface InstanceOptions {
  /** 0 picks a free port; `port` of the result is the real one. */
  port: number;
  host?: string;
  /** A --db URL; default `sqlite:./data/shardctl-<port>.sqlite`. */
  db?: string;
  /** Default `host:port`, the ring's default node name for this address. */
  name?: string;
  log?: RequestLog;
}

export interface Instance {
  readonly url: string;
  readonly port: number;
  readonly name: string;
  readonly db: string;
  stop(): Promise<void>;
}

export const defaultDbUrl = (port: number) => `sqlite:./data/shardctl-${port}.sqlite`;

/** `host:port` as a client writes it (IPv6 in brackets), the same spelling as the ring's default names. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** 0.0.0.0, ::, [::] and other spellings of "every address": not an address a client can connect to. */
export function isWildcardHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1");
  return h === "0.0.0.0" || (h.includes(":") && /^[0:]+$/.test(h));
}

/**
 * Elysia finds the path as `url.indexOf("/", 11)`, i.e. it assumes the authority of
 * `http://<authority>/...` has at least 4 characters. A request with a shorter Host
 * (`Host: db1`, as a proxy on port 80 may send) would be routed by the wrong path
 * (`/v1/expenses/5` read as `/expenses/5`: 404). Such a request gets a longer stand-in
 * authority; nothing in the app reads the host.
 */
function routable(request: Request): Request {
  const url = request.url;
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  if (slash >= 11 || slash === -1) return request;
  // The body is handed over as the same stream: `new Request(url, request)` would first
  // read all of it, so a chunked body would never reach the body reader's limit.
  return new Request(`http://localhost${url.slice(slash)}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: request.signal,
    duplex: "half",
  } as RequestInit);
}

/** The answer while the store is still opening: the contract's JSON error with X-Shard-Node. */
function starting(node: string): Response {
  return Response.json(
    { error: "starting", message: "the instance is starting: its database is not open yet; retry shortly" },
    { status: 503, headers: { "x-shard-node": node, "retry-after": "1" } },
  );
}

export async function startInstance({ port, host = "127.0.0.1", db, name, log }: InstanceOptions): Promise<Instance> {
  // A malformed --db is a usage error whatever happens to the port: parse it before binding
  // (StoreUrlError), so a busy port cannot hide it. The default URL is always well-formed.
  if (db !== undefined) parseStoreUrl(db);
  // Bind first so that port 0 resolves before the default name and database are chosen;
  // until the store is open and the app exists, every request gets a JSON 503 "starting".
  let handle: ((request: Request) => Response | Promise<Response>) | undefined;
  let nodeName = name ?? "";
  const server = Bun.serve({
    port,
    hostname: host,
    // The app's own limit (MAX_BODY_BYTES, body.ts) answers every oversized body with a JSON
    // 413 and X-Shard-Node, from Content-Length before reading or while streaming a chunked
    // body, so it never buffers more than the limit. Bun's own check would answer first, with
    // a bare 413, for anything above this backstop: keep it out of the way.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // Never Bun's development error page (HTML with source lines) to a client: an error that
    // escapes the app is logged and answered with the JSON error body.
    development: false,
    error: (e) => {
      console.error(`[${nodeName}] unhandled error:`, e);
      return internalErrorResponse(nodeName);
    },
    fetch: (request) => (handle ? handle(routable(request)) : starting(nodeName)),
  });
  const realPort = server.port!;
  // Set before the first await, so even an answer while the store opens names the node.
  nodeName = name ?? hostPort(host, realPort);
  const url = db ?? defaultDbUrl(realPort);
  let store: ExpenseStore;
  try {
    store = await openStore(url, (line) => console.error(`shardctl: node ${nodeName}: ${line}`));
  } catch (e) {
    await server.stop(true);
    throw e;
  }
  const app = createApp({ store, name: nodeName, log });
  handle = app.fetch;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${hostPort(host, realPort)}`,
    port: realPort,
    name: nodeName,
    db: url,
    stop: () =>
      (stopping ??= (async () => {
        await server.stop(false);
        await store.close();
      })()),
  };
}
