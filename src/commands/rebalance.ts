/**
 * `shardctl rebalance --to NEW.json [--from OLD.json]`: moves the records whose owner
 * changes to their new owner while clients keep working, switches every instance to the
 * new ring, and deletes the moved records from their old owners. The work is the library
 * of src/rebalance/; this parses, shows progress and prints the report.
 */
import { defineCommand } from "citty";
import { progressBar, type ProgressSink } from "../cli-output/progress.ts";
import { renderRebalance } from "../cli-output/rebalance-report.ts";
import { tableWidth } from "../cli-output/table.ts";
import { Interrupted, UsageError } from "../errors.ts";
import { RebalanceInterrupted } from "../rebalance/errors.ts";
import type { ProgressEvent } from "../rebalance/report.ts";
import { rebalance } from "../rebalance/run.ts";
import { ringOfFile } from "./_ring.ts";
import { jsonArg, wideArg } from "./_args.ts";
import { intOption } from "./_parse.ts";

export default defineCommand({
  meta: {
    name: "rebalance",
    description:
      "Move records to the owners of a new ring, online and resumable\n\n" +
      "Move every record whose owner differs between two rings to its new owner while clients keep reading and writing, " +
      "verify the copies, switch every instance (of both rings) to the new ring, then delete the moved records from their " +
      "old owners. Resumable: after a failure or a kill, run the same command again. Needs admin access to the instances " +
      "(SHARDCTL_ADMIN_TOKEN, or loopback when they have none). Exit 0 done, 1 a problem (named: step, node, record), 2 bad usage.",
  },
  args: {
    to: { type: "string", valueHint: "NEW.json", description: "The new ring file; its epoch must be larger than the old ring's. Every node in it must be up" },
    from: {
      type: "string",
      valueHint: "OLD.json",
      description: "The old ring file (default: the ring the instances hold, or the one their unfinished rebalance started from)",
    },
    "dry-run": { type: "boolean", description: "Print the plan (records per old owner -> new owner, counted in the data) and change nothing" },
    "keep-data": { type: "boolean", description: "Leave the moved records on their old owners (client verify then reports them as extra)" },
    concurrency: { type: "string", valueHint: "N", description: "Copy requests in flight at once (default: 4)" },
    ...wideArg,
    ...jsonArg,
  },
  async run({ args }) {
    if (args.to === undefined) throw new UsageError("--to NEW.json is required: the ring the cluster moves to");
    const to = ringOfFile(args.to, `--to ${args.to}`);
    const from = args.from === undefined ? undefined : ringOfFile(args.from, `--from ${args.from}`);
    if (from && to.epoch <= from.epoch) {
      throw new UsageError(
        `--to ${args.to} has epoch ${to.epoch}, not larger than --from ${args.from}'s ${from.epoch}: a ring replaces ` +
          `another only with a larger epoch (give the new ring "epoch": ${from.epoch + 1})`,
      );
    }
    const concurrency = intOption(args.concurrency, "concurrency", { min: 1, max: 64 });

    // Ctrl-C: the job stops at the next safe point and gives its lease up (a second Ctrl-C exits at once).
    const stop = new AbortController();
    const onInterrupt = () => (stop.signal.aborted ? process.exit(130) : stop.abort());
    process.on("SIGINT", onInterrupt);
    let bar: ProgressSink | undefined;
    let barStep = "";
    const onProgress = ({ step, done, total }: ProgressEvent) => {
      if (args.json) return;
      if (step !== barStep) {
        bar?.finish();
        barStep = step;
        bar = progressBar({ total, unit: "records", label: step });
      }
      bar!.update(done, total, 0);
    };
    try {
      const report = await rebalance({
        to,
        from,
        dryRun: args["dry-run"],
        keepData: args["keep-data"],
        concurrency,
        adminToken: process.env.SHARDCTL_ADMIN_TOKEN || undefined,
        signal: stop.signal,
        onProgress,
        onEvent: (event) => {
          if (event.kind === "took-over") console.error(`shardctl rebalance: ${event.message}`);
        },
      });
      bar?.finish();
      console.log(args.json ? JSON.stringify(report, null, 2) : renderRebalance(report, { maxWidth: tableWidth(args.wide) }));
    } catch (e) {
      if (!(e instanceof RebalanceInterrupted)) throw e;
      // Ctrl-C: what was done, what is left and the command that goes on, on stdout (the plan kept); stderr says it once
      bar?.finish();
      const resume = resumeCommand(args);
      if (args.json) console.log(JSON.stringify({ ...e.report, resume }, null, 2));
      else console.log(renderRebalance(e.report, { maxWidth: tableWidth(args.wide), resume, keepData: args["keep-data"] }));
      throw new Interrupted(
        `interrupted during ${e.report.stopped.during}${args.json ? `; to go on: ${resume}` : " (above: what was done, what is left, how to go on)"}`,
      );
    } finally {
      bar?.finish();
      process.off("SIGINT", onInterrupt);
    }
  },
});

/** The command that takes the rebalance up again: this one, with the options that decide the job. */
function resumeCommand(args: { to?: string; from?: string; "keep-data"?: boolean; concurrency?: string }): string {
  const quote = (v: string) => (/^[\w./:=@%+-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`);
  return [
    "shardctl rebalance",
    ...(args.from === undefined ? [] : [`--from ${quote(args.from)}`]),
    `--to ${quote(args.to!)}`,
    ...(args["keep-data"] ? ["--keep-data"] : []),
    ...(args.concurrency === undefined ? [] : [`--concurrency ${quote(args.concurrency)}`]),
  ].join(" ");
}
