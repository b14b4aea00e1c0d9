/**
 * The rebalance protocol: the one vocabulary of the orchestrator (src/rebalance/, the
 * `shardctl rebalance` process) and the participant (src/instance/rebalance/, each
 * instance). The phases a node goes through, the steps of a job, the error kinds a
 * participant refuses with, and the endpoints' bodies and answers as `t` schemas: they
 * validate requests, type the handlers and the orchestrator's calls, and feed the OpenAPI
 * document. GET /ring shows `RebalanceSummary` under "rebalance".
 */
import { t } from "elysia";
import { Expense } from "../expenses/model.ts";

const Token = t.String({ minLength: 8, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$", description: "the fencing token of the process holding the rebalance" });
const Time = t.String({ description: "ISO 8601, the instance's clock" });
const Label = t.String({ description: "a ring label, <epoch>:<fingerprint>" });

/** Where a rebalance stands on one instance, in order. */
export const REBALANCE_PHASES = ["copying", "fenced", "switched", "done"] as const;
export type RebalancePhase = (typeof REBALANCE_PHASES)[number];

/** Whether `value` (a database column, a JSON field) is a phase. */
export function isRebalancePhase(value: unknown): value is RebalancePhase {
  return (REBALANCE_PHASES as readonly unknown[]).includes(value);
}

export const RebalancePhaseSchema = t.UnionEnum(REBALANCE_PHASES, {
  description:
    "copying: ids leaving this node are served here and their writes logged, ids coming here answer 503; " +
    "fenced: requests on ids leaving (reads and writes) answer 503 too; " +
    "switched: this node holds the new ring, leftovers not yet deleted; done: finished",
});

/** The phases the holder moves a node between by hand (POST /rebalance/phase): the fence raised, or lifted before the switch. */
export const FENCE_PHASES = ["copying", "fenced"] as const satisfies readonly RebalancePhase[];
export type FencePhase = (typeof FENCE_PHASES)[number];

export const RebalanceHolder = t.Object(
  {
    pid: t.Integer({ minimum: 1 }),
    host: t.String({ minLength: 1, maxLength: 255 }),
    since: Time,
  },
  { description: "the shardctl rebalance process holding the rebalance" },
);

/**
 * The steps of a rebalance job, in order (src/rebalance/run.ts): a failure names the one it
 * happened in (RebalanceFailed), the report times each, the progress events name them.
 */
export const REBALANCE_STEPS = ["survey", "lease", "plan", "copy", "catch-up", "verify", "fence", "switch", "cleanup", "finish"] as const;
export type RebalanceStep = (typeof REBALANCE_STEPS)[number];

/** The steps the job's heartbeats tell the nodes about: after the lease, before the finish. */
type HeartbeatStep = Exclude<RebalanceStep, "survey" | "lease" | "finish">;

/** Where the job stands as the nodes are told (progress.step): a step from the plan to the cleanup, then "done" (its finish). */
export type ProgressStep = HeartbeatStep | "done";

const heartbeatStep = (step: RebalanceStep): step is HeartbeatStep => step !== "survey" && step !== "lease" && step !== "finish";

export const PROGRESS_STEPS = [...REBALANCE_STEPS.filter(heartbeatStep), "done"] as unknown as readonly [ProgressStep, ...ProgressStep[]];

/** The progress step of a job at `step`: the finish tells "done". */
export function progressStep(step: Exclude<RebalanceStep, "survey" | "lease">): ProgressStep {
  return heartbeatStep(step) ? step : "done";
}

/**
 * The error kinds (an error body's `error`) a participant refuses a rebalance request with;
 * the orchestrator tells them apart by these names only.
 */
export const REBALANCE_ERRORS = {
  /** 404, GET /rebalance: the node has taken part in no rebalance. */
  noRebalance: "no_rebalance",
  /** 409: the node takes part in no rebalance (or is in neither ring of the one asked for). */
  notInRebalance: "not_in_rebalance",
  /** 409: another token is in force (another process holds the rebalance, or took it over). */
  held: "rebalance_held",
  /** 409: the node takes part in another rebalance, unfinished. */
  inProgress: "rebalance_in_progress",
  /** 409: this rebalance is done on the node. */
  done: "rebalance_done",
  /** 409: the request does not fit the node's phase (a switch before the fence, an import after the switch). */
  wrongPhase: "wrong_phase",
  /** 409: the node's ring is not the one the rebalance starts from (or its database holds another). */
  ringMismatch: "ring_mismatch",
  /** 422: an import of an id that is not coming to the node. */
  notMovingHere: "not_moving_here",
} as const;
export type RebalanceErrorKind = (typeof REBALANCE_ERRORS)[keyof typeof REBALANCE_ERRORS];

/** What the rebalance process says of the whole job, on every node (for GET /ring and the cluster page). */
export const RebalanceProgress = t.Object({
  step: t.UnionEnum(PROGRESS_STEPS),
  copied: t.Integer({ minimum: 0, description: "records copied to their new owner so far" }),
  toCopy: t.Integer({ minimum: 0, description: "records the plan found to move" }),
  verified: t.Optional(t.Integer({ minimum: 0, description: "moving records compared between old and new owner" })),
  fixed: t.Optional(t.Integer({ minimum: 0, description: "differences found by the comparison and fixed from the old owner" })),
  cleaned: t.Optional(t.Integer({ minimum: 0, description: "moved records deleted from their old owner" })),
  ratePerS: t.Optional(t.Number({ minimum: 0, description: "records copied per second" })),
});

/** The fence: how long requests on moving records waited. */
export const FenceFigures = t.Object({
  ms: t.Number({ minimum: 0, description: "from the first node fenced to the last node switched" }),
  drained: t.Integer({ minimum: 0, description: "ids written since the comparison, copied and compared again under the fence" }),
  started: Time,
  ended: t.Union([Time, t.Null()]),
});

export const RebalanceSummary = t.Object({
  job: t.String({ description: "<from label> -> <to label>" }),
  from: Label,
  to: Label,
  phase: RebalancePhaseSchema,
  started: Time,
  holder: t.Union([RebalanceHolder, t.Null()]),
  heartbeat: t.Union([Time, t.Null()]),
  heartbeatAgeMs: t.Union([t.Number(), t.Null()], { description: "how long ago the holder was last heard of, by this instance's clock" }),
  fencedAt: t.Union([Time, t.Null()]),
  switchedAt: t.Union([Time, t.Null()]),
  finished: t.Union([Time, t.Null()]),
  progress: t.Union([RebalanceProgress, t.Null()]),
  fence: t.Union([FenceFigures, t.Null()]),
});

const RingDocument = t.Unknown({ description: "a ring file with an epoch (as GET /ring answers it)" });

/** GET /rebalance (admin): the summary, the token and both rings in full. */
export const RebalanceDetail = t.Composite([
  RebalanceSummary,
  t.Object({ token: t.Union([t.String(), t.Null()]), fromRing: t.Unknown(), toRing: t.Unknown() }),
]);

export const LeaseRequest = t.Object(
  {
    from: RingDocument,
    to: RingDocument,
    token: Token,
    expect: t.Union([Token, t.Null()], { description: "the token the caller saw (null: nobody holds the rebalance); the lease is refused if it changed" }),
    holder: RebalanceHolder,
  },
  { additionalProperties: false },
);

export const HeldRequest = t.Object({ token: Token }, { additionalProperties: false });

export const HeartbeatRequest = t.Object(
  { token: Token, progress: t.Optional(RebalanceProgress), fence: t.Optional(FenceFigures) },
  { additionalProperties: false },
);

export const PhaseRequest = t.Object(
  {
    token: Token,
    phase: t.UnionEnum(FENCE_PHASES),
    next: t.Optional(Token),
  },
  {
    additionalProperties: false,
    description:
      "fence (or lift the fence before any node switched); `next` replaces the token, so that no request sent with the old one runs after this answer",
  },
);

export const PlanRequest = t.Object({ from: RingDocument, to: RingDocument }, { additionalProperties: false });

export const PlanAnswer = t.Object({
  records: t.Integer({ description: "records stored on this node" }),
  stays: t.Integer({ description: "records this node owns under both rings" }),
  moves: t.Array(t.Object({ to: t.String(), records: t.Integer() }), { description: "records this node owns under `from` and another node under `to`" }),
  incoming: t.Integer({ description: "records already here that this node owns under `to` only (copies of an earlier run)" }),
  strays: t.Integer({ description: "records this node owns under neither ring (left alone)" }),
});

export const IdList = t.Array(t.String({ format: "expense-id" }), { maxItems: 100_000 });

export const FetchRequest = t.Object({ ids: IdList }, { additionalProperties: false });

export const ImportRequest = t.Object(
  { token: Token, put: t.Array(Expense, { maxItems: 100_000 }), delete: IdList },
  { additionalProperties: false, description: "records to store (each replacing what its id holds) and ids to delete, on the new owner" },
);

export const ImportAnswer = t.Object({ put: t.Integer(), deleted: t.Integer() });

export const RecordsQuery = t.Object(
  {
    side: t.UnionEnum(["out", "in"], { description: "out: records leaving this node; in: records coming to it" }),
    after: t.Optional(t.String({ format: "expense-id" })),
    limit: t.Optional(t.String({ pattern: "^[1-9][0-9]{0,4}$", description: "at most this many records (default 1000, at most 10000)" })),
  },
  { additionalProperties: false },
);

export const MovingRecord = t.Composite([Expense, t.Object({ peer: t.String({ description: "the other node: the new owner (out) or the old owner (in)" }) })]);

export const RecordsPage = t.Object({
  items: t.Array(MovingRecord),
  next: t.Union([t.String(), t.Null()], { description: "the last id scanned: pass it as ?after= for more; null when the table ended" }),
});

export const ChangesRequest = t.Object(
  {
    token: Token,
    limit: t.Integer({ minimum: 1, maximum: 100_000 }),
    afterSeq: t.Optional(t.Integer({ minimum: 0, description: "only entries after this sequence number (safe under the fence only)" })),
  },
  { additionalProperties: false },
);
export const ChangesAnswer = t.Object({ items: t.Array(t.Object({ seq: t.Integer(), id: t.String() })) });
export const DropRequest = t.Object({ token: Token, seqs: t.Array(t.Integer({ minimum: 0 }), { maxItems: 100_000 }) }, { additionalProperties: false });

export const CleanupRequest = t.Object(
  { token: Token, after: t.Optional(t.String({ format: "expense-id" })), limit: t.Integer({ minimum: 1, maximum: 100_000 }) },
  { additionalProperties: false },
);
export const CleanupAnswer = t.Object({ deleted: t.Integer(), next: t.Union([t.String(), t.Null()]) });

export type RebalanceHolder = typeof RebalanceHolder.static;
export type RebalanceProgress = typeof RebalanceProgress.static;
export type FenceFigures = typeof FenceFigures.static;
export type RebalanceSummary = typeof RebalanceSummary.static;
export type RebalanceDetail = typeof RebalanceDetail.static;
export type LeaseRequest = typeof LeaseRequest.static;
export type PlanAnswer = typeof PlanAnswer.static;
export type MovingRecord = typeof MovingRecord.static;
export type RecordsPage = typeof RecordsPage.static;
export type ImportAnswer = typeof ImportAnswer.static;
export type CleanupAnswer = typeof CleanupAnswer.static;
export type ChangesAnswer = typeof ChangesAnswer.static;
