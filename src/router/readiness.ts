/**
 * The router is ready when every node is: each one's /readyz answers 200 under the name
 * the ring gives it. Nodes are asked at once, each with a short timeout and no retry,
 * so a probe answers within about two seconds whatever the nodes do.
 *
 * The words are `status`'s: a node is `down` (no answer) or `not ready` (it answers, its
 * database does not serve); one that answers under another name says so, and the report
 * gives the --nodes value that names every address as its instance does.
 */
import { t } from "elysia";
import type { RingAnswer } from "../client/ring-adoption.ts";
import { formatNodeList, type Node } from "../ring/node.ts";
import { RING_HEADER } from "../ring/ring.ts";
import type { Upstream } from "./upstream.ts";

const PROBE_TIMEOUT_MS = 2000;

const NodeReadiness = t.Object({
  name: t.String(),
  url: t.String(),
  ready: t.Boolean(),
  message: t.Optional(t.String({ description: "why not, when not: down (no answer), not ready (its database does not serve), or another name" })),
  answeredAs: t.Optional(t.String({ description: "the name it answered under (X-Shard-Node), when that is not its name in the ring" })),
});
export type NodeReadiness = typeof NodeReadiness.static;

/** The router's /readyz answer (200 or 503). */
export const ReadinessAnswer = t.Object({
  ready: t.Boolean({ description: "every node answered its /readyz with 200 under its name" }),
  message: t.Optional(t.String({ description: "the nodes that are not ready, and why; absent when all are" })),
  nodes: t.Array(NodeReadiness),
  matchingNodes: t.Optional(
    t.String({ description: "when some instance answers under another name: the --nodes value naming each address as its instance does" }),
  ),
});
export type ReadinessReport = typeof ReadinessAnswer.static;

/** Told of each node's answer (its status and X-Shard-Ring), so that a newer ring can be adopted from a probe too. */
export type ProbeAnswered = (node: Node, answer: RingAnswer) => Promise<unknown>;

async function probe(node: Node, upstream: Upstream, answered?: ProbeAnswered): Promise<NodeReadiness> {
  const result = await upstream.send(node, {
    method: "GET",
    path: "/readyz",
    maxAnswerBytes: 64 * 1024,
    timeoutMs: Math.min(PROBE_TIMEOUT_MS, upstream.timeoutMs),
    refusedRetries: 0,
  });
  const verdict = (message?: string): NodeReadiness =>
    message === undefined ? { name: node.name, url: node.url, ready: true } : { name: node.name, url: node.url, ready: false, message };
  if (!result.ok) return verdict(result.cause === "too-large" ? result.reason : `down: ${result.reason}`);
  const servedBy = result.headers.get("x-shard-node");
  if (servedBy !== null && servedBy !== node.name) {
    return { ...verdict(`answers as node "${servedBy}" (X-Shard-Node), but the router's node list calls it "${node.name}"`), answeredAs: servedBy };
  }
  // only the node the ring names may hand the router a newer ring (never another cluster's instance at its address)
  if (servedBy !== null) await answered?.(node, { status: result.status, ring: result.headers.get(RING_HEADER) });
  if (result.status === 200) return verdict();
  let said: unknown;
  try {
    said = (JSON.parse(new TextDecoder().decode(result.body)) as { message?: unknown }).message;
  } catch {
    said = undefined;
  }
  // 503: the instance is up and says why it cannot serve (its database); anything else is an answer no instance gives
  const why = typeof said === "string" ? `: ${said}` : "";
  return verdict(result.status === 503 ? `not ready${why || ": HTTP 503"}` : `answers HTTP ${result.status}${why}`);
}

export async function readiness(nodes: readonly Node[], upstream: Upstream, answered?: ProbeAnswered): Promise<ReadinessReport> {
  const report = await Promise.all(nodes.map((node) => probe(node, upstream, answered)));
  const notReady = report.filter((n) => !n.ready);
  if (notReady.length === 0) return { ready: true, nodes: report };
  const message = `not ready: ${notReady.map((n) => `node ${n.name} (${n.url}): ${n.message}`).join("; ")}`;
  if (!report.some((n) => n.answeredAs !== undefined)) return { ready: false, message, nodes: report };
  const matchingNodes = formatNodeList(nodes.map((n, i) => ({ ...n, name: report[i]!.answeredAs ?? n.name })));
  return { ready: false, message: `${message}; the node list that matches the instances: --nodes ${matchingNodes}`, nodes: report, matchingNodes };
}
