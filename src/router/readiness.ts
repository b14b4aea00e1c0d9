/**
 * The router is ready when every node is: each one's /readyz answers 200 under the name
 * the ring gives it. Nodes are asked at once, each with a short timeout and no retry,
 * so a probe answers within about two seconds whatever the nodes do.
 */
import { t } from "elysia";
import type { RingAnswer } from "../client/ring-adoption.ts";
import type { Node } from "../ring/node.ts";
import { RING_HEADER } from "../ring/ring.ts";
import type { Upstream } from "./upstream.ts";

const PROBE_TIMEOUT_MS = 2000;

const NodeReadiness = t.Object({
  name: t.String(),
  url: t.String(),
  ready: t.Boolean(),
  message: t.Optional(t.String({ description: "why not, when not" })),
});
export type NodeReadiness = typeof NodeReadiness.static;

/** The router's /readyz answer (200 or 503). */
export const ReadinessAnswer = t.Object({
  ready: t.Boolean({ description: "every node answered its /readyz with 200 under its name" }),
  message: t.Optional(t.String({ description: "the nodes that are not ready, and why; absent when all are" })),
  nodes: t.Array(NodeReadiness),
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
  if (!result.ok) return verdict(result.reason);
  const servedBy = result.headers.get("x-shard-node");
  if (servedBy !== null && servedBy !== node.name) return verdict(`answers as node "${servedBy}" (X-Shard-Node)`);
  // only the node the ring names may hand the router a newer ring (never another cluster's instance at its address)
  if (servedBy !== null) await answered?.(node, { status: result.status, ring: result.headers.get(RING_HEADER) });
  if (result.status === 200) return verdict();
  let said: unknown;
  try {
    said = (JSON.parse(new TextDecoder().decode(result.body)) as { message?: unknown }).message;
  } catch {
    said = undefined;
  }
  return verdict(`HTTP ${result.status}${typeof said === "string" ? `: ${said}` : ""}`);
}

export async function readiness(nodes: readonly Node[], upstream: Upstream, answered?: ProbeAnswered): Promise<ReadinessReport> {
  const report = await Promise.all(nodes.map((node) => probe(node, upstream, answered)));
  const notReady = report.filter((n) => !n.ready);
  if (notReady.length === 0) return { ready: true, nodes: report };
  const message = `not ready: ${notReady.map((n) => `node ${n.name} (${n.url}): ${n.message}`).join("; ")}`;
  return { ready: false, message, nodes: report };
}
