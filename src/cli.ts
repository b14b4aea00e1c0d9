#!/usr/bin/env bun
/**
 * shardctl: client-side sharding for the expense service. The entry point of the
 * compiled binary. Sub-commands load lazily, with literal paths so that
 * `bun build --compile` bundles them.
 */
import { defineCommand } from "citty";
import { main } from "./main.ts";
import { VERSION } from "./version.ts";

export const root = defineCommand({
  meta: {
    name: "shardctl",
    version: VERSION,
    description: "Client-side sharding for the expense service (MD5 consistent hash ring)",
  },
  subCommands: {
    serve: () => import("./commands/serve.ts").then((m) => m.default),
    client: () => import("./commands/client/index.ts").then((m) => m.default),
    ring: () => import("./commands/ring/index.ts").then((m) => m.default),
    demo: () => import("./commands/demo.ts").then((m) => m.default),
  },
});

if (import.meta.main) {
  process.exitCode = await main(root, process.argv.slice(2));
}
