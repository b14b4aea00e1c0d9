#!/usr/bin/env bun
/**
 * shardctl: client-side sharding for the expense service. The entry point of the
 * compiled binary. Sub-commands load lazily, with literal paths so that
 * `bun build --compile` bundles them.
 */
import { defineCommand } from "citty";
import { runCli, type RunCliOptions } from "./cli-runner.ts";
import { describeVersion, VERSION, versionInfo } from "./version.ts";

export const root = defineCommand({
  meta: {
    name: "shardctl",
    version: VERSION,
    description: "Client-side sharding for the expense service (MD5 consistent hash ring)",
  },
  subCommands: {
    serve: () => import("./commands/serve.ts").then((m) => m.default),
    router: () => import("./commands/router.ts").then((m) => m.default),
    client: () => import("./commands/client/index.ts").then((m) => m.default),
    ring: () => import("./commands/ring/index.ts").then((m) => m.default),
    status: () => import("./commands/status.ts").then((m) => m.default),
    rebalance: () => import("./commands/rebalance.ts").then((m) => m.default),
    repair: () => import("./commands/repair.ts").then((m) => m.default),
    demo: () => import("./commands/demo.ts").then((m) => m.default),
  },
});

const EXAMPLES = `
EXAMPLES

  shardctl demo                                   three instances + run + verify, no MySQL needed
  shardctl serve --port 5001                      one instance on ./data/shardctl-5001.sqlite
  shardctl serve --port 5001 --db mysql://root@127.0.0.1:3306/expenses_1
  shardctl router --port 5000                     one address for curl and Postman: each request goes to its owner
  shardctl client run --ids 1..10                 POST each record to its owner, GET it back
  shardctl client verify                          every id on its owner and nowhere else
  shardctl ring show 1 2 3                        where ids go, and why
  shardctl ring check --ring ring.json            does every instance hold this ring?
  shardctl status --nodes ...                     every node: up, ready, ring, records, version
  shardctl rebalance --to new.json                move records to the owners of a new ring, online
  shardctl repair --nodes ...                     put stray records back on their owners, online

Nodes: --nodes a=127.0.0.1:5001,b=127.0.0.1:5002 (or SHARDCTL_NODES); exit status 0 ok, 1 problem found, 2 bad usage.
`;

/** What the runner needs beyond the command tree: the examples after the usage, the --version line. */
export const cliOptions: RunCliOptions = {
  epilogue: EXAMPLES,
  version: () => {
    const v = versionInfo();
    return { text: describeVersion(v), json: v };
  },
};

if (import.meta.main) {
  process.exitCode = await runCli(root, process.argv.slice(2), cliOptions);
}
