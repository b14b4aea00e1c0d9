/**
 * One instance's part in a rebalance (the `shardctl rebalance` process drives it through
 * the admin endpoints of rebalance-routes.ts). The record lives in the instance's
 * database, so a restart keeps the move in force; every change of it is saved first,
 * then put in force through the ring guard, while no request runs.
 *
 *   lease     the process takes (or takes over) the rebalance with a fencing token; a
 *             first lease starts the move here: phase "copying"
 *   phase     "fenced": requests on the ids leaving this node wait (503); back to
 *             "copying" only before this node switched
 *   switch    this node takes the new ring: phase "switched"; the move ends here
 *   finish    phase "done": change log emptied, the lease released
 *
 * Every call that changes something carries the token: a process whose lease was taken
 * over (or that lost its token to a rotation, `next`) changes nothing any more. Imports
 * run held like requests, so a token rotation waits for the imports in flight and none
 * sent with the old token runs after it.
 */
import { hostname } from "node:os";
import { ApiError } from "../errors.ts";
import type { Expense } from "../expenses/model.ts";
import { canonicalId } from "../expenses/id.ts";
import { MAX_DESCRIPTION, MAX_EMAIL, MAX_LINK, MAX_NAME, STATUSES } from "../expenses/model.ts";
import { costToCents, centsToCost, dmyToIso, isEmail, isHttpUrl, isText } from "../expenses/values.ts";
import { RingMove } from "../ring/move.ts";
import type { Ring } from "../ring/ring.ts";
import type { ExpenseStore } from "../store/types.ts";
import type {
  FenceFigures,
  LeaseRequest,
  PlanAnswer,
  RebalanceDetail,
  RebalanceHolder,
  RebalanceProgress,
  RebalanceSummary,
  RecordsPage,
} from "../rebalance/protocol.ts";
import type { RebalancePhase } from "../rebalance/protocol.ts";
import type { StoredRebalance } from "../rebalance/records.ts";
import { ringDocument } from "../ring/ring-file.ts";
import { saveRing, type RingGuard, type RingState } from "./ring-guard.ts";
import { requestRing } from "./request-ring.ts";

/** Ids read per step of a scan of the whole table. */
const SCAN_IDS = 5000;
/** A scan answers after looking at this many ids, matches or not (a bounded request). */
const SCAN_BUDGET = 50_000;

/** The record of a rebalance on this node, as the database keeps it (the JSON of StoredRebalance.text plus its columns). */
interface RebalanceRecord {
  readonly phase: RebalancePhase;
  readonly token: string | null;
  readonly move: RingMove;
  readonly holder: RebalanceHolder | null;
  readonly started: string;
  readonly heartbeat: string | null;
  readonly fencedAt: string | null;
  readonly switchedAt: string | null;
  readonly finished: string | null;
  readonly progress: RebalanceProgress | null;
  readonly fence: FenceFigures | null;
}

const now = () => new Date().toISOString();

function moveOf(fromDoc: unknown, toDoc: unknown): RingMove {
  const from = requestRing(fromDoc, "from");
  const to = requestRing(toDoc, "to");
  try {
    return new RingMove(from, to);
  } catch (e) {
    throw new ApiError(422, "invalid_ring", `to: ${(e as Error).message}; nothing changed`, "to");
  }
}

function toStored(r: RebalanceRecord): StoredRebalance {
  const { move, phase, token, ...rest } = r;
  const text = JSON.stringify({ from: ringDocument(move.from), to: ringDocument(move.to), ...rest });
  return { job: move.job, phase, token, text };
}

function fromStored(s: StoredRebalance): RebalanceRecord {
  const body = JSON.parse(s.text) as Omit<RebalanceRecord, "move" | "phase" | "token"> & { from: unknown; to: unknown };
  const { from, to, ...rest } = body;
  const move = moveOf(from, to);
  if (move.job !== s.job) throw new Error(`the rebalance saved in the database names job ${s.job} but holds rings ${move.job}`);
  return { ...rest, move, phase: s.phase, token: s.token };
}

/** The guard's state for `record` with the ring `ring` in force: the move until this node switched. */
function stateFor(ring: Ring | undefined, record: RebalanceRecord | undefined): RingState {
  if (!record || (record.phase !== "copying" && record.phase !== "fenced")) return { ring };
  return { ring, move: { move: record.move, fenced: record.phase === "fenced" } };
}

function summaryOf(r: RebalanceRecord): RebalanceSummary {
  return {
    job: r.move.job,
    from: r.move.from.label,
    to: r.move.to.label,
    phase: r.phase,
    started: r.started,
    holder: r.holder,
    heartbeat: r.heartbeat,
    heartbeatAgeMs: r.heartbeat === null ? null : Math.max(0, Date.now() - Date.parse(r.heartbeat)),
    fencedAt: r.fencedAt,
    switchedAt: r.switchedAt,
    finished: r.finished,
    progress: r.progress,
    fence: r.fence,
  };
}

function describeHolder(r: RebalanceRecord): string {
  if (!r.holder) return "held by no process now";
  const age = r.heartbeat === null ? "" : `, last heard of ${Math.round((Date.now() - Date.parse(r.heartbeat)) / 1000)} s ago`;
  return `held by pid ${r.holder.pid} on ${r.holder.host === hostname() ? `${r.holder.host} (this host)` : r.holder.host}${age}`;
}

export class Rebalancing {
  #record: RebalanceRecord | undefined;
  /** Changes of the record, one at a time (a heartbeat never overwrites a phase change). */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly self: string,
    private readonly store: ExpenseStore,
    private readonly guard: RingGuard,
    record: RebalanceRecord | undefined,
  ) {
    this.#record = record;
  }

  /**
   * The rebalance saved in `store`, put in force in `guard` (a restart keeps logging the
   * writes to leaving ids, refusing the coming ones, and the fence). The guard must not
   * serve requests before this resolves.
   */
  static async load(self: string, store: ExpenseStore, guard: RingGuard): Promise<Rebalancing> {
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
    if (!r) throw new ApiError(404, "no_rebalance", `node ${this.self} has taken part in no rebalance`);
    return { ...summaryOf(r), token: r.token, fromRing: ringDocument(r.move.from), toRing: ringDocument(r.move.to) };
  }

  /** PUT /ring's precondition: no ring changes by hand while a rebalance is unfinished here. */
  ringChangeAllowed(): void {
    const r = this.#record;
    if (r && r.phase !== "done") {
      throw new ApiError(
        409,
        "rebalance_in_progress",
        `node ${this.self} takes part in rebalance ${r.move.job} (phase ${r.phase}, ${describeHolder(r)}): its ring changes when the rebalance switches it; ` +
          `finish the rebalance first (run shardctl rebalance --to with its new ring again)`,
        undefined,
        { body: { rebalance: summaryOf(r) } },
      );
    }
  }

  /** Takes the rebalance `request` names for the caller's token, starting it here if it is new. */
  lease(request: LeaseRequest): Promise<RebalanceDetail> {
    const move = moveOf(request.from, request.to);
    if (!move.from.node(this.self) && !move.to.node(this.self)) {
      throw new ApiError(409, "not_in_rebalance", `node ${this.self} is in neither ring of rebalance ${move.job}; nothing changed`);
    }
    return this.#change("lease", true, async (current, state) => {
      // Sent again (its answer was lost): it holds the lease already.
      if (current && current.move.job === move.job && current.token === request.token) {
        return { next: { ...current, holder: request.holder, heartbeat: now() } };
      }
      if (current && current.move.job !== move.job && current.phase !== "done") throw this.#inProgress(current);
      if ((current?.token ?? null) !== request.expect) {
        if (!current) throw new ApiError(409, "rebalance_held", `node ${this.self} holds no rebalance to take over; nothing changed`);
        throw this.#held(current, "the lease was not taken");
      }
      let next: RebalanceRecord;
      if (current && current.move.job === move.job) {
        if (current.phase === "done") throw new ApiError(409, "rebalance_done", `rebalance ${move.job} is done on node ${this.self}; nothing changed`);
        next = { ...current, token: request.token, holder: request.holder, heartbeat: now() };
      } else {
        this.#checkStartingRing(state.ring, move);
        next = {
          phase: "copying",
          token: request.token,
          move,
          holder: request.holder,
          started: now(),
          heartbeat: now(),
          fencedAt: null,
          switchedAt: null,
          finished: null,
          progress: null,
          fence: null,
        };
      }
      return { next, expect: request.expect };
    }).then(() => this.detail());
  }

  /** The process is alive: its progress and fence figures for GET /ring. */
  heartbeat(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary> {
    return this.#change("heartbeat", false, async (current) => {
      const r = this.#heldBy(current, token);
      return { next: { ...r, heartbeat: now(), progress: progress ?? r.progress, fence: fence ?? r.fence } };
    }).then(() => this.summary()!);
  }

  /** Raises or lifts the fence (lifting only before this node switched); `next` replaces the token. */
  phase(token: string, phase: "copying" | "fenced", nextToken?: string): Promise<RebalanceSummary> {
    return this.#change(`fence ${phase === "fenced" ? "raised" : "lifted"}`, true, async (current) => {
      // Sent again after its token rotation was done: the new token is in force already.
      const r = nextToken !== undefined && current?.token === nextToken ? current : this.#heldBy(current, token);
      if (r.phase !== "copying" && r.phase !== "fenced") {
        throw new ApiError(409, "wrong_phase", `rebalance ${r.move.job} is ${r.phase} on node ${this.self}: the fence can no longer change; nothing changed`);
      }
      const fencedAt = phase === "fenced" ? (r.phase === "fenced" ? r.fencedAt : now()) : null;
      return { next: { ...r, phase, fencedAt, token: nextToken ?? r.token, heartbeat: now() } };
    }).then(() => this.summary()!);
  }

  /**
   * This node takes the new ring: saved first, then the rebalance's phase "switched",
   * then in force (a restart between the two saves still holds the fence). Only under
   * the fence; again after it is done, it answers the same.
   */
  switchRing(token: string): Promise<Ring> {
    return this.#change("switch", true, async (current) => {
      const r = this.#heldBy(current, token);
      if (r.phase === "switched") return { next: r, ring: r.move.to };
      if (r.phase !== "fenced") {
        throw new ApiError(
          409,
          "wrong_phase",
          `rebalance ${r.move.job} is ${r.phase} on node ${this.self}: raise the fence before the switch; nothing changed`,
        );
      }
      const to = r.move.to;
      const saved = await saveRing(this.store, to);
      if (!saved.saved && !(saved.current.epoch === to.epoch && saved.current.fingerprint === to.fingerprint)) {
        throw new ApiError(
          409,
          "ring_mismatch",
          `node ${this.self}'s database holds ring ${saved.current.epoch}:${saved.current.fingerprint}, not ${to.label}; nothing changed`,
        );
      }
      return { next: { ...r, phase: "switched", switchedAt: now(), heartbeat: now() }, ring: to };
    }).then(() => this.guard.ring!);
  }

  /** The rebalance is over: the change log emptied, the lease released, phase "done". */
  finish(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary> {
    return this.#change("finish", false, async (current) => {
      if (current?.phase === "done" && current.token === null) return { next: current };
      const r = this.#heldBy(current, token);
      if (r.phase !== "switched") {
        throw new ApiError(409, "wrong_phase", `rebalance ${r.move.job} is ${r.phase} on node ${this.self}: it finishes after the switch; nothing changed`);
      }
      await this.store.clearChanges();
      return { next: { ...r, phase: "done", token: null, holder: null, finished: now(), progress: progress ?? r.progress, fence: fence ?? r.fence } };
    }).then(() => this.summary()!);
  }

  /** The process stops (done or not): it holds the rebalance no longer, and another may take it at once. */
  release(token: string): Promise<RebalanceSummary> {
    return this.#change("release", false, async (current) => {
      if (current && current.token === null) return { next: current };
      const r = this.#heldBy(current, token);
      return { next: { ...r, token: null, holder: null } };
    }).then(() => this.summary()!);
  }

  /**
   * A rebalance given up before it began here (its process lost the race for the lease on
   * another node): the record and its change log deleted, as if this node never took part.
   * Only by its holder, in phase copying, before any progress was reported (nothing copied).
   */
  abandon(token: string): Promise<{ abandoned: string }> {
    return this.#serially(() =>
      this.guard.transition(`rebalance given up on node ${this.self}`, async (state) => {
        const r = this.#heldBy(this.#record, token);
        if (r.phase !== "copying" || r.progress !== null) {
          throw new ApiError(
            409,
            "wrong_phase",
            `rebalance ${r.move.job} has begun on node ${this.self} (phase ${r.phase}): it can be finished, not given up; nothing changed`,
          );
        }
        if (!(await this.store.deleteRebalance(token))) {
          throw new ApiError(409, "rebalance_held", `the rebalance record of node ${this.self} changed meanwhile; nothing changed`);
        }
        this.#record = undefined;
        return { state: { ring: state.ring }, result: { abandoned: r.move.job } };
      }),
    );
  }

  /** Stores and deletes records coming to this node, before it switches: ids that are not coming here are refused (422, nothing written). */
  importRecords(token: string, put: readonly Expense[], deleted: readonly string[]): Promise<{ put: number; deleted: number }> {
    return this.guard.hold(async () => {
      const r = this.#heldBy(this.#record, token);
      if (r.phase !== "copying" && r.phase !== "fenced") {
        throw new ApiError(
          409,
          "wrong_phase",
          `rebalance ${r.move.job} is ${r.phase} on node ${this.self}: it takes no copies after its switch; nothing written`,
        );
      }
      const records = put.map(storableRecord);
      for (const id of [...records.map((x) => x.id), ...deleted]) {
        const side = r.move.side(this.self, id);
        if (side !== "in") {
          throw new ApiError(
            422,
            "not_moving_here",
            `expense ${id} is not moving to node ${this.self} in rebalance ${r.move.job} (it is ${side} here); nothing written`,
            "id",
            {
              body: { id },
            },
          );
        }
      }
      if (records.length > 0) await this.store.putMany(records);
      const removed = deleted.length > 0 ? await this.store.deleteMany(deleted) : 0;
      return { put: records.length, deleted: removed };
    });
  }

  /** The records leaving (side "out") or coming to (side "in") this node, from the id after `after`, at most `limit`. */
  async records(side: "out" | "in", after: string | undefined, limit: number): Promise<RecordsPage> {
    const move = this.#moveOf();
    const matched: string[] = [];
    const peers = new Map<string, string>();
    const next = await this.#scan(after, (id) => {
      if (move.side(this.self, id) !== side) return true;
      matched.push(id);
      const { from, to } = move.owners(id);
      peers.set(id, side === "out" ? to.name : from.name);
      return matched.length < limit;
    });
    const found = matched.length === 0 ? [] : await this.store.getMany(matched);
    return { items: found.map((record) => ({ ...record, peer: peers.get(record.id)! })), next };
  }

  /** What this node's data says a change from `fromDoc` to `toDoc` would move (changes nothing). */
  async plan(fromDoc: unknown, toDoc: unknown): Promise<PlanAnswer> {
    const move = moveOf(fromDoc, toDoc);
    const moves = new Map<string, number>();
    const counts = { records: 0, stays: 0, incoming: 0, strays: 0 };
    let after: string | null = null;
    do {
      after = await this.#scan(after ?? undefined, (id) => {
        counts.records++;
        const side = move.side(this.self, id);
        if (side === "stay") counts.stays++;
        else if (side === "in") counts.incoming++;
        else if (side === "other") counts.strays++;
        else {
          const to = move.to.ownerOf(id).name;
          moves.set(to, (moves.get(to) ?? 0) + 1);
        }
        return true;
      });
    } while (after !== null);
    return { ...counts, moves: [...moves].map(([to, records]) => ({ to, records })) };
  }

  /** The records stored under `ids`, whatever their owner (read only). */
  fetch(ids: readonly string[]): Promise<Expense[]> {
    return this.store.getMany(ids);
  }

  /** Deletes records that left this node, after its switch, at most `limit` from the id after `after`. */
  async cleanup(token: string, after: string | undefined, limit: number): Promise<{ deleted: number; next: string | null }> {
    const r = this.#heldBy(this.#record, token);
    if (r.phase !== "switched") {
      throw new ApiError(
        409,
        "wrong_phase",
        `rebalance ${r.move.job} is ${r.phase} on node ${this.self}: moved records are deleted after the switch only; nothing deleted`,
      );
    }
    const gone: string[] = [];
    const next = await this.#scan(after, (id) => {
      if (r.move.side(this.self, id) === "out") gone.push(id);
      return gone.length < limit;
    });
    return { deleted: gone.length === 0 ? 0 : await this.store.deleteMany(gone), next };
  }

  async changes(token: string, limit: number, afterSeq?: number) {
    this.#heldBy(this.#record, token);
    return { items: await this.store.changes(limit, afterSeq) };
  }

  async dropChanges(token: string, seqs: readonly number[]) {
    this.#heldBy(this.#record, token);
    await this.store.dropChanges(seqs);
    return { dropped: seqs.length };
  }

  /**
   * Calls `visit` with each stored id above `after` in order until it answers false or
   * SCAN_BUDGET ids were seen; answers the last id seen, or null when the table ended.
   */
  async #scan(after: string | undefined, visit: (id: string) => boolean): Promise<string | null> {
    let seen = 0;
    let last = after;
    for (;;) {
      const ids = await this.store.listIds(last, SCAN_IDS);
      for (const id of ids) {
        seen++;
        last = id;
        if (!visit(id)) return id;
      }
      if (ids.length < SCAN_IDS) return null;
      if (seen >= SCAN_BUDGET) return last!;
    }
  }

  #moveOf(): RingMove {
    const r = this.#record;
    if (!r) throw new ApiError(409, "not_in_rebalance", `node ${this.self} takes part in no rebalance`);
    return r.move;
  }

  /** A new rebalance may start here only from the ring it leaves (or, on a node joining, the ring it goes to). */
  #checkStartingRing(ring: Ring | undefined, move: RingMove): void {
    if (!ring) {
      throw new ApiError(
        409,
        "ring_mismatch",
        `node ${this.self} has no ring: start it with the rebalance's new ring (serve --ring) to take part in ${move.job}; nothing changed`,
      );
    }
    if (ring.label === move.from.label) return;
    if (ring.label === move.to.label && !move.from.node(this.self)) return;
    const why =
      ring.label === move.to.label
        ? `it already holds the new ring ${ring.label} although it is a node of the old one: it was switched by hand, so ` +
          `records written under the new ring may be here and on the old owners; nothing changed`
        : `it holds ring ${ring.label}, neither ${move.from.label} nor ${move.to.label}; nothing changed`;
    throw new ApiError(409, "ring_mismatch", `node ${this.self} cannot start rebalance ${move.job}: ${why}`);
  }

  #heldBy(record: RebalanceRecord | undefined, token: string): RebalanceRecord {
    if (!record) throw new ApiError(409, "not_in_rebalance", `node ${this.self} takes part in no rebalance`);
    if (record.token !== token) throw this.#held(record, "this process's token is no longer the one in force");
    return record;
  }

  #held(r: RebalanceRecord, what: string): ApiError {
    return new ApiError(409, "rebalance_held", `rebalance ${r.move.job} on node ${this.self} is ${describeHolder(r)}: ${what}; nothing changed`, undefined, {
      body: { rebalance: summaryOf(r) },
    });
  }

  #inProgress(r: RebalanceRecord): ApiError {
    return new ApiError(
      409,
      "rebalance_in_progress",
      `node ${this.self} takes part in rebalance ${r.move.job} (phase ${r.phase}, started ${r.started}, ` +
        `${describeHolder(r)}): finish it first; nothing changed`,
      undefined,
      { body: { rebalance: summaryOf(r) } },
    );
  }

  /**
   * One change of the record, after the changes before it: `decide` answers the next
   * record (and the expected token, default the current one); it is saved, then put in
   * force. `alone`: through the guard's transition, while no request runs.
   */
  #change<T extends { next: RebalanceRecord; expect?: string | null; ring?: Ring }>(
    what: string,
    alone: boolean,
    decide: (current: RebalanceRecord | undefined, state: RingState) => Promise<T>,
  ): Promise<void> {
    const apply = async (state: RingState): Promise<RingState> => {
      const current = this.#record;
      const { next, expect = current?.token ?? null, ring } = await decide(current, state);
      if (next !== current) {
        const saved = await this.store.saveRebalance(toStored(next), expect);
        if (!saved.saved) {
          const other = saved.current && fromStored(saved.current);
          throw other
            ? this.#held(other, "another process changed it meanwhile")
            : new ApiError(409, "rebalance_held", `the rebalance record of node ${this.self} changed meanwhile; nothing changed`);
        }
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

/** An imported record checked as the service checks a stored one, in canonical form; ApiError 422 naming the id and field otherwise. */
function storableRecord(r: Expense): Expense {
  const id = canonicalId(r.id);
  const bad = (field: string, rule: string) =>
    new ApiError(
      422,
      "invalid_field",
      `records: expense ${r.id}: ${field} ${rule}, got ${JSON.stringify((r as Record<string, unknown>)[field])?.slice(0, 80)}`,
      field,
    );
  if (!id.ok || id.id !== r.id) throw bad("id", "must be a canonical id");
  if (!isText(r.name, 1, MAX_NAME)) throw bad("name", `must be 1 to ${MAX_NAME} characters`);
  if (!isText(r.category, 1, MAX_NAME)) throw bad("category", `must be 1 to ${MAX_NAME} characters`);
  if (!isText(r.description, 0, MAX_DESCRIPTION)) throw bad("description", `must be 0 to ${MAX_DESCRIPTION} characters`);
  if (!isText(r.email, 1, MAX_EMAIL) || !isEmail(r.email)) throw bad("email", "must be an email address");
  if (!isText(r.link, 1, MAX_LINK) || !isHttpUrl(r.link)) throw bad("link", "must be an http(s) URL");
  const cents = costToCents(r.estimated_costs);
  if (cents === undefined || centsToCost(cents) !== r.estimated_costs) throw bad("estimated_costs", "must be a canonical amount");
  if (dmyToIso(r.submit_date) === undefined) throw bad("submit_date", "must be a dd-mm-yyyy date");
  if (!STATUSES.includes(r.status)) throw bad("status", `must be one of ${STATUSES.join(", ")}`);
  if (r.decision_date !== "" && dmyToIso(r.decision_date) === undefined) throw bad("decision_date", 'must be "" or a dd-mm-yyyy date');
  return r;
}
