/** `client run`'s report for people: the table of ids, the per-node counts, the failure summary. */
import { nodeCondition, type FailureKind } from "../client/errors.ts";
import type { RunReport, RunRow, Step } from "../client/run.ts";
import { describeMisnamed } from "./preflight-report.ts";
import { FULL_TABLE_LIMIT, numeric, optional, renderTable, shrinkable } from "./table.ts";
import { count, listIds, plural } from "./words.ts";

export interface RenderOptions {
  /** Every row, however many (--table). */
  readonly allRows?: boolean;
  /** The widest a table may be (--wide: Infinity). */
  readonly maxWidth?: number;
}

/**
 * A step as its column shows it: `201 created`, `refused`, or, for a request its node's
 * open circuit kept back, `not sent (node 3 down)` (nothing was sent, so no status).
 */
function cell(step: Step<string>, node: string): string {
  if (step.unsent) return step.outcome === "wrong-node" ? "not sent" : `not sent (node ${node} ${nodeCondition(step.outcome as FailureKind, step.status)})`;
  return step.status === undefined ? step.outcome : `${step.status} ${step.outcome}`;
}

/**
 * The id table (every row up to 100 ids or with --table; else the first 100 failed
 * rows), the per-node counts and the one-line summary. Empty when the pre-flight check
 * stopped the run: summarizeRunFailures says why.
 */
export function renderRun(report: RunReport, { allRows = false, maxWidth }: RenderOptions = {}): string {
  if (report.preflight.misnamed.length > 0) return "";
  const rows = report.rows.filter((r) => r.post.outcome !== "not-started");
  const full = allRows || rows.length <= FULL_TABLE_LIMIT;
  const problems = rows.filter((r) => !r.ok);
  const shown = full ? rows : problems.slice(0, FULL_TABLE_LIMIT);
  const withProblem = shown.some((r) => !r.ok);
  const parts: string[] = [];
  if (shown.length > 0) {
    parts.push(
      renderTable(
        [numeric("id"), "node", "POST", "GET", ...(withProblem ? [shrinkable("problem")] : [])],
        shown.map((r) => [r.id, r.node, cell(r.post, r.node), cell(r.get, r.node), ...(withProblem ? [problemOf(r, report)] : [])]),
        [],
        { maxWidth },
      ),
    );
  }
  if (!full) {
    const notes = [];
    if (problems.length > shown.length) notes.push(`(${count(problems.length - shown.length)} more failed rows; --json lists all)`);
    const okRows = rows.length - problems.length;
    if (okRows > 0) notes.push(`(${count(okRows)} ok rows not shown; --table shows all)`);
    parts.push(notes.join("\n"));
  }
  parts.push(
    renderTable(
      ["node", optional("url"), ...["ids", "created", "exists", "failed"].map(numeric)],
      report.nodes.map((n) => [n.node, n.url, count(n.ids), count(n.created), count(n.exists), count(n.failed)]),
      [],
      { maxWidth },
    ),
  );
  parts.push(summaryLine(report));
  return parts.join("\n\n");
}

/** `10 ids: created 3, already stored 7, failed 0, in 0.05 s`, or what an interrupted run did. */
export function summaryLine(report: RunReport): string {
  const secs = (report.elapsedMs / 1000).toFixed(2);
  const what = `created ${count(report.created)}, already stored ${count(report.exists)}, failed ${count(report.failed)}`;
  if (!report.interrupted) return `${plural(report.rows.length, "id")}: ${what}, in ${secs} s`;
  const finished = report.rows.length - report.unfinished;
  return (
    `interrupted after ${secs} s: ${count(finished)} of ${plural(report.rows.length, "id")} finished: ${what}; ` +
    `${count(report.unfinished)} not finished (a re-run completes them)`
  );
}

/**
 * The failing step's message without the `node X (url): ` the row already names; for a
 * request kept back by its node's circuit, why the circuit opened (the step's column says
 * "not sent (node X down)").
 */
function problemOf(r: RunRow, report: RunReport): string {
  if (r.ok) return "";
  const step = r.post.ok ? r.get : r.post;
  const opened = report.nodes.find((n) => n.node === r.node)?.circuit?.openedBecause;
  if (step.unsent && step.outcome !== "wrong-node" && opened) return opened;
  const message = step.message ?? "";
  const prefix = `node ${r.node} (${r.url}): `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

/**
 * For stderr: how many ids failed, then per node (with its circuit, when it opened) one
 * line per cause (step, outcome, status) with an example message and the first ids.
 * When the pre-flight check stopped the run: the one error that says how to fix it.
 * An interrupted run leads with its summary line, unless `summaryShown` (the report on
 * stdout ends with it): a summary is printed once.
 */
export function summarizeRunFailures(report: RunReport, { summaryShown = false }: { summaryShown?: boolean } = {}): string {
  if (report.preflight.misnamed.length > 0) return describeMisnamed(report.preflight);
  const failedRows = report.rows.filter((r) => !r.ok && r.post.outcome !== "not-started");
  const byNode = new Map<string, RunRow[]>();
  for (const r of failedRows) byNode.set(r.node, [...(byNode.get(r.node) ?? []), r]);
  const stopped = summaryShown ? `interrupted (the summary above says what was done; a re-run completes the rest)` : summaryLine(report);
  const out = [report.interrupted ? stopped : `${count(report.failed)} of ${plural(report.rows.length, "id")} failed`];
  for (const [name, rows] of byNode) {
    const node = report.nodes.find((n) => n.node === name)!;
    const circuit = node.circuit?.openedBecause ? `; ${node.circuit.condition}: ${node.circuit.openedBecause}` : "";
    out.push(`  node ${name} (${node.url}): ${plural(rows.length, "id")}${circuit}`);
    const causes = new Map<string, { example: string; ids: string[] }>();
    for (const r of rows) {
      const step = r.post.ok ? { phase: "GET", ...r.get } : { phase: "POST", ...r.post };
      const key = `${step.phase} ${cell(step, name)}`;
      const cause = causes.get(key) ?? { example: step.unsent ? "" : problemOf(r, report), ids: [] };
      cause.ids.push(r.id);
      causes.set(key, cause);
    }
    for (const [key, { example, ids }] of causes) {
      out.push(`    ${key}: ${plural(ids.length, "id")} (${listIds(ids, 8)})${example ? `: ${example}` : ""}`);
    }
  }
  return out.join("\n");
}
