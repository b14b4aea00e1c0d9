/**
 * One HTTP exchange with one shard: a timeout per attempt, and retries with capped,
 * jittered exponential backoff for the failures a retry can cure (connection
 * refused/reset, timeouts, 5xx). A 4xx is the client's mistake and is never retried,
 * except a 429 that says when to come back. A Retry-After is honoured, up to a bound.
 *
 * Retrying a POST is safe here because the service never overwrites: a POST whose
 * first attempt was stored answers 409 on the retry, which the caller resolves by
 * reading the record back (see ShardedExpenseClient.ensure).
 *
 * Answers are read up to a size limit: an instance's answers are small, and a node
 * that streams without end must not fill the client's memory.
 */
import type { Node } from "../ring/node.ts";
import { RING_HEADER } from "../ring/ring.ts";
import type { Circuit } from "./circuit.ts";
import { errorMessage } from "../errors.ts";
import { ShardRequestError, type FailureKind } from "./errors.ts";

/** Where a request goes: the node's ring name (for messages) and its base URL. */
type Target = Pick<Node, "name" | "url">;

export interface RetryOptions {
  /** Per-attempt timeout in milliseconds. Default 5000. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt. Default 5. */
  readonly retries?: number;
  /** First backoff delay in milliseconds; doubles per retry, capped at 2 s. Default 200. */
  readonly backoffMs?: number;
  /** The longest Retry-After honoured, in milliseconds; a longer one waits this long. Default 5000. */
  readonly maxRetryAfterMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 5000;
/**
 * With the default backoff the retries wait 2.5 to 5 s in all (each delay is between half
 * and all of 200 ms doubling, capped at 2 s): enough for an instance that restarts.
 */
export const DEFAULT_RETRIES = 5;
export const DEFAULT_BACKOFF_MS = 200;
export const DEFAULT_MAX_RETRY_AFTER_MS = 5000;
const MAX_BACKOFF_MS = 2000;

/** The largest answer read for one record (an instance takes bodies up to 64 KiB). */
export const MAX_RECORD_ANSWER_BYTES = 1 << 20;
/** The largest answer read for a listing page (1,000 records of typical size are well under 1 MiB). */
export const MAX_PAGE_ANSWER_BYTES = 16 << 20;

export interface ShardResponse {
  readonly status: number;
  /** Parsed JSON, or undefined for an empty body. */
  readonly body: unknown;
  /** The X-Shard-Node header: which instance answered. */
  readonly servedBy: string | null;
  /** The X-Shard-Ring header: the ring the instance answered under, or null (an instance without a ring). */
  readonly ring: string | null;
  readonly attempts: number;
  /** The answer's Retry-After, in milliseconds, when it has one. */
  readonly retryAfterMs?: number;
}

export interface ShardRequest {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly body?: unknown;
  /** The largest answer to read. Default MAX_RECORD_ANSWER_BYTES. */
  readonly maxAnswerBytes?: number;
  /** More request headers (X-Shard-Ring). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface CallOptions extends RetryOptions {
  /** The node's circuit: refuses attempts while open, learns from each outcome. */
  readonly circuit?: Circuit;
  /** The caller's own abort (Ctrl-C): the request fails as "interrupted". */
  readonly signal?: AbortSignal;
}

/** Sends `request` to `node`; answers any HTTP status, throws ShardRequestError for transport failures. */
export async function callShard(node: Target, request: ShardRequest, options: CallOptions = {}): Promise<ShardResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = options.retries ?? DEFAULT_RETRIES;
  const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const maxBytes = request.maxAnswerBytes ?? MAX_RECORD_ANSWER_BYTES;
  const { circuit, signal } = options;
  const init: RequestInit = {
    method: request.method,
    headers: {
      accept: "application/json",
      ...(request.body === undefined ? {} : { "content-type": "application/json" }),
      ...request.headers,
    },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  };
  const interrupted = (attempts: number) =>
    new ShardRequestError(node.name, node.url, "interrupted", "interrupted before the answer came", undefined, attempts);
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw interrupted(attempt - 1);
    circuit?.admit(attempt - 1);
    if (attempt > 1) circuit?.retried();
    let failure: { kind: FailureKind; reason: string; hint?: string };
    let waitMs: number | undefined;
    const sentAt = performance.now();
    try {
      const signals = [AbortSignal.timeout(timeoutMs), ...(circuit ? [circuit.signal] : []), ...(signal ? [signal] : [])];
      const res = await fetch(node.url + request.path, { ...init, signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) });
      const text = await readCapped(res, maxBytes);
      if (text === undefined) {
        circuit?.answered();
        throw new ShardRequestError(
          node.name,
          node.url,
          "invalid-response",
          `HTTP ${res.status} with an answer over ${mib(maxBytes)} (an instance's answers are far smaller); stopped reading it`,
          res.status,
          attempt,
        );
      }
      const retryAfter = retryAfterMs(res.headers.get("retry-after"));
      const retryable = res.status >= 500 || (res.status === 429 && retryAfter !== undefined);
      if (!retryable || retryAfter !== undefined) circuit?.answered();
      else circuit?.failed({ kind: "http", reason: `HTTP ${res.status}: ${bodyMessage(parseLoosely(text))}`, status: res.status }, sentAt);
      if (!retryable || attempt > retries) {
        return {
          status: res.status,
          body: parseBody(node, text, res.status, attempt),
          servedBy: res.headers.get("x-shard-node"),
          ring: res.headers.get(RING_HEADER),
          attempts: attempt,
          ...(retryAfter !== undefined && { retryAfterMs: retryAfter }),
        };
      }
      waitMs = retryAfter === undefined ? undefined : Math.min(retryAfter, maxRetryAfterMs);
    } catch (e) {
      if (circuit && e === circuit.signal.reason) {
        const gaveUp = e as ShardRequestError; // the circuit opened while this attempt was in flight
        throw new ShardRequestError(node.name, node.url, gaveUp.kind, gaveUp.reason, gaveUp.status, attempt);
      }
      if (e instanceof ShardRequestError) throw e;
      if (signal?.aborted) throw interrupted(attempt);
      failure = classify(e, timeoutMs);
      circuit?.failed({ kind: failure.kind, reason: failure.reason }, sentAt);
      if (attempt > retries) {
        const tries = attempt === 1 ? "" : ` after ${attempt} attempts`;
        const hint = failure.hint ? ` (${failure.hint})` : "";
        throw new ShardRequestError(node.name, node.url, failure.kind, failure.reason + tries + hint, undefined, attempt);
      }
    }
    // Waiting ends early when the circuit opens (the next admit() then fails) or the caller aborts.
    await sleep(waitMs ?? backoff(attempt, backoffMs), [circuit?.signal, signal]);
  }
}

/**
 * The body as text, or undefined when it is larger than `maxBytes`: then it is not read
 * further and the connection is dropped.
 */
async function readCapped(res: Response, maxBytes: number): Promise<string | undefined> {
  const declared = res.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > maxBytes) {
      await res.body?.cancel();
      return undefined;
    }
    return res.text(); // the length is the framing: no more than that is read
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Retry-After in milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Resolves after `ms`, or as soon as one of the signals aborts. */
function sleep(ms: number, signals: readonly (AbortSignal | undefined)[]): Promise<void> {
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  if (live.some((s) => s.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of live) s.addEventListener("abort", done, { once: true });
  });
}

function mib(bytes: number): string {
  return `${bytes / (1 << 20)} MiB`;
}

function parseLoosely(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function parseBody(node: Target, text: string, status: number, attempts: number): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // Error pages from proxies are text; keep them for the message, fail only on 2xx.
    if (status >= 400) return text;
    throw new ShardRequestError(
      node.name,
      node.url,
      "invalid-response",
      `HTTP ${status} with a body that is not JSON: ${printable(text, 300)}`,
      status,
      attempts,
    );
  }
}

/**
 * The delay before retry `attempt`: between half and all of base * 2^(attempt-1), capped.
 * The fixed half makes the total wait predictable (a restart is outlasted); the random
 * half spreads the retries of many requests.
 */
function backoff(attempt: number, baseMs: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (attempt - 1));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

function classify(e: unknown, timeoutMs: number): { kind: FailureKind; reason: string; hint?: string } {
  const err = e as { name?: string; code?: string; message?: string };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") {
    return { kind: "timeout", reason: `timeout: no answer within ${timeoutMs} ms` };
  }
  switch (err?.code) {
    case "ECONNREFUSED":
    case "ConnectionRefused":
      return { kind: "refused", reason: "connection refused", hint: "is the instance running?" };
    case "ECONNRESET":
    case "ConnectionClosed":
    case "EPIPE":
      return { kind: "reset", reason: "connection closed before the answer was complete" };
  }
  return { kind: "network", reason: `network error: ${errorMessage(e)}` };
}

/**
 * The most of a node's reason kept in a message: its whole explanation (a lease refusal
 * names the job, the rings and why), yet bounded, since a broken node may send megabytes.
 */
export const MAX_REASON_CHARS = 4096;

/**
 * Text a node sent, made safe to print on a terminal: control characters (escape
 * sequences, newlines, C1 codes) shown as U+FFFD, and clipped to `max` characters. A
 * broken or hostile node cannot redraw the screen or forge lines of a report.
 */
export function printable(text: string, max = 200): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it neutralises
  return clip(text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "\ufffd"), max);
}

/**
 * The message of an answer's error body or its text, whole (up to MAX_REASON_CHARS) and
 * printable: every field error of the `errors` array (`name: ...; email: ...`), else
 * `message` (or `error`, `detail`). (The message of a thrown error is errorMessage in src/errors.ts.)
 */
export function bodyMessage(body: unknown): string {
  if (typeof body === "string") return printable(body, MAX_REASON_CHARS);
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const fieldErrors = Array.isArray(b.errors) ? b.errors.map((x) => (x as { message?: unknown })?.message).filter((m) => typeof m === "string") : [];
    if (fieldErrors.length > 1) return printable(fieldErrors.join("; "), MAX_REASON_CHARS);
    for (const key of ["message", "error", "detail"]) {
      if (typeof b[key] === "string" && b[key] !== "") return printable(b[key], MAX_REASON_CHARS);
    }
    return printable(JSON.stringify(body), MAX_REASON_CHARS);
  }
  return "(no body)";
}

/** A ShardRequestError for an answer with an unexpected status. */
export function httpError(node: Target, res: ShardResponse): ShardRequestError {
  // Every answer of an instance carries X-Shard-Node; one without it is from something else.
  const stranger = res.servedBy === null ? " from something that is not a shardctl instance (no X-Shard-Node header)" : "";
  return new ShardRequestError(node.name, node.url, "http", `HTTP ${res.status}${stranger}: ${bodyMessage(res.body)}`, res.status, res.attempts);
}

function clip(text: string, max = 300): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}...` : oneLine;
}
