/**
 * The router's HTTP app, without a socket (`startRouter` serves it): the /v1/expenses
 * API of an instance, each request sent to the owner of its id on the ring.
 *
 * A request is validated here exactly as an instance validates it (the same route
 * schemas, body reader, error mapping and rules), so a malformed request or an invalid
 * id is answered without contacting any node. A valid one goes to its owner only, and
 * the owner's answer is passed on as it is, with X-Shard-Url (the instance's address)
 * and X-Request-Id beside its X-Shard-Node.
 */
import { Elysia, t } from "elysia";
import { expenseModels, expenseRoutes } from "../expenses/index.ts";
import { ErrorBody, NoQuery } from "../expenses/model.ts";
import { expenseChanges, newExpense, pageRequest } from "../expenses/service.ts";
import { RING_HEADER, type Ring } from "../ring/ring.ts";
import type { Node } from "../ring/node.ts";
import { checkHost } from "../http/listen.ts";
import { rejectRepeatedQuery } from "../http/query.ts";
import { MAX_BODY_BYTES, parseJsonText, readBodyText } from "../http/body.ts";
import { answerError } from "../http/errors.ts";
import { HttpMetrics, metricsFeature } from "../http/metrics.ts";
import { ANY_ROUTE_ERRORS, apiDocs } from "../http/openapi-document.ts";
import { openapiPage } from "../http/openapi-page.ts";

import { ringDocument } from "../ring/ring-file.ts";
import { RingBody } from "../http/ring-body.ts";
import { badAnswer, failedRequest, RouterError, RouterErrorAnswer, wrongNode } from "./errors.ts";
import type { FollowedRing } from "./followed-ring.ts";
import { headersToClient, headersToInstance, requestIdOf } from "./headers.ts";
import { mergedPage, InvalidListing, type NodePage } from "./listing.ts";
import { ReadinessAnswer, readiness } from "./readiness.ts";
import { ROUTER_ROUTES } from "./routes.ts";
import { deadlineReason, leftOf, type Deadline, type Upstream, type UpstreamAnswer, type UpstreamMethod } from "./upstream.ts";

/**
 * An expense route as the router serves it: an instance's, and the router's own answers
 * when the owner gives no usable one (its handlers answer Responses, which Elysia does not
 * check: the schemas are the document's).
 */
function routed<R extends { readonly response: object }>(route: R) {
  return {
    ...route,
    response: { ...route.response, 502: RouterErrorAnswer, 503: t.Union([RouterErrorAnswer, ErrorBody]), 504: RouterErrorAnswer },
  } as R;
}

/** No stored record is larger than the largest body an instance accepts, plus its status fields. */
const RECORD_ANSWER_BYTES = MAX_BODY_BYTES + 4096;

export interface RouterAppOptions {
  /** The ring the router starts with; it follows the cluster's to newer ones. */
  readonly ring: FollowedRing;
  readonly upstream: Upstream;
  /** The client's address, for X-Forwarded-For (the server asks Bun's requestIP). */
  readonly clientAddress?: (request: Request) => string | undefined;
  /** What GET /metrics shows; default: a registry of its own. */
  readonly metrics?: HttpMetrics;
  /**
   * How long a request may take in all, from its first exchange with a node (attempts,
   * GET /ring, the request sent again, a listing's rounds); then it is a 504. Default:
   * three times the upstream timeout.
   */
  readonly deadlineMs?: number;
}

/** The default deadline of a request: time for the attempts, the GET /ring and the resend of a 421. */
export const defaultDeadlineMs = (timeoutMs: number): number => 3 * timeoutMs;

/** `work`'s result, or LATE when `deadline` runs out first (the work goes on, unawaited). */
const LATE = Symbol("late");
async function beforeDeadline<T>(work: Promise<T>, deadline: Deadline): Promise<T | typeof LATE> {
  const left = leftOf(deadline);
  if (left <= 0) return LATE;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(() => resolve(LATE), left)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function createRouterApp({
  ring: followed,
  upstream,
  clientAddress = () => undefined,
  metrics = new HttpMetrics(),
  deadlineMs = defaultDeadlineMs(upstream.timeoutMs),
}: RouterAppOptions) {
  // The body as the client wrote it: checked here, then sent on byte for byte.
  const bodies = new WeakMap<Request, string>();
  const requestIds = new WeakMap<Request, string>();
  const requestId = (request: Request): string => {
    let id = requestIds.get(request);
    if (id === undefined) {
      id = requestIdOf(request);
      requestIds.set(request, id);
    }
    return id;
  };
  const deadlines = new WeakMap<Request, Deadline>();
  /** The request's deadline, set by its first exchange with a node (the client has sent it all by then). */
  const deadlineOf = (request: Request): Deadline => {
    let deadline = deadlines.get(request);
    if (deadline === undefined) {
      deadline = { at: performance.now() + deadlineMs, ms: deadlineMs };
      deadlines.set(request, deadline);
    }
    return deadline;
  };

  /**
   * One exchange with `node` for a request placed with `ring` (its label goes along):
   * the instance's answer, or the RouterError for what went wrong. The ring follows a
   * newer one the answer points to (for a 421 before returning, with the ring to send it
   * again under; with `awaitRing` also before returning; for any other answer in the
   * background); the caller decides what to send again.
   */
  async function exchange(
    request: Request,
    node: Node,
    ring: Ring,
    method: UpstreamMethod,
    path: string,
    { id, maxAnswerBytes = RECORD_ANSWER_BYTES, awaitRing = false }: { id?: string; maxAnswerBytes?: number; awaitRing?: boolean } = {},
  ): Promise<{ answer: UpstreamAnswer; newer: Ring | undefined }> {
    const deadline = deadlineOf(request);
    const answer = await upstream.send(node, {
      method,
      path,
      headers: headersToInstance(request, requestId(request), clientAddress(request), ring.label),
      body: bodies.get(request),
      maxAnswerBytes,
      deadline,
    });
    if (!answer.ok) throw failedRequest(answer, method, id);
    const servedBy = answer.headers.get("x-shard-node");
    if (servedBy !== null && servedBy !== node.name) throw wrongNode(node, servedBy, method);
    const said = { status: answer.status, ring: answer.headers.get(RING_HEADER) };
    // only a 421 (nothing was done) and a listing page (redone under a newer ring) wait for
    // the node's ring; any other answer goes on at once
    if (answer.status !== 421 && !awaitRing) {
      followed.notice(node, said);
      return { answer, newer: undefined };
    }
    const newer = await beforeDeadline(followed.after(node, ring, said), deadline);
    if (newer === LATE) {
      const outcome =
        answer.status !== 421
          ? "the listing needs every node"
          : answer.reachedBefore && method !== "GET"
            ? `it answered the ${method} 421 (not executed) only after an attempt with no answer: the ${method} may or may not have been applied`
            : `the ${method} was not executed (it answered 421)`;
      throw new RouterError(
        504,
        "node_timeout",
        node,
        "deadline",
        `its answer points to a newer ring, and ${deadlineReason(deadline)} before its GET /ring answered; ${outcome}`,
      );
    }
    return { answer, newer };
  }

  /**
   * Sends the request for expense `id` to its owner and passes the answer on. A 421
   * (nothing was executed) that a newer ring resolves is sent once more, to the owner
   * under that ring; one it does not resolve is passed on.
   */
  async function relay(request: Request, method: UpstreamMethod, id: string, path: string): Promise<Response> {
    let ring = followed.ring;
    let node = ring.ownerOf(id);
    let { answer, newer } = await exchange(request, node, ring, method, path, { id });
    if (answer.status === 421 && newer !== undefined) {
      ring = newer;
      node = ring.ownerOf(id);
      ({ answer } = await exchange(request, node, ring, method, path, { id }));
    }
    return new Response(answer.body, { status: answer.status, headers: headersToClient(answer.headers, node.url, requestId(request)) });
  }

  /** One page of one node's listing, checked for the shape of an instance's listing answer (`{ items, next }`). */
  async function readNodePage(request: Request, ring: Ring, node: Node, after: string | undefined, limit: number): Promise<NodePage> {
    const path = `/v1/expenses?limit=${limit}${after === undefined ? "" : `&after=${after}`}`;
    const { answer: result } = await exchange(request, node, ring, "GET", path, { maxAnswerBytes: limit * RECORD_ANSWER_BYTES + 4096, awaitRing: true });
    const encoding = result.headers.get("content-encoding");
    if (encoding !== null && encoding.trim().toLowerCase() !== "identity") {
      throw badAnswer(node, `its listing came encoded (Content-Encoding: ${encoding}) though the router asked for identity`);
    }
    const text = new TextDecoder().decode(result.body);
    let page: unknown;
    try {
      page = JSON.parse(text);
    } catch {
      page = undefined;
    }
    if (result.status !== 200) {
      const message = (page as { message?: unknown } | undefined)?.message;
      const why = `its listing answered HTTP ${result.status}${typeof message === "string" ? `: ${message}` : ""}`;
      if (result.status >= 500) throw new RouterError(503, "node_unavailable", node, `http-${result.status}`, why);
      throw badAnswer(node, why);
    }
    const { items, next } = (page ?? {}) as { items?: unknown; next?: unknown };
    if (!Array.isArray(items) || (next !== null && typeof next !== "string")) {
      throw badAnswer(node, 'its listing is not { "items": [...], "next": <id> or null }');
    }
    return { items, next };
  }

  return new Elysia({ name: "shardctl-router", normalize: false })
    .onRequest(({ request }) => checkHost(request))
    .onTransform({ as: "global" }, ({ request }) => rejectRepeatedQuery(request.url))
    .onParse({ as: "global" }, async ({ request }) => {
      const text = await readBodyText(request);
      if (text === undefined) return null;
      bodies.set(request, text);
      return parseJsonText(text);
    })
    .onError({ as: "global" }, ({ code, error, request, set }) => {
      set.headers["x-request-id"] = requestId(request);
      if (error instanceof InvalidListing) error = badAnswer(error.node, error.message);
      if (error instanceof RouterError) {
        set.status = error.status;
        return error.body;
      }
      return answerError("router", code, error, request, set, ROUTER_ROUTES);
    })
    .use(
      apiDocs({
        title: "shardctl router",
        description:
          "The expense API of an instance in front of the whole cluster: each request goes to the owner of its id on the " +
          "ring, and the owner's answer comes back with its X-Shard-Node, plus X-Shard-Url (the instance's address) and " +
          "X-Request-Id. The listing merges every node's records in id order. An owner with no usable answer: 503 " +
          "node_unavailable, 504 node_timeout, 504 outcome_unknown (a POST that may have been stored: it is never sent " +
          "twice), 502 bad_answer or wrong_node; each names the node and the cause. Requests are validated as an instance " +
          "validates them, before any node is contacted.",
        tags: [
          { name: "expenses", description: "The expense API, each request sent to the owner of its id" },
          { name: "health", description: "Liveness and readiness of the router and its nodes, metrics" },
          { name: "ring", description: "The ring the router places records with" },
        ],
        errors: ANY_ROUTE_ERRORS,
        headers: {
          "X-Shard-Node": { description: "the node that answered; absent on the router's own answers (no node was asked, or none answered)" },
          "X-Shard-Url": { description: "the address of the node that answered, with X-Shard-Node" },
          "X-Shard-Ring": { description: "the ring the node answered under, when it has one" },
          "X-Request-Id": { description: "the request's id, passed on to the node: the client's own, or one the router made" },
        },
      }),
    )
    .use(openapiPage())
    .use(metricsFeature(metrics, "requests by method, route template and status, latency, in flight, ring"))
    .get("/healthz", () => ({ status: "ok" as const, role: "router" as const, ring: followed.ring.label, nodes: followed.ring.nodes.length }), {
      query: NoQuery,
      response: {
        200: t.Object({
          status: t.Literal("ok"),
          role: t.Literal("router"),
          ring: t.String({ description: "the label of the ring in force" }),
          nodes: t.Integer({ description: "the nodes of that ring" }),
        }),
      },
      detail: { summary: "Liveness of the router itself", tags: ["health"] },
    })
    .get(
      "/readyz",
      async ({ status }) => {
        // a node's answer with a newer X-Shard-Ring is followed here too (the ring is read from that node, as for any request)
        const ring = followed.ring;
        const report = await readiness(ring.nodes, upstream, (node, answer) => followed.after(node, ring, answer));
        return report.ready ? report : status(503, report);
      },
      {
        query: NoQuery,
        response: { 200: ReadinessAnswer, 503: ReadinessAnswer },
        detail: { summary: "Readiness: 200 when every node is ready, else 503 naming those that are not", tags: ["health"] },
      },
    )
    .get("/ring", () => ringDocument(followed.ring), {
      query: NoQuery,
      response: { 200: RingBody },
      detail: { summary: "The ring the router places records with", tags: ["ring"] },
    })
    .model(expenseModels)
    .group("/v1/expenses", (api) =>
      api
        .post("", ({ body, request }) => relay(request, "POST", newExpense(body).id, "/v1/expenses"), routed(expenseRoutes.create))
        .get(
          "",
          async ({ query, request }) => {
            const { after, size } = pageRequest(query.after, query.limit);
            // One ring for the whole page: its nodes are read, its owners pick between copies.
            const pageUnder = (ring: Ring) =>
              mergedPage(
                ring.nodes,
                after,
                size,
                (node, from, limit) => readNodePage(request, ring, node, from, limit),
                (id) => ring.ownerOf(id),
              );
            const ring = followed.ring;
            let page = await pageUnder(ring);
            // A node's answer pointed to a newer ring, now adopted: its nodes may hold records the
            // old ring's do not. The page is made again under it, once.
            if (followed.ring.epoch > ring.epoch) page = await pageUnder(followed.ring);
            return Response.json(page, { headers: { "x-request-id": requestId(request) } });
          },
          routed(expenseRoutes.list),
        )
        .get("/:id", ({ params, request }) => relay(request, "GET", params.id, `/v1/expenses/${params.id}`), routed(expenseRoutes.get))
        .put(
          "/:id",
          ({ params, body, request }) => relay(request, "PUT", expenseChanges(params.id, body).key, `/v1/expenses/${params.id}`),
          routed(expenseRoutes.update),
        )
        .delete("/:id", ({ params, request }) => relay(request, "DELETE", params.id, `/v1/expenses/${params.id}`), routed(expenseRoutes.remove)),
    );
}

export type RouterApp = ReturnType<typeof createRouterApp>;
