/**
 * `shardctl serve`: one expense instance until SIGTERM/SIGINT, then a graceful stop
 * (requests in flight finish, the database pool closes). A database that cannot be
 * reached at start is a job failure (exit 1); a malformed --db is bad usage (exit 2).
 * Given a ring (the client's ring options), the instance is ring-aware: it answers 421
 * for the ids it does not own, and its --name must be a node of the ring (else exit 2).
 */
import { defineCommand } from "citty";
import { UsageError } from "../errors.ts";
import { ringInForce } from "./_ring.ts";
import { nodeNameProblem } from "../ring/node.ts";
import { hostPort, hostProblem, isWildcardHost } from "../http/listen.ts";
import { describeStoreUrl, redact } from "../store/url.ts";
import { ringArgs } from "./_args.ts";
import { flagOrEnv, intOption, logFormatOption } from "./_parse.ts";
import { checkDbUrl, startForCommand } from "./_instance.ts";

export default defineCommand({
  meta: {
    name: "serve",
    description:
      "Run one expense instance (the HTTP API under /v1/expenses)\n\n" +
      "With ring options it is ring-aware: it answers 421 for ids it does not own, keeps its ring in its database, and takes " +
      "PUT /ring from admins (env SHARDCTL_ADMIN_TOKEN; without it, loopback only). Its API docs are at /openapi.",
  },
  args: {
    port: { type: "string", valueHint: "PORT", description: "TCP port; 0 picks a free one; env SHARDCTL_PORT (default: 5001)" },
    host: { type: "string", valueHint: "HOST", description: "Address to bind; env SHARDCTL_HOST (default: 127.0.0.1)" },
    db: {
      type: "string",
      valueHint: "URL",
      description:
        "mysql://user:pass@host:port/database[?pool=N&timeout=MS&queue=N] (several host:port, comma-separated: the members of a Galera " +
        "cluster, used one at a time) or sqlite:<path>; env SHARDCTL_DB (default: sqlite:./data/shardctl-<port>.sqlite)",
    },
    name: {
      type: "string",
      valueHint: "NAME",
      description:
        "Node name for X-Shard-Node: letters, digits, . - _ : [ ]; env SHARDCTL_NAME (default: host:port; required with " +
        "--host 0.0.0.0 or ::); with a ring, a node of it",
    },
    "log-format": {
      type: "string",
      valueHint: "text|json",
      description:
        "Request log on stdout: text lines, or json (one object per request: time, node, method, route, path, status, " +
        "duration_ms, request_id); env SHARDCTL_LOG_FORMAT (default: text)",
    },
    // The client's ring options, but no default ring: without any, the instance checks no ownership.
    nodes: { ...ringArgs.nodes, description: "The cluster's nodes, [name=]host:port[:weight],...; env SHARDCTL_NODES (default: no ring)" },
    vnodes: { ...ringArgs.vnodes, description: "Virtual nodes per node of weight 1; env SHARDCTL_VNODES (default: 160 with a ring)" },
    ring: { ...ringArgs.ring, description: `${ringArgs.ring.description} (default: the ring in the database, else none)` },
  },
  async run({ args }) {
    const portOption = flagOrEnv(args.port, "port", "SHARDCTL_PORT");
    const port = intOption(portOption?.value, portOption?.source === "--port" ? "port" : "SHARDCTL_PORT", { min: 0, max: 65535 }) ?? 5001;
    const hostOption = flagOrEnv(args.host, "host", "SHARDCTL_HOST");
    const host = hostOption?.value ?? "127.0.0.1";
    const hostIssue = hostProblem(host);
    if (hostIssue) throw new UsageError(`${hostOption!.source} "${host}" ${hostIssue}`);
    const nameOption = flagOrEnv(args.name, "name", "SHARDCTL_NAME");
    const name = nameOption?.value;
    if (name !== undefined && name.trim() === "") throw new UsageError(`${nameOption!.source} is empty; give a node name or leave it out`);
    const nameIssue = name === undefined ? undefined : nodeNameProblem(name);
    if (nameIssue) throw new UsageError(`${nameOption!.source}: ${nameIssue}`);
    if (name === undefined && isWildcardHost(host)) {
      const defaultName = hostPort(host, port).replace(/:0$/, ":<port>");
      throw new UsageError(
        `${hostOption!.source} ${host} listens on every address, so the default node name ${defaultName} is no address ` +
          `a client can list in --nodes and X-Shard-Node would match no node; give --name (or SHARDCTL_NAME) with the ` +
          `name clients use for this instance, e.g. --name db1:${port === 0 ? 5001 : port}`,
      );
    }
    const logFormat = logFormatOption(flagOrEnv(args["log-format"], "log-format", "SHARDCTL_LOG_FORMAT"));
    const db = args.db ?? process.env.SHARDCTL_DB;
    const dbSource = args.db !== undefined ? "--db" : "SHARDCTL_DB";
    // Bad usage is found before the port is bound, so it exits 2 even when the port is taken.
    if (db !== undefined) checkDbUrl(db, dbSource);
    // Only a ring somebody named makes the instance ring-aware: the default ring (the nodes
    // 127.0.0.1:5001,127.0.0.1:5002,127.0.0.1:5003, 160 vnodes) is the client's guess, not
    // this cluster's (an instance without a ring checks nothing).
    const inForce = ringInForce(args);
    const ring = inForce.isDefault ? undefined : { ring: inForce.ring, source: inForce.source };

    // Listen for signals before starting, so that one arriving during start-up still
    // ends in a graceful stop rather than the default exit.
    const signal = new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });

    const what = db === undefined ? "the default database" : `the database ${redact(db)}${dbSource === "--db" ? "" : ` (from ${dbSource})`}`;
    const instance = await startForCommand(
      { port, host, db, name, ring, adminToken: process.env.SHARDCTL_ADMIN_TOKEN, logFormat, note: (line) => console.error(`shardctl serve: ${line}`) },
      { what, address: `${host}:${port}`, hostSource: hostOption?.source ?? "--host" },
    );
    for (const note of instance.notes) console.error(`shardctl serve: ${note}`);
    const aware = instance.ring ? `ring ${instance.ring.label}` : "no ring (checks no ownership)";
    console.error(
      `shardctl serve: node ${instance.name} listening on ${instance.url} (db ${describeStoreUrl(instance.db)}; ${aware}); API docs at ${instance.url}/openapi`,
    );

    console.error(`shardctl serve: ${await signal}: finishing requests in flight, then closing the database`);
    await instance.stop();
    console.error("shardctl serve: stopped");
  },
});
