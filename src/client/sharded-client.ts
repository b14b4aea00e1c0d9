/**
 * The sharded expense client: each call picks the owner of the record's id on the
 * ring and talks to that instance only. Embeddable; the `client` commands are thin
 * layers over it.
 *
 *   const shards = new ShardedExpenseClient({ nodes: "a=10.0.0.1:5001,b=10.0.0.2:5001" });
 *   await shards.create(record);          // POST to the owner of record.id
 *   const back = await shards.get("7");   // GET from the owner of "7"
 *
 * Against ring-aware instances it follows the cluster's ring (ring-adoption.ts): each
 * request carries X-Shard-Ring; an instance with a newer ring makes the client adopt it
 * (one GET /ring per request at most), and a 421 is retried once at the owner under the
 * adopted ring. Rings that disagree otherwise fail the request naming both labels.
 */
import { canonicalId, compareIds, toCanonicalId } from "../expenses/id.ts";
import type { Expense, ExpenseCreate, ExpenseUpdate } from "../expenses/model.ts";
import { DEFAULT_VNODES } from "../ring/hash-ring.ts";
import { parseNodeList, type Node } from "../ring/node.ts";
import { Ring, RING_HEADER } from "../ring/ring.ts";
import { Circuit, type CircuitOptions, type CircuitSnapshot } from "./circuit.ts";
import { compareRecord, describeDifferences, type FieldDifference } from "./compare.ts";
import { failureReason, ShardRequestError, type FailureKind } from "./errors.ts";
import { followRing, type RingFollow } from "./ring-adoption.ts";
import {
  callShard,
  DEFAULT_TIMEOUT_MS,
  bodyMessage,
  httpError,
  MAX_PAGE_ANSWER_BYTES,
  type RetryOptions,
  type ShardRequest,
  type ShardResponse,
} from "./transport.ts";

/** The longest a readiness probe waits for its answer. */
export const PROBE_TIMEOUT_MS = 2000;

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
  /** The not-ready answer's Retry-After, in milliseconds. */
  readonly retryAfterMs?: number;
}

export interface ShardedClientOptions extends RetryOptions {
  /** The cluster's ring; or give `nodes` (and `vnodes`) to build one of epoch 0. */
  readonly ring?: Ring;
  /** The cluster: a `--nodes` style list (`[name=]host:port[:weight],...`) or nodes (weight default 1). */
  readonly nodes?: string | readonly (Pick<Node, "name" | "url"> & { readonly weight?: number })[];
  /** Virtual nodes per node of weight 1, with `nodes`. Default 160 (DEFAULT_VNODES), as every command. */
  readonly vnodes?: number;
  /**
   * Fail with kind "wrong-node" when an answer's X-Shard-Node is another node's name,
   * which means the node list does not match the running cluster. Default true.
   */
  readonly checkNodeName?: boolean;
  /** Each node's circuit breaker (see circuit.ts); false: none. */
  readonly circuit?: CircuitOptions | false;
  /** Called when the client adopts a newer ring from an instance (`from` names that instance). */
  readonly onRingAdopted?: (ring: Ring, previous: Ring, from: Pick<Node, "name" | "url">) => void;
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
  #ring: Ring;
  readonly #retry: RetryOptions;
  readonly #checkNodeName: boolean;
  readonly #circuitOptions: CircuitOptions | false | undefined;
  readonly #circuits = new Map<string, Circuit>();
  readonly #onRingAdopted: ShardedClientOptions["onRingAdopted"];
  /** The last X-Shard-Ring each node answered with (null: none), by node name. */
  readonly #seen = new Map<string, string | null>();
  /** Reads of a node's ring in flight (see #follow). */
  readonly #reading = new Map<string, Promise<RingFollow>>();

  constructor(options: ShardedClientOptions) {
    const { ring, nodes, vnodes = DEFAULT_VNODES } = options;
    if (ring === undefined && nodes === undefined) throw new TypeError("ShardedExpenseClient: give `ring` or `nodes`");
    const list = typeof nodes === "string" ? parseNodeList(nodes) : nodes?.map((n) => ({ ...n, weight: n.weight ?? 1 }));
    this.#ring = ring ?? new Ring(list!, { vnodes });
    this.#retry = { timeoutMs: options.timeoutMs, retries: options.retries, backoffMs: options.backoffMs, maxRetryAfterMs: options.maxRetryAfterMs };
    this.#checkNodeName = options.checkNodeName ?? true;
    this.#circuitOptions = options.circuit;
    this.#onRingAdopted = options.onRingAdopted;
    for (const n of this.#ring.nodes) this.#circuit(n);
  }

  /** The ring the client places by now: the one it was given, or a newer one adopted from the cluster. */
  get ring(): Ring {
    return this.#ring;
  }

  /** The X-Shard-Ring node `name` last answered with: a label, null (no ring), or undefined (no answer yet). */
  ringSeenAt(name: string): string | null | undefined {
    return this.#seen.get(name);
  }

  /** Node `node`'s circuit breaker, made on first use (a node of an adopted ring gets one too). */
  #circuit(node: Node): Circuit | undefined {
    if (this.#circuitOptions === false) return undefined;
    let circuit = this.#circuits.get(node.name);
    if (!circuit) {
      // while open, the circuit asks the node's readiness every few seconds (a real request is never the probe)
      const probe = async () => !(await this.#probe(node)).problem;
      circuit = new Circuit(node, { probe, ...this.#circuitOptions });
      this.#circuits.set(node.name, circuit);
    }
    return circuit;
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
    const { node, res } = await this.#toOwner(record.id, { method: "POST", path: "/v1/expenses", body: record });
    if (res.status !== 201) throw httpError(node, res);
    return res.body as Expense;
  }

  /**
   * Idempotent create: POST to the owner; a 409 whose stored record equals `record`
   * counts as done ("exists"), one with other content throws ConflictError.
   */
  async ensure(record: ExpenseCreate, control: CallControl = {}): Promise<EnsureResult> {
    const { node, res } = await this.#toOwner(record.id, { method: "POST", path: "/v1/expenses", body: record }, control);
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
    const { node, res } = await this.#toOwner(key, { method: "GET", path: `/v1/expenses/${key}` }, control);
    if (res.status === 200) return res.body as Expense;
    if (res.status === 404) return undefined;
    throw httpError(node, res);
  }

  /** PUT the given fields on the owner; the updated record, or undefined when there is none. */
  async update(id: string | number, fields: ExpenseUpdate): Promise<Expense | undefined> {
    const key = toCanonicalId(id);
    const { node, res } = await this.#toOwner(key, { method: "PUT", path: `/v1/expenses/${key}`, body: fields });
    if (res.status === 202 || res.status === 200) return res.body as Expense;
    if (res.status === 404) return undefined;
    throw httpError(node, res);
  }

  /** DELETE on the owner; true when a record was deleted, false when there was none. */
  async delete(id: string | number): Promise<boolean> {
    const key = toCanonicalId(id);
    const { node, res } = await this.#toOwner(key, { method: "DELETE", path: `/v1/expenses/${key}` });
    if (res.status === 204 || res.status === 200) return true;
    if (res.status === 404) return false;
    throw httpError(node, res);
  }

  /**
   * Every record stored on one node, in id order, one page per request (for verify and rebalance).
   *
   * Each answer is an instance's listing page, `{ items, next }`. The next page starts after the last
   * id received, and `next` only says whether one follows (null: no). So a page larger
   * than asked, or a `next` that skips or repeats ids, can neither hide a record nor
   * yield one twice. Ids must rise strictly across the whole listing and an empty page
   * must not promise more: a node that breaks either fails with "invalid-response"
   * instead of paging forever.
   */
  async *list(nodeName: string, { pageSize = 500, signal }: { pageSize?: number } & CallControl = {}): AsyncGenerator<Expense> {
    const node = this.node(nodeName);
    const invalid = (reason: string) => new ShardRequestError(node.name, node.url, "invalid-response", reason, 200);
    let after: string | undefined;
    for (;;) {
      const query = `limit=${pageSize}${after === undefined ? "" : `&after=${after}`}`;
      const res = await this.request(node, { method: "GET", path: `/v1/expenses?${query}`, maxAnswerBytes: MAX_PAGE_ANSWER_BYTES }, { signal });
      if (res.status !== 200) throw httpError(node, res);
      const page = listingPage(res.body);
      if (!page) throw invalid('the listing is not { "items": [...], "next": <id> or null }');
      for (const record of page.items) {
        const id = canonicalId((record as { id?: unknown } | null)?.id);
        if (!id.ok) throw invalid(`the listing holds a record whose id ${id.problem}`);
        if (after !== undefined && compareIds(id.id, after) <= 0) {
          throw invalid(`the listing after ${after} went back to ${id.id}`);
        }
        after = id.id;
        yield record;
      }
      if (!page.more) return;
      if (page.items.length === 0) throw invalid(`an empty page${after === undefined ? "" : ` after ${after}`} says more records follow`);
    }
  }

  /**
   * Asks node `name` who it is and whether it can take requests (`GET /readyz`, one
   * attempt, at most PROBE_TIMEOUT_MS), before a job sends it anything. Never throws: a node
   * that does not answer, or is not ready, comes back with its `problem`.
   */
  probe(name: string): Promise<Probe> {
    return this.#probe(this.node(name));
  }

  async #probe(node: Node): Promise<Probe> {
    const timeoutMs = Math.min(this.timeoutMs, PROBE_TIMEOUT_MS);
    let res: ShardResponse;
    try {
      const ring = this.#ring;
      res = await callShard(node, { method: "GET", path: "/readyz", headers: { [RING_HEADER]: ring.label } }, { timeoutMs, retries: 0 });
      this.#seen.set(node.name, res.ring);
      // A node with a newer ring: the job starts with it (a non-421 answer never throws here).
      if (res.servedBy === node.name) await this.#follow(node, ring, res);
    } catch (e) {
      return { node, problem: { kind: e instanceof ShardRequestError ? e.kind : "network", reason: failureReason(e) } };
    }
    if (res.status === 200) return { node, answeredAs: res.servedBy };
    // An instance that is not ready says why (its database): that is the reason, as `status` shows it.
    const reason = res.status === 503 && res.servedBy !== null ? bodyMessage(res.body) : httpError(node, res).reason;
    return {
      node,
      answeredAs: res.servedBy,
      problem: { kind: "http", reason, status: res.status },
      ...(res.retryAfterMs !== undefined && { retryAfterMs: res.retryAfterMs }),
    };
  }

  /** The per-attempt timeout of this client's requests (the pre-flight check's grace is as long). */
  get timeoutMs(): number {
    return this.#retry.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Opens node `name`'s circuit: its requests fail unsent from now on (a failed pre-flight check). */
  trip(name: string, problem: NonNullable<Probe["problem"]>): void {
    this.#circuit(this.node(name))?.trip(problem);
  }

  /**
   * One request to one node, with this client's timeout, retries, circuit, node-name check
   * and ring label; an answer from a node with a newer ring makes the client adopt that
   * ring for the requests that follow (this answer stands).
   */
  async request(node: Node, request: ShardRequest, control: CallControl = {}): Promise<ShardResponse> {
    const ring = this.#ring;
    const res = await this.#send(node, request, ring, control);
    if (res.status !== 421) await this.#follow(node, ring, res);
    return res;
  }

  async #send(node: Node, request: ShardRequest, ring: Ring, { signal }: CallControl): Promise<ShardResponse> {
    const labelled = { ...request, headers: { ...request.headers, [RING_HEADER]: ring.label } };
    const res = await callShard(node, labelled, { ...this.#retry, circuit: this.#circuit(node), signal });
    this.#checkServedBy(node, res);
    this.#seen.set(node.name, res.ring);
    return res;
  }

  /**
   * A request on `key` to its owner. A 421 makes the client follow the ring once: adopt
   * the newer ring (from GET /ring, or already adopted by another request meanwhile) and
   * send the request once more, to the owner under it; a second 421, or rings that
   * disagree, fail with "ring-mismatch" naming both labels. Nothing ran on a node that
   * answered 421, so sending again is safe for every method.
   */
  async #toOwner(key: string | number, request: ShardRequest, control: CallControl = {}): Promise<{ node: Node; res: ShardResponse }> {
    const id = toCanonicalId(key);
    const ring = this.#ring;
    const node = ring.ownerOf(id);
    const res = await this.#send(node, request, ring, control);
    const next = await this.#follow(node, ring, res);
    if (res.status !== 421) return { node, res };
    if (next === undefined) throw this.#mismatch(node, res, `HTTP 421 but the ring did not change: ${bodyMessage(res.body)}`);
    const owner = next.ownerOf(id);
    const again = await this.#send(owner, request, next, control);
    if (again.status === 421) {
      throw this.#mismatch(owner, again, `HTTP 421 again after this client adopted ring ${next.label}: ${bodyMessage(again.body)}`);
    }
    return { node: owner, res: again };
  }

  /**
   * After `res` from `node` to a request sent under `ring`: the ring to use from now on
   * when the answer called for a newer one and there is one, else undefined. A 421 from a
   * node whose ring is not newer throws "ring-mismatch" naming both labels.
   */
  async #follow(node: Node, ring: Ring, res: ShardResponse): Promise<Ring | undefined> {
    // The answer's ring is the one another request adopted meanwhile: no need to read it again.
    if (res.ring === this.#ring.label && this.#ring !== ring) return this.#ring;
    // Requests in flight together that meet the same answer share one read of the node's ring.
    const key = `${node.name} ${ring.label} ${res.status === 421 ? 421 : ""} ${res.ring}`;
    let reading = this.#reading.get(key);
    if (!reading) {
      reading = followRing(node, ring, res, { timeoutMs: this.#retry.timeoutMs }).finally(() => this.#reading.delete(key));
      this.#reading.set(key, reading);
    }
    const follow = await reading;
    if (follow.kind === "none") return undefined;
    if (follow.kind === "adopt") return this.#adopt(follow.ring, node);
    if (res.status === 421) throw this.#mismatch(node, res, `HTTP 421: ${follow.reason}`);
    return undefined;
  }

  /** Puts `ring` in force unless the client already holds one at least as new; the ring in force after. */
  #adopt(ring: Ring, from: Node): Ring {
    const previous = this.#ring;
    if (ring.epoch > previous.epoch) {
      this.#ring = ring;
      this.#onRingAdopted?.(ring, previous, from);
    }
    return this.#ring;
  }

  #mismatch(node: Node, res: ShardResponse, reason: string): ShardRequestError {
    return new ShardRequestError(node.name, node.url, "ring-mismatch", reason, res.status, res.attempts);
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

/** A listing answer (`{ items, next }`): its records, and whether another page follows. */
function listingPage(body: unknown): { items: Expense[]; more: boolean } | undefined {
  if (!body || typeof body !== "object") return undefined;
  const { items, next } = body as { items?: unknown; next?: unknown };
  if (!Array.isArray(items) || (next !== null && typeof next !== "string")) return undefined;
  return { items: items as Expense[], more: next !== null };
}
