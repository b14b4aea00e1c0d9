import { defineCommand } from "citty";
import { progressBar } from "../../cli-output/progress.ts";
import { renderRun, summarizeRunFailures } from "../../cli-output/run-report.ts";
import { runRecords } from "../../client/run.ts";
import { JobFailed } from "../../errors.ts";
import { idsArg, jsonArg, ringArgs } from "../_args.ts";
import { intOption } from "../_parse.ts";
import { clientFromArgs, dataArg, recordsFromArgs, requestArgs } from "./_args.ts";

export default defineCommand({
  meta: {
    name: "run",
    description:
      "POST each record to the node that owns its id, then GET each back from its owner and compare field by field. " +
      "Re-runs are safe: an id already stored with the same content counts as done. Exit 1 if any id failed.",
  },
  args: {
    ...ringArgs,
    ...idsArg,
    ...dataArg,
    concurrency: { type: "string", valueHint: "N", description: "Requests in flight at once (default: 8)" },
    ...requestArgs,
    table: { type: "boolean", description: `Show every row, also for runs over 100 ids (else only failed rows)` },
    ...jsonArg,
  },
  async run({ args }) {
    const client = clientFromArgs(args);
    const concurrency = intOption(args.concurrency, "concurrency", { min: 1, max: 1024 }) ?? 8;
    const records = await recordsFromArgs(args);

    const bar = progressBar({ total: records.length * 2 });
    let posted = 0;
    const report = await runRecords(client, records, {
      concurrency,
      onProgress: (phase, done, total) => {
        if (phase === "POST") posted = done;
        bar.update(phase, phase === "POST" ? done : posted + done, phase === "POST" ? records.length * 2 : posted + total);
      },
    });
    bar.finish();

    if (args.json) {
      console.log(JSON.stringify(report, null, 2));
    } else {
      console.log(renderRun(report, { allRows: args.table }));
    }
    if (!report.ok) throw new JobFailed(summarizeRunFailures(report));
  },
});
