/**
 * An in-memory repair node: no HTTP, no database; a node's records in a map. Its rules are
 * the instance's own (Repairing over a RingGuard, with the ledger and the per-id lock), so
 * what it fakes is the I/O around them; the contract suite (repair-node.contract.ts) holds
 * it to the same answers as the real endpoints. The orchestrator's tests run on it: fast,
 * and with faults on cue (`fault`: a call fails as an unreachable node's would, nothing
 * done; `lost`: a call is done but its answer lost).
 */
import { ApiError } from "../../src/errors.ts";
import { expenseNotFound } from "../../src/expenses/errors.ts";
import { compareIds } from "../../src/expenses/id.ts";
import type { Expense } from "../../src/expenses/model.ts";
import { Repairing } from "../../src/instance/repair/repairing.ts";
import { RingGuard } from "../../src/instance/ring-guard.ts";
import type { HeldRing, RepairNode } from "../../src/repair/node.ts";
import type { BeginAnswer, LookOutcome, PlaceOutcome, RemoveOutcome, ReplaceOutcome, StraysPage } from "../../src/repair/protocol.ts";
import type { RingMove } from "../../src/ring/move.ts";
import type { Ring } from "../../src/ring/ring.ts";
import { ringDocument } from "../../src/ring/ring-file.ts";
import { answeredAs } from "../support/admin-answer.ts";

/** A call of the RepairNode interface, by its name. */
export type RepairCall = Exclude<keyof RepairNode, "name" | "url">;

/** What a node that cannot be reached throws. */
export class FakeDown extends Error {
  override readonly name = "FakeDown";
}

export class FakeRepairNode implements RepairNode {
  /** The node's database: its records by id. */
  readonly stored = new Map<string, Expense>();
  /** The calls made to it, in order. */
  readonly calls: RepairCall[] = [];
  /** Runs (and is awaited) before each call: throw from it to fail the call, nothing done (FakeDown: as an unreachable node). */
  fault?: (call: RepairCall) => void | Promise<void>;
  /** Runs after each call was done: throw from it to lose the answer. */
  lost?: (call: RepairCall) => void;
  /** A rebalance unfinished here (GET /ring shows it; repair requests are refused). */
  rebalance: { readonly job: string; readonly phase: string; readonly move: RingMove } | undefined;
  /** The name it answers as (X-Shard-Node): its own unless a test says otherwise. */
  answersAs: string;
  readonly guard: RingGuard;
  repairing: Repairing;
  #sorted: string[] | undefined;
  readonly #store = {
    listIds: async (after: string | undefined, limit: number) => {
      this.#sorted ??= [...this.stored.keys()].sort(compareIds);
      const from = after === undefined ? 0 : this.#sorted.findIndex((id) => compareIds(id, after) > 0);
      return from === -1 ? [] : this.#sorted.slice(from, from + limit);
    },
    getMany: async (ids: readonly string[]) => this.#getMany(ids),
    putMany: async (records: readonly Expense[]) => {
      for (const r of records) this.put(r);
    },
    deleteMany: async (ids: readonly string[]) => ids.filter((id) => this.drop(id)).length,
  };

  constructor(
    readonly name: string,
    /** The ring it holds (undefined: none). */
    held: Ring | undefined,
    readonly url = `fake://${name}`,
  ) {
    this.answersAs = name;
    const records = { loadRing: async () => undefined, saveRing: async () => ({ saved: true as const }) };
    this.guard = new RingGuard(name, records, held);
    this.repairing = this.#repairing();
  }

  /** As if the instance restarted: what it held in memory (sessions, what repairs placed) is gone. */
  restart(): void {
    this.repairing = this.#repairing();
  }

  #repairing(): Repairing {
    return new Repairing(this.name, this.#store, this.guard, () => this.rebalance?.move);
  }

  /**
   * A client's request on `id` (the record to store, null to delete, undefined to read), as
   * the instance's guard decides it: the status it answers (200, 201, 202, 204, 404, 409, 421).
   */
  async request(id: string, write?: Expense | null): Promise<number> {
    const method = write === undefined ? "GET" : write === null ? "DELETE" : this.stored.has(id) ? "PUT" : "POST";
    const context = { request: new Request(`${this.url}/v1/expenses/${id}`, { method }), set: { headers: {} } };
    const guard = this.repairing.guarding(this.guard);
    try {
      return await guard.serve(context, id, write === undefined ? "read" : "write", async () => {
        if (write === undefined) return this.stored.has(id) ? 200 : 404;
        // as the service: a DELETE of an absent id throws its 404 (it deleted nothing)
        if (write === null) {
          if (!this.drop(id)) throw expenseNotFound(id);
          return 204;
        }
        const existed = this.stored.has(id);
        this.put(write);
        return existed ? 202 : 201;
      });
    } catch (e) {
      if (e instanceof ApiError) return e.status;
      throw e;
    }
  }

  /** Stores a record straight into the node's database. */
  put(record: Expense): void {
    if (!this.stored.has(record.id)) this.#sorted = undefined;
    this.stored.set(record.id, { ...record });
  }

  drop(id: string): boolean {
    this.#sorted = undefined;
    return this.stored.delete(id);
  }

  get held(): Ring | undefined {
    return this.guard.ring;
  }

  ring(): Promise<HeldRing> {
    return this.#call("ring", "GET /ring", () => {
      const ring = this.guard.ring;
      const rebalance = this.rebalance && { job: this.rebalance.job, phase: this.rebalance.phase };
      return { doc: ring && { ...ringDocument(ring), ...(rebalance ? { rebalance } : {}) }, servedBy: this.answersAs };
    });
  }

  firstRecords(limit: number): Promise<Expense[]> {
    return this.#call("firstRecords", "GET /v1/expenses", async () => this.#getMany(await this.#store.listIds(undefined, limit)));
  }

  count(): Promise<number> {
    return this.#call("count", "GET /status", () => this.stored.size);
  }

  strays(ring: unknown, after: string | undefined, limit: number): Promise<StraysPage> {
    return this.#call("strays", "POST /repair/strays", () => this.repairing.strays(ring, after, limit));
  }

  async look(ids: readonly string[]): Promise<LookOutcome[]> {
    return (await this.#call("look", "POST /repair/look", () => this.repairing.look(ids))).items;
  }

  begin(ring: unknown, held: string | null): Promise<BeginAnswer> {
    return this.#call("begin", "POST /repair/begin", () => this.repairing.begin(ring, held));
  }

  async place(session: string, records: readonly Expense[]): Promise<PlaceOutcome[]> {
    return (await this.#call("place", "POST /repair/place", () => this.repairing.place(session, records))).items;
  }

  async replace(session: string, items: readonly { record: Expense; expect: Expense }[]): Promise<ReplaceOutcome[]> {
    return (await this.#call("replace", "POST /repair/replace", () => this.repairing.replace(session, items))).items;
  }

  async remove(session: string, records: readonly Expense[]): Promise<RemoveOutcome[]> {
    return (await this.#call("remove", "POST /repair/remove", () => this.repairing.remove(session, records))).items;
  }

  async touch(session: string): Promise<void> {
    await this.#call("touch", "POST /repair/touch", () => this.repairing.touch(session));
  }

  async end(session: string, complete: boolean): Promise<void> {
    await this.#call("end", "POST /repair/end", () => this.repairing.end(session, complete));
  }

  #getMany(ids: readonly string[]): Expense[] {
    return [...new Set(ids)].sort(compareIds).flatMap((id) => {
      const r = this.stored.get(id);
      return r ? [{ ...r }] : [];
    });
  }

  /**
   * One call: the fault first (nothing done), then `work`; a refusal (ApiError) becomes the
   * AdminAnswerError an instance's answer would; the answer goes through JSON as over HTTP.
   */
  async #call<T>(call: RepairCall, request: string, work: () => T | Promise<T>): Promise<T> {
    this.calls.push(call);
    await this.fault?.(call);
    const answer = await answeredAs(this.name, request, work);
    this.lost?.(call);
    return answer;
  }
}
