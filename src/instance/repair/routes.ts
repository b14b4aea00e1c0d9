/**
 * The admin endpoints a `shardctl repair` process drives an instance with (repairing.ts
 * says what each does; src/repair/protocol.ts their bodies). All are admin requests
 * (../admin.ts): a bearer token, or loopback when the instance has none. Their bodies hold
 * thousands of records, so they get the rebalance's body limit, granted only after the
 * admin check.
 */
import { Elysia } from "elysia";
import { ErrorBody, NoQuery } from "../../expenses/model.ts";
import { pathOf } from "../../http/errors.ts";
import {
  BeginAnswer,
  BeginRequest,
  EndAnswer,
  EndRequest,
  LookAnswer,
  LookRequest,
  PlaceAnswer,
  PlaceRequest,
  RemoveAnswer,
  RemoveRequest,
  ReplaceAnswer,
  ReplaceRequest,
  SessionRequest,
  StraysRequest,
  TouchAnswer,
} from "../../repair/protocol.ts";
import { type AdminPolicy, authorizeAdmin } from "../admin.ts";
import { MAX_REBALANCE_BODY_BYTES } from "../rebalance/routes.ts";
import type { Repairing } from "./repairing.ts";

const PREFIX = "/repair";

/** The body limit of `request`: the repair's for its endpoints, once the request is known to be an admin one; `otherwise`'s for the rest. */
export function repairBodyLimit(admin: AdminPolicy, otherwise: (request: Request) => number): (request: Request) => number {
  return (request) => {
    const path = pathOf(request.url);
    if (!path.startsWith(`${PREFIX}/`)) return otherwise(request);
    authorizeAdmin(admin, request, `${request.method} ${path}`);
    return MAX_REBALANCE_BODY_BYTES;
  };
}

/**
 * The error answers. The strays page gives no 200 schema: it answers thousands of records
 * the store built (as the rebalance's record pages, whose reason routes.ts there gives); its
 * 200 is described in words.
 */
const errors = { 400: ErrorBody, 403: ErrorBody, 409: ErrorBody, 413: ErrorBody, 422: ErrorBody, 503: ErrorBody };
const tags = ["repair"];
// our reader (http/body.ts) still parses; the name tells the OpenAPI document the bodies are JSON
const json = "application/json";
const admin = "Admin (Authorization: Bearer <SHARDCTL_ADMIN_TOKEN>; without that variable, loopback only). ";

export function repairFeature(repairing: Repairing, policy: AdminPolicy) {
  const allow = (request: Request) => authorizeAdmin(policy, request, `${request.method} ${pathOf(request.url)}`);
  return new Elysia({ name: "repair", prefix: PREFIX })
    .post(
      "/strays",
      ({ request, body }) => {
        allow(request);
        return repairing.strays(body.ring, body.after, body.limit);
      },
      {
        body: StraysRequest,
        parse: json,
        query: NoQuery,
        response: errors,
        detail: {
          summary: `${admin}The records stored here whose owner under \`ring\` is another node, in id order (read only)`,
          description: "200: {items: [record], next: the last id scanned (pass as `after`), or null when the table ended, scanned: ids looked at}",
          tags,
        },
      },
    )
    .post(
      "/look",
      async ({ request, body }) => {
        allow(request);
        return repairing.look(body.ids);
      },
      {
        body: LookRequest,
        parse: json,
        query: NoQuery,
        response: { 200: LookAnswer, ...errors },
        detail: { summary: `${admin}What this node holds of these ids: each present (the record), absent, or gone (deleted here by a client)`, tags },
      },
    )
    .post(
      "/begin",
      ({ request, body }) => {
        allow(request);
        return repairing.begin(body.ring, body.held);
      },
      {
        body: BeginRequest,
        parse: json,
        query: NoQuery,
        response: { 200: BeginAnswer, ...errors },
        detail: {
          summary:
            `${admin}Begin a repair session by \`ring\`: while it lasts, clients' writes take turns with the repair id by id; ` +
            "refused while a rebalance is unfinished here, or when this node does not hold `held`",
          tags,
        },
      },
    )
    .post(
      "/place",
      ({ request, body }) => {
        allow(request);
        return repairing.place(body.session, body.records);
      },
      {
        body: PlaceRequest,
        parse: json,
        query: NoQuery,
        response: { 200: PlaceAnswer, ...errors },
        detail: {
          summary:
            `${admin}On the owner: store each record unless its id is here (never over a client's write), or is gone (deleted ` +
            "here by a client, or after a repair placed it); ids this node does not own are refused, nothing written",
          tags,
        },
      },
    )
    .post(
      "/replace",
      ({ request, body }) => {
        allow(request);
        return repairing.replace(body.session, body.items);
      },
      {
        body: ReplaceRequest,
        parse: json,
        query: NoQuery,
        response: { 200: ReplaceAnswer, ...errors },
        detail: { summary: `${admin}On the owner (repair --prefer stray): replace each copy that is still \`expect\` with \`record\``, tags },
      },
    )
    .post(
      "/remove",
      ({ request, body }) => {
        allow(request);
        return repairing.remove(body.session, body.records);
      },
      {
        body: RemoveRequest,
        parse: json,
        query: NoQuery,
        response: { 200: RemoveAnswer, ...errors },
        detail: {
          summary: `${admin}On a node that does not own the ids: delete each copy still as sent; ids this node owns are refused, nothing deleted`,
          tags,
        },
      },
    )
    .post(
      "/touch",
      ({ request, body }) => {
        allow(request);
        return repairing.touch(body.session);
      },
      {
        body: SessionRequest,
        parse: json,
        query: NoQuery,
        response: { 200: TouchAnswer, ...errors },
        detail: { summary: `${admin}The repair session is alive`, tags },
      },
    )
    .post(
      "/end",
      ({ request, body }) => {
        allow(request);
        return repairing.end(body.session, body.complete);
      },
      {
        body: EndRequest,
        parse: json,
        query: NoQuery,
        response: { 200: EndAnswer, ...errors },
        detail: { summary: `${admin}End the repair session (\`complete\`: no stray copy is left in the cluster)`, tags },
      },
    );
}
