import { defineCommand } from "citty";
import { renderVerify, summarizeVerifyFailures } from "../../cli-output/verify-report.ts";
import { tableWidth } from "../../cli-output/table.ts";
import { verifyRecords } from "../../client/verify.ts";
import { JobFailed } from "../../errors.ts";
import { MAX_PAGE } from "../../expenses/model.ts";
import { idsArg, jsonArg, ringArgs, wideArg } from "../_args.ts";
import { intOption } from "../_parse.ts";
import { clientFromArgs, dataArg, recordsFromArgs, requestArgs } from "./_args.ts";

export default defineCommand({
  meta: {
    name: "verify",
    description:
      "Check that each id is on its owner, and nowhere else\n\n" +
      "Check that each id is on its owner with the expected content, and (reading every node's listing) that no record " +
      "sits on a node that does not own it and none is stored twice; names the likely cause when the pattern is clear " +
      "(a node list that left a node out, another ring, two instances on one database; shardctl repair puts misplaced records on " +
      "their owners). Exit 1 on any missing, mismatched, misplaced or extra record.",
  },
  args: {
    ...ringArgs,
    ...idsArg,
    ...dataArg,
    "page-size": {
      type: "string",
      valueHint: "N",
      description: `Records per listing request, at most the service's limit of ${MAX_PAGE} (default: 500)`,
    },
    ...requestArgs,
    ...wideArg,
    ...jsonArg,
  },
  async run({ args }) {
    const client = clientFromArgs(args, "client verify");
    const pageSize = intOption(args["page-size"], "page-size", { min: 1, max: MAX_PAGE }) ?? 500;
    const expected = await recordsFromArgs(args);
    const report = await verifyRecords(client, expected, { pageSize });
    if (args.json) console.log(JSON.stringify(report, null, 2));
    else {
      const text = renderVerify(report, { maxWidth: tableWidth(args.wide) });
      if (text) console.log(text);
    }
    if (!report.ok) throw new JobFailed(summarizeVerifyFailures(report));
  },
});
