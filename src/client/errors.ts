import { errorMessage } from "../errors.ts";

/**
 * Why a request to a shard did not give the expected answer. `kind` is for programs,
 * `message` for people: it always names the node, its address and the reason.
 */
export type FailureKind =
  /** Nothing listens at the address (ECONNREFUSED). */
  | "refused"
  /** No complete answer within the timeout. */
  | "timeout"
  /** The connection broke mid-request (ECONNRESET, closed socket). */
  | "reset"
  /** Any other transport failure (DNS, unreachable host, TLS). */
  | "network"
  /** The node answered with a status the operation does not accept. */
  | "http"
  /** The id is already stored there with different content (409 and a differing record). */
  | "conflict"
  /** The answer came from a node with another name (X-Shard-Node): --nodes does not match the cluster. */
  | "wrong-node"
  /** The body was not the JSON an instance answers with, or larger than any answer of an instance. */
  | "invalid-response"
  /** The caller gave up (Ctrl-C) before the answer came. */
  | "interrupted"
  /** The node and this client hold different rings and the node's is not newer (or a 421 persists): both labels in the message. */
  | "ring-mismatch";

export class ShardRequestError extends Error {
  override readonly name = "ShardRequestError";

  constructor(
    /** The node's ring name. */
    readonly node: string,
    /** The node's base URL. */
    readonly url: string,
    readonly kind: FailureKind,
    /** What went wrong, without the node prefix, e.g. `HTTP 422: estimated_costs must be ...`. */
    readonly reason: string,
    /** The HTTP status when the node answered. */
    readonly status?: number,
    /** Requests made, retries included. */
    readonly attempts = 1,
    /** Not sent at all (the node's circuit was open): a POST that was not sent stored nothing. */
    readonly unsent = false,
  ) {
    super(`node ${node} (${url}): ${reason}`);
  }
}

/**
 * What a failure says of its node, in the words `status` uses for it: `down` (no answer:
 * refused, timed out, the connection broke), `not ready` (it answers 503: its database
 * does not serve), or the status it keeps answering.
 */
export function nodeCondition(kind: FailureKind, status?: number): string {
  if (kind === "http") return status === 503 ? "not ready" : `answering HTTP ${status}`;
  return kind === "refused" || kind === "timeout" || kind === "reset" || kind === "network" ? "down" : kind;
}

/**
 * Why a request failed, for a caller that names the node itself: a ShardRequestError's
 * reason (without its `node x (url):` prefix), else the error's message.
 */
export function failureReason(e: unknown): string {
  return e instanceof ShardRequestError ? e.reason : errorMessage(e);
}
