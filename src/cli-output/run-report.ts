/** `client run`'s report for people: the table of ids, the per-node counts, the failure summary. */
import type { RunReport, RunRow, Step } from "../client/run.ts";
import { FULL_TABLE_LIMIT, numeric, renderTable } from "./table.ts";
import { listIds } from "./words.ts";


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
