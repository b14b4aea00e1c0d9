/** What `shardctl repair` prints for people: the nodes, the stray copies by node and owner, what was done, what is left. */
import type { RepairReport } from "../repair/report.ts";
import { FULL_TABLE_LIMIT, numeric, optional, renderTable, shrinkable } from "./table.ts";
import { count, listIds } from "./words.ts";

const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
const copies = (n: number) => `${count(n)} ${n === 1 ? "copy" : "copies"}`;
const records = (n: number) => `${count(n)} ${n === 1 ? "record" : "records"}`;

export function renderRepair(report: RepairReport, { maxWidth }: { maxWidth?: number } = {}): string {
  const dry = report.outcome === "dry-run";
  const from = report.ringFrom === "cluster" ? "the ring the instances hold" : "the instances hold no ring: the ring of the options";
  const parts = [`repair by ring ${report.ring} (${from})${dry ? ": dry run, nothing changed" : ""}`];
  parts.push(
    renderTable(
      ["node", optional("url"), optional("ring", 1), numeric("records"), numeric("off owner")],
      report.nodes.map((n) => [n.node, n.url, n.ring ?? "none", count(n.records), count(n.strays)]),
      [],
      { maxWidth },
    ),
  );
  if (report.found.copies === 0) {
    parts.push(`Every record is on its owner only (${count(report.scanned)} scanned): nothing to do.`);
    return parts.join("\n\n");
  }
  parts.push(
    renderTable(
      ["on node", "owner", numeric("copies")],
      report.pairs.map((p) => [p.from, p.to, count(p.copies)]),
      [["off owner", "", count(report.found.copies)]],
      { maxWidth },
    ),
  );
  const would = dry ? "would be " : "";
  const done = [
    `${records(report.found.ids)} off their owner (${copies(report.found.copies)}) of ${count(report.scanned)} scanned`,
    `${records(report.placed)} ${would}placed on their owner`,
    `${copies(report.same)} equal to the owner's`,
    `${copies(report.differing.length)} differing from it`,
  ];
  if (report.deletedOnOwner > 0) done.push(`${records(report.deletedOnOwner)} deleted on their owner during the repair, kept deleted`);
  done.push(`${copies(report.removed)} ${would}removed from nodes that do not own them`);
  parts.push(done.join("; "));
  if (report.differing.length > 0) {
    const rows = report.differing.slice(0, FULL_TABLE_LIMIT).map((d) => {
      const what = d.fields.map(
        (f) => `${f}: owner ${JSON.stringify(d.ownerCopy[f as keyof typeof d.ownerCopy])}, stray ${JSON.stringify(d.strayCopy[f as keyof typeof d.strayCopy])}`,
      );
      const kept = d.kept === "owner" ? "owner's" : d.kept === "stray" ? "stray's" : "both";
      return [d.id, d.owner, d.node, kept, what.join("; ")];
    });
    parts.push(
      `Differing copies (--prefer ${report.prefer}; --json has both records of each):\n` +
        renderTable([numeric("id"), "owner", "stray on", "kept", shrinkable("difference")], rows, [], { maxWidth }),
    );
    if (report.differing.length > rows.length) parts.push(`(${count(report.differing.length - rows.length)} more not shown; --json lists them all)`);
  }
  if (report.unresolved.length > 0) {
    const shown = report.unresolved.slice(0, FULL_TABLE_LIMIT).map((u) => `  ${u.id} (owner ${u.owner}): ${u.problem}`);
    parts.push([`Left off their owner (${count(report.unresolved.length)}):`, ...shown].join("\n"));
  }
  if (!dry) {
    const left = report.remaining ?? 0;
    parts.push(
      left === 0
        ? `check: no stray copy left; every record is on its owner only under ring ${report.ring} (${seconds(report.elapsedMs)})`
        : `check: ${copies(left)} still off their owner (${seconds(report.elapsedMs)})`,
    );
  }
  return parts.join("\n\n");
}

/** The exit message of a repair that left records off their owner. */
export function summarizeRepairFailure(report: RepairReport): string {
  const lines = [`repair left records off their owner under ring ${report.ring}`];
  if (report.unresolved.length > 0)
    lines.push(
      `  ${listIds(
        report.unresolved.map((u) => `${u.id} (${u.problem})`),
        5,
      )}`,
    );
  const unexplained = (report.remaining ?? 0) - report.unresolved.reduce((s, u) => s + u.nodes.length, 0);
  if (unexplained > 0) {
    lines.push(`  ${copies(unexplained)} appeared off their owner during the repair (a client writing with another node list?): run the repair again`);
  }
  return lines.join("\n");
}
