/**
 * `shardctl status` and the cluster page: every node of a ring asked, at once, how it is
 * (`GET /status`: ready, records, version, database, its ring) and which ring it holds
 * (`GET /ring`, with the rebalance it takes part in). Returns data; rendering lives in
 * src/cli-output/status-report.ts and cluster-page.ts.
 */
import type { Node } from "../ring/node.ts";
import { parseRingLabel, type Ring } from "../ring/ring.ts";
import { failureReason } from "./errors.ts";
import { callShard, bodyMessage, printable } from "./transport.ts";

/**
 * How a node's ring compares with the ring asked about (as `ring check` says it):
 * agrees; newer (the node holds a later epoch: the ring asked about is stale); older (the
 * node is stale); differs (same epoch, another ring); no-ring (it checks no ownership);
 * unknown (it did not say).
 */
export type RingAgreement = "agrees" | "newer" | "older" | "differs" | "no-ring" | "unknown";

/** A rebalance a node takes part in, as GET /ring shows it (fields the status uses). */
export interface RebalanceView {
  readonly job: string;
  readonly from: string;
  readonly to: string;
  readonly phase: string;
  readonly progress: { readonly step: string; readonly copied: number; readonly toCopy: number; readonly ratePerS?: number } | null;
  /** When it finished here (ISO time, the instance's clock); null while it runs. */
  readonly finished: string | null;
}

/** A member of a shard's Galera cluster, as the node's GET /status names it. */
export interface MemberView {
  readonly address: string;
  /** wsrep_local_state_comment (Synced, Donor/Desynced, ...), or down. */
  readonly state: string;
  readonly clusterSize: number | null;
  readonly inUse: boolean;
  readonly usable: boolean;
  /** Why the node may not use it; null when it may. */
  readonly problem: string | null;
}

/** A shard on a Galera cluster: its members, the one in use and since when. */
export interface GaleraView {
  /** host:port of the member in use; null while none is usable. */
  readonly member: string | null;
  readonly since: string | null;
  readonly members: readonly MemberView[];
}

export interface NodeStatus {
  readonly name: string;
  readonly url: string;
  /** It answered as this node. */
  readonly up: boolean;
  /** Its database answers. */
  readonly ready: boolean;
  /** The label of the ring it holds; null without one or when unknown. */
  readonly ring: string | null;
  readonly agreement: RingAgreement;
  readonly records: number | null;
  readonly version: string | null;
  readonly database: "mysql" | "sqlite" | null;
  /** Its database's Galera members, when its database is a Galera cluster; else null. */
  readonly galera: GaleraView | null;
  /** Time of GET /status, in milliseconds; null when it did not answer. */
  readonly latencyMs: number | null;
  /** What is wrong with it, if anything (down, not ready, another ring, another name). */
  readonly problem: string | null;
  readonly rebalance: RebalanceView | null;
}

export interface ClusterStatus {
  /** The label of the ring asked about. */
  readonly ring: string;
  /** Every node up, ready and holding that ring. */
  readonly ok: boolean;
  readonly nodes: readonly NodeStatus[];
  /** When it was asked (ISO time). */
  readonly at: string;
}

export interface StatusOptions {
  /** Per request; default 2000 ms. A status check does not retry: down is down now. */
  readonly timeoutMs?: number;
}

const DEFAULT_STATUS_TIMEOUT_MS = 2000;

export async function clusterStatus(ring: Ring, { timeoutMs = DEFAULT_STATUS_TIMEOUT_MS }: StatusOptions = {}): Promise<ClusterStatus> {
  const at = new Date().toISOString();
  const nodes = await Promise.all(ring.nodes.map((node) => nodeStatus(node, ring, timeoutMs)));
  return { ring: ring.label, ok: nodes.every((n) => n.problem === null), nodes, at };
}

/** How `held` (a label, or null for no ring) compares with `ring`. */
export function ringAgreement(held: string | null, ring: Ring): RingAgreement {
  if (held === null) return "no-ring";
  if (held === ring.label) return "agrees";
  const theirs = parseRingLabel(held);
  if (!theirs) return "unknown";
  return theirs.epoch > ring.epoch ? "newer" : theirs.epoch < ring.epoch ? "older" : "differs";
}

const AGREEMENT_PROBLEM: Record<Exclude<RingAgreement, "agrees">, (held: string | null, ring: Ring) => string> = {
  newer: (held, ring) => `holds a newer ring, ${held}: the ring asked about (${ring.label}) is stale`,
  older: (held) => `holds an older ring, ${held}: the instance is stale`,
  differs: (held) => `holds another ring with the same epoch, ${held}`,
  "no-ring": () => "has no ring: started without one, it checks no ownership",
  unknown: (held) => `holds a ring this shardctl cannot read (${held})`,
};

async function nodeStatus(node: Node, ring: Ring, timeoutMs: number): Promise<NodeStatus> {
  const base = { name: node.name, url: node.url };
  const none = {
    up: false,
    ready: false,
    ring: null,
    agreement: "unknown" as const,
    records: null,
    version: null,
    database: null,
    galera: null,
    rebalance: null,
  };
  const options = { timeoutMs, retries: 0 };
  let latencyMs = 0;
  const timed = async () => {
    const started = performance.now();
    const answer = await callShard(node, { method: "GET", path: "/status" }, options);
    latencyMs = Math.round((performance.now() - started) * 10) / 10;
    return answer;
  };
  const [status, ringAnswer] = await Promise.allSettled([timed(), callShard(node, { method: "GET", path: "/ring" }, options)]);
  if (status.status === "rejected") {
    const e = status.reason;
    return { ...base, ...none, latencyMs: null, problem: `down: ${failureReason(e)}` };
  }
  const res = status.value;
  if (res.servedBy === null) {
    return { ...base, ...none, latencyMs, problem: `down: HTTP ${res.status} from something that is not a shardctl instance (no X-Shard-Node header)` };
  }
  if (res.servedBy !== node.name) return { ...base, ...none, latencyMs, problem: `answers as node "${printable(res.servedBy, 80)}", not "${node.name}"` };
  if (res.status !== 200) {
    const older = res.status === 404 ? " (an instance without GET /status: an older shardctl?)" : "";
    return { ...base, ...none, up: true, latencyMs, problem: `GET /status answered HTTP ${res.status}: ${bodyMessage(res.body)}${older}` };
  }
  const body = res.body as { ready?: unknown; message?: unknown; ring?: unknown; records?: unknown; version?: unknown; database?: unknown };
  // what a node says is shown on a terminal: made printable and clipped (a label is 1 + 16 hex digits and an epoch)
  const held = typeof body.ring === "string" ? printable(body.ring, 40) : null;
  const agreement = ringAgreement(held, ring);
  const ready = body.ready === true;
  const problem = !ready
    ? `not ready: ${typeof body.message === "string" ? printable(body.message) : "its database does not answer"}`
    : agreement === "agrees"
      ? null
      : AGREEMENT_PROBLEM[agreement](held, ring);
  return {
    ...base,
    up: true,
    ready,
    ring: held,
    agreement,
    records: typeof body.records === "number" ? body.records : null,
    version: typeof body.version === "string" ? printable(body.version, 40) : null,
    database: body.database === "mysql" || body.database === "sqlite" ? body.database : galeraOf(body.database) ? "mysql" : null,
    galera: galeraOf(body.database),
    latencyMs,
    problem,
    rebalance: ringAnswer.status === "fulfilled" && ringAnswer.value.status === 200 ? rebalanceOf(ringAnswer.value.body) : null,
  };
}

function rebalanceOf(body: unknown): RebalanceView | null {
  const r = (body as { rebalance?: Record<string, unknown> } | undefined)?.rebalance;
  if (!r || typeof r.job !== "string" || typeof r.phase !== "string") return null;
  const p = r.progress as Record<string, unknown> | null | undefined;
  const progress =
    p && typeof p.step === "string" && typeof p.copied === "number" && typeof p.toCopy === "number"
      ? { step: printable(p.step, 40), copied: p.copied, toCopy: p.toCopy, ...(typeof p.ratePerS === "number" ? { ratePerS: p.ratePerS } : {}) }
      : null;
  const finished = typeof r.finished === "string" && !Number.isNaN(Date.parse(r.finished)) ? new Date(r.finished).toISOString() : null;
  return {
    job: printable(r.job, 100),
    from: printable(String(r.from), 40),
    to: printable(String(r.to), 40),
    phase: printable(r.phase, 40),
    progress,
    finished,
  };
}

/** A Galera shard's `database` of GET /status (an object; a plain one is "mysql" or "sqlite"), made printable; null otherwise. */
function galeraOf(database: unknown): GaleraView | null {
  const d = database as { cluster?: unknown; member?: unknown; since?: unknown; members?: unknown } | null | undefined;
  if (!d || typeof d !== "object" || d.cluster !== "galera" || !Array.isArray(d.members)) return null;
  const text = (v: unknown, max: number) => (typeof v === "string" ? printable(v, max) : null);
  const members = (d.members as Record<string, unknown>[]).slice(0, 16).map((m) => ({
    address: text(m.address, 80) ?? "?",
    state: text(m.state, 40) ?? "?",
    clusterSize: typeof m.clusterSize === "number" ? m.clusterSize : null,
    inUse: m.inUse === true,
    usable: m.usable === true,
    problem: text(m.problem, 200),
  }));
  return { member: text(d.member, 80), since: text(d.since, 40), members };
}
