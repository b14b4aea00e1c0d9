/**
 * The ring of a ring-aware instance, and the one place that decides whether this
 * instance serves an id (Redis Cluster's MOVED, Vitess's tablet target check):
 *
 *   - `decide(state, self, id, access)`: pure; the whole rule. No ring: serve everything
 *     (only the clients place records). A ring: serve the ids this node owns, answer 421 naming the
 *     owner for the others. A node that is not in its ring owns nothing (a node leaving
 *     the cluster stays up, holding the new ring, until the rebalance ends).
 *   - `RingGuard.serve(...)`: runs one request's decision and execution under one ring
 *     (a shared hold of the SwitchLock), and labels the answer with that ring.
 *   - `RingGuard.adopt(ring)`: a switch to a ring with a larger epoch: exclusive, saved to
 *     the database first, then in force.
 *
 * During a rebalance (rebalance/rebalancing.ts) the state also holds the move: until this node
 * switches, the ids leaving it are served here (writes noted in the change log; reads and
 * writes refused with 503 + Retry-After under the fence) and the ids coming to it are refused
 * with 503 + Retry-After (their copy is not final yet).
 */
import { ApiError, errorMessage } from "../errors.ts";
import { canonicalId } from "../expenses/id.ts";
import type { Access, IdGuard, RequestContext } from "../expenses/id-guard.ts";
import type { WriteOptions } from "../expenses/records.ts";
import type { RingMove } from "../ring/move.ts";
import { parseRingFile, ringDocument, ringOf } from "../ring/ring-file.ts";
import { parseRingLabel, type Ring, RING_HEADER, ringLabel } from "../ring/ring.ts";
import type { RingRecords, StoredRing } from "../ring/ring-records.ts";
import { SwitchLock, SwitchTimeout } from "./switch-lock.ts";

/** A rebalance under way on this node: in force until the node switches to `move.to`. */
export interface MoveState {
  readonly move: RingMove;
  /** The fence: reads and writes of the ids leaving this node wait (503) while ownership switches. */
  readonly fenced: boolean;
}

/** The instance's ring state. No ring: the instance checks nothing. */
export interface RingState {
  readonly ring: Ring | undefined;
  readonly move?: MoveState;
}

/** What a request on one id gets: served (and how its write is made), or refused with the error to answer. */
export type Decision = { readonly serve: true; readonly write: WriteOptions } | { readonly serve: false; readonly refusal: ApiError };

const SERVE = { serve: true, write: {} } as const satisfies Decision;
const SERVE_JOURNALED = { serve: true, write: { journal: true } } as const satisfies Decision;
const refuse = (refusal: ApiError): Decision => ({ serve: false, refusal });

/** Seconds a client should wait before trying a moving id again. */
const MOVING_RETRY_AFTER_S = "1";

/**
 * Whether node `self` serves `id` (canonical) under `state`, and how. The request's
 * X-Shard-Ring (read from `headers` only for a refusal) tells a client with a newer ring
 * that this instance is the stale one.
 */
export function decide(state: RingState, self: string, id: string, access: Access, headers?: Pick<Headers, "get">): Decision {
  const { ring, move } = state;
  if (ring === undefined) return SERVE;
  if (move) {
    const side = move.move.side(self, id);
    if (side === "stay") return SERVE;
    // This node stays authoritative for the ids leaving it until it switches; each write is noted for the copy.
    // Under the fence, reads wait too: a target that switched first may already hold a newer write.
    if (side === "out") return move.fenced ? refuse(moving(move, id, "out")) : access === "read" ? SERVE : SERVE_JOURNALED;
    if (side === "in") return refuse(moving(move, id, "in"));
  } else if (ring.ownerOf(id).name === self) {
    return SERVE;
  }
  return refuse(misdirected(ring, self, id, headers?.get(RING_HEADER)));
}

function misdirected(ring: Ring, self: string, id: string, clientLabel?: string | null): ApiError {
  const owner = ring.ownerOf(id);
  const here = ring.node(self) ? `this is node ${self}` : `this node (${self}) is not in that ring and owns no ids`;
  const client = clientLabel ? parseRingLabel(clientLabel) : undefined;
  const stale =
    client && client.epoch > ring.epoch ? `; your ring ${clientLabel} is newer than this instance's ${ring.label}: this instance is the stale one` : "";
  return new ApiError(
    421,
    "misdirected",
    `expense ${id} belongs to node ${owner.name} (${owner.url}) under ring ${ring.label}; ${here}: send the request there${stale}`,
    "id",
    { body: { id, owner: { name: owner.name, url: owner.url }, ring: ring.label } },
  );
}

/** 503 for an id on its way from one node to another: the answer says where, and when to try again. */
function moving({ move }: MoveState, id: string, side: "out" | "in"): ApiError {
  const { from, to } = move.owners(id);
  const why =
    side === "out"
      ? `it waits while ownership switches (the new owner may take writes to it already)`
      : `it is served here once its copy is verified and this node switches`;
  return new ApiError(
    503,
    "moving",
    `expense ${id} is moving from node ${from.name} to node ${to.name} (rebalance ${move.job}): ${why}; retry after ${MOVING_RETRY_AFTER_S} s`,
    "id",
    {
      body: { id, from: { name: from.name, url: from.url }, to: { name: to.name, url: to.url }, rebalance: move.job },
      headers: { "retry-after": MOVING_RETRY_AFTER_S },
    },
  );
}

/** The answer of a ring switch: the ring in force before, or the refusal naming both rings. */
export type Adoption =
  | { readonly adopted: true; readonly previous: Ring | undefined; readonly member: boolean }
  | { readonly adopted: false; readonly current: string };

export interface RingGuardOptions {
  /** How long a switch waits for the requests in flight; default 10 s. */
  readonly switchTimeoutMs?: number;
}

export class RingGuard implements IdGuard {
  #state: RingState;
  readonly #lock = new SwitchLock();
  readonly #switchTimeoutMs: number;

  constructor(
    /** This node's name. */
    readonly self: string,
    private readonly records: RingRecords,
    ring: Ring | undefined,
    { switchTimeoutMs = 10_000 }: RingGuardOptions = {},
  ) {
    this.#state = { ring };
    this.#switchTimeoutMs = switchTimeoutMs;
  }

  get ring(): Ring | undefined {
    return this.#state.ring;
  }

  /** The whole state: the ring in force and the move of a rebalance under way. */
  get state(): RingState {
    return this.#state;
  }

  /**
   * Runs `work` for the request on `rawId` if this node serves it, else throws the
   * decision's ApiError without running it. The decision, `work` and the answer's
   * X-Shard-Ring all see one state: a switch waits for them. An id that is not canonical
   * is not decided: `work` rejects it (422).
   */
  serve<T>(context: RequestContext, rawId: unknown, access: Access, work: (write: WriteOptions) => Promise<T>): Promise<T> {
    return this.#lock.shared(async () => {
      const state = this.#state;
      if (state.ring === undefined) return work(SERVE.write);
      // The app labels every answer with the ring of its start; relabel if a switch came since.
      if (context.set.headers[RING_HEADER] !== state.ring.label) context.set.headers[RING_HEADER] = state.ring.label;
      const id = canonicalId(rawId);
      if (!id.ok) return work(SERVE.write);
      const decision = decide(state, this.self, id.id, access, context.request.headers);
      if (!decision.serve) throw decision.refusal;
      return work(decision.write);
    });
  }

  /** Runs `work` held like a request (a state change waits for it): the rebalance's own writes. */
  hold<T>(work: (state: RingState) => Promise<T>): Promise<T> {
    return this.#lock.shared(() => work(this.#state));
  }

  /**
   * Runs `change` while no request runs, and puts the state it answers in force. `what`
   * names the change in the 503 (nothing changed) when requests in flight do not end in time.
   */
  transition<T>(what: string, change: (state: RingState) => Promise<{ readonly state: RingState; readonly result: T }>): Promise<T> {
    return this.#lock
      .exclusive(this.#switchTimeoutMs, async () => {
        const { state, result } = await change(this.#state);
        this.#state = state;
        return result;
      })
      .catch((e: unknown) => {
        if (!(e instanceof SwitchTimeout)) throw e;
        throw new ApiError(503, "switch_timeout", `${what}: ${e.message}; nothing changed, retry`, undefined, { headers: { "retry-after": "1" } });
      });
  }

  /**
   * Puts `ring` in force if its epoch is larger than the current ring's (any ring when
   * there is none): saved to the database first, then swapped, while no request runs.
   * `allowed` runs first, alone as well, and throws to refuse (a rebalance under way).
   * Throws ApiError 503 (nothing changed) when requests in flight do not end in time.
   */
  adopt(ring: Ring, allowed: () => void = () => {}): Promise<Adoption> {
    return this.transition(`ring ${ring.label} not adopted`, async (state): Promise<{ state: RingState; result: Adoption }> => {
      allowed();
      const previous = state.ring;
      if (previous && previous.epoch >= ring.epoch) return { state, result: { adopted: false, current: previous.label } };
      const save = await saveRing(this.records, ring);
      // The database holds a ring at least as new that this process never had: another process wrote it.
      if (!save.saved) return { state, result: { adopted: false, current: ringLabel(save.current.epoch, save.current.fingerprint) } };
      return { state: { ...state, ring }, result: { adopted: true, previous, member: ring.node(this.self) !== undefined } };
    });
  }
}

/** Saves `ring` as the instance's ring if it is newer than the saved one (see RingRecords.saveRing). */
export function saveRing(records: RingRecords, ring: Ring) {
  return records.saveRing(toStored(ring));
}

function toStored(ring: Ring): StoredRing {
  return { epoch: ring.epoch, fingerprint: ring.fingerprint, text: JSON.stringify(ringDocument(ring)) };
}

/** A ring given at start and where it came from, for messages: `--ring r.json`, `SHARDCTL_NODES`. */
export interface GivenRing {
  readonly ring: Ring;
  readonly source: string;
}

/** A start that cannot go on with the rings given: bad usage (exit 2), nothing changed. */
export class RingStartError extends Error {
  override readonly name = "RingStartError";
}

/** The ring of a starting instance, and what it says about it (warnings). */
export interface StartRing {
  readonly ring: Ring | undefined;
  readonly notes: readonly string[];
}

/** Throws RingStartError when node `self` is not in the ring given to start it. */
export function checkMember(given: GivenRing, self: string): void {
  if (given.ring.node(self)) return;
  throw new RingStartError(
    `${given.source}: this instance's name "${self}" is not a node of its ring (${given.ring.nodes.map((n) => n.name).join(", ")}); ` +
      `give --name one of them, or a ring that has this node`,
  );
}

/**
 * The ring an instance starts with, from the ring given (flags, file, environment) and the
 * one its database holds: the newer wins, and a given ring that wins is saved first.
 * A given ring older than the stored one is ignored with a warning; two different rings
 * with one epoch are a RingStartError (a changed ring needs a larger epoch).
 */
export async function ringAtStart(records: RingRecords, given: GivenRing | undefined, self: string): Promise<StartRing> {
  const saved = await records.loadRing();
  const stored = saved && storedRing(saved);
  const notes: string[] = [];
  let ring: Ring | undefined;
  if (stored && (!given || given.ring.epoch <= stored.epoch)) {
    if (given && given.ring.epoch === stored.epoch && given.ring.fingerprint !== stored.fingerprint) {
      throw new RingStartError(
        `${given.source} gives ring ${given.ring.label}, but the database holds ring ${stored.label}: two different rings with one epoch; ` +
          `to change the ring, give the new one a larger "epoch" in a ring file (or PUT /ring to the running instance)`,
      );
    }
    if (given && given.ring.epoch < stored.epoch) {
      notes.push(`warning: ${given.source} gives ring ${given.ring.label}, older than ring ${stored.label} in the database: using ${stored.label}`);
    } else if (given && addresses(given.ring) !== addresses(stored)) {
      notes.push(
        `warning: ${given.source} gives ring ${stored.label} with other node addresses than the database's copy: using the database's ` +
          `(${addresses(stored)}); to move a node, give the ring a larger epoch`,
      );
    } else if (!given) {
      notes.push(`ring ${stored.label} from the database (no ring option given)`);
    }
    ring = stored;
  } else if (given) {
    const save = await records.saveRing(toStored(given.ring));
    if (!save.saved)
      throw new Error(
        `the database's ring changed while this instance started (now ${ringLabel(save.current.epoch, save.current.fingerprint)}); start it again`,
      );
    if (stored) notes.push(`ring ${given.ring.label} from ${given.source} replaces ring ${stored.label} in the database`);
    ring = given.ring;
  }
  if (ring && !ring.node(self)) {
    notes.push(`warning: node ${self} is not in ring ${ring.label}: it owns no ids and answers 421 for every one`);
  }
  return { ring, notes };
}

const addresses = (ring: Ring) =>
  ring.nodes
    .map((n) => `${n.name}=${n.url}`)
    .sort()
    .join(", ");

/** The Ring of a stored ring; throws when the text does not parse or is not the ring its fingerprint names. */
function storedRing(stored: StoredRing): Ring {
  const where = `the ring saved in the database (${ringLabel(stored.epoch, stored.fingerprint)})`;
  let ring: Ring;
  try {
    ring = ringOf(parseRingFile(stored.text));
  } catch (e) {
    throw new Error(`${where} cannot be read: ${errorMessage(e)}`);
  }
  if (ring.epoch !== stored.epoch || ring.fingerprint !== stored.fingerprint) {
    throw new Error(`${where} holds another ring, ${ring.label}`);
  }
  return ring;
}
