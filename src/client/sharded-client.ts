/**
 * The sharded expense client: each call picks the owner of the record's id on the
 * ring and talks to that instance only. Embeddable; the `client` commands are thin
 * layers over it.
 *
 *   const shards = new ShardedExpenseClient({ nodes: "a=10.0.0.1:5001,b=10.0.0.2:5001" });
 *   await shards.create(record);          // POST to the owner of record.id
 *   const back = await shards.get("7");   // GET from the owner of "7"
 */
import { canonicalId, toCanonicalId } from "../expenses/id.ts";
import type { Expense, ExpenseCreate, ExpenseUpdate } from "../expenses/model.ts";
import { DEFAULT_VNODES } from "../ring/hash-ring.ts";
import { parseNodeList, type Node } from "../ring/node.ts";
import { Ring } from "../ring/ring.ts";
import { Circuit, type CircuitOptions, type CircuitSnapshot } from "./circuit.ts";
import { compareRecord, describeDifferences, type FieldDifference } from "./compare.ts";
import { ShardRequestError, type FailureKind } from "./errors.ts";
import {
  callShard,
  DEFAULT_TIMEOUT_MS,
  httpError,
  MAX_PAGE_ANSWER_BYTES,
  type RetryOptions,
  type ShardRequest,
  type ShardResponse,
} from "./transport.ts";

/** Per call: the caller's abort (Ctrl-C), after which the call fails as "interrupted". */
export interface CallControl {
  readonly signal?: AbortSignal;
}

/** What a node said about itself before a job (GET /readyz). */
export interface Probe {
  readonly node: Node;
  /** Its X-Shard-Node: the name it goes by; null when it answered without one, undefined when it did not answer. */
  readonly answeredAs?: string | null;
  /** Why it cannot take requests (no answer, or not ready); undefined when it can. */
  readonly problem?: { readonly kind: FailureKind; readonly reason: string; readonly status?: number };
}

export interface ShardedClientOptions extends RetryOptions {
  /** The cluster's ring; or give `nodes` (and `vnodes`) to build one of epoch 0. */
  readonly ring?: Ring;
  /** The cluster: a `--nodes` style list (`[name=]host:port[:weight],...`) or nodes (weight default 1). */
  readonly nodes?: string | readonly (Pick<Node, "name" | "url"> & { readonly weight?: number })[];
  /** Virtual nodes per node of weight 1, with `nodes`. Default 160, as the contract. */
  readonly vnodes?: number;
  /**
   * Fail with kind "wrong-node" when an answer's X-Shard-Node is another node's name,
   * which means the node list does not match the running cluster. Default true.
   */
  readonly checkNodeName?: boolean;
  /** Each node's circuit breaker (see circuit.ts); false: none. */
  readonly circuit?: CircuitOptions | false;
}

/** What `ensure` did: stored the record, or found exactly that record already stored. */
export interface EnsureResult {
  readonly outcome: "created" | "exists";
  readonly record: Expense;
  readonly node: Node;
  readonly attempts: number;
}

/** An id stored on its owner with content other than the record sent (409 and a differing record). */
export class ConflictError extends ShardRequestError {
  constructor(
    node: Pick<Node, "name" | "url">,
    readonly differences: readonly FieldDifference[],
  ) {
    super(node.name, node.url, "conflict", `HTTP 409: the id is stored with other content (${describeDifferences(differences)})`, 409);
  }
}

export class ShardedExpenseClient {
  readonly ring: Ring;
  readonly #retry: RetryOptions;
  readonly #checkNodeName: boolean;
  readonly #circuits = new Map<string, Circuit>();

  constructor(options: ShardedClientOptions) {
    const { ring, nodes, vnodes = DEFAULT_VNODES } = options;
    if (ring === undefined && nodes === undefined) throw new TypeError("ShardedExpenseClient: give `ring` or `nodes`");
    const list = typeof nodes === "string" ? parseNodeList(nodes) : nodes?.map((n) => ({ ...n, weight: n.weight ?? 1 }));
    this.ring = ring ?? new Ring(list!, { vnodes });
    this.#retry = { timeoutMs: options.timeoutMs, retries: options.retries, backoffMs: options.backoffMs, maxRetryAfterMs: options.maxRetryAfterMs };
    this.#checkNodeName = options.checkNodeName ?? true;
    if (options.circuit !== false) for (const n of this.ring.nodes) this.#circuits.set(n.name, new Circuit(n, options.circuit));
  }

  /** Each node's circuit breaker as it stands: closed, open (and why), failures, retries, requests not sent. */
  circuits(): CircuitSnapshot[] {
    return [...this.#circuits.values()].map((c) => c.snapshot());
  }

  /** Whether answers under another node's name (X-Shard-Node) fail as "wrong-node". */
  get checksNodeNames(): boolean {
    return this.#checkNodeName;
  }

  get nodes(): readonly Node[] {
    return this.ring.nodes;
  }

  /** The node that owns `id` (canonical decimal; JSON numbers are accepted). */
  ownerOf(id: string | number): Node {
    return this.ring.ownerOf(toCanonicalId(id));
  }

  /** The node called `name`; throws when the cluster has none. */
  node(name: string): Node {
    const n = this.ring.node(name);
    if (!n) throw new RangeError(`no node named "${name}" in the cluster (${this.nodes.map((x) => x.name).join(", ")})`);
    return n;
  }

  /** POST the record to its owner; 201 answers the stored record, anything else throws (409 included). */
  async create(record: ExpenseCreate): Promise<Expense> {
    const node = this.ownerOf(record.id);
    const res = await this.request(node, { method: "POST", path: "/v1/expenses", body: record });
    if (res.status !== 201) throw httpError(node, res);
    return res.body as Expense;
  }

  /**
   * Idempotent create: POST to the owner; a 409 whose stored record equals `record`
   * counts as done ("exists"), one with other content throws ConflictError.
   */
  async ensure(record: ExpenseCreate, control: CallControl = {}): Promise<EnsureResult> {
    const node = this.ownerOf(record.id);
    const res = await this.request(node, { method: "POST", path: "/v1/expenses", body: record }, control);
    if (res.status === 201) return { outcome: "created", record: res.body as Expense, node, attempts: res.attempts };
    if (res.status !== 409) throw httpError(node, res);
    const stored = await this.get(record.id, control);
    if (!stored) throw httpError(node, res); // 409 but gone: deleted in between; report the 409
    const differences = compareRecord(record, stored);
    if (differences.length > 0) throw new ConflictError(node, differences);
    return { outcome: "exists", record: stored, node, attempts: res.attempts };
  }

  /** The record from its owner, or undefined when the owner has none (404). */
  async get(id: string | number, control: CallControl = {}): Promise<Expense | undefined> {
    const key = toCanonicalId(id);
    const node = this.ownerOf(key);
    const res = await this.request(node, { method: "GET", path: `/v1/expenses/${key}` }, control);
    if (res.status === 200) return res.body as Expense;
    if (res.status === 404) return undefined;
    throw httpError(node, res);
  }

  /** PUT the given fields on the owner; the updated record, or undefined when there is none. */
  async update(id: string | number, fields: ExpenseUpdate): Promise<Expense | undefined> {
    const key = toCanonicalId(id);
    const node = this.ownerOf(key);
    const res = await this.request(node, { method: "PUT", path: `/v1/expenses/${key}`, body: fields });
    if (res.status === 202 || res.status === 200) return res.body as Expense;
    if (res.status === 404) return undefined;
    throw httpError(node, res);
  }

  /** DELETE on the owner; true when a record was deleted, false when there was none. */
  async delete(id: string | number): Promise<boolean> {
    const key = toCanonicalId(id);
    const node = this.ownerOf(key);
    const res = await this.request(node, { method: "DELETE", path: `/v1/expenses/${key}` });
    if (res.status === 204 || res.status === 200) return true;
    if (res.status === 404) return false;
    throw httpError(node, res);
  }

  /**
   * Every record stored on one node, in id order, one page per request (for verify and rebalance).
   *
   * Each answer is the contract's `{ items, next }`. The next page starts after the last
   * id received, and `next` only says whether one follows (null: no). So a page larger
   * than asked, or a `next` that skips or repeats ids, can neither hide a record nor
   * yield one twice. Ids must rise strictly across the whole listing and an empty page
   * must not promise more: a node that breaks either fails with "invalid-response"
   * instead of paging forever.
   */
  async *list(nodeName: string, { pageSize = 500, signal }: { pageSize?: number } & CallControl = {}): AsyncGenerator<Expense> {
    const node = this.node(nodeName);
    const invalid = (reason: string) => new ShardRequestError(node.name, node.url, "invalid-response", reason, 200);
    let after: bigint | undefined;
    for (;;) {
      const query = `limit=${pageSize}` + (after === undefined ? "" : `&after=${after}`);
      const res = await this.request(node, { method: "GET", path: `/v1/expenses?${query}`, maxAnswerBytes: MAX_PAGE_ANSWER_BYTES }, { signal });
      if (res.status !== 200) throw httpError(node, res);
      const page = listingPage(res.body);
      if (!page) throw invalid('the listing is not { "items": [...], "next": <id> or null }');
      for (const record of page.items) {
        const id = canonicalId((record as { id?: unknown } | null)?.id);
        if (!id.ok) throw invalid(`the listing holds a record whose id ${id.problem}`);
        if (after !== undefined && BigInt(id.id) <= after) {
          throw invalid(`the listing after ${after} went back to ${id.id}`);
        }
        after = BigInt(id.id);
        yield record;
      }
      if (!page.more) return;
      if (page.items.length === 0) throw invalid(`an empty page${after === undefined ? "" : ` after ${after}`} says more records follow`);
    }
  }

  /**
   * Asks node `name` who it is and whether it can take requests (`GET /readyz`, one
   * attempt, at most 2 s), before a job sends it anything. Never throws: a node that
   * does not answer, or is not ready, comes back with its `problem`.
   */
  async probe(name: string): Promise<Probe> {
    const node = this.node(name);
    const timeoutMs = Math.min(this.#retry.timeoutMs ?? DEFAULT_TIMEOUT_MS, 2000);
    let res: ShardResponse;
    try {
      res = await callShard(node, { method: "GET", path: "/readyz" }, { timeoutMs, retries: 0 });
    } catch (e) {
      const { kind, reason } = e instanceof ShardRequestError ? e : { kind: "network" as const, reason: String(e) };
      return { node, problem: { kind, reason } };
    }
    if (res.status === 200) return { node, answeredAs: res.servedBy };
    return { node, answeredAs: res.servedBy, problem: { kind: "http", reason: httpError(node, res).reason, status: res.status } };
  }

  /** Opens node `name`'s circuit: its requests fail unsent from now on (a failed pre-flight check). */
  trip(name: string, problem: NonNullable<Probe["problem"]>): void {
    this.#circuits.get(name)?.trip(problem);
  }

  /** One request to one node, with this client's timeout, retries, circuit and node-name check. */
  async request(node: Node, request: ShardRequest, { signal }: CallControl = {}): Promise<ShardResponse> {
    const res = await callShard(node, request, { ...this.#retry, circuit: this.#circuits.get(node.name), signal });
    this.#checkServedBy(node, res);
    return res;
  }

  #checkServedBy(node: Node, res: ShardResponse): void {
    if (this.#checkNodeName && res.servedBy !== null && res.servedBy !== node.name) {
      throw new ShardRequestError(
        node.name,
        node.url,
        "wrong-node",
        `answered by node "${res.servedBy}" (X-Shard-Node); the node list names this address "${node.name}": fix --nodes or the instance's --name`,
        res.status,
        res.attempts,
      );
    }
  }
}

/** A listing answer of the contract's shape: its records, and whether another page follows. */
function listingPage(body: unknown): { items: Expense[]; more: boolean } | undefined {
  if (!body || typeof body !== "object") return undefined;
  const { items, next } = body as { items?: unknown; next?: unknown };
  if (!Array.isArray(items) || (next !== null && typeof next !== "string")) return undefined;
  return { items: items as Expense[], more: next !== null };
}
