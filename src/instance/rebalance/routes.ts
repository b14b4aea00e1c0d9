/**
 * The admin endpoints a `shardctl rebalance` process drives an instance with (see
 * rebalancing.ts for what each does). All are admin requests (../admin.ts): a bearer token,
 * or loopback when the instance has none. Their bodies may be large (thousands of
 * records), so they get their own limit, granted only after the admin check.
 */
import { Elysia, t } from "elysia";
import { ErrorBody, NoQuery } from "../../expenses/model.ts";
import { authorizeAdmin, type AdminPolicy } from "../admin.ts";
import { MAX_BODY_BYTES } from "../../http/body.ts";
import { pathOf } from "../../http/errors.ts";
import { ADMIN_TAG, DOCUMENTED_ANSWERS } from "../../http/openapi-document.ts";
import {
  ChangesAnswer,
  ChangesRequest,
  CleanupAnswer,
  CleanupRequest,
  DropRequest,
  FetchRequest,
  HeartbeatRequest,
  HeldRequest,
  ImportAnswer,
  ImportRequest,
  LeaseRequest,
  PhaseRequest,
  PlanAnswer,
  PlanRequest,
  RebalanceDetail,
  RebalanceSummary,
  RecordsQuery,
} from "../../rebalance/protocol.ts";
import type { Rebalancing } from "./rebalancing.ts";
import { RingBody } from "../../http/ring-body.ts";
import { ringDocument } from "../../ring/ring-file.ts";

/** The largest body of a rebalance request (a batch of records to import). */
export const MAX_REBALANCE_BODY_BYTES = 64 << 20;

const PREFIX = "/rebalance";

/**
 * The body limit of `request`: the rebalance's own for its endpoints, once the request
 * is known to be an admin one (403 before a byte of the body is read otherwise).
 */
export function bodyLimit(admin: AdminPolicy): (request: Request) => number {
  return (request) => {
    const path = pathOf(request.url);
    if (path !== PREFIX && !path.startsWith(`${PREFIX}/`)) return MAX_BODY_BYTES;
    authorizeAdmin(admin, request, `${request.method} ${path}`);
    return MAX_REBALANCE_BODY_BYTES;
  };
}

/**
 * The error answers of every endpoint. The bulk reads (records) give no 200 schema: they
 * answer thousands of records the store built, and a schema would be checked item by
 * item on every page, a quarter of the endpoint's CPU; their 200 is described in words.
 */
const errors = { 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 422: ErrorBody, 503: ErrorBody };
const tags = [ADMIN_TAG];

/** The bulk reads' 200, for the document only (see `errors`): records as GET /v1/expenses/<id> answers them. */
const EXPENSE = { $ref: "#/components/schemas/Expense" };
const bulkAnswer = (description: string, item: object, next: boolean) => ({
  200: {
    description,
    content: {
      "application/json": {
        schema: {
          type: "object",
          required: next ? ["items", "next"] : ["items"],
          properties: {
            items: { type: "array", items: item },
            ...(next ? { next: { type: ["string", "null"], description: "the last id scanned (pass as ?after=), or null when the table ended" } } : {}),
          },
        },
      },
    },
  },
});
const admin = "Admin (Authorization: Bearer <SHARDCTL_ADMIN_TOKEN>; without that variable, loopback only). ";

export function rebalanceFeature(rebalancing: Rebalancing, policy: AdminPolicy) {
  const allow = (request: Request) => authorizeAdmin(policy, request, `${request.method} ${pathOf(request.url)}`);
  return new Elysia({ name: "rebalance", prefix: PREFIX })
    .get(
      "",
      ({ request }) => {
        allow(request);
        return rebalancing.detail();
      },
      {
        query: NoQuery,
        response: { 200: RebalanceDetail, ...errors },
        detail: { summary: `${admin}The rebalance this node takes part in, its token and both rings; 404 when none`, tags },
      },
    )
    .post(
      "/lease",
      ({ request, body }) => {
        allow(request);
        return rebalancing.lease(body);
      },
      {
        body: LeaseRequest,
        query: NoQuery,
        response: { 200: RebalanceDetail, ...errors },
        detail: {
          summary:
            `${admin}Take the rebalance from \`from\` to \`to\` for a token (starting it here: ids leaving are logged, ids ` +
            `coming answer 503), or take it over from the token \`expect\``,
          tags,
        },
      },
    )
    .post(
      "/heartbeat",
      ({ request, body }) => {
        allow(request);
        return rebalancing.heartbeat(body.token, body.progress, body.fence);
      },
      {
        body: HeartbeatRequest,
        query: NoQuery,
        response: { 200: RebalanceSummary, ...errors },
        detail: { summary: `${admin}The holder is alive; its progress`, tags },
      },
    )
    .post(
      "/phase",
      ({ request, body }) => {
        allow(request);
        return rebalancing.phase(body.token, body.phase, body.next);
      },
      {
        body: PhaseRequest,
        query: NoQuery,
        response: { 200: RebalanceSummary, ...errors },
        detail: {
          summary: `${admin}Raise the fence (requests on leaving ids, reads and writes, answer 503) or lift it before the switch; waits for requests in flight`,
          tags,
        },
      },
    )
    .post(
      "/switch",
      async ({ request, body }) => {
        allow(request);
        return ringDocument(await rebalancing.switchRing(body.token));
      },
      {
        body: HeldRequest,
        query: NoQuery,
        response: { 200: RingBody, ...errors },
        detail: { summary: `${admin}Under the fence: take the new ring (saved, then in force); the move ends on this node`, tags },
      },
    )
    .post(
      "/finish",
      ({ request, body }) => {
        allow(request);
        return rebalancing.finish(body.token, body.progress, body.fence);
      },
      { body: HeartbeatRequest, query: NoQuery, response: { 200: RebalanceSummary, ...errors }, detail: { summary: `${admin}After the switch: done`, tags } },
    )
    .post(
      "/release",
      ({ request, body }) => {
        allow(request);
        return rebalancing.release(body.token);
      },
      {
        body: HeldRequest,
        query: NoQuery,
        response: { 200: RebalanceSummary, ...errors },
        detail: { summary: `${admin}The holder stops; the phase stays`, tags },
      },
    )
    .post(
      "/abandon",
      ({ request, body }) => {
        allow(request);
        return rebalancing.abandon(body.token);
      },
      {
        body: HeldRequest,
        query: NoQuery,
        response: { 200: t.Object({ abandoned: t.String({ description: "the job given up" }) }), ...errors },
        detail: { summary: `${admin}Give up a rebalance that has not begun here (phase copying, nothing copied): the node is as if it never took part`, tags },
      },
    )
    .post(
      "/plan",
      ({ request, body }) => {
        allow(request);
        return rebalancing.plan(body.from, body.to);
      },
      {
        body: PlanRequest,
        query: NoQuery,
        response: { 200: PlanAnswer, ...errors },
        detail: { summary: `${admin}What this node's records would do in a change from \`from\` to \`to\`; changes nothing`, tags },
      },
    )
    .get(
      "/records",
      ({ request, query }) => {
        allow(request);
        return rebalancing.records(query.side, query.after, Math.min(Number(query.limit ?? 1000), 10_000));
      },
      {
        query: RecordsQuery,
        response: errors,
        detail: {
          summary: `${admin}The records leaving (side=out) or coming to (side=in) this node in its rebalance, in id order`,
          description:
            "200: {items: [record + peer (the new owner, or the old one)], next: the last id scanned (pass as ?after=), or null when the table ended}",
          tags,
          [DOCUMENTED_ANSWERS]: bulkAnswer(
            "the records, each with its peer, in id order",
            {
              allOf: [
                EXPENSE,
                { type: "object", required: ["peer"], properties: { peer: { type: "string", description: "the new owner (out), or the old one (in)" } } },
              ],
            },
            true,
          ),
        },
      },
    )
    .post(
      "/records",
      async ({ request, body }) => {
        allow(request);
        return { items: await rebalancing.fetch(body.ids) };
      },
      {
        body: FetchRequest,
        query: NoQuery,
        response: errors,
        detail: {
          summary: `${admin}The records stored under these ids (absent ones left out), whoever owns them`,
          description: "200: {items: [record]}, in id order",
          tags,
          [DOCUMENTED_ANSWERS]: bulkAnswer("the records stored under the ids asked for, in id order", EXPENSE, false),
        },
      },
    )
    .post(
      "/import",
      ({ request, body }) => {
        allow(request);
        return rebalancing.importRecords(body.token, body.put, body.delete);
      },
      {
        body: ImportRequest,
        query: NoQuery,
        response: { 200: ImportAnswer, ...errors },
        detail: {
          summary: `${admin}Before this node switches: store (replacing) and delete records coming to it; any other id is refused and nothing written`,
          tags,
        },
      },
    )
    .post(
      "/changes",
      ({ request, body }) => {
        allow(request);
        return rebalancing.changes(body.token, body.limit, body.afterSeq);
      },
      { body: ChangesRequest, query: NoQuery, response: { 200: ChangesAnswer, ...errors }, detail: { summary: `${admin}The oldest change log entries`, tags } },
    )
    .post(
      "/changes/drop",
      ({ request, body }) => {
        allow(request);
        return rebalancing.dropChanges(body.token, body.seqs);
      },
      {
        body: DropRequest,
        query: NoQuery,
        response: { 200: t.Object({ dropped: t.Integer() }), ...errors },
        detail: { summary: `${admin}Remove change log entries that were copied`, tags },
      },
    )
    .post(
      "/cleanup",
      ({ request, body }) => {
        allow(request);
        return rebalancing.cleanup(body.token, body.after, body.limit);
      },
      {
        body: CleanupRequest,
        query: NoQuery,
        response: { 200: CleanupAnswer, ...errors },
        detail: { summary: `${admin}After the switch: delete records that left this node`, tags },
      },
    );
}
