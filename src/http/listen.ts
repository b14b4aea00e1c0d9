/**
 * What every listener of the binary shares: the socket options of its Bun.serve, the
 * address it binds (checked, and written as a client writes it), and requests made
 * routable whatever their Host.
 */
import { isIPv4, isIPv6 } from "node:net";
import { ApiError } from "../errors.ts";
import { clip } from "./errors.ts";

/**
 * Spread into every Bun.serve of the binary. `development: false`: never Bun's error page
 * (HTML with source lines) to a client. `reusePort: false`: Bun 1.4.5 sets SO_REUSEPORT
 * whenever development is off, so a second server on a port that another one holds would
 * start too and the kernel would split the connections between them; without it the
 * second bind fails with EADDRINUSE ("the address is in use", exit 1).
 */
export const LISTENER = { development: false, reusePort: false } as const;

const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`);

/** `host:port` as a client writes it (IPv6 in brackets), the same spelling as the ring's default names. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * What is wrong with `host` as an address to bind, or undefined: an IPv4 address (four
 * numbers of 0..255), an IPv6 address (brackets optional), or a host name.
 */
export function hostProblem(host: string): string | undefined {
  const h = host.replace(/^\[(.*)\]$/, "$1");
  if (h.includes(":")) return isIPv6(h) ? undefined : "is not an IPv6 address";
  if (/^[\d.]+$/.test(h)) return isIPv4(h) ? undefined : "is not an IPv4 address (four numbers of 0 to 255, like 127.0.0.1)";
  return HOST_NAME.test(h) ? undefined : "is not an IP address or a host name";
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
 * (`/v1/expenses/5` read as `/expenses/5`: 404). A request with no Host at all (HTTP/1.0)
 * or an empty one has no origin in its URL, only the path. Such requests get a longer
 * stand-in authority; nothing in the app reads the host.
 */
export function routable(request: Request): Request {
  const url = request.url;
  // `/v1/...` (no origin) is all path; else the path starts after the authority
  const slash = url.charCodeAt(0) === 0x2f /* / */ ? 0 : url.indexOf("/", url.indexOf("//") + 2);
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

/**
 * A request must carry one Host (RFC 9112 section 3.2: more than one Host line is a 400).
 * Bun joins repeated lines into one value (`a, b`), and a comma is in no host: 400 naming it.
 */
export function checkHost(request: Request): void {
  const host = request.headers.get("host");
  if (host?.includes(",")) {
    throw new ApiError(400, "bad_host", `Host: given more than once or with a comma (${clip(host)}); send one Host line with one host[:port]`);
  }
}

/** Bun 1.4.5 sends a Date with every answer but HEAD's (RFC 9110 section 6.6.1): a HEAD answer gets one here. */
export async function dated(answer: Response | Promise<Response>): Promise<Response> {
  const response = await answer;
  if (!response.headers.has("date")) response.headers.set("date", new Date().toUTCString());
  return response;
}

/** The methods whose request changes something: they wait to see the connection settle (whenSettled). */
export const isWrite = (method: string): boolean => method === "POST" || method === "PUT" || method === "DELETE";

/**
 * Bun 1.4.5 closes a connection without answering when it reads the next request on it (a
 * pipelined one, or a chunked body's trailer, which it takes for one) while the answer of
 * the request in hand is still pending: that answer is lost, though the request was done.
 * So a write that is about to wait for I/O (a database, a node) first waits one turn of the
 * event loop, in which Bun reads what else the client sent at once; if that closed the
 * connection, `run` is not called and nothing is done (the 499 reaches nobody). What can
 * still be lost: a request whose connection closes later, while it runs (see
 * test/http/pipelining.test.ts).
 */
export async function whenSettled(request: Request, run: () => Promise<Response>): Promise<Response> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (request.signal.aborted) return new Response(null, { status: 499 });
  return run();
}
