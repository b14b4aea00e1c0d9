/**
 * `shardctl repair [ring options] [--dry-run] [--prefer owner|stray|none] [--json]`: every
 * record onto its owner under the ring in force (the newest the instances hold; theirs
 * none: the ring of the options), and off the nodes that do not own it, while clients keep
 * working. The work is the library of src/repair/; this parses, shows progress and prints
 * the report.
 */
import { defineCommand } from "citty";
import { progressBar, type ProgressSink } from "../cli-output/progress.ts";
import { renderRepair, summarizeRepairFailure } from "../cli-output/repair-report.ts";
import { tableWidth } from "../cli-output/table.ts";
import { JobFailed, UsageError } from "../errors.ts";
import { PREFERENCES, type Prefer } from "../repair/report.ts";
import { repair } from "../repair/run.ts";
import { jsonArg, ringArgs, wideArg } from "./_args.ts";
import { intOption } from "./_parse.ts";
import { ringInForce } from "./_ring.ts";

export default defineCommand({
  meta: {
    name: "repair",
    description:
      "Put every record on its owner and off other nodes, online\n\n" +
      "Put every record on its owner under the ring the instances hold (or, when they hold none, the ring of --nodes/--ring), " +
      "and delete the copies on nodes that do not own them, while clients keep reading and writing. Where a stray copy differs " +
      "from the owner's, the owner's is kept (--prefer) and the difference reported. Safe to stop and run again. Needs admin " +
      "access to the instances (SHARDCTL_ADMIN_TOKEN, or loopback when they have none). Exit 0 when every record is on its owner only, " +
      "1 when some could not be put there (named), 2 bad usage.",
  },
  args: {
    ...ringArgs,
    "dry-run": { type: "boolean", description: "Count what a repair would do (stray copies per node and owner, differences) and change nothing" },
    prefer: {
      type: "string",
      valueHint: "owner|stray|none",
      description:
        "Where a stray copy differs from its owner's: keep the owner's and delete the stray (owner, the default), replace the owner's " +
        "with the stray (stray), or leave both and report them (none, exit 1)",
    },
    concurrency: { type: "string", valueHint: "N", description: "Batches of 1,000 records handled at once (default: 2)" },
    ...wideArg,
    ...jsonArg,
  },
  async run({ args }) {
    const prefer = (args.prefer ?? "owner") as Prefer;
    if (!PREFERENCES.includes(prefer)) throw new UsageError(`--prefer must be one of ${PREFERENCES.join(", ")}, got "${args.prefer}"`);
    const given = ringInForce(args);
    const concurrency = intOption(args.concurrency, "concurrency", { min: 1, max: 16 });

    // Ctrl-C: the repair stops after the batch under way (a second Ctrl-C exits at once).
    const stop = new AbortController();
    const onInterrupt = () => (stop.signal.aborted ? process.exit(130) : stop.abort());
    process.on("SIGINT", onInterrupt);
    let bar: ProgressSink | undefined;
    try {
      const report = await repair({
        ring: given.ring,
        source: given.source,
        dryRun: args["dry-run"],
        prefer,
        concurrency,
        adminToken: process.env.SHARDCTL_ADMIN_TOKEN || undefined,
        signal: stop.signal,
        onProgress: ({ step, done, total }) => {
          if (args.json || step !== "scan") return;
          bar ??= progressBar({ total, unit: "records", label: "scan" });
          bar.update(done, total, 0);
        },
      });
      bar?.finish();
      console.log(args.json ? JSON.stringify(report, null, 2) : renderRepair(report, { maxWidth: tableWidth(args.wide) }));
      if (report.outcome === "unresolved") throw new JobFailed(summarizeRepairFailure(report));
    } finally {
      bar?.finish();
      process.off("SIGINT", onInterrupt);
    }
  },
});
