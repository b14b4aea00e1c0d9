/**
 * What the HTTP sides of the rebalance's and the repair's ports share (node-admin.ts,
 * src/repair/node-http.ts): an instance's admin requests through the client's transport
 * (timeouts, retries with backoff, Retry-After), with the bearer token, and an answer that is
 * not a 2xx turned into the AdminAnswerError naming its kind.
 */
import { bodyMessage, callShard, type ShardResponse } from "../client/transport.ts";
import type { Node } from "../ring/node.ts";
import { AdminAnswerError } from "./participant.ts";

export interface AdminOptions {
  /** SHARDCTL_ADMIN_TOKEN, sent as a bearer token; none: the instances must take admin requests from this (loopback) address. */
  readonly adminToken?: string;
  /** Tries after a refused connection, a timeout or a 5xx (default 8: about 12 s, enough for an instance to restart). */
  readonly retries?: number;
  /** Per-attempt timeout of the short requests (default 10 s); bulk ones get six times as long. */
  readonly timeoutMs?: number;
}

export interface SendOptions {
  readonly retries?: number;
  readonly timeoutMs?: number;
  /** Many records in the body or the answer: a longer timeout, a larger answer. */
  readonly bulk?: boolean;
}

/** The largest answer of a bulk request (a page of records). */
const MAX_BULK_ANSWER_BYTES = 256 << 20;

/** The `error` of an error body, or "". */
export function kindOf(body: unknown): string {
  const kind = (body as { error?: unknown } | undefined)?.error;
  return typeof kind === "string" ? kind : "";
}

export class AdminClient {
  readonly #headers: Record<string, string>;
  readonly #retries: number;
  readonly #timeoutMs: number;

  constructor(
    readonly node: Node,
    { adminToken, retries = 8, timeoutMs = 10_000 }: AdminOptions = {},
  ) {
    this.#headers = adminToken ? { authorization: `Bearer ${adminToken}` } : {};
    this.#retries = retries;
    this.#timeoutMs = timeoutMs;
  }

  get name(): string {
    return this.node.name;
  }

  get url(): string {
    return this.node.url;
  }

  /** The short requests' timeout. */
  protected get timeoutMs(): number {
    return this.#timeoutMs;
  }

  protected send(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    { retries = this.#retries, timeoutMs, bulk = false }: SendOptions = {},
  ): Promise<ShardResponse> {
    return callShard(
      this.node,
      { method, path, body, headers: this.#headers, maxAnswerBytes: bulk ? MAX_BULK_ANSWER_BYTES : undefined },
      { retries, timeoutMs: timeoutMs ?? (bulk ? 6 * this.#timeoutMs : this.#timeoutMs) },
    );
  }

  /** The body of a 2xx; else the AdminAnswerError of `what` (e.g. "GET /rebalance"). */
  protected expect(res: ShardResponse, what: string): unknown {
    if (res.status >= 200 && res.status < 300) return res.body;
    throw new AdminAnswerError(this.node.name, res.status, kindOf(res.body), what, bodyMessage(res.body), res.body);
  }
}
