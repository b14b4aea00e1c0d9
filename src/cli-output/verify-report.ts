/** `client verify`'s report for people: per-node listings, the problems found, the likely cause, the summary. */
import type { LikelyCause } from "../client/diagnose.ts";
import type { VerifyReport } from "../client/verify.ts";
import { describeMisnamed } from "./preflight-report.ts";
import { FULL_TABLE_LIMIT, numeric, optional, renderTable, shrinkable } from "./table.ts";
import { count, listIds, plural } from "./words.ts";

/** Empty when the pre-flight check stopped verify: summarizeVerifyFailures says why. */
export function renderVerify(report: VerifyReport, { maxWidth }: { maxWidth?: number } = {}): string {
  if (report.preflight.misnamed.length > 0) return "";
  const parts: string[] = [];
  parts.push(
    renderTable(
      ["node", optional("url"), numeric("records"), shrinkable("listing")],
      report.nodes.map((n) => [n.node, n.url, count(n.records), n.error ? `FAILED: ${n.error}` : "ok"]),
      [],
      { maxWidth },
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
    parts.push(renderTable(["problem", numeric("id"), "owner", "found on", shrinkable("detail")], shown, [], { maxWidth }));
    if (problems.length > shown.length) parts.push(`(${count(problems.length - shown.length)} more problems not shown; --json lists them all)`);
  }
  for (const r of report.rings) parts.push(`ring: node ${r.node} (${r.url}): ${r.problem}`);
  for (const cause of report.causes) parts.push(`likely cause: ${describeCause(cause)}`);
  const summary = [
    `${count(report.good)} of ${plural(report.checked, "id")} on their owner with the expected content`,
    `${count(report.missing.length)} missing, ${count(report.mismatched.length)} mismatched, ` +
      `${count(report.misplaced.length)} misplaced, ${count(report.extra.length)} extra`,
  ];
  if (report.unknown.length > 0) summary.push(`${count(report.unknown.length)} unknown (their owner's listing failed)`);
  if (report.unchecked === 1) summary.push("1 other record on its owner (not in the checked ids)");
  if (report.unchecked > 1) summary.push(`${count(report.unchecked)} other records on their owners (not in the checked ids)`);
  parts.push(summary.join("; "));
  return parts.join("\n\n");
}

export function describeCause(cause: LikelyCause): string {
  if (cause.kind === "short-node-list") {
    const left = cause.left.length === 1 ? `node ${cause.left[0]}` : `nodes ${cause.left.join(" and ")}`;
    return (
      `the records were written with a node list that left out ${left}: ${count(cause.fit)} of ${count(cause.of)} records are where ` +
      `--nodes ${cause.nodes} puts them, or on their owner among the nodes it leaves out (the ring in force: ${count(cause.fitInForce)}). ` +
      `shardctl repair with the full node list puts them on their owners.`
    );
  }
  if (cause.kind === "shared-database") {
    const [a, b] = cause.nodes;
    return `nodes ${a} and ${b} list the same ${plural(cause.records, "record")}: two instances answering from one database? Give each instance its own --db.`;
  }
  return (
    `the records were placed by another ring: ${count(cause.fit)} of ${count(cause.of)} records are where ` +
    `--nodes ${cause.nodes} --vnodes ${cause.vnodes} puts them (the ring in force: ${count(cause.fitInForce)}). ` +
    `Check --nodes, --vnodes and --ring against the ring the data was written with; if the ring in force is the right one, ` +
    `shardctl repair puts the records on their owners under it.`
  );
}

export function summarizeVerifyFailures(report: VerifyReport): string {
  if (report.preflight.misnamed.length > 0) return describeMisnamed(report.preflight);
  const out: string[] = [];
  for (const e of report.errors) out.push(`node ${e.node} (${e.url}): ${e.message} (verify is incomplete)`);
  for (const r of report.rings) out.push(`node ${r.node} (${r.url}): ${r.problem}`);
  if (report.missing.length)
    out.push(
      `missing: ${listIds(
        report.missing.map((m) => `${m.id} (owner ${m.owner})`),
        8,
      )}`,
    );
  if (report.unknown.length)
    out.push(
      `not checked, their owner's listing failed: ${listIds(
        report.unknown.map((m) => `${m.id} (owner ${m.owner})`),
        8,
      )}`,
    );
  if (report.mismatched.length)
    out.push(
      `mismatched: ${listIds(
        report.mismatched.map((m) => `${m.id} on ${m.owner}`),
        8,
      )}`,
    );
  if (report.misplaced.length)
    out.push(
      `misplaced: ${listIds(
        report.misplaced.map((p) => `${p.id} on ${p.node}, owner ${p.owner}`),
        8,
      )}`,
    );
  if (report.extra.length)
    out.push(
      `extra copies: ${listIds(
        report.extra.map((p) => `${p.id} on ${p.node}, owner ${p.owner}`),
        8,
      )}`,
    );
  for (const cause of report.causes) out.push(`likely cause: ${describeCause(cause)}`);
  return `verify found problems\n${out.map((l) => `  ${l}`).join("\n")}`;
}
