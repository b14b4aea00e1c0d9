/** `shardctl ring check`: does every instance hold the ring in force? */
import { defineCommand } from "citty";
import { renderRingCheck, summarizeRingCheck } from "../../cli-output/ring-check-report.ts";
import { checkRings } from "../../client/ring-check.ts";
import { DEFAULT_TIMEOUT_MS } from "../../client/transport.ts";
import { JobFailed } from "../../errors.ts";
import { ringInForce } from "../_ring.ts";
import { jsonArg, ringArgs, wideArg } from "../_args.ts";
import { tableWidth } from "../../cli-output/table.ts";
import { intOption } from "../_parse.ts";

export default defineCommand({
  meta: {
    name: "check",
    description:
      "Check that every instance holds the ring (GET /ring)\n\n" +
      "Ask every instance of the ring for its ring and compare: exit 1 naming the instances that hold another ring, none, or do not answer.",
  },
  args: {
    ...ringArgs,
    timeout: { type: "string", valueHint: "MS", description: `Per-request timeout in milliseconds (default: ${DEFAULT_TIMEOUT_MS})` },
    ...wideArg,
    ...jsonArg,
  },
  async run({ args }) {
    const { ring } = ringInForce(args);
    const timeoutMs = intOption(args.timeout, "timeout", { min: 1, max: 600_000 });
    const report = await checkRings(ring, { timeoutMs, retries: 1 });
    console.log(args.json ? JSON.stringify(report, null, 2) : renderRingCheck(report, { maxWidth: tableWidth(args.wide) }));
    if (!report.ok) throw new JobFailed(summarizeRingCheck(report));
  },
});
