/**
 * What a repair asks of one instance: what it is (its ring, its name, its first ids, its
 * count) and the repair's calls (src/instance/repair/ implements them behind the admin
 * endpoints; node-http.ts sends them over HTTP). One contract suite holds every
 * implementation to the same answers (test/repair/repair-node.contract.ts: the real
 * endpoints, and the in-memory fake the orchestrator's own tests run on).
 *
 * Every call is safe to send again: the reads change nothing, and each change is
 * conditional on what the node holds (see the protocol). A refusal is an AdminAnswerError
 * naming its kind (REPAIR_ERRORS); a node that cannot be reached throws what its transport throws.
 */
import type { Expense } from "../expenses/model.ts";
import type { BeginAnswer, LookOutcome, PlaceOutcome, RemoveOutcome, ReplaceOutcome, StraysPage } from "./protocol.ts";

/** GET /ring as a repair reads it: the ring document (undefined: the node has none) and the name the node answered as. */
export interface HeldRing {
  readonly doc: (Record<string, unknown> & { readonly label: string; readonly rebalance?: { readonly job: string; readonly phase: string } }) | undefined;
  readonly servedBy: string | null;
}

export interface RepairNode {
  /** The node's name in the ring. */
  readonly name: string;
  /** Where it is, for messages. */
  readonly url: string;
  /** The ring it holds, and the name it goes by. */
  ring(): Promise<HeldRing>;
  /** The first `limit` records of its listing, in id order. */
  firstRecords(limit: number): Promise<Expense[]>;
  /** How many records it holds (its own count, GET /status). */
  count(): Promise<number>;
  /** Up to `limit` records it holds whose owner under `ring` (a ring document) is another node, after `after`. */
  strays(ring: unknown, after: string | undefined, limit: number): Promise<StraysPage>;
  /** What it holds of `ids` (in that order): each present (the record), absent, or gone (deleted there by a client: not placed again). */
  look(ids: readonly string[]): Promise<LookOutcome[]>;
  /** A session for a repair by `ring`, the node holding `held` (a label, or null: none). */
  begin(ring: unknown, held: string | null): Promise<BeginAnswer>;
  /** As the owner: stores each record unless its id is there or was deleted there on purpose. */
  place(session: string, records: readonly Expense[]): Promise<PlaceOutcome[]>;
  /** As the owner: replaces each copy that is still `expect` with `record`. */
  replace(session: string, items: readonly { record: Expense; expect: Expense }[]): Promise<ReplaceOutcome[]>;
  /** As a node that does not own the ids: deletes each copy that is still the record given. */
  remove(session: string, records: readonly Expense[]): Promise<RemoveOutcome[]>;
  touch(session: string): Promise<void>;
  end(session: string, complete: boolean): Promise<void>;
}
