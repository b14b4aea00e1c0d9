/**
 * The repair protocol: the vocabulary of `shardctl repair` (src/repair/, the orchestrator)
 * and each instance's side of it (src/instance/repair/). The endpoints' bodies and answers
 * as `t` schemas (they validate the requests, type both sides and feed the OpenAPI
 * document), and the error kinds an instance refuses with.
 *
 *   POST /repair/strays    the records a node holds that it does not own under a ring (read only)
 *   POST /repair/look      what the node holds of some ids: present, absent, or gone (read only)
 *   POST /repair/begin     a session: while it lasts, clients' writes take turns with the repair id by id
 *   POST /repair/place     on the owner: store each record unless the id is there, or is gone
 *                          (deleted there by a client, or after a repair placed it)
 *   POST /repair/replace   on the owner (--prefer stray): replace its copy, if unchanged since read
 *   POST /repair/remove    on a node that does not own the ids: delete each copy, if unchanged since read
 *   POST /repair/touch     the session is alive
 *   POST /repair/end       the session ends (`complete`: no stray copy is left anywhere)
 */
import { t } from "elysia";
import { Expense } from "../expenses/model.ts";

const Session = t.String({ minLength: 8, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$", description: "the repair session, as POST /repair/begin answered it" });
const RingDocument = t.Unknown({ description: "a ring file with an epoch (as GET /ring answers it): the ring the repair places records by" });
const Records = t.Array(Expense, { maxItems: 10_000 });

/** The error kinds (an error body's `error`) an instance refuses a repair request with. */
export const REPAIR_ERRORS = {
  /** 409: no such session here (it expired, or the instance restarted since it began). */
  sessionUnknown: "repair_session_unknown",
  /** 409: the node's ring is not the one the session began with (or not the one the repair expects at begin). */
  ringChanged: "repair_ring_changed",
  /** 409: a rebalance is unfinished on the node: a repair waits until it is done. */
  rebalanceInProgress: "rebalance_in_progress",
  /** 422: a place or replace of an id this node does not own, or a remove of one it owns, under the session's ring. */
  wrongNode: "repair_wrong_node",
} as const;
export type RepairErrorKind = (typeof REPAIR_ERRORS)[keyof typeof REPAIR_ERRORS];

export const StraysRequest = t.Object(
  {
    ring: RingDocument,
    after: t.Optional(t.String({ format: "expense-id" })),
    limit: t.Integer({ minimum: 1, maximum: 10_000 }),
  },
  { additionalProperties: false },
);

export const StraysPage = t.Object({
  items: t.Array(Expense, { description: "records stored here whose owner under `ring` is another node, in id order" }),
  next: t.Union([t.String(), t.Null()], { description: "the last id scanned: pass it as `after` for more; null when the table ended" }),
  scanned: t.Integer({ minimum: 0, description: "ids looked at by this request (matches or not)" }),
});

export const BeginRequest = t.Object(
  {
    ring: RingDocument,
    held: t.Union([t.String(), t.Null()], { description: "the ring label the repair expects this node to hold (null: none); refused otherwise" }),
  },
  { additionalProperties: false },
);

export const BeginAnswer = t.Object({
  session: Session,
  node: t.String(),
  ring: t.String({ description: "the label of the ring the session places records by" }),
  ttlMs: t.Integer({ description: "the session ends this long after its last request (POST /repair/touch keeps it)" }),
});

export const SessionRequest = t.Object({ session: Session }, { additionalProperties: false });
export const EndRequest = t.Object(
  { session: Session, complete: t.Boolean({ description: "no stray copy is left in the cluster: what earlier runs placed here need not be remembered" }) },
  { additionalProperties: false },
);

export const PlaceRequest = t.Object({ session: Session, records: Records }, { additionalProperties: false });
export const PlaceAnswer = t.Object({
  items: t.Array(
    t.Object({
      id: t.String(),
      outcome: t.UnionEnum(["placed", "present", "gone"], {
        description:
          "placed: stored now; present: the id is here (`record`, kept); gone: not here, and deleted here by a client (or after a " +
          "repair placed it): its absence stands",
      }),
      record: t.Optional(Expense),
    }),
  ),
});

export const LookRequest = t.Object({ ids: t.Array(t.String({ format: "expense-id" }), { maxItems: 10_000 }) }, { additionalProperties: false });
export const LookAnswer = t.Object({
  items: t.Array(
    t.Object({
      id: t.String(),
      state: t.UnionEnum(["present", "absent", "gone"], {
        description: "present (`record`); absent; gone: absent, and deleted here by a client (or after a repair placed it): a placement would be refused",
      }),
      record: t.Optional(Expense),
    }),
  ),
});

export const ReplaceRequest = t.Object(
  { session: Session, items: t.Array(t.Object({ record: Expense, expect: Expense }), { maxItems: 10_000 }) },
  { additionalProperties: false },
);
export const ReplaceAnswer = t.Object({
  items: t.Array(
    t.Object({
      id: t.String(),
      outcome: t.UnionEnum(["replaced", "changed"], {
        description: "replaced; or changed: the copy here is no longer `expect` (`record`, absent when deleted), left alone",
      }),
      record: t.Optional(Expense),
    }),
  ),
});

export const RemoveRequest = t.Object({ session: Session, records: Records }, { additionalProperties: false });
export const RemoveAnswer = t.Object({
  items: t.Array(
    t.Object({
      id: t.String(),
      outcome: t.UnionEnum(["removed", "changed", "absent"], {
        description: "removed; changed: the copy here differs from the one sent (`record`), left alone; absent: not here (removed before)",
      }),
      record: t.Optional(Expense),
    }),
  ),
});

export const TouchAnswer = t.Object({ session: Session, ttlMs: t.Integer() });
export const EndAnswer = t.Object({ ended: Session });

export type StraysPage = typeof StraysPage.static;
export type BeginAnswer = typeof BeginAnswer.static;
export type PlaceOutcome = (typeof PlaceAnswer.static)["items"][number];
export type LookOutcome = (typeof LookAnswer.static)["items"][number];
export type ReplaceOutcome = (typeof ReplaceAnswer.static)["items"][number];
export type RemoveOutcome = (typeof RemoveAnswer.static)["items"][number];
