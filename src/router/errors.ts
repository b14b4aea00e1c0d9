/**
 * The router's own error answers: an owner that gave no usable answer. Each names the
 * node and the cause; none comes from another node, since a request goes to its owner
 * or nowhere.
 *
 *   503 node_unavailable  refused, unresolvable, or the connection broke (the instance is not there)
 *   504 node_timeout      no answer within the timeout
 *   504 outcome_unknown   a POST that may have reached the instance and got no answer: not sent again
 *   502 bad_answer        an answer no instance gives (too large, a listing out of order, not JSON)
 *   502 wrong_node        the instance at the node's address answers under another name
 */
import { t } from "elysia";
import type { ErrorBody } from "../expenses/model.ts";
import type { Node } from "../ring/node.ts";
import type { UpstreamFailure, UpstreamMethod } from "./upstream.ts";

/** The router's error body: an instance's ErrorBody (`{ error, message, field? }`), plus the node and the cause. */
export interface RouterErrorBody extends ErrorBody {
  readonly node: string;
  readonly url: string;
  readonly cause: string;
}

/** RouterErrorBody as a schema, for the router's document. */
export const RouterErrorAnswer = t.Object(
  {
    error: t.UnionEnum(["node_unavailable", "node_timeout", "outcome_unknown", "bad_answer", "wrong_node"]),
    message: t.String({ description: "names the node, its address and what happened" }),
    node: t.String({ description: "the owner's name" }),
    url: t.String({ description: "the owner's address" }),
    cause: t.String({ description: "what failed: refused, unresolved, timeout, reset, too-large, wrong-node, invalid-answer, http-5xx" }),
  },
  { description: "the owner gave no usable answer; the request went to no other node" },
);

export class RouterError extends Error {
  override readonly name = "RouterError";

  constructor(
    readonly status: 502 | 503 | 504,
    readonly kind: "node_unavailable" | "node_timeout" | "outcome_unknown" | "bad_answer" | "wrong_node",
    readonly node: Node,
    /** What failed: refused, timeout, reset, too-large, wrong-node, http-503, ... */
    readonly reason: string,
    message: string,
  ) {
    super(`node ${node.name} (${node.url}): ${message}`);
  }

  get body(): RouterErrorBody {
    return { error: this.kind, message: this.message, node: this.node.name, url: this.node.url, cause: this.reason };
  }
}

/**
 * The answer for a request that got no usable answer: a request for expense `id`, sent
 * to its owner only, or (`id` undefined) a page of a node's listing, which the merged
 * listing cannot do without.
 */
export function failedRequest(failure: UpstreamFailure, method: UpstreamMethod, id: string | undefined): RouterError {
  const { node, cause, reason } = failure;
  const notElsewhere = id === undefined ? "; the listing needs every node" : "; not sent to any other node";
  if (failure.mayHaveReached && method === "POST") {
    return new RouterError(
      504,
      "outcome_unknown",
      node,
      cause,
      `${reason}; the expense may or may not have been stored, so the POST was not sent again` +
        (id === undefined ? "" : ` (GET /v1/expenses/${id} tells which)`),
    );
  }
  if (cause === "too-large") return new RouterError(502, "bad_answer", node, cause, reason);
  const change = failure.mayHaveReached && method !== "GET" ? `; the ${method} may or may not have been applied` : "";
  if (cause === "timeout") return new RouterError(504, "node_timeout", node, cause, `${reason}${change}${notElsewhere}`);
  return new RouterError(503, "node_unavailable", node, cause, `${reason}${change}${notElsewhere}`);
}

export function badAnswer(node: Node, reason: string): RouterError {
  return new RouterError(502, "bad_answer", node, "invalid-answer", reason);
}

export function wrongNode(node: Node, answeredAs: string, method: UpstreamMethod): RouterError {
  const done = method === "GET" ? "" : `; the ${method} was executed there`;
  return new RouterError(
    502,
    "wrong_node",
    node,
    "wrong-node",
    `answered as node "${answeredAs}" (X-Shard-Node), but the router's ring names this address "${node.name}"${done}: fix the ring or the instance's --name`,
  );
}
