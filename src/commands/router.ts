/**
 * `shardctl router`: one address for clients that cannot place records themselves.
 * Runs until SIGTERM/SIGINT, then stops gracefully (requests in flight finish).
 */
import { defineCommand } from "citty";
import { describeMisnamed } from "../cli-output/preflight-report.ts";
import { preflight } from "../client/preflight.ts";
import { ShardedExpenseClient } from "../client/sharded-client.ts";
import { errorMessage, JobFailed } from "../errors.ts";
import { formatNode } from "../ring/node.ts";
import { ringInForce } from "./_ring.ts";
import { DEFAULT_ROUTER_PORT, DEFAULT_ROUTER_TIMEOUT_MS, startRouter, type Router } from "../router/server.ts";
import { ringArgs } from "./_args.ts";
import { flagOrEnv, intOption, logFormatOption } from "./_parse.ts";

export default defineCommand({
  meta: {
    name: "router",
    description:
      "One address for the expense API; each request goes to its owner\n\n" +
      "For clients that do not place records themselves, such as curl: each request goes to the owner of its id, and the " +
      "listing merges every node's records. At start the router checks that each instance answers to its name in the node " +
      "list (else it refuses, printing the --nodes that matches).",
  },
  args: {
    port: { type: "string", valueHint: "PORT", description: `TCP port; 0 picks a free one (default: ${DEFAULT_ROUTER_PORT})` },
    host: { type: "string", valueHint: "HOST", description: "Address to bind (default: 127.0.0.1)" },
    ...ringArgs,
    timeout: {
      type: "string",
      valueHint: "MS",
      description: `Timeout of each attempt at an instance, in milliseconds (default: ${DEFAULT_ROUTER_TIMEOUT_MS})`,
    },
    "log-format": {
      type: "string",
      valueHint: "text|json",
      description:
        "Request log on stdout: text lines, or json (one object per request: time, node, method, route, path, status, " +
        "duration_ms, request_id, upstream); env SHARDCTL_LOG_FORMAT (default: text)",
    },
  },
  async run({ args }) {
    const port = intOption(args.port, "port", { min: 0, max: 65535 }) ?? DEFAULT_ROUTER_PORT;
    const host = args.host ?? "127.0.0.1";
    const timeoutMs = intOption(args.timeout, "timeout", { min: 1, max: 120_000 });
    const { ring, source } = ringInForce(args);
    const logFormat = logFormatOption(flagOrEnv(args["log-format"], "log-format", "SHARDCTL_LOG_FORMAT"));

    // Names decide placement: under names the instances do not go by, the router would answer every request
    // 502 wrong_node. Checked as client run does; a node that does not answer yet is /readyz's to report.
    const checked = await preflight(new ShardedExpenseClient({ ring, circuit: false, retries: 0 }), { graceMs: 0 });
    if (checked.misnamed.length > 0) throw new JobFailed(describeMisnamed(checked, "the router does not start"));

    let router: Router;
    try {
      router = startRouter({ port, host, ring, timeoutMs, logFormat, note: (line) => console.error(`shardctl router: ${line}`) });
    } catch (e) {
      const inUse = e instanceof Error && "code" in e && e.code === "EADDRINUSE";
      throw new JobFailed(`cannot listen on ${host}:${port}: ${inUse ? "the address is in use" : errorMessage(e)}`);
    }
    // Starting is synchronous: no signal can arrive between it and these listeners.
    const signal = new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });
    console.error(
      `shardctl router: listening on ${router.url}; ring ${ring.label} from ${source}, ${ring.vnodes} vnodes: ${ring.nodes.map(formatNode).join(", ")}`,
    );

    console.error(`shardctl router: ${await signal}: finishing requests in flight`);
    await router.stop();
    console.error("shardctl router: stopped");
  },
});
