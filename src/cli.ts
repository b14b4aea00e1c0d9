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
    description: "client-side sharding for the expense service (MD5 hash ring)",
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

/** What the root's usage ends with: each example a command line and what it does. */
const EXAMPLES = [
  { label: "shardctl demo", description: "three instances + run + verify, no MySQL" },
  { label: "shardctl serve --port 5001", description: "one instance on ./data/shardctl-5001.sqlite" },
  { label: "shardctl serve --port 5001 --db mysql://root@127.0.0.1:3306/expenses_1", description: "one instance on MySQL" },
  { label: "shardctl router --port 5000", description: "one address for curl: each id to its owner" },
  { label: "shardctl client run --ids 1..10", description: "POST each record to its owner, GET it back" },
  { label: "shardctl client verify", description: "every id on its owner and nowhere else" },
  { label: "shardctl ring show 1 2 3", description: "where ids go, and why" },
  { label: "shardctl ring check --ring ring.json", description: "does every instance hold this ring?" },
  { label: "shardctl status --nodes ...", description: "every node: state, ring, records, version" },
  { label: "shardctl rebalance --to new.json", description: "move records to a new ring's owners, online" },
  { label: "shardctl repair --nodes ...", description: "put stray records back on their owners, online" },
];

/** What the runner needs beyond the command tree: the examples after the usage, the --version line. */
export const cliOptions: RunCliOptions = {
  examples: EXAMPLES,
  note:
    "Nodes: --nodes a=127.0.0.1:5001,b=127.0.0.1:5002 (or SHARDCTL_NODES). Exit status: 0 ok, 1 a problem found, 2 bad usage. " +
    '"shardctl version" (or --version) prints the version.',
  version: () => {
    const v = versionInfo();
    return { text: describeVersion(v), json: v };
  },
};

if (import.meta.main) {
  process.exitCode = await runCli(root, process.argv.slice(2), cliOptions);
}
