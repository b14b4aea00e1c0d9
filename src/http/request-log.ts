/**
 * One log line per request, as text (the default) or JSON (`--log-format json`), written
 * off the request's path: lines are gathered and written together once per turn of the
 * event loop, so a busy instance makes one write for many requests, and the time is
 * formatted from a per-second cache rather than by `Date#toISOString` per line.
 */
import { clip } from "./errors.ts";

export type LogFormat = "text" | "json";
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** Where finished lines go; false for none. */
export type RequestLog = ((line: string) => void) | false;

/** What one line says about a request. */
export interface RequestEntry {
  /** Epoch milliseconds when the request arrived. */
  readonly time: number;
  readonly node: string;
  readonly method: string;
  /** The route's template (`/v1/expenses/:id`), or `unmatched`. */
  readonly route: string;
  /** The request's URL, from which the path and query are shown (text lines). */
  readonly url: string;
  readonly status: number;
  readonly durationMs: number;
  /** The request, for what only some formats show (its X-Request-Id). */
  readonly request: Request;
  /** The answer; undefined when the handler threw. */
  readonly response: Response | undefined;
}

let cachedSecond = -1;
let cachedPrefix = "";

/** `2026-11-23T10:41:02.123Z`, as `Date#toISOString`, with the part up to the second cached. */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const milli = ms - second * 1000;
  return `${cachedPrefix}${milli < 10 ? "00" : milli < 100 ? "0" : ""}${Math.floor(milli)}Z`;
}

/** The request's target for a text line: path and query, clipped; never throws, whatever the target. */
function target(url: string): string {
  const scheme = url.indexOf("://");
  const start = scheme === -1 ? 0 : url.indexOf("/", scheme + 3);
  return clip(start === -1 ? "/" : url.slice(start), 2048);
}

/** `<time> <node> <METHOD> <path?query> <status> <ms>ms`: the line serve has always written. */
export function textLine(e: RequestEntry): string {
  return `${isoTime(e.time)} ${e.node} ${clip(e.method, 16)} ${target(e.url)} ${e.status} ${e.durationMs.toFixed(1)}ms`;
}

/**
 * One JSON object: time, node, method, route, path, status, duration_ms, request_id (the
 * answer's X-Request-Id, which a router sets, else the request's, else one made here), and
 * `upstream` when another node answered (through a router).
 */
export function jsonLine(e: RequestEntry): string {
  const upstream = e.response?.headers.get("x-shard-node");
  return JSON.stringify({
    time: isoTime(e.time),
    node: e.node,
    method: clip(e.method, 16),
    route: e.route,
    path: target(e.url).replace(/\?.*$/, ""),
    status: e.status,
    duration_ms: Math.round(e.durationMs * 1000) / 1000,
    request_id: e.response?.headers.get("x-request-id") ?? requestIdOf(e.request),
    ...(upstream && upstream !== e.node ? { upstream } : {}),
  });
}

export type LineFormat = (e: RequestEntry) => string;

/**
 * Lines written to a file descriptor in batches: `push` only appends; the batch goes out in
 * one write after the current turn of the event loop. `flush()` writes what is pending now
 * (at stop).
 */
export class LineBatcher {
  #pending: string[] = [];
  #scheduled = false;

  constructor(private readonly write: (text: string) => void) {}

  push(line: string): void {
    this.#pending.push(line);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const text = `${this.#pending.join("\n")}\n`;
    this.#pending = [];
    this.write(text);
  }
}

/** The default request log: batched lines on stdout. */
export function stdoutLog(): { log: (line: string) => void; flush: () => void } {
  const batcher = new LineBatcher((text) => process.stdout.write(text));
  return { log: (line) => batcher.push(line), flush: () => batcher.flush() };
}

/** Visible ASCII, at most 200 characters: what a request id taken from a client (X-Request-Id) may look like. */
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;
let issued = 0;
const PROCESS_TAG = Math.floor(Math.random() * 0x100000000).toString(36);

/** The request's X-Request-Id when it is a sane one, else undefined. */
export function givenRequestId(request: Request): string | undefined {
  const given = request.headers.get("x-request-id");
  return given !== null && REQUEST_ID.test(given) ? given : undefined;
}

/** The request's X-Request-Id when it is a sane one (a router sends its own), else a new one, unique in this process. */
export function requestIdOf(request: Request): string {
  return givenRequestId(request) ?? `${PROCESS_TAG}-${(++issued).toString(36)}`;
}
