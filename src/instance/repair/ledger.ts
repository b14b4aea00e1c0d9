/**
 * What an instance remembers for `shardctl repair`, in memory (see repairing.ts):
 *
 *   deleted   the ids clients deleted here (a DELETE that took effect, or may have), the
 *             last MAX_DELETED of them, since the instance started
 *   placed    the ids repairs stored here as their owner, for a day (at most MAX_PLACED)
 *   sessions  the repairs running against this node, each with the ring it places by; a
 *             session ends when its repair says so, or SESSION_TTL_MS after its last request
 *
 * `gone(id)` is what a placement asks of an id that is not here. One deleted here, or placed
 * by a repair (and so deleted since), was deleted on purpose by a client, later than any
 * stray copy was written: its absence stands, and the stray copies go. So a repair never
 * brings back a record its owner deleted, whether before the repair, while it ran, or between
 * a killed run and the next. A repair that ends `complete` (no stray copy left anywhere)
 * clears what was noted before it began: a stray copy written after that is newer than those
 * deletes.
 *
 * And the per-id lock (KeyedLock): while sessions run, a client's write on an id and a
 * repair's change of it take turns, so that a repair's read and its change of an id see the
 * same record.
 */
import { randomBytes } from "node:crypto";
import type { Ring } from "../../ring/ring.ts";

/** How long a session lasts after its last request. */
export const SESSION_TTL_MS = 60_000;
/** How long what repairs placed is remembered when no repair ends complete. */
export const PLACED_TTL_MS = 24 * 3600_000;
/** Deletes remembered (the oldest forgotten first). */
export const MAX_DELETED = 100_000;
/** Placements remembered (the oldest forgotten first). */
export const MAX_PLACED = 1_000_000;

export interface RepairSession {
  readonly id: string;
  /** The ring the repair places records by. */
  readonly ring: Ring;
  /** The label of the ring this node held at the start (null: none): every request checks it still does. */
  readonly held: string | null;
  /** Where in the order of notes it began. */
  readonly begun: number;
  lastSeen: number;
}

/** Ids in the order noted (each with its place in that order and its time), at most `max` (the oldest go first). */
class Noted {
  readonly #at = new Map<string, { readonly seq: number; readonly time: number }>();

  constructor(private readonly max: number) {}

  note(id: string, seq: number, time: number): void {
    this.#at.delete(id); // set again at the end: the map stays in the order noted
    this.#at.set(id, { seq, time });
    if (this.#at.size > this.max) this.#at.delete(this.#at.keys().next().value!);
  }

  has(id: string): boolean {
    return this.#at.has(id);
  }

  /** Forgets what was noted before `seq` (a place in the order). */
  forgetBeforeSeq(seq: number): void {
    for (const [id, at] of this.#at) {
      if (at.seq >= seq) break;
      this.#at.delete(id);
    }
  }

  /** Forgets what was noted before `time` (the order of notes is the order of their times). */
  forgetBeforeTime(time: number): void {
    for (const [id, at] of this.#at) {
      if (at.time >= time) break;
      this.#at.delete(id);
    }
  }

  clear(): void {
    this.#at.clear();
  }
}

export class RepairLedger {
  readonly #sessions = new Map<string, RepairSession>();
  readonly #deleted: Noted;
  readonly #placed: Noted;
  /** The order of notes and session starts. */
  #seq = 0;

  constructor(
    private readonly now: () => number = () => Date.now(),
    private readonly limits = { sessionTtlMs: SESSION_TTL_MS, placedTtlMs: PLACED_TTL_MS, maxDeleted: MAX_DELETED, maxPlaced: MAX_PLACED },
  ) {
    this.#deleted = new Noted(limits.maxDeleted);
    this.#placed = new Noted(limits.maxPlaced);
  }

  /** Whether a repair runs here now (writes take turns with it): some session is alive. */
  get tracking(): boolean {
    this.#expire();
    return this.#sessions.size > 0;
  }

  /** A new session. The caller starts it while no request runs (so that every write after it takes turns). */
  begin(ring: Ring, held: string | null): RepairSession {
    this.#expire();
    const session = { id: `repair-${randomBytes(12).toString("base64url")}`, ring, held, begun: ++this.#seq, lastSeen: this.now() };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The session `id`, kept alive by this request; undefined when it ended or never was. */
  session(id: string): RepairSession | undefined {
    this.#expire();
    const session = this.#sessions.get(id);
    if (session) session.lastSeen = this.now();
    return session;
  }

  /**
   * Ends session `id`. `complete`: its repair found no stray copy left in the cluster, so
   * what was noted before it began need not be remembered (unless another session runs still).
   */
  end(id: string, complete: boolean): boolean {
    const session = this.#sessions.get(id);
    this.#sessions.delete(id);
    this.#expire();
    if (session && complete && this.#sessions.size === 0) {
      this.#deleted.forgetBeforeSeq(session.begun);
      this.#placed.clear();
    }
    return session !== undefined;
  }

  /** A client's DELETE of `id` took effect here (or may have). */
  noteDelete(id: string): void {
    this.#deleted.note(id, ++this.#seq, this.now());
  }

  /** A repair stored `id` here as its owner. */
  notePlaced(id: string): void {
    this.#placed.note(id, ++this.#seq, this.now());
  }

  /** Whether `id`, not here now, was deleted here on purpose: deleted by a client, or placed by a repair (and deleted since). */
  gone(id: string): boolean {
    this.#expire();
    return this.#deleted.has(id) || this.#placed.has(id);
  }

  #expire(): void {
    const now = this.now();
    for (const [id, s] of this.#sessions) if (now - s.lastSeen > this.limits.sessionTtlMs) this.#sessions.delete(id);
    this.#placed.forgetBeforeTime(now - this.limits.placedTtlMs);
  }
}

/**
 * Locks by key, in memory: `with(keys, work)` runs `work` once every earlier holder of any
 * of its keys is done. Each caller queues behind the holders of its keys at once (taking all
 * its keys in one step), so two callers never wait for each other.
 */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async with<T>(keys: Iterable<string>, work: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const held = [...new Set(keys)];
    const before: Promise<void>[] = [];
    for (const key of held) {
      const tail = this.#tails.get(key);
      if (tail) before.push(tail);
      this.#tails.set(key, mine);
    }
    try {
      await Promise.all(before);
      return await work();
    } finally {
      release();
      for (const key of held) if (this.#tails.get(key) === mine) this.#tails.delete(key);
    }
  }

  /** Keys held or waited for now. */
  get size(): number {
    return this.#tails.size;
  }
}
