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
    n.database ?? "-",
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
  return `${table}\n\n${verdict}`;
}

/** The failure message: each node that is down, not ready or on another ring, and why. */
export function summarizeStatus(status: ClusterStatus): string {
  const bad = status.nodes.filter((n) => n.problem !== null);
  const lines = bad.map((n) => `  node ${n.name} (${n.url}): ${n.problem}`);
  const verb = bad.length === 1 ? "is" : "are";
  return `${bad.length} of ${plural(status.nodes.length, "node")} ${verb} not well\n${lines.join("\n")}`;
}
