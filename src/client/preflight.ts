/**
 * Before a job sends anything: ask every node who it is and whether it is ready
 * (`GET /readyz`). Two findings change the job:
 *
 *   misnamed  a node answers under another name (X-Shard-Node) than the node list
 *             gives its address. Names decide placement, so the whole ring is then
 *             another one: nothing may be sent. The report carries the `--nodes` value
 *             that matches what the instances say.
 *   down      a node does not answer, or is not ready: its circuit is opened, so its
 *             ids fail at once, naming it, instead of each paying the retries.
 */
import { formatNodeList, type Node } from "../ring/node.ts";
import type { FailureKind } from "./errors.ts";
import type { ShardedExpenseClient } from "./sharded-client.ts";

export interface PreflightReport {
  /** Nodes that answered under another name. */
  readonly misnamed: readonly { node: string; url: string; answeredAs: string }[];
  /** With misnamed nodes: the `--nodes` value naming every address as its instance does. */
  readonly matchingNodes?: string;
  /** Nodes that did not answer or are not ready; their circuit is open. */
  readonly down: readonly { node: string; url: string; kind: FailureKind; reason: string; status?: number }[];
}

export async function preflight(client: ShardedExpenseClient): Promise<PreflightReport> {
  const probes = await Promise.all(client.nodes.map((n) => client.probe(n.name)));
  const down: PreflightReport["down"][number][] = [];
  for (const p of probes) {
    if (!p.problem) continue;
    client.trip(p.node.name, p.problem);
    down.push({ node: p.node.name, url: p.node.url, ...p.problem });
  }
  const misnamed = client.checksNodeNames
    ? probes.flatMap((p) =>
        typeof p.answeredAs === "string" && p.answeredAs !== p.node.name ? [{ node: p.node.name, url: p.node.url, answeredAs: p.answeredAs }] : [],
      )
    : [];
  if (misnamed.length === 0) return { misnamed, down };
  const renamed: Node[] = probes.map((p) => ({ ...p.node, name: typeof p.answeredAs === "string" ? p.answeredAs : p.node.name }));
  return { misnamed, matchingNodes: formatNodeList(renamed), down };
}
