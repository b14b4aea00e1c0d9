/**
 * One HTTP exchange with one shard: a timeout per attempt, and retries with capped,
 * jittered exponential backoff for the failures a retry can cure (connection
 * refused/reset, timeouts, 5xx). A 4xx is the client's mistake and is never retried.
 *
 * Retrying a POST is safe here because the service never overwrites: a POST whose
 * first attempt was stored answers 409 on the retry, which the caller resolves by
 * reading the record back (see ShardedExpenseClient.ensure).
 */
import type { Node } from "../ring/node.ts";
import { ShardRequestError, type FailureKind } from "./errors.ts";

/** Where a request goes: the node's ring name (for messages) and its base URL. */
type Target = Pick<Node, "name" | "url">;

export interface RetryOptions {
  /** Per-attempt timeout in milliseconds. Default 5000. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt. Default 3. */
  readonly retries?: number;
  /** First backoff delay in milliseconds; doubles per retry, capped at 2 s. Default 100. */
  readonly backoffMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_RETRIES = 3;
export const DEFAULT_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 2000;

export interface ShardResponse {
  readonly status: number;
  /** Parsed JSON, or undefined for an empty body. */
  readonly body: unknown;
  /** The X-Shard-Node header: which instance answered. */
  readonly servedBy: string | null;
  readonly attempts: number;
}

export interface ShardRequest {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly body?: unknown;
}

/** Sends `request` to `node`; answers any HTTP status, throws ShardRequestError for transport failures. */
export async function callShard(
  node: Target,
  request: ShardRequest,
  options: RetryOptions = {},
): Promise<ShardResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = options.retries ?? DEFAULT_RETRIES;
  const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const init: RequestInit = {
    method: request.method,
    headers: request.body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  };
  for (let attempt = 1; ; attempt++) {
    let failure: { kind: FailureKind; reason: string; hint?: string };
    try {
      const res = await fetch(node.url + request.path, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      if (res.status >= 500 && attempt <= retries) {
        await backoff(attempt, backoffMs);
        continue;
      }
      return { status: res.status, body: parseBody(node, text, res.status, attempt), servedBy: res.headers.get("x-shard-node"), attempts: attempt };
    } catch (e) {
      if (e instanceof ShardRequestError) throw e;
      failure = classify(e, timeoutMs);
    }
    if (attempt > retries) {
      const tries = attempt === 1 ? "" : ` after ${attempt} attempts`;
      const hint = failure.hint ? ` (${failure.hint})` : "";
      throw new ShardRequestError(node.name, node.url, failure.kind, failure.reason + tries + hint, undefined, attempt);
    }
    await backoff(attempt, backoffMs);
  }
}

function parseBody(node: Target, text: string, status: number, attempts: number): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // Error pages from proxies are text; keep them for the message, fail only on 2xx.
    if (status >= 400) return text;
    throw new ShardRequestError(node.name, node.url, "invalid-response", `HTTP ${status} with a body that is not JSON: ${clip(text)}`, status, attempts);
  }
}

/** Full jitter: a random delay up to base * 2^(attempt-1), capped. */
function backoff(attempt: number, baseMs: number): Promise<void> {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (attempt - 1));
  return Bun.sleep(Math.random() * ceiling);
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
  return { kind: "network", reason: `network error: ${err?.message ?? String(e)}` };
}

/** The message of an error body (`{ message }`, `{ error }`) or its text, shortened. */
export function errorMessage(body: unknown): string {
  if (typeof body === "string") return clip(body);
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    for (const key of ["message", "error", "detail"]) {
      if (typeof b[key] === "string" && b[key] !== "") return clip(b[key]);
    }
    return clip(JSON.stringify(body));
  }
  return "(no body)";
}

/** A ShardRequestError for an answer with an unexpected status. */
export function httpError(node: Target, res: ShardResponse): ShardRequestError {
  // Every answer of an instance carries X-Shard-Node; one without it is from something else.
  const stranger = res.servedBy === null ? " from something that is not a shardctl instance (no X-Shard-Node header)" : "";
  return new ShardRequestError(node.name, node.url, "http", `HTTP ${res.status}${stranger}: ${errorMessage(res.body)}`, res.status, res.attempts);
}

function clip(text: string, max = 300): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? oneLine.slice(0, max) + "..." : oneLine;
}
