/**
 * What `shardctl rebalance` prints for people: the plan, then one line per step; a run
 * stopped by Ctrl-C says where it stopped, what is left, and the command that goes on.
 */
import { REBALANCE_STEPS, type RebalanceStep } from "../rebalance/protocol.ts";
import type { Plan, RebalanceReport, Stopped } from "../rebalance/report.ts";
import { numeric, renderTable, terminalWidth } from "./table.ts";
import { count, plural, wrap } from "./words.ts";

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

/** How far the step under way had got when the run stopped: `1,200 of 3,400 records copied`. */
function progressOf({ during, progress: p }: Stopped): string {
  if (during === "copy") return `${count(p.copied)} of ${plural(p.toCopy, "record")} copied`;
  if (during === "verify") return `${count(p.verified ?? 0)} of ${plural(p.toCopy, "record")} compared`;
  if (during === "cleanup") return `${count(p.cleaned ?? 0)} of ${plural(p.toCopy, "moved record")} deleted from their old owners`;
  return "";
}

/**
 * The end of an interrupted run's report: where it stopped, the steps left (that one
 * included; no cleanup with `keepData`), where the cluster stands, and `resume`, the command
 * that goes on.
 */
function renderStopped(
  report: RebalanceReport,
  stopped: Stopped,
  { resume, keepData, maxWidth = terminalWidth() }: { resume?: string; keepData?: boolean; maxWidth?: number },
): string[] {
  const steps = REBALANCE_STEPS.filter((s): s is Exclude<RebalanceStep, "survey" | "lease"> => s !== "survey" && s !== "lease");
  const from = Math.max(0, steps.indexOf(stopped.during as (typeof steps)[number]));
  const left = steps.slice(from).filter((s) => !(s === "cleanup" && keepData));
  const far = progressOf(stopped);
  const beforeSwitch = steps.indexOf("switch") > from || (stopped.during === "switch" && report.switched.length === 0);
  const stands = beforeSwitch
    ? "No node has switched: clients are served as before, by the old ring's owners; what was copied stays and is compared, not copied again."
    : `Every node holds ring ${report.to}; what is left is the old owners' cleanup and the finish.`;
  return [
    `stopped   during ${stopped.during} (Ctrl-C) after ${seconds(report.elapsedMs)}${far ? `: ${far}` : ""}`,
    `left      ${left.join(", ")}`,
    "",
    ...wrap(`The rebalance stays where it is. ${stands}`, maxWidth),
    ...(resume ? ["To go on, run the same command again:", `  ${resume}`] : ["To go on, run the same command again."]),
  ];
}

export function renderRebalance(report: RebalanceReport, options: { maxWidth?: number; resume?: string; keepData?: boolean } = {}): string {
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
  if (report.outcome === "interrupted" && report.stopped) lines.push(...renderStopped(report, report.stopped, options));
  else lines.push(`done in ${seconds(report.elapsedMs)}`);
  return lines.join("\n");
}
