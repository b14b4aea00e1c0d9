/**
 * `shardctl serve`: one expense instance until SIGTERM/SIGINT, then a graceful stop
 * (requests in flight finish, the database pool closes). A database that cannot be
 * reached at start is a job failure (exit 1); a malformed --db is bad usage (exit 2).
 * Given a ring (the client's ring options), the instance is ring-aware: it answers 421
 * for the ids it does not own, and its --name must be a node of the ring (else exit 2).
 */
import { defineCommand } from "citty";
import { UsageError } from "../errors.ts";
import { ringInForce } from "../ring/in-force.ts";
import { nodeNameProblem } from "../ring/node.ts";
import { hostPort, isWildcardHost } from "../server/instance.ts";
import { redact } from "../store/url.ts";
import { ringArgs } from "./_args.ts";
import { intOption } from "./_parse.ts";
import { checkDbUrl, startForCommand } from "./_instance.ts";

export default defineCommand({
  meta: { name: "serve", description: "Run one expense instance (the HTTP API of the contract)" },
  args: {
    port: { type: "string", valueHint: "PORT", description: "TCP port; 0 picks a free one (default: 5001)" },
    host: { type: "string", valueHint: "HOST", description: "Address to bind (default: 127.0.0.1)" },
    db: {
      type: "string",
      valueHint: "URL",
      description:
        "mysql://user:pass@host:port/database[?pool=N] or sqlite:<path>; env SHARDCTL_DB (default: sqlite:./data/shardctl-<port>.sqlite)",
    },
    name: { type: "string", valueHint: "NAME", description: "Node name for X-Shard-Node (default: host:port); with a ring, a node of it" },
    ...ringArgs,
  },
  async run({ args }) {
    const port = intOption(args.port, "port", { min: 0, max: 65535 }) ?? 5001;
    const host = args.host ?? "127.0.0.1";
    const db = args.db ?? process.env.SHARDCTL_DB;
    const dbSource = args.db !== undefined ? "--db" : "SHARDCTL_DB";
    if (args.name !== undefined && args.name.trim() === "") throw new UsageError("--name is empty; give a node name or leave it out");
    const nameProblem = args.name === undefined ? undefined : nodeNameProblem(args.name);
    if (nameProblem) throw new UsageError(`--name: ${nameProblem}`);
    if (args.name === undefined && isWildcardHost(host)) {
      const defaultName = hostPort(host, port).replace(/:0$/, ":<port>");
      console.error(
        `shardctl serve: warning: --host ${host} listens on every address, so the default node name ${defaultName} ` +
          `is no address a client can list in --nodes and X-Shard-Node will match no node; ` +
          `pass --name with the host:port clients use to reach this instance`,
      );
    }
    // Bad usage is found before the port is bound, so it exits 2 even when the port is taken.
    if (db !== undefined) checkDbUrl(db, dbSource);
    // Only a ring somebody named makes the instance ring-aware: the contract's default ring
    // is the client's guess, not this cluster's (an instance without one checks nothing).
    const inForce = ringInForce(args);
    const ring = inForce.isDefault ? undefined : { ring: inForce.ring, source: inForce.source };

    // Listen for signals before starting, so that one arriving during start-up still
    // ends in a graceful stop rather than the default exit.
    const signal = new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });

    const what =
      db === undefined ? "the default database" : `the database ${redact(db)}${dbSource === "--db" ? "" : ` (from ${dbSource})`}`;
    const instance = await startForCommand(
      { port, host, db, name: args.name, ring, adminToken: process.env.SHARDCTL_ADMIN_TOKEN },
      { what, address: `${host}:${port}` },
    );
    for (const note of instance.notes) console.error(`shardctl serve: ${note}`);
    const aware = instance.ring ? `ring ${instance.ring.label}` : "no ring (checks no ownership)";
    console.error(
      `shardctl serve: node ${instance.name} listening on ${instance.url} (db ${redact(instance.db)}; ${aware}); API docs at ${instance.url}/openapi`,
    );

    console.error(`shardctl serve: ${await signal}: finishing requests in flight, then closing the database`);
    await instance.stop();
    console.error("shardctl serve: stopped");
  },
});
