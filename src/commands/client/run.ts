import { defineCommand } from "citty";
import { progressBar } from "../../cli-output/progress.ts";
import { renderRun, summarizeRunFailures } from "../../cli-output/run-report.ts";
import { tableWidth } from "../../cli-output/table.ts";
import { runRecords } from "../../client/run.ts";
import { Interrupted, JobFailed } from "../../errors.ts";
import { idsArg, jsonArg, ringArgs, wideArg } from "../_args.ts";
import { intOption } from "../_parse.ts";
import { clientFromArgs, dataArg, recordsFromArgs, requestArgs } from "./_args.ts";

export default defineCommand({
  meta: {
    name: "run",
    description:
      "POST each record to its owner, GET it back and compare\n\n" +
      "POST each record to the node that owns its id, then GET it back from its owner and compare field by field. " +
      "Re-runs are safe: an id already stored with the same content counts as done. Exit 1 if any id failed, 130 on Ctrl-C " +
      "(after printing what was done).",
  },
  args: {
    ...ringArgs,
    ...idsArg,
    ...dataArg,
    concurrency: { type: "string", valueHint: "N", description: "Ids in flight at once (default: 8)" },
    ...requestArgs,
    table: { type: "boolean", description: `Show every row, also for runs over 100 ids (else the first 100 failed rows)` },
    ...wideArg,
    ...jsonArg,
  },
  async run({ args }) {
    const client = clientFromArgs(args, "client run");
    const concurrency = intOption(args.concurrency, "concurrency", { min: 1, max: 1024 }) ?? 8;
    const records = await recordsFromArgs(args);

    // Ctrl-C: no new id starts and requests in flight give up, then the partial report
    // is printed. A second Ctrl-C exits at once.
    const stop = new AbortController();
    const onInterrupt = () => (stop.signal.aborted ? process.exit(130) : stop.abort());
    process.on("SIGINT", onInterrupt);
    const bar = progressBar({ total: records.length });
    let report: Awaited<ReturnType<typeof runRecords>>;
    try {
      report = await runRecords(client, records, {
        concurrency,
        signal: stop.signal,
        onProgress: ({ done, total, failed }) => bar.update(done, total, failed),
      });
    } finally {
      bar.finish();
      process.off("SIGINT", onInterrupt);
    }

    const text = args.json ? JSON.stringify(report, null, 2) : renderRun(report, { allRows: args.table, maxWidth: tableWidth(args.wide) });
    if (text) console.log(text);
    // The report on stdout ends with the summary line; with --json, stderr is where people read it.
    const summarizing = { summaryShown: !args.json && text !== "" };
    if (report.interrupted) throw new Interrupted(summarizeRunFailures(report, summarizing));
    if (!report.ok) throw new JobFailed(summarizeRunFailures(report, summarizing));
  },
});
