/**
 * One instance's part in a rebalance (the `shardctl rebalance` process drives it through
 * the admin endpoints of routes.ts). The record lives in the instance's database, so a
 * restart keeps the move in force; every change of it is decided by the state machine
 * (transitions.ts), saved first, then put in force through the ring guard, while no
 * request runs.
 *
 *   lease     the process takes (or takes over) the rebalance with a fencing token; a
 *             first lease starts the move here: phase "copying"
 *   phase     "fenced": requests on the ids leaving this node (reads and writes) wait
 *             (503); back to "copying" only before this node switched
 *   switch    this node takes the new ring: phase "switched"; the move ends here
 *   finish    phase "done": change log emptied, the lease released
 *
 * Every call that changes something carries the token: a process whose lease was taken
 * over (or that lost its token to a rotation, `next`) changes nothing any more. Imports
 * run held like requests, so a token rotation waits for the imports in flight and none
 * sent with the old token runs after it.
 */
import type { Expense } from "../../expenses/model.ts";
import type {
  CleanupAnswer,
  FencePhase,
  FenceFigures,
  ImportAnswer,
  LeaseRequest,
  PlanAnswer,
  RebalanceDetail,
  RebalanceProgress,
  RebalanceSummary,
  RecordsPage,
} from "../../rebalance/protocol.ts";
import type { RebalanceRecords } from "../../rebalance/records.ts";
import { ApiError } from "../../errors.ts";
import { REBALANCE_ERRORS } from "../../rebalance/protocol.ts";
import type { RingMove } from "../../ring/move.ts";
import type { Ring } from "../../ring/ring.ts";
import { ringLabel } from "../../ring/ring.ts";
import type { RingRecords } from "../../ring/ring-records.ts";
import { type RingGuard, type RingState, saveRing } from "../ring-guard.ts";
import { checkImport } from "./import.ts";
import { detailOf, fromStored, moveOf, type RebalanceRecord, stateFor, summaryOf, toStored } from "./record.ts";
import { leftovers, movingPage, planOf } from "./scan.ts";
import { type Leased, Transitions } from "./transitions.ts";

export class Rebalancing {
  #record: RebalanceRecord | undefined;
  /** Changes of the record, one at a time (a heartbeat never overwrites a phase change). */
  #queue: Promise<unknown> = Promise.resolve();
  readonly #rules: Transitions;

  private constructor(
    private readonly self: string,
    private readonly store: RebalanceRecords & RingRecords,
    private readonly guard: RingGuard,
    record: RebalanceRecord | undefined,
  ) {
    this.#record = record;
    this.#rules = new Transitions(self);
  }

  /**
   * The rebalance saved in `store`, put in force in `guard` (a restart keeps logging the
   * writes to leaving ids, refusing the coming ones, and the fence). The guard must not
   * serve requests before this resolves.
   */
  static async load(self: string, store: RebalanceRecords & RingRecords, guard: RingGuard): Promise<Rebalancing> {
    const saved = await store.loadRebalance();
    const record = saved && fromStored(saved);
    const rebalancing = new Rebalancing(self, store, guard, record);
    if (record) await guard.transition("restoring the rebalance", async (state) => ({ state: stateFor(state.ring, record), result: undefined }));
    return rebalancing;
  }

  /** For GET /ring: the rebalance this node takes part in, or took part in last. */
  summary(): RebalanceSummary | undefined {
    return this.#record && summaryOf(this.#record);
  }

  /** For a start with a ring option: the rings the node may be given while a rebalance is under way here. */
  get unfinished(): RingMove | undefined {
    const r = this.#record;
    return r && r.phase !== "done" ? r.move : undefined;
  }

  /** GET /rebalance: everything, the token included (admin only). */
  detail(): RebalanceDetail {
    const r = this.#record;
    if (!r) throw new ApiError(404, REBALANCE_ERRORS.noRebalance, `node ${this.self} has taken part in no rebalance`);
    return detailOf(r);
  }

  /** PUT /ring's precondition: no ring changes by hand while a rebalance is unfinished here. */
  ringChangeAllowed(): void {
    const r = this.#record;
    if (r && r.phase !== "done") throw this.#rules.ringChangeRefused(r);
  }

  /** Takes the rebalance `request` names for the caller's token, starting it here if it is new. */
  lease(request: LeaseRequest): Promise<RebalanceDetail> {
    const move = moveOf(request.from, request.to);
    this.#rules.checkMember(move);
    return this.#change("lease", true, async (current, state) => this.#rules.lease(current, state.ring, move, request)).then(() => this.detail());
  }

  /** The process is alive: its progress and fence figures for GET /ring. */
  heartbeat(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary> {
    return this.#change("heartbeat", false, async (current) => ({ next: this.#rules.heartbeat(current, token, progress, fence) })).then(() => this.summary()!);
  }

  /** Raises or lifts the fence (lifting only before this node switched); `next` replaces the token. */
  phase(token: string, phase: FencePhase, nextToken?: string): Promise<RebalanceSummary> {
    return this.#change(`fence ${phase === "fenced" ? "raised" : "lifted"}`, true, async (current) => ({
      next: this.#rules.phase(current, token, phase, nextToken),
    })).then(() => this.summary()!);
  }

  /**
   * This node takes the new ring: saved first, then the rebalance's phase "switched",
   * then in force (a restart between the two saves still holds the fence). Only under
   * the fence; again after it is done, it answers the same.
   */
  switchRing(token: string): Promise<Ring> {
    return this.#change("switch", true, async (current) => {
      const r = this.#rules.switching(current, token);
      const to = r.move.to;
      if (r.phase === "switched") return { next: r, ring: to };
      const saved = await saveRing(this.store, to);
      if (!saved.saved && !(saved.current.epoch === to.epoch && saved.current.fingerprint === to.fingerprint)) {
        throw this.#rules.ringMismatch(r, ringLabel(saved.current.epoch, saved.current.fingerprint));
      }
      return { next: this.#rules.switched(r), ring: to };
    }).then(() => this.guard.ring!);
  }

  /** The rebalance is over: the change log emptied, the lease released, phase "done". */
  finish(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary> {
    return this.#change("finish", false, async (current) => {
      const r = this.#rules.finishing(current, token);
      if (!r) return { next: current! };
      await this.store.clearChanges();
      return { next: this.#rules.finished(r, progress, fence) };
    }).then(() => this.summary()!);
  }

  /** The process stops (done or not): it holds the rebalance no longer, and another may take it at once. */
  release(token: string): Promise<RebalanceSummary> {
    return this.#change("release", false, async (current) => ({ next: this.#rules.release(current, token) })).then(() => this.summary()!);
  }

  /**
   * A rebalance given up before it began here (its process lost the race for the lease on
   * another node): the record and its change log deleted, as if this node never took part.
   * Only by its holder, in phase copying, before any progress was reported (nothing copied).
   */
  abandon(token: string): Promise<{ abandoned: string }> {
    return this.#serially(() =>
      this.guard.transition(`rebalance given up on node ${this.self}`, async (state) => {
        const r = this.#rules.abandoning(this.#record, token);
        if (!(await this.store.deleteRebalance(token))) throw this.#rules.changedMeanwhile(undefined);
        this.#record = undefined;
        return { state: { ring: state.ring }, result: { abandoned: r.move.job } };
      }),
    );
  }

  /** Stores and deletes records coming to this node, before it switches: ids that are not coming here are refused (422, nothing written). */
  importRecords(token: string, put: readonly Expense[], deleted: readonly string[]): Promise<ImportAnswer> {
    return this.guard.hold(async () => {
      const r = this.#rules.importing(this.#record, token);
      checkImport(this.self, r.move, put, deleted);
      if (put.length > 0) await this.store.putMany(put);
      const removed = deleted.length > 0 ? await this.store.deleteMany(deleted) : 0;
      return { put: put.length, deleted: removed };
    });
  }

  /** The records leaving (side "out") or coming to (side "in") this node, from the id after `after`, at most `limit`. */
  async records(side: "out" | "in", after: string | undefined, limit: number): Promise<RecordsPage> {
    return movingPage(this.store, this.self, this.#rules.moveOf(this.#record), side, after, limit);
  }

  /** What this node's data says a change from `fromDoc` to `toDoc` would move (changes nothing). */
  async plan(fromDoc: unknown, toDoc: unknown): Promise<PlanAnswer> {
    return planOf(this.store, this.self, moveOf(fromDoc, toDoc));
  }

  /** The records stored under `ids`, whatever their owner (read only). */
  fetch(ids: readonly string[]): Promise<Expense[]> {
    return this.store.getMany(ids);
  }

  /** Deletes records that left this node, after its switch, at most `limit` from the id after `after`. */
  async cleanup(token: string, after: string | undefined, limit: number): Promise<CleanupAnswer> {
    const r = this.#rules.cleaning(this.#record, token);
    const { ids, next } = await leftovers(this.store, this.self, r.move, after, limit);
    return { deleted: ids.length === 0 ? 0 : await this.store.deleteMany(ids), next };
  }

  async changes(token: string, limit: number, afterSeq?: number) {
    this.#rules.heldBy(this.#record, token);
    return { items: await this.store.changes(limit, afterSeq) };
  }

  async dropChanges(token: string, seqs: readonly number[]) {
    this.#rules.heldBy(this.#record, token);
    await this.store.dropChanges(seqs);
    return { dropped: seqs.length };
  }

  /**
   * One change of the record, after the changes before it: `decide` answers the next
   * record (and the expected token, default the current one); it is saved, then put in
   * force. `alone`: through the guard's transition, while no request runs.
   */
  #change(
    what: string,
    alone: boolean,
    decide: (current: RebalanceRecord | undefined, state: RingState) => Promise<Leased & { readonly ring?: Ring }>,
  ): Promise<void> {
    const apply = async (state: RingState): Promise<RingState> => {
      const current = this.#record;
      const { next, expect = current?.token ?? null, ring } = await decide(current, state);
      if (next !== current) {
        const saved = await this.store.saveRebalance(toStored(next), expect);
        if (!saved.saved) throw this.#rules.changedMeanwhile(saved.current && fromStored(saved.current));
        this.#record = next;
      }
      return stateFor(ring ?? state.ring, next);
    };
    return this.#serially(() =>
      alone
        ? this.guard.transition(`rebalance ${what} on node ${this.self}`, async (state) => ({ state: await apply(state), result: undefined }))
        : apply(this.guard.state).then(() => undefined),
    );
  }

  /** Runs `work` after the record's changes before it (whether they failed or not). */
  #serially<T>(work: () => Promise<T>): Promise<T> {
    const done = this.#queue.then(work, work);
    this.#queue = done.catch(() => {});
    return done;
  }
}
