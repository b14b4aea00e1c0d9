/**
 * What the orchestrator asks of one node taking part in a rebalance: its ring, and the
 * participant's calls (src/instance/rebalance/ implements them behind the admin endpoints;
 * node-admin.ts sends them over HTTP). One shared contract suite holds every
 * implementation to the same answers (test/rebalance/participant.contract.ts: the real
 * endpoints, and the in-memory fake the orchestrator's own tests run on).
 *
 * Every call that changes something is safe to send again. A refusal is an
 * AdminAnswerError naming its kind (REBALANCE_ERRORS in protocol.ts); a node that cannot be
 * reached throws whatever its transport throws.
 */
import type { Expense } from "../expenses/model.ts";
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
} from "./protocol.ts";

/** A participant answered, but not what was asked: its status and the error kind and message it answered. */
export class AdminAnswerError extends Error {
  override readonly name = "AdminAnswerError";

  constructor(
    readonly node: string,
    readonly status: number,
    /** The error body's `error` (one of REBALANCE_ERRORS, or another kind of the instance: forbidden, ...), or "" when there is none. */
    readonly kind: string,
    /** What was asked, e.g. "GET /rebalance". */
    readonly request: string,
    /** What the participant said (its error message). */
    readonly answer: string,
    readonly body: unknown,
  ) {
    super(`${request}: HTTP ${status}: ${answer}`);
  }
}

/** GET /ring: the ring document (with the rebalance the node takes part in), and the node that answered. */
export interface RingAnswer {
  readonly doc: Record<string, unknown> & { label: string; rebalance?: RebalanceSummary };
  readonly servedBy: string | null;
}

export interface Participant {
  /** The node's name in the rings. */
  readonly name: string;
  /** Where it is, for messages. */
  readonly url: string;
  /** Its ring, or undefined when it has none. */
  ring(): Promise<RingAnswer | undefined>;
  /** The rebalance it takes part in or took part in last, with its token; undefined when none. */
  detail(): Promise<RebalanceDetail | undefined>;
  /** Takes the rebalance for `request.token` (starting it here when new), or takes it over from `request.expect`. */
  lease(request: LeaseRequest): Promise<RebalanceDetail>;
  /** The holder is alive: its progress and fence figures, for GET /ring. */
  heartbeat(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary>;
  /** Raises or lifts the fence (lifting only before the switch); `next` replaces the token once the requests in flight ended. */
  phase(token: string, phase: FencePhase, next?: string): Promise<RebalanceSummary>;
  /** Under the fence: the node takes the new ring (the same answer again once it did). */
  switchRing(token: string): Promise<{ label: string }>;
  /** After the switch: done, the change log emptied, the lease released. */
  finish(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary>;
  /** The holder stops; the phase stays, another process may take it at once. */
  release(token: string): Promise<RebalanceSummary>;
  /** Gives up a rebalance leased here that has not begun (phase copying, no progress): as if the node never took part. */
  abandon(token: string): Promise<{ abandoned: string }>;
  /** What the node's records would do in a change from `from` to `to` (ring documents); changes nothing. */
  plan(from: unknown, to: unknown): Promise<PlanAnswer>;
  /** A page of the records leaving (out) or coming to (in) the node, in id order after `after`. */
  records(side: "out" | "in", after: string | undefined, limit: number): Promise<RecordsPage>;
  /** The records stored under `ids`, whoever owns them, in id order. */
  fetch(ids: readonly string[]): Promise<Expense[]>;
  /** Before the switch: stores (replacing) and deletes records coming to the node; any other id refused, nothing written. */
  import(token: string, put: readonly Expense[], deleted: readonly string[]): Promise<ImportAnswer>;
  /** The oldest change log entries (all from `afterSeq` on, under the fence). */
  changes(token: string, limit: number, afterSeq?: number): Promise<ChangesAnswer["items"]>;
  /** Removes the change log entries with these sequence numbers. */
  dropChanges(token: string, seqs: readonly number[]): Promise<void>;
  /** After the switch: deletes up to `limit` records that left the node, from the id after `after`. */
  cleanup(token: string, after: string | undefined, limit: number): Promise<CleanupAnswer>;
}
