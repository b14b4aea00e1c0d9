/** `shardctl status` for people: one row per node, then what is wrong (or that all is well). */
import type { ClusterStatus, NodeStatus } from "../client/status.ts";
import { numeric, optional, renderTable, shrinkable } from "./table.ts";
import { count, plural } from "./words.ts";

/** up and ready in one word: ready, not ready, down. */
export function stateOf(n: NodeStatus): string {
  return !n.up ? "down" : n.ready ? "ready" : "not ready";
}

/** `copying 1,200/3,400 (35%)`, or the phase alone. */
export function rebalanceText(n: NodeStatus): string {
  const r = n.rebalance;
  if (!r) return "";
  const p = r.progress;
  if (!p || p.toCopy === 0) return r.phase;
  return `${r.phase} ${count(p.copied)}/${count(p.toCopy)} (${Math.floor((100 * p.copied) / p.toCopy)}%)`;
}

export function renderStatus(status: ClusterStatus, { maxWidth }: { maxWidth?: number } = {}): string {
  const rebalancing = status.nodes.some((n) => n.rebalance !== null && n.rebalance.phase !== "done");
  // host:port, as --nodes has it (the scheme is always http); left out when every node is named by its address
  const address = (n: NodeStatus) => n.url.replace(/^https?:\/\//, "");
  const withAddress = status.nodes.some((n) => n.name !== address(n));
  // Names, addresses and rings never give way; on a narrow terminal the check's time goes first, then version and db.
  const columns = [
    "node",
    ...(withAddress ? ["address"] : []),
    "state",
    "ring",
    numeric("records"),
    optional("version", 1),
    optional("db", 2),
    optional(numeric("ms"), 0),
    ...(rebalancing ? [shrinkable("rebalance", "end", 3)] : []),
  ];
  const rows = status.nodes.map((n) => [
    n.name,
    ...(withAddress ? [address(n)] : []),
    stateOf(n),
    n.ring ?? (n.up ? "none" : "-"),
    n.records === null ? "-" : count(n.records),
    n.version ?? "-",
    n.galera ? "galera" : (n.database ?? "-"),
    n.latencyMs === null ? "-" : n.latencyMs.toFixed(0),
    ...(rebalancing ? [rebalanceText(n)] : []),
  ]);
  const known = status.nodes.filter((n) => n.records !== null);
  const total = known.reduce((sum, n) => sum + n.records!, 0);
  const footer = [["total", ...(withAddress ? [""] : []), "", "", count(total), "", "", "", ...(rebalancing ? [""] : [])]];
  const table = renderTable(columns, rows, known.length > 1 ? footer : [], { maxWidth });
  const healthy = status.nodes.filter((n) => n.problem === null).length;
  const verdict = status.ok
    ? `all ${plural(status.nodes.length, "node")} up, ready and on ring ${status.ring}`
    : `${healthy} of ${plural(status.nodes.length, "node")} up, ready and on ring ${status.ring}`;
  const members = renderMembers(status, maxWidth);
  return [table, ...(members ? [members] : []), verdict].join("\n\n");
}

/**
 * The database members of the nodes whose database is a Galera cluster, one row each: its
 * state, the cluster's size as it sees it, which one the node uses (and for how long), and
 * why the node may not use one; then a line per node with members it may not use.
 */
function renderMembers(status: ClusterStatus, maxWidth: number | undefined): string | undefined {
  const nodes = status.nodes.filter((n) => n.galera !== null);
  if (nodes.length === 0) return undefined;
  const anyProblem = nodes.some((n) => n.galera!.members.some((m) => m.problem !== null));
  const columns = ["node", shrinkable("member", "middle"), "state", numeric("cluster"), "in use", ...(anyProblem ? [shrinkable("problem")] : [])];
  const at = Date.parse(status.at);
  const rows = nodes.flatMap((n) =>
    n.galera!.members.map((m) => [
      n.name,
      m.address,
      m.state,
      m.clusterSize === null ? "-" : String(m.clusterSize),
      m.inUse ? `yes, ${sinceText(n.galera!.since, at)}` : "",
      ...(anyProblem ? [m.problem ?? ""] : []),
    ]),
  );
  const notes = nodes.flatMap((n) => {
    const g = n.galera!;
    const unusable = g.members.filter((m) => !m.usable).length;
    if (g.member === null) return [`node ${n.name}: no database member is usable`];
    return unusable === 0 ? [] : [`node ${n.name}: ${unusable} of ${plural(g.members.length, "database member")} not usable`];
  });
  return [renderTable(columns, rows, [], { maxWidth }), ...notes].join("\n");
}

/** How long a member has been in use: `2m 05s`, from its ISO start to the check's time. */
function sinceText(since: string | null, at: number): string {
  const started = since === null ? Number.NaN : Date.parse(since);
  if (Number.isNaN(started) || Number.isNaN(at)) return "since ?";
  const s = Math.max(0, Math.round((at - started) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (v: number) => String(v).padStart(2, "0");
  return h > 0 ? `${h}h ${pad(m)}m` : m > 0 ? `${m}m ${pad(s % 60)}s` : `${s}s`;
}

/** The failure message: each node that is down, not ready or on another ring, and why. */
export function summarizeStatus(status: ClusterStatus): string {
  const bad = status.nodes.filter((n) => n.problem !== null);
  const lines = bad.map((n) => `  node ${n.name} (${n.url}): ${n.problem}`);
  const verb = bad.length === 1 ? "is" : "are";
  return `${bad.length} of ${plural(status.nodes.length, "node")} ${verb} not well\n${lines.join("\n")}`;
}
