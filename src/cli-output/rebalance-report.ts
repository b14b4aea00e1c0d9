/** What `shardctl rebalance` prints for people: the plan, then one line per step. */
import type { Plan, RebalanceReport } from "../rebalance/report.ts";
import { numeric, renderTable } from "./table.ts";
import { count, plural } from "./words.ts";

const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** The plan as a table: records per old owner -> new owner, from the data. */
export function renderPlan(plan: Plan, { maxWidth }: { maxWidth?: number } = {}): string {
  const held = plan.nodes.reduce((s, n) => s + n.records, 0);
  const lines: string[] = [];
  if (plan.pairs.length === 0) lines.push("No record changes owner.");
  else {
    const rows = plan.pairs.map((p) => [p.from, p.to, count(p.records)]);
    lines.push(renderTable(["from", "to", numeric("records")], rows, [["moves", "", count(plan.moving)]], { maxWidth }));
  }
  const stays = plan.nodes.reduce((s, n) => s + n.stays, 0);
  const extra = [
    `${plural(plan.moving, "record")} of ${count(held)} move; ${count(stays)} stay where they are`,
    ...plan.nodes
      .filter((n) => n.incoming > 0)
      .map((n) => `node ${n.node} holds ${plural(n.incoming, "copy")} of records coming to it already (an earlier run): they are compared, not copied blindly`),
    ...plan.nodes
      .filter((n) => n.strays > 0)
      .map((n) => `node ${n.node} holds ${plural(n.strays, "record")} that it owns under neither ring: left alone (client verify shows them)`),
  ];
  return [...lines, "", ...extra].join("\n");
}

export function renderRebalance(report: RebalanceReport, options: { maxWidth?: number } = {}): string {
  const head = `rebalance ${report.from} -> ${report.to}`;
  if (report.outcome === "already-done") {
    return `${head}: done already, every node holds ring ${report.to}; nothing to do.`;
  }
  if (report.outcome === "dry-run") {
    const state = report.found === "unfinished" ? "\nA run of this rebalance is unfinished: shardctl rebalance with the same rings goes on with it." : "";
    return `${head} (dry run: nothing changed)\n\n${renderPlan(report.plan!, options)}${state}`;
  }
  const lines = [head + (report.found === "unfinished" ? " (an unfinished run taken up)" : "")];
  if (report.tookOver) lines.push(`  ${report.tookOver}`);
  if (report.plan) lines.push("", renderPlan(report.plan, options), "");
  const step = (name: string, text: string) => lines.push(`${name.padEnd(9)} ${text}`);
  if (report.copy) {
    const c = report.copy;
    step(
      "copy",
      `${plural(c.examined, "record")} in ${seconds(c.ms)} (${count(c.perSecond)}/s): ` +
        `${count(c.missing + c.different)} copied, ${count(c.same)} already ` +
        `there${c.extra ? `, ${count(c.extra)} stale copies deleted` : ""}`,
    );
  }
  if (report.catchUp)
    step("catch-up", `${plural(report.catchUp.ids, "record")} written meanwhile copied again (${plural(report.catchUp.entries, "logged write")})`);
  if (report.verify) {
    const v = report.verify;
    const fixed = v.missing + v.different + v.extra;
    step(
      "verify",
      `${plural(v.examined, "record")} compared in ${seconds(v.ms)}: ` +
        (fixed === 0
          ? "all equal"
          : `${count(v.missing)} missing, ${count(v.different)} different, ${count(v.extra)} extra ` +
            "(writes meanwhile, or copies lost), fixed from the old owner"),
    );
  }
  if (report.fence) {
    const f = report.fence;
    step(
      "fence",
      `${seconds(f.ms)}: requests on moving records were answered 503 (Retry-After: 1) this long; ` +
        `${plural(f.drained, "record")} written since the comparison copied, ${plural(f.compared, "record")} compared ` +
        `again under it`,
    );
  }
  if (report.switched.length > 0) step("switch", `${report.switched.join(", ")} -> ring ${report.to}`);
  if (report.cleanup) {
    step(
      "cleanup",
      "kept" in report.cleanup
        ? "--keep-data: the moved records stay on their old owners (client verify reports them as extra)"
        : `${plural(report.cleanup.deleted, "moved record")} deleted from their old owners`,
    );
  }
  lines.push(`done in ${seconds(report.elapsedMs)}`);
  return lines.join("\n");
}
