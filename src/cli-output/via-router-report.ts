/** `demo --router`'s report: the table of each id and the instance that answered it through the router, and the per-node counts. */
import type { ViaRouterReport } from "../client/via-router.ts";
import { FULL_TABLE_LIMIT, numeric, optional, renderTable, shrinkable } from "./table.ts";
import { count, listIds, plural } from "./words.ts";

export function renderViaRouter(report: ViaRouterReport): string {
  const full = report.rows.length <= FULL_TABLE_LIMIT;
  const shown = full ? report.rows : report.rows.filter((r) => !r.ok);
  const withProblem = shown.some((r) => !r.ok);
  const parts: string[] = [];
  if (shown.length > 0) {
    parts.push(
      renderTable(
        [numeric("id"), "POST", "GET", "X-Shard-Node", optional("X-Shard-Url"), ...(withProblem ? [shrinkable("problem")] : [])],
        shown.map((r) => [r.id, String(r.post ?? "-"), String(r.get ?? "-"), r.node ?? "-", r.url ?? "-", ...(withProblem ? [r.problem ?? ""] : [])]),
      ),
    );
  }
  if (!full) parts.push(`(${count(report.rows.length - shown.length)} ok rows not shown; --json gives every row)`);
  parts.push(
    renderTable(
      ["node", optional("url"), numeric("ids")],
      report.nodes.map((n) => [n.node, n.url, count(n.ids)]),
    ),
  );
  const failed = report.rows.filter((r) => !r.ok);
  parts.push(
    `${plural(report.rows.length, "id")} through ${report.router}: ` +
      `${count(report.rows.length - failed.length)} answered by their owner, ${count(failed.length)} failed` +
      `${failed.length > 0 ? ` (ids ${listIds(failed.map((r) => r.id))})` : ""}; the merged listing has ${plural(report.listed, "record")}; ` +
      `in ${(report.elapsedMs / 1000).toFixed(2)} s`,
  );
  return parts.join("\n\n");
}
