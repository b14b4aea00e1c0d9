/**
 * What an instance remembers for `shardctl repair`, in memory (see repairing.ts):
 *
 *   sessions  the repairs running against this node, each with the ring it places by;
 *             a session ends when its repair says so, or TTL after its last request
 *   deleted   while at least one session runs: the ids clients deleted here (a DELETE that
 *             took effect, or may have). Emptied when the last session ends.
 *   placed    the ids repairs stored here as their owner, kept until a repair ends
 *             `complete` (no stray copy is left anywhere) or a day passed
 *
 * `touched(id)` is what a placement asks of an id that is not here: one deleted here during a
 * repair, or placed by one (and so deleted since), was deleted on purpose by a client; its
 * absence stands, and the stray copy goes. A repair killed and run again finds what it
 * placed before in `placed`, whatever happened to it meanwhile.
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
/** At most this many ids noted as deleted during repairs; past it, every session ends (the repairs fail; run again). */
export const MAX_DELETED = 1_000_000;

export interface RepairSession {
  readonly id: string;
  /** The ring the repair places records by. */
  readonly ring: Ring;
  /** The label of the ring this node held at the start (null: none): every request checks it still does. */
  readonly held: string | null;
  lastSeen: number;
}

export class RepairLedger {
  readonly #sessions = new Map<string, RepairSession>();
  readonly #deleted = new Set<string>();
  /** id -> when a repair placed it here. */
  readonly #placed = new Map<string, number>();

  constructor(
    private readonly now: () => number = () => Date.now(),
    private readonly limits = { sessionTtlMs: SESSION_TTL_MS, placedTtlMs: PLACED_TTL_MS, maxDeleted: MAX_DELETED },
  ) {}

  /** Whether deletes are noted now (and writes take turns with repairs): some session is alive. */
  get tracking(): boolean {
    this.#expire();
    return this.#sessions.size > 0;
  }

  /** A new session. The caller starts it while no request runs (so that every delete after it is noted). */
  begin(ring: Ring, held: string | null): RepairSession {
    this.#expire();
    const session = { id: `repair-${randomBytes(12).toString("base64url")}`, ring, held, lastSeen: this.now() };
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
   * what repairs placed need not be remembered (unless another session runs still).
   */
  end(id: string, complete: boolean): boolean {
    const ended = this.#sessions.delete(id);
    this.#expire();
    if (ended && complete && this.#sessions.size === 0) this.#placed.clear();
    return ended;
  }

  /** A client's DELETE of `id` took effect (or may have), during a session. */
  noteDelete(id: string): void {
    if (this.#sessions.size === 0) return;
    this.#deleted.add(id);
    if (this.#deleted.size > this.limits.maxDeleted) {
      // Too many to remember: the sessions end (their next request is refused), and the notes with them.
      this.#sessions.clear();
      this.#deleted.clear();
    }
  }

  /** A repair stored `id` here as its owner. */
  notePlaced(id: string): void {
    this.#placed.delete(id); // set again at the end: the map stays in the order placed
    this.#placed.set(id, this.now());
  }

  /** Whether `id` was deleted here during a repair, or placed here by one. */
  touched(id: string): boolean {
    return this.#deleted.has(id) || this.#placed.has(id);
  }

  #expire(): void {
    const now = this.now();
    for (const [id, s] of this.#sessions) if (now - s.lastSeen > this.limits.sessionTtlMs) this.#sessions.delete(id);
    if (this.#sessions.size === 0) this.#deleted.clear();
    for (const [id, at] of this.#placed) {
      if (now - at <= this.limits.placedTtlMs) break; // in the order placed: the rest are younger
      this.#placed.delete(id);
    }
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
