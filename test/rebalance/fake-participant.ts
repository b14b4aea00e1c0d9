/**
 * An in-memory participant: no HTTP, no database, no switch lock; a node's records in a
 * map, its change log in an array, its rebalance record in a field. Its rules are the
 * participant's own pure pieces (the state machine of transitions.ts, the scans of
 * scan.ts, the import check, the ring guard's decide() for clients), so what it fakes is
 * the I/O around them; the contract suite (participant.contract.ts) holds it to the same
 * answers as the real endpoints. The orchestrator's tests run on it: fast, and with
 * faults on cue (`fault`: a call fails as an unreachable node's would, nothing done;
 * `lost`: a call is done but its answer lost).
 */
import { compareIds } from "../../src/expenses/id.ts";
import type { Expense } from "../../src/expenses/model.ts";
import { checkImport } from "../../src/instance/rebalance/import.ts";
import { detailOf, moveOf, type RebalanceRecord, stateFor, summaryOf } from "../../src/instance/rebalance/record.ts";
import { leftovers, movingPage, planOf } from "../../src/instance/rebalance/scan.ts";
import { Transitions } from "../../src/instance/rebalance/transitions.ts";
import { decide } from "../../src/instance/ring-guard.ts";
import type { Participant, RingAnswer } from "../../src/rebalance/participant.ts";
import type {
  ChangesAnswer,
  CleanupAnswer,
  FenceFigures,
  FencePhase,
  ImportAnswer,
  LeaseRequest,
  PlanAnswer,
  RebalanceDetail,
  RebalanceProgress,
  RebalanceSummary,
  RecordsPage,
} from "../../src/rebalance/protocol.ts";
import type { ChangeEntry } from "../../src/rebalance/records.ts";
import type { Ring } from "../../src/ring/ring.ts";
import { ringDocument } from "../../src/ring/ring-file.ts";
import { answeredAs } from "../support/admin-answer.ts";

/** A call of the Participant interface, by its name. */
export type Call = Exclude<keyof Participant, "name" | "url">;

/** What a node that cannot be reached throws. */
export class FakeDown extends Error {
  override readonly name = "FakeDown";
}

export class FakeParticipant implements Participant {
  /** The node's database: its records by id. */
  readonly stored = new Map<string, Expense>();
  /** Its rebalance record (undefined: it never took part, or gave the rebalance up). */
  record: RebalanceRecord | undefined;
  /** Its change log: the writes to leaving ids, oldest first. */
  log: ChangeEntry[] = [];
  /** The calls made to it, in order. */
  readonly calls: Call[] = [];
  /** Runs before each call: throw from it to fail the call, nothing done (FakeDown: as an unreachable node). */
  fault?: (call: Call) => void;
  /** Runs after each call was done: throw from it to lose the answer. */
  lost?: (call: Call) => void;
  #seq = 0;
  #sorted: string[] | undefined;
  readonly #rules: Transitions;
  /** The node's table, as the scans read it. */
  readonly #table = {
    listIds: async (after: string | undefined, limit: number) => {
      this.#sorted ??= [...this.stored.keys()].sort(compareIds);
      const from = after === undefined ? 0 : this.#sorted.findIndex((id) => compareIds(id, after) > 0);
      return from === -1 ? [] : this.#sorted.slice(from, from + limit);
    },
    getMany: async (ids: readonly string[]) => this.#getMany(ids),
  };

  constructor(
    readonly name: string,
    /** The ring it holds (undefined: none). */
    public held: Ring | undefined,
    readonly url = `fake://${name}`,
  ) {
    this.#rules = new Transitions(name);
  }

  /**
   * A client's request on `id` (the record to store, null to delete, undefined to read), as
   * the instance's ring guard decides it: served (a write to a leaving id logged), or the
   * status of the refusal (421, 503).
   */
  request(id: string, write?: Expense | null): "served" | number {
    const decision = decide(stateFor(this.held, this.record), this.name, id, write === undefined ? "read" : "write");
    if (!decision.serve) return decision.refusal.status;
    // a write is logged when it changed something (a delete of an absent id changes nothing)
    let changed = false;
    if (write === null) changed = this.drop(id);
    else if (write !== undefined) {
      this.put(write);
      changed = true;
    }
    if (changed && decision.write.journal) this.log.push({ seq: ++this.#seq, id });
    return "served";
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

  ring(): Promise<RingAnswer | undefined> {
    return this.#call("ring", "GET /ring", () => {
      if (!this.held) return undefined;
      const summary = this.record && summaryOf(this.record);
      return { doc: { ...ringDocument(this.held), ...(summary ? { rebalance: summary } : {}) }, servedBy: this.name };
    });
  }

  detail(): Promise<RebalanceDetail | undefined> {
    return this.#call("detail", "GET /rebalance", () => this.record && detailOf(this.record));
  }

  lease(request: LeaseRequest): Promise<RebalanceDetail> {
    return this.#call("lease", "POST /rebalance/lease", () => {
      const move = moveOf(request.from, request.to);
      this.#rules.checkMember(move);
      this.record = this.#rules.lease(this.record, this.held, move, request).next;
      return detailOf(this.record);
    });
  }

  heartbeat(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary> {
    return this.#change("heartbeat", () => this.#rules.heartbeat(this.record, token, progress, fence));
  }

  phase(token: string, phase: FencePhase, next?: string): Promise<RebalanceSummary> {
    return this.#change("phase", () => this.#rules.phase(this.record, token, phase, next));
  }

  switchRing(token: string): Promise<{ label: string }> {
    return this.#call("switchRing", "POST /rebalance/switch", () => {
      const r = this.#rules.switching(this.record, token);
      const to = r.move.to;
      // the database holds a newer ring than the rebalance's (its ring is saved before the phase)
      if (r.phase !== "switched" && this.held && this.held.epoch >= to.epoch && this.held.label !== to.label) {
        throw this.#rules.ringMismatch(r, this.held.label);
      }
      this.held = to;
      this.record = this.#rules.switched(r);
      return ringDocument(to);
    });
  }

  finish(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary> {
    return this.#change("finish", () => {
      const r = this.#rules.finishing(this.record, token);
      if (!r) return this.record!;
      this.log = [];
      return this.#rules.finished(r, progress, fence);
    });
  }

  release(token: string): Promise<RebalanceSummary> {
    return this.#change("release", () => this.#rules.release(this.record, token));
  }

  abandon(token: string): Promise<{ abandoned: string }> {
    return this.#call("abandon", "POST /rebalance/abandon", () => {
      const r = this.#rules.abandoning(this.record, token);
      this.record = undefined;
      this.log = [];
      return { abandoned: r.move.job };
    });
  }

  plan(from: unknown, to: unknown): Promise<PlanAnswer> {
    return this.#call("plan", "POST /rebalance/plan", () => planOf(this.#table, this.name, moveOf(from, to)));
  }

  records(side: "out" | "in", after: string | undefined, limit: number): Promise<RecordsPage> {
    return this.#call("records", "GET /rebalance/records", () => movingPage(this.#table, this.name, this.#rules.moveOf(this.record), side, after, limit));
  }

  fetch(ids: readonly string[]): Promise<Expense[]> {
    return this.#call("fetch", "POST /rebalance/records", () => this.#getMany(ids));
  }

  import(token: string, put: readonly Expense[], deleted: readonly string[]): Promise<ImportAnswer> {
    return this.#call("import", "POST /rebalance/import", () => {
      const r = this.#rules.importing(this.record, token);
      checkImport(this.name, r.move, put, deleted);
      for (const record of put) this.put(record);
      return { put: put.length, deleted: deleted.filter((id) => this.drop(id)).length };
    });
  }

  changes(token: string, limit: number, afterSeq?: number): Promise<ChangesAnswer["items"]> {
    return this.#call("changes", "POST /rebalance/changes", () => {
      this.#rules.heldBy(this.record, token);
      return this.log.filter((e) => afterSeq === undefined || e.seq > afterSeq).slice(0, limit);
    });
  }

  dropChanges(token: string, seqs: readonly number[]): Promise<void> {
    return this.#call("dropChanges", "POST /rebalance/changes/drop", () => {
      this.#rules.heldBy(this.record, token);
      const gone = new Set(seqs);
      this.log = this.log.filter((e) => !gone.has(e.seq));
    });
  }

  cleanup(token: string, after: string | undefined, limit: number): Promise<CleanupAnswer> {
    return this.#call("cleanup", "POST /rebalance/cleanup", async () => {
      const r = this.#rules.cleaning(this.record, token);
      const { ids, next } = await leftovers(this.#table, this.name, r.move, after, limit);
      return { deleted: ids.filter((id) => this.drop(id)).length, next };
    });
  }

  #getMany(ids: readonly string[]): Expense[] {
    return [...new Set(ids)].sort(compareIds).flatMap((id) => {
      const r = this.stored.get(id);
      return r ? [{ ...r }] : [];
    });
  }

  /** A call that answers the summary of the record `next` gives. */
  #change(call: "heartbeat" | "phase" | "finish" | "release", next: () => RebalanceRecord): Promise<RebalanceSummary> {
    const path = call === "phase" ? "phase" : call;
    return this.#call(call, `POST /rebalance/${path}`, () => {
      this.record = next();
      return summaryOf(this.record);
    });
  }

  /**
   * One call: the fault first (nothing done), then `work`; a refusal (ApiError) becomes the
   * AdminAnswerError an instance's answer would; the answer goes through JSON as over HTTP.
   */
  async #call<T>(call: Call, request: string, work: () => T | Promise<T>): Promise<T> {
    this.calls.push(call);
    this.fault?.(call);
    const answer = await answeredAs(this.name, request, work);
    this.lost?.(call);
    return answer;
  }
}
