/** `ring check`'s report for people: one row per node, then what is wrong. */
import { commonOtherRing, type RingCheckReport } from "../client/ring-check.ts";
import { optional, renderTable, shrinkable } from "./table.ts";
import { plural } from "./words.ts";

export function renderRingCheck(report: RingCheckReport, { maxWidth }: { maxWidth?: number } = {}): string {
  const table = renderTable(
    ["node", optional("url"), "ring", "state", shrinkable("problem")],
    report.rows.map((r) => [r.node, r.url, r.ring ?? "-", r.state, r.problem ?? ""]),
    [],
    { maxWidth },
  );
  const agreeing = report.rows.filter((r) => r.state === "agrees").length;
  return `${table}\n\n${agreeing} of ${plural(report.rows.length, "node")} hold ring ${report.ring}`;
}

/** The failure message: the nodes that disagree or do not answer, each with why. */
export function summarizeRingCheck(report: RingCheckReport): string {
  const lines = report.rows.filter((r) => r.state !== "agrees").map((r) => `  node ${r.node} (${r.url}): ${r.state}: ${r.problem}`);
  const common = commonOtherRing(report);
  const hint = common ? `\n  every node holds ring ${common}: give this command (and the clients) that ring` : "";
  const verb = lines.length === 1 ? "does" : "do";
  return `${lines.length} of ${plural(report.rows.length, "node")} ${verb} not hold ring ${report.ring}\n${lines.join("\n")}${hint}`;
}
