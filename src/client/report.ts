/** Human-readable output of `client run` and `client verify`. */
import { numeric, renderTable } from "../cli-output/table.ts";
import type { RunReport, RunRow, Step } from "./run.ts";
import type { VerifyReport } from "./verify.ts";

/** Rows shown in full up to this many ids; beyond it only the failed rows (unless asked). */
export const FULL_TABLE_LIMIT = 100;

function cell(step: Step<string>): string {
  return step.status === undefined ? step.outcome : `${step.status} ${step.outcome}`;
}

export function renderRun(report: RunReport, { allRows = false } = {}): string {
  const full = allRows || report.rows.length <= FULL_TABLE_LIMIT;
  const shown = full ? report.rows : report.rows.filter((r) => !r.ok);
  const withProblem = shown.some((r) => !r.ok);
  const header = [numeric("id"), "node", "url", "POST", "GET", ...(withProblem ? ["problem"] : [])];
  const parts: string[] = [];
  if (shown.length > 0) {
    parts.push(
      renderTable(
        header,
        shown.map((r) => [r.id, r.node, r.url, cell(r.post), cell(r.get), ...(withProblem ? [problemOf(r)] : [])]),
      ),
    );
  }
  if (!full) parts.push(`(${report.rows.length - shown.length} ok rows not shown; --table shows all, --json gives every row)`);
  parts.push(
    renderTable(
      ["node", "url", numeric("ids"), numeric("ok"), numeric("failed")],
      report.nodes.map((n) => [n.node, n.url, String(n.ids), String(n.ok), String(n.failed)]),
    ),
  );
  const secs = (report.elapsedMs / 1000).toFixed(2);
  parts.push(`${report.rows.length} ids: ${report.rows.length - report.failed} ok, ${report.failed} failed, in ${secs} s`);
  return parts.join("\n\n");
}

function problemOf(r: RunRow): string {
  if (r.ok) return "";
  return (r.post.ok ? r.get.message : r.post.message) ?? "";
}

/** `3 of 10 ids failed: node 3 (http://...): connection refused: ids 2, 5, 8` - one line per cause. */
export function summarizeRunFailures(report: RunReport): string {
  const causes = new Map<string, string[]>();
  for (const r of report.rows) {
    if (r.ok) continue;
    const cause = problemOf(r) || "failed";
    // One line per node and kind of failure; the per-field detail is in the table.
    const key = cause.length > 160 ? cause.slice(0, 160) + "..." : cause;
    const ids = causes.get(key) ?? [];
    ids.push(r.id);
    causes.set(key, ids);
  }
  const lines = [...causes].map(([cause, ids]) => `  ${cause}: ${ids.length === 1 ? "id" : "ids"} ${listIds(ids)}`);
  return `${report.failed} of ${report.rows.length} ids failed\n${lines.join("\n")}`;
}

export function listIds(ids: readonly string[], max = 12): string {
  return ids.length <= max ? ids.join(", ") : `${ids.slice(0, max).join(", ")} and ${ids.length - max} more`;
}

export function renderVerify(report: VerifyReport): string {
  const parts: string[] = [];
  parts.push(
    renderTable(
      ["node", "url", numeric("records"), "listing"],
      report.nodes.map((n) => [n.node, n.url, String(n.records), n.error ? `FAILED: ${n.error}` : "ok"]),
    ),
  );
  const problems: string[][] = [];
  for (const m of report.missing) problems.push(["missing", m.id, m.owner, "-", "on no node"]);
  for (const m of report.unknown) problems.push(["unknown", m.id, m.owner, "-", "not found; its owner's listing failed before it"]);
  for (const m of report.mismatched) {
    const what = m.differences.map((d) => `${d.field}: expected ${JSON.stringify(d.expected)}, got ${JSON.stringify(d.actual) ?? "nothing"}`);
    problems.push(["mismatched", m.id, m.owner, m.owner, what.join("; ")]);
  }
  for (const p of report.misplaced) {
    problems.push(["misplaced", p.id, p.owner, p.node, p.ownerUnread ? "its owner's listing failed before it" : "its owner does not have it"]);
  }
  for (const p of report.extra) problems.push(["extra", p.id, p.owner, p.node, "a second copy; the owner has it too"]);
  if (problems.length > 0) {
    // After a membership change thousands of records can be misplaced: show the first ones.
    const shown = problems.slice(0, FULL_TABLE_LIMIT);
    parts.push(renderTable(["problem", numeric("id"), "owner", "found on", "detail"], shown));
    if (problems.length > shown.length) parts.push(`(${problems.length - shown.length} more problems not shown; --json lists them all)`);
  }
  const summary = [
    `${report.good} of ${report.checked} ids on their owner with the expected content`,
    `${report.missing.length} missing, ${report.mismatched.length} mismatched, ${report.misplaced.length} misplaced, ${report.extra.length} extra`,
  ];
  if (report.unknown.length > 0) summary.push(`${report.unknown.length} unknown (their owner's listing failed)`);
  if (report.unchecked === 1) summary.push("1 other record on its owner (not in the checked ids)");
  if (report.unchecked > 1) summary.push(`${report.unchecked} other records on their owners (not in the checked ids)`);
  parts.push(summary.join("; "));
  return parts.join("\n\n");
}

export function summarizeVerifyFailures(report: VerifyReport): string {
  const out: string[] = [];
  for (const e of report.errors) out.push(`node ${e.node}: ${e.message} (verify is incomplete)`);
  if (report.missing.length) out.push(`missing: ${listIds(report.missing.map((m) => `${m.id} (owner ${m.owner})`), 8)}`);
  if (report.unknown.length) out.push(`not checked, their owner's listing failed: ${listIds(report.unknown.map((m) => `${m.id} (owner ${m.owner})`), 8)}`);
  if (report.mismatched.length) out.push(`mismatched: ${listIds(report.mismatched.map((m) => `${m.id} on ${m.owner}`), 8)}`);
  if (report.misplaced.length) out.push(`misplaced: ${listIds(report.misplaced.map((p) => `${p.id} on ${p.node}, owner ${p.owner}`), 8)}`);
  if (report.extra.length) out.push(`extra copies: ${listIds(report.extra.map((p) => `${p.id} on ${p.node}, owner ${p.owner}`), 8)}`);
  return `verify found problems\n${out.map((l) => `  ${l}`).join("\n")}`;
}
