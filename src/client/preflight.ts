/**
 * Before a job sends anything: ask every node who it is and whether it is ready
 * (`GET /readyz`). Two findings change the job:
 *
 *   misnamed  a node answers under another name (X-Shard-Node) than the node list
 *             gives its address. Names decide placement, so the whole ring is then
 *             another one: nothing may be sent. The report carries the `--nodes` value
 *             that matches what the instances say.
 *   down      a node does not answer, or is not ready: its circuit is opened, so its
 *             ids fail at once, naming it, instead of each paying the retries (the
 *             circuit lets a request through again a few seconds later).
 *
 * A node that answers "not ready" (a 5xx: starting, its database busy), times out or
 * breaks the connection may be ready a moment later: it gets a grace, its readiness asked
 * again with backoff (a Retry-After honoured) until it is ready or the grace is spent. A
 * node that refuses connections, answers as another kind of server or too much is down
 * at once.
 */
import { formatNodeList, type Node } from "../ring/node.ts";
import type { FailureKind } from "./errors.ts";
import type { Probe, ShardedExpenseClient } from "./sharded-client.ts";

export interface PreflightReport {
  /** Nodes that answered under another name. */
  readonly misnamed: readonly { node: string; url: string; answeredAs: string }[];
  /** With misnamed nodes: the `--nodes` value naming every address as its instance does. */
  readonly matchingNodes?: string;
  /** Nodes that did not answer or are not ready within the grace; their circuit is open. */
  readonly down: readonly { node: string; url: string; kind: FailureKind; reason: string; status?: number }[];
}

export interface PreflightOptions {
  /**
   * How long a node that is not ready at first is given to become ready: no probe starts
   * after it (the last one may take PROBE_TIMEOUT_MS to be answered). Default: the client's
   * per-request timeout (5 s by default).
   */
  readonly graceMs?: number;
}

/** The first pause before asking a not-ready node again; it doubles, up to MAX_PAUSE_MS. */
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 1000;

/** Problems a moment may cure: a node that answers "not ready", or is too busy to answer in time. */
function mayBeReadySoon(problem: NonNullable<Probe["problem"]>): boolean {
  if (problem.kind === "http") return (problem.status ?? 0) >= 500 || problem.status === 429;
  return problem.kind === "timeout" || problem.kind === "reset";
}

/** Node `name`'s probe, asked again within the grace while its problem is one a moment may cure. */
async function probeWithGrace(client: ShardedExpenseClient, name: string, deadline: number): Promise<Probe> {
  for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
    const probe = await client.probe(name);
    if (!probe.problem || !mayBeReadySoon(probe.problem)) return probe;
    const wait = probe.retryAfterMs ?? pause;
    // a probe starts within the grace (and may take its PROBE_TIMEOUT_MS to be answered)
    if (performance.now() + wait > deadline) return probe;
    await Bun.sleep(wait);
  }
}

export async function preflight(client: ShardedExpenseClient, { graceMs = client.timeoutMs }: PreflightOptions = {}): Promise<PreflightReport> {
  const deadline = performance.now() + graceMs;
  const probes = await Promise.all(client.nodes.map((n) => probeWithGrace(client, n.name, deadline)));
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
