/**
 * The rebalance's requests to one instance: its ring, and the admin endpoints of
 * src/instance/rebalance-routes.ts, through the client's transport (timeouts, retries with
 * backoff, Retry-After). Every endpoint that changes something is safe to send again.
 */
import { callShard, bodyMessage, type ShardResponse } from "../client/transport.ts";
import type { Expense } from "../expenses/model.ts";
import type { Node } from "../ring/node.ts";
import type { FenceFigures, LeaseRequest, PlanAnswer, RebalanceDetail, RebalanceProgress, RebalanceSummary, RecordsPage } from "./protocol.ts";

/** An answer other than the one asked for: its status and the instance's error kind and message. */
export class AdminAnswerError extends Error {
  override readonly name = "AdminAnswerError";

  constructor(
    readonly node: string,
    readonly status: number,
    /** The error body's `error` (rebalance_held, not_moving_here, ...), or "" when there is none. */
    readonly kind: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export interface AdminOptions {
  /** SHARDCTL_ADMIN_TOKEN, sent as a bearer token; none: the instances must take admin requests from this (loopback) address. */
  readonly adminToken?: string;
  /** Tries after a refused connection, a timeout or a 5xx (default 8: about 12 s, enough for an instance to restart). */
  readonly retries?: number;
  /** Per-attempt timeout of the short requests (default 10 s); bulk ones get six times as long. */
  readonly timeoutMs?: number;
}

/** The largest answer of a bulk request (a page of records). */
const MAX_BULK_ANSWER_BYTES = 256 << 20;

export class NodeAdmin {
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

  /** GET /ring: the ring document, or undefined when the instance has none (404). */
  async ring(): Promise<{ doc: Record<string, unknown> & { label: string; rebalance?: RebalanceSummary }; servedBy: string | null } | undefined> {
    const res = await this.#send("GET", "/ring", undefined, { retries: 1, timeoutMs: 3000 });
    if (res.status === 404) return undefined;
    return { doc: this.#expect(res, "GET /ring") as never, servedBy: res.servedBy };
  }

  /** GET /rebalance: the rebalance the node takes part in, or undefined. */
  async detail(): Promise<RebalanceDetail | undefined> {
    const res = await this.#send("GET", "/rebalance");
    if (res.status === 404 && (res.body as { error?: unknown } | undefined)?.error === "no_rebalance") return undefined;
    return this.#expect(res, "GET /rebalance") as RebalanceDetail;
  }

  lease(request: LeaseRequest): Promise<RebalanceDetail> {
    return this.#post("lease", request);
  }

  /** One try, a short wait: a heartbeat that fails is sent again next time. */
  heartbeat(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary> {
    return this.#post("heartbeat", { token, progress, fence }, { retries: 0, timeoutMs: 3000 });
  }

  phase(token: string, phase: "copying" | "fenced", next?: string): Promise<RebalanceSummary> {
    return this.#post("phase", { token, phase, next }, { timeoutMs: 3 * this.#timeoutMs });
  }

  switchRing(token: string): Promise<{ label: string }> {
    return this.#post("switch", { token }, { timeoutMs: 3 * this.#timeoutMs });
  }

  finish(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary> {
    return this.#post("finish", { token, progress, fence });
  }

  release(token: string): Promise<RebalanceSummary> {
    return this.#post("release", { token }, { retries: 1 });
  }

  /** Gives up a rebalance leased here that has not begun (see Rebalancing.abandon). */
  abandon(token: string): Promise<{ abandoned: string }> {
    return this.#post("abandon", { token }, { retries: 1 });
  }

  plan(from: unknown, to: unknown): Promise<PlanAnswer> {
    return this.#post("plan", { from, to }, { bulk: true });
  }

  /** A page of the records leaving (out) or coming to (in) the node, after the id `after`. */
  async records(side: "out" | "in", after: string | undefined, limit: number): Promise<RecordsPage> {
    const query = `side=${side}&limit=${limit}${after === undefined ? "" : `&after=${after}`}`;
    const res = await this.#send("GET", `/rebalance/records?${query}`, undefined, { bulk: true });
    return this.#expect(res, `GET /rebalance/records?${query}`) as RecordsPage;
  }

  async fetch(ids: readonly string[]): Promise<Expense[]> {
    return (await this.#post<{ items: Expense[] }>("records", { ids }, { bulk: true })).items;
  }

  import(token: string, put: readonly Expense[], deleted: readonly string[]): Promise<{ put: number; deleted: number }> {
    return this.#post("import", { token, put, delete: deleted }, { bulk: true });
  }

  async changes(token: string, limit: number, afterSeq?: number): Promise<{ seq: number; id: string }[]> {
    return (await this.#post<{ items: { seq: number; id: string }[] }>("changes", { token, limit, afterSeq }, { bulk: true })).items;
  }

  async dropChanges(token: string, seqs: readonly number[]): Promise<void> {
    await this.#post("changes/drop", { token, seqs }, { bulk: true });
  }

  cleanup(token: string, after: string | undefined, limit: number): Promise<{ deleted: number; next: string | null }> {
    return this.#post("cleanup", { token, after, limit }, { bulk: true });
  }

  async #post<T>(endpoint: string, body: unknown, options?: SendOptions): Promise<T> {
    const res = await this.#send("POST", `/rebalance/${endpoint}`, body, options);
    return this.#expect(res, `POST /rebalance/${endpoint}`) as T;
  }

  #send(method: "GET" | "POST", path: string, body?: unknown, { retries = this.#retries, timeoutMs, bulk = false }: SendOptions = {}): Promise<ShardResponse> {
    return callShard(
      this.node,
      { method, path, body, headers: this.#headers, maxAnswerBytes: bulk ? MAX_BULK_ANSWER_BYTES : undefined },
      { retries, timeoutMs: timeoutMs ?? (bulk ? 6 * this.#timeoutMs : this.#timeoutMs) },
    );
  }

  #expect(res: ShardResponse, what: string): unknown {
    if (res.status >= 200 && res.status < 300) return res.body;
    const kind = typeof (res.body as { error?: unknown } | undefined)?.error === "string" ? (res.body as { error: string }).error : "";
    throw new AdminAnswerError(this.node.name, res.status, kind, `${what}: HTTP ${res.status}: ${bodyMessage(res.body)}`, res.body);
  }
}

interface SendOptions {
  readonly retries?: number;
  readonly timeoutMs?: number;
  /** Many records in the body or the answer: a longer timeout, a larger answer. */
  readonly bulk?: boolean;
}
