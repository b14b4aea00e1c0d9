/**
 * The lease, the fence and the switch as a state machine: for each call, the record this
 * node holds and what the call asks give the next record, or the ApiError that refuses it
 * (nothing changed). Pure: rebalancing.ts saves the next record and puts it in force.
 *
 *   (none) --lease--> copying --phase fenced--> fenced --switch--> switched --finish--> done
 *                        ^------phase copying-----'
 *   copying, nothing copied yet --abandon--> (none)
 *
 * Every call that changes something carries the token in force; lease (with the token it
 * expects), release and a token rotation (`next` of phase) change which one that is.
 */
import { ApiError } from "../../errors.ts";
import { type FencePhase, type FenceFigures, type LeaseRequest, REBALANCE_ERRORS, type RebalanceProgress } from "../../rebalance/protocol.ts";
import type { RingMove } from "../../ring/move.ts";
import type { Ring } from "../../ring/ring.ts";
import { describeHolder, now, type RebalanceRecord, summaryOf } from "./record.ts";

/** The next record of a lease, and the token the saved record must hold for it to be saved. */
export interface Leased {
  readonly next: RebalanceRecord;
  readonly expect?: string | null;
}

export class Transitions {
  /** `self`: this node's name, for the refusals. */
  constructor(private readonly self: string) {}

  /** POST /rebalance/lease: takes the rebalance `move` for the request's token, starting it here if it is new (`ring`: the ring in force). */
  lease(current: RebalanceRecord | undefined, ring: Ring | undefined, move: RingMove, request: LeaseRequest): Leased {
    // Sent again (its answer was lost): it holds the lease already.
    if (current && current.move.job === move.job && current.token === request.token) {
      return { next: { ...current, holder: request.holder, heartbeat: now() } };
    }
    if (current && current.move.job !== move.job && current.phase !== "done") throw this.inProgress(current);
    if ((current?.token ?? null) !== request.expect) {
      if (!current) throw new ApiError(409, REBALANCE_ERRORS.held, `node ${this.self} holds no rebalance to take over; nothing changed`);
      throw this.held(current, "the lease was not taken");
    }
    if (current && current.move.job === move.job) {
      if (current.phase === "done") {
        throw new ApiError(409, REBALANCE_ERRORS.done, `rebalance ${move.job} is done on node ${this.self}; nothing changed`);
      }
      return { next: { ...current, token: request.token, holder: request.holder, heartbeat: now() }, expect: request.expect };
    }
    this.#checkStartingRing(ring, move);
    const started = now();
    const next: RebalanceRecord = {
      phase: "copying",
      token: request.token,
      move,
      holder: request.holder,
      started,
      heartbeat: started,
      fencedAt: null,
      switchedAt: null,
      finished: null,
      progress: null,
      fence: null,
    };
    return { next, expect: request.expect };
  }

  /** A lease's precondition, before any record is read: this node is in a ring of `move`. */
  checkMember(move: RingMove): void {
    if (!move.from.node(this.self) && !move.to.node(this.self)) {
      throw new ApiError(409, REBALANCE_ERRORS.notInRebalance, `node ${this.self} is in neither ring of rebalance ${move.job}; nothing changed`);
    }
  }

  /** POST /rebalance/heartbeat: the holder is alive; its progress and fence figures. */
  heartbeat(current: RebalanceRecord | undefined, token: string, progress?: RebalanceProgress, fence?: FenceFigures): RebalanceRecord {
    const r = this.heldBy(current, token);
    return { ...r, heartbeat: now(), progress: progress ?? r.progress, fence: fence ?? r.fence };
  }

  /** POST /rebalance/phase: raises or lifts the fence (lifting only before this node switched); `nextToken` replaces the token. */
  phase(current: RebalanceRecord | undefined, token: string, phase: FencePhase, nextToken?: string): RebalanceRecord {
    // Sent again after its token rotation was done: the new token is in force already.
    const r = nextToken !== undefined && current?.token === nextToken ? current : this.heldBy(current, token);
    if (r.phase !== "copying" && r.phase !== "fenced") {
      throw this.#wrongPhase(r, "the fence can no longer change; nothing changed");
    }
    const fencedAt = phase === "fenced" ? (r.phase === "fenced" ? r.fencedAt : now()) : null;
    return { ...r, phase, fencedAt, token: nextToken ?? r.token, heartbeat: now() };
  }

  /** POST /rebalance/switch: the record to switch (fenced), or the one that switched already (the call sent again). */
  switching(current: RebalanceRecord | undefined, token: string): RebalanceRecord {
    const r = this.heldBy(current, token);
    if (r.phase !== "switched" && r.phase !== "fenced") throw this.#wrongPhase(r, "raise the fence before the switch; nothing changed");
    return r;
  }

  /** The record once this node holds the new ring. */
  switched(r: RebalanceRecord): RebalanceRecord {
    return r.phase === "switched" ? r : { ...r, phase: "switched", switchedAt: now(), heartbeat: now() };
  }

  /** The switch finds the database holding another ring than the new one (`saved`, its label). */
  ringMismatch(r: RebalanceRecord, saved: string): ApiError {
    return new ApiError(409, REBALANCE_ERRORS.ringMismatch, `node ${this.self}'s database holds ring ${saved}, not ${r.move.to.label}; nothing changed`);
  }

  /** POST /rebalance/finish: the record to finish (switched), or undefined when it is finished and released already. */
  finishing(current: RebalanceRecord | undefined, token: string): RebalanceRecord | undefined {
    if (current?.phase === "done" && current.token === null) return undefined;
    const r = this.heldBy(current, token);
    if (r.phase !== "switched") throw this.#wrongPhase(r, "it finishes after the switch; nothing changed");
    return r;
  }

  /** The record once finished: done, the lease released. */
  finished(r: RebalanceRecord, progress?: RebalanceProgress, fence?: FenceFigures): RebalanceRecord {
    return { ...r, phase: "done", token: null, holder: null, finished: now(), progress: progress ?? r.progress, fence: fence ?? r.fence };
  }

  /** POST /rebalance/release: the holder stops (released again: the same). */
  release(current: RebalanceRecord | undefined, token: string): RebalanceRecord {
    if (current && current.token === null) return current;
    return { ...this.heldBy(current, token), token: null, holder: null };
  }

  /** POST /rebalance/abandon: the record to give up, by its holder, in phase copying before any progress was reported (nothing copied). */
  abandoning(current: RebalanceRecord | undefined, token: string): RebalanceRecord {
    const r = this.heldBy(current, token);
    if (r.phase !== "copying" || r.progress !== null) {
      throw this.#wrongPhase(r, `it can be finished, not given up; nothing changed`, `has begun on node ${this.self} (phase ${r.phase})`);
    }
    return r;
  }

  /** POST /rebalance/import: the record that takes copies (by its holder, before the switch). */
  importing(current: RebalanceRecord | undefined, token: string): RebalanceRecord {
    const r = this.heldBy(current, token);
    if (r.phase !== "copying" && r.phase !== "fenced") throw this.#wrongPhase(r, "it takes no copies after its switch; nothing written");
    return r;
  }

  /** POST /rebalance/cleanup: the record whose leftovers are deleted (by its holder, after the switch). */
  cleaning(current: RebalanceRecord | undefined, token: string): RebalanceRecord {
    const r = this.heldBy(current, token);
    if (r.phase !== "switched") throw this.#wrongPhase(r, "moved records are deleted after the switch only; nothing deleted");
    return r;
  }

  /** The move of the rebalance this node takes part in (the records endpoints), whoever holds it. */
  moveOf(current: RebalanceRecord | undefined): RingMove {
    if (!current) throw this.#notInRebalance();
    return current.move;
  }

  /** `record`, if `token` is the one in force. */
  heldBy(record: RebalanceRecord | undefined, token: string): RebalanceRecord {
    if (!record) throw this.#notInRebalance();
    if (record.token !== token) throw this.held(record, "this process's token is no longer the one in force");
    return record;
  }

  /** The record was changed by another process between this one's read and its save (`saved`: the record now, if any). */
  changedMeanwhile(saved: RebalanceRecord | undefined): ApiError {
    return saved
      ? this.held(saved, "another process changed it meanwhile")
      : new ApiError(409, REBALANCE_ERRORS.held, `the rebalance record of node ${this.self} changed meanwhile; nothing changed`);
  }

  held(r: RebalanceRecord, what: string): ApiError {
    return new ApiError(
      409,
      REBALANCE_ERRORS.held,
      `rebalance ${r.move.job} on node ${this.self} is ${describeHolder(r)}: ${what}; nothing changed`,
      undefined,
      {
        body: { rebalance: summaryOf(r) },
      },
    );
  }

  inProgress(r: RebalanceRecord): ApiError {
    return new ApiError(
      409,
      REBALANCE_ERRORS.inProgress,
      `node ${this.self} takes part in rebalance ${r.move.job} (phase ${r.phase}, started ${r.started}, ` +
        `${describeHolder(r)}): finish it first; nothing changed`,
      undefined,
      { body: { rebalance: summaryOf(r) } },
    );
  }

  /** PUT /ring while a rebalance is unfinished here: its ring changes when the rebalance switches it. */
  ringChangeRefused(r: RebalanceRecord): ApiError {
    return new ApiError(
      409,
      REBALANCE_ERRORS.inProgress,
      `node ${this.self} takes part in rebalance ${r.move.job} (phase ${r.phase}, ${describeHolder(r)}): its ring changes when the rebalance switches it; ` +
        `finish the rebalance first (run shardctl rebalance --to with its new ring again)`,
      undefined,
      { body: { rebalance: summaryOf(r) } },
    );
  }

  #notInRebalance(): ApiError {
    return new ApiError(409, REBALANCE_ERRORS.notInRebalance, `node ${this.self} takes part in no rebalance`);
  }

  #wrongPhase(r: RebalanceRecord, what: string, state = `is ${r.phase} on node ${this.self}`): ApiError {
    return new ApiError(409, REBALANCE_ERRORS.wrongPhase, `rebalance ${r.move.job} ${state}: ${what}`);
  }

  /** A new rebalance may start here only from the ring it leaves (or, on a node joining, the ring it goes to). */
  #checkStartingRing(ring: Ring | undefined, move: RingMove): void {
    if (!ring) {
      throw new ApiError(
        409,
        REBALANCE_ERRORS.ringMismatch,
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
    throw new ApiError(409, REBALANCE_ERRORS.ringMismatch, `node ${this.self} cannot start rebalance ${move.job}: ${why}`);
  }
}
