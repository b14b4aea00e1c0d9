/**
 * One instance's part in `shardctl repair` (the orchestrator is src/repair/; the endpoints
 * routes.ts). A repair puts each record on its owner under a ring and removes the copies
 * other nodes hold, while clients keep writing; what makes that safe happens here:
 *
 *   - every change is conditional on what this node holds at that moment: a placement
 *     stores a record only where its id is absent (never over a client's write), a removal
 *     deletes a copy only if it is still the one the repair read, a replacement (--prefer
 *     stray) replaces only the copy the repair read;
 *   - the ids clients delete here are noted (ledger.ts): a placement of an id deleted here,
 *     or placed by an earlier run and deleted since, is refused ("gone"), so that no deleted
 *     record comes back from a stray copy; and while a repair's session runs, a client's
 *     write on an id and the repair's change of it take turns (a per-id lock);
 *   - a repair's request runs held like a client's (the ring guard's shared hold): never
 *     while this node changes its ring or starts a rebalance, and refused when its ring is
 *     not the one the session began with, or a rebalance is unfinished here.
 *
 * All of it lives in memory: an instance that restarts forgets its sessions (the repair's
 * next request is refused; run it again), the deletes it took and what earlier runs placed.
 */
import { ApiError } from "../../errors.ts";
import { canonicalId } from "../../expenses/id.ts";
import type { Access, IdGuard, RequestContext } from "../../expenses/id-guard.ts";
import { EXPENSE_FIELDS, type Expense } from "../../expenses/model.ts";
import type { WriteOptions } from "../../expenses/records.ts";
import type { RebalanceRecords } from "../../rebalance/records.ts";
import type { BeginAnswer, LookOutcome, PlaceOutcome, RemoveOutcome, ReplaceOutcome, StraysPage } from "../../repair/protocol.ts";
import { REPAIR_ERRORS } from "../../repair/protocol.ts";
import type { RingMove } from "../../ring/move.ts";
import type { Ring } from "../../ring/ring.ts";
import { StoreUnavailable } from "../../store/types.ts";
import { checkCanonical } from "../rebalance/import.ts";
import { scanIds } from "../rebalance/scan.ts";
import { requestRing } from "../request-ring.ts";
import type { RingGuard } from "../ring-guard.ts";
import { KeyedLock, RepairLedger, type RepairSession, SESSION_TTL_MS } from "./ledger.ts";

/** What a repair needs of the database: the rebalance's bulk reads and writes. */
export type RepairStore = Pick<RebalanceRecords, "listIds" | "getMany" | "putMany" | "deleteMany">;

const same = (a: Expense, b: Expense) => EXPENSE_FIELDS.every((f) => a[f] === b[f]);

export class Repairing {
  readonly #locks = new KeyedLock();
  /** The ring of the last strays request, by its document's text (a repair sends the same one page after page). */
  #lastRing: { readonly text: string; readonly ring: Ring } | undefined;

  constructor(
    private readonly self: string,
    private readonly store: RepairStore,
    private readonly guard: RingGuard,
    /** The rebalance unfinished on this node, if any (Rebalancing.unfinished). */
    private readonly rebalance: () => RingMove | undefined = () => undefined,
    readonly ledger = new RepairLedger(),
  ) {}

  /** Up to `limit` records stored here whose owner under `ringDoc` is another node, from the id after `after` (read only). */
  async strays(ringDoc: unknown, after: string | undefined, limit: number): Promise<StraysPage> {
    const ring = this.#ringOf(ringDoc);
    const matched: string[] = [];
    let scanned = 0;
    const next = await scanIds(this.store, after, (id) => {
      scanned++;
      if (ring.ownerOf(id).name !== this.self) matched.push(id);
      return matched.length < limit;
    });
    const items = matched.length === 0 ? [] : await this.store.getMany(matched);
    return { items, next, scanned };
  }

  /** What this node holds of `ids`: each present (its record), absent, or gone (deleted here on purpose: a placement would be refused). */
  async look(ids: readonly string[]): Promise<{ items: LookOutcome[] }> {
    const here = await this.#current(ids);
    return {
      items: ids.map((id): LookOutcome => {
        const record = here.get(id);
        if (record) return { id, state: "present", record };
        return { id, state: this.ledger.gone(id) ? "gone" : "absent" };
      }),
    };
  }

  /**
   * A session for a repair by `ringDoc`, this node holding ring `held` (null: none).
   * Begun while no request runs, so that every delete after it is noted.
   */
  begin(ringDoc: unknown, held: string | null): Promise<BeginAnswer> {
    const ring = requestRing(ringDoc, "ring");
    return this.guard.transition(`repair session not begun on node ${this.self}`, async (state) => {
      this.#checkRebalance();
      this.#checkRing(state.ring, held, ring);
      const session = this.ledger.begin(ring, held);
      return { state, result: { session: session.id, node: this.self, ring: ring.label, ttlMs: SESSION_TTL_MS } };
    });
  }

  /** Stores each record (ids this node owns) unless its id is here, or was deleted here on purpose (see the module comment). */
  place(sessionId: string, records: readonly Expense[]): Promise<{ items: PlaceOutcome[] }> {
    checkCanonical(records);
    const ids = distinctIds(records);
    return this.#within(sessionId, ids, async (session) => {
      this.#checkOwned(session, ids, true);
      const here = await this.#current(ids);
      const put = records.filter((r) => !here.has(r.id) && !this.ledger.gone(r.id));
      if (put.length > 0) await this.store.putMany(put);
      // only once stored: a placement noted but not made would make a later run drop the stray copy
      for (const r of put) this.ledger.notePlaced(r.id);
      const placed = new Set(put.map((r) => r.id));
      const items = records.map((r): PlaceOutcome => {
        const record = here.get(r.id);
        if (record) return { id: r.id, outcome: "present", record };
        return { id: r.id, outcome: placed.has(r.id) ? "placed" : "gone" };
      });
      return { items };
    });
  }

  /** Replaces each `expect` (ids this node owns) with its `record`, where this node's copy is still `expect`. */
  replace(sessionId: string, wanted: readonly { record: Expense; expect: Expense }[]): Promise<{ items: ReplaceOutcome[] }> {
    checkCanonical(wanted.map((w) => w.record));
    const ids = distinctIds(wanted.map((w) => w.record));
    return this.#within(sessionId, ids, async (session) => {
      this.#checkOwned(session, ids, true);
      const here = await this.#current(ids);
      const put = wanted.filter((w) => {
        const current = here.get(w.record.id);
        return current !== undefined && same(current, w.expect) && !same(current, w.record);
      });
      if (put.length > 0) await this.store.putMany(put.map((w) => w.record));
      const items = wanted.map(({ record, expect }): ReplaceOutcome => {
        const current = here.get(record.id);
        // sent again after it was done: the copy here is the record already
        if (current !== undefined && (same(current, record) || same(current, expect))) return { id: record.id, outcome: "replaced" };
        return current === undefined ? { id: record.id, outcome: "changed" } : { id: record.id, outcome: "changed", record: current };
      });
      return { items };
    });
  }

  /** Deletes each copy (of ids this node does not own) that is still the record sent. */
  remove(sessionId: string, records: readonly Expense[]): Promise<{ items: RemoveOutcome[] }> {
    const ids = distinctIds(records);
    return this.#within(sessionId, ids, async (session) => {
      this.#checkOwned(session, ids, false);
      const here = await this.#current(ids);
      const doomed = records.filter((r) => {
        const current = here.get(r.id);
        return current !== undefined && same(current, r);
      });
      if (doomed.length > 0) await this.store.deleteMany(doomed.map((r) => r.id));
      const items = records.map((r): RemoveOutcome => {
        const current = here.get(r.id);
        if (current === undefined) return { id: r.id, outcome: "absent" };
        return same(current, r) ? { id: r.id, outcome: "removed" } : { id: r.id, outcome: "changed", record: current };
      });
      return { items };
    });
  }

  /** Keeps session `sessionId` alive. */
  touch(sessionId: string): { session: string; ttlMs: number } {
    this.#session(sessionId);
    return { session: sessionId, ttlMs: SESSION_TTL_MS };
  }

  /** Ends session `sessionId` (see RepairLedger.end); ending it again answers the same. */
  end(sessionId: string, complete: boolean): { ended: string } {
    this.ledger.end(sessionId, complete);
    return { ended: sessionId };
  }

  /**
   * The guard the expense routes run under: `inner`, with each DELETE that took effect (or
   * may have) noted, and while a repair session runs, each write taking its id's turn with
   * the repair (the per-id lock). Reads go straight through.
   */
  guarding(inner: IdGuard): IdGuard {
    return {
      serve: <T>(context: RequestContext, rawId: unknown, access: Access, work: (write: WriteOptions) => Promise<T>): Promise<T> => {
        if (access === "read") return inner.serve(context, rawId, access, work);
        // Decided inside the guard's shared hold: a session begins only while no request runs.
        return inner.serve(context, rawId, access, (write) => {
          const id = canonicalId(rawId);
          if (!id.ok) return work(write);
          const deleting = context.request.method === "DELETE";
          const run = async () => {
            try {
              const result = await work(write);
              if (deleting) this.ledger.noteDelete(id.id);
              return result;
            } catch (e) {
              if (deleting && mayHaveApplied(e)) this.ledger.noteDelete(id.id);
              throw e;
            }
          };
          if (this.ledger.tracking) return this.#locks.with([id.id], run);
          return deleting ? run() : work(write);
        });
      },
    };
  }

  /** Runs `work` for session `sessionId` on `ids`: held like a request (no ring change or rebalance start meanwhile), then the ids' turn. */
  #within<T>(sessionId: string, ids: readonly string[], work: (session: RepairSession) => Promise<T>): Promise<T> {
    return this.guard.hold((state) =>
      this.#locks.with(ids, async () => {
        const session = this.#session(sessionId);
        this.#checkRebalance();
        const mine = state.ring?.label ?? null;
        if (mine !== session.held) {
          throw new ApiError(
            409,
            REPAIR_ERRORS.ringChanged,
            `node ${this.self} holds ${describe(mine)} now, not ${describe(session.held)} as when the repair began; nothing changed: run the repair again`,
          );
        }
        return work(session);
      }),
    );
  }

  #session(sessionId: string): RepairSession {
    const session = this.ledger.session(sessionId);
    if (!session) {
      throw new ApiError(
        409,
        REPAIR_ERRORS.sessionUnknown,
        `node ${this.self} has no repair session ${sessionId}: it ended (a minute without a request), or the instance restarted; ` +
          `nothing changed: run the repair again`,
      );
    }
    return session;
  }

  async #current(ids: readonly string[]): Promise<Map<string, Expense>> {
    return new Map((await this.store.getMany(ids)).map((r) => [r.id, r]));
  }

  /** Throws the 422 for the first id that this node does (`owned` false) or does not (`owned` true) own under the session's ring. */
  #checkOwned(session: RepairSession, ids: readonly string[], owned: boolean): void {
    for (const id of ids) {
      const owner = session.ring.ownerOf(id).name;
      if ((owner === this.self) !== owned) {
        const what = owned ? `belongs to node ${owner}, not ${this.self}` : `belongs to this node ${this.self}: its copy here is not a stray`;
        throw new ApiError(422, REPAIR_ERRORS.wrongNode, `expense ${id} ${what} under ring ${session.ring.label}; nothing changed`, "id", { body: { id } });
      }
    }
  }

  #checkRebalance(): void {
    const move = this.rebalance();
    if (!move) return;
    throw new ApiError(
      409,
      REPAIR_ERRORS.rebalanceInProgress,
      `node ${this.self} takes part in rebalance ${move.job}, unfinished: finish it first (run shardctl rebalance again), then repair; nothing changed`,
    );
  }

  /** The session's ring must be the one this node holds, if it holds one; and the repair must expect what it holds. */
  #checkRing(mine: Ring | undefined, held: string | null, ring: Ring): void {
    const label = mine?.label ?? null;
    if (label !== held || (label !== null && label !== ring.label)) {
      throw new ApiError(
        409,
        REPAIR_ERRORS.ringChanged,
        `node ${this.self} holds ${describe(label)}, but the repair expects ${describe(held)} and places records by ring ${ring.label}; nothing changed`,
      );
    }
  }

  #ringOf(doc: unknown): Ring {
    const text = JSON.stringify(doc);
    if (this.#lastRing?.text !== text) this.#lastRing = { text, ring: requestRing(doc, "ring") };
    return this.#lastRing.ring;
  }
}

const describe = (label: string | null) => (label === null ? "no ring" : `ring ${label}`);

/** The ids of `records`, each once; a request that names an id twice is refused (422), nothing done. */
function distinctIds(records: readonly Expense[]): string[] {
  const ids = records.map((r) => r.id);
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new ApiError(422, "invalid_field", `records: expense ${id} is given twice; nothing changed`, "records");
    seen.add(id);
  }
  return ids;
}

/** Whether a write that threw may still have changed the record: not a refusal, not a database failure known to have applied nothing. */
function mayHaveApplied(e: unknown): boolean {
  if (e instanceof ApiError) return false;
  if (e instanceof StoreUnavailable) return e.outcomeUnknown;
  return true;
}
