/**
 * `shardctl demo`: the whole job in one process. Starts three ring-aware instances
 * (embedded SQLite in a temp dir, or the --db URLs given), puts the seed records on their
 * owners with `client run`, checks them with `client verify`, prints the tables and
 * shuts everything down, also when a step fails.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineCommand } from "citty";
import { renderRun, summarizeRunFailures } from "../cli-output/run-report.ts";
import { renderVerify, summarizeVerifyFailures } from "../cli-output/verify-report.ts";
import { renderViaRouter } from "../cli-output/via-router-report.ts";
import { count, plural } from "../cli-output/words.ts";
import { runRecords } from "../client/run.ts";
import { ShardedExpenseClient } from "../client/sharded-client.ts";
import { verifyRecords } from "../client/verify.ts";
import { runViaRouter } from "../client/via-router.ts";
import { recordsForIds } from "../client/input.ts";
import { JobFailed, UsageError } from "../errors.ts";
import type { Instance } from "../instance/index.ts";
import { redact } from "../store/url.ts";
import { ringInForce } from "./_ring.ts";
import { nodeAddress } from "../ring/node.ts";
import { Ring } from "../ring/ring.ts";
import { startRouter, type Router } from "../router/server.ts";
import { idsArg, jsonArg, ringArgs } from "./_args.ts";
import { parseIds } from "./_parse.ts";
import { checkDbUrl, startForCommand } from "./_instance.ts";

/** Nodes 1, 2, 3: with one point each (`--vnodes 1`) they hold ids 1..10 5/1/4, the table the README shows. */
const DEMO_NAMES = ["1", "2", "3"];

export default defineCommand({
  meta: {
    name: "demo",
    description:
      "Three instances, client run and verify in one process, no MySQL\n\n" +
      "Start three instances in this process (embedded SQLite in a temp dir, or --db), put the seed records on their owners, " +
      "read them back, verify the placement, print the tables and stop.",
  },
  args: {
    nodes: {
      ...ringArgs.nodes,
      description: "Instances to start, [name=]host:port[:weight],... (default: nodes 1, 2, 3 on free ports of 127.0.0.1)",
    },
    vnodes: ringArgs.vnodes,
    ring: {
      ...ringArgs.ring,
      description: "A ring file whose nodes to start (at their addresses) and whose vnodes to use; --nodes/--vnodes win over it",
    },
    db: {
      type: "string",
      valueHint: "URL,URL,URL",
      description: "One database URL per instance, comma-separated, in --nodes order (default: sqlite files in a temp dir)",
    },
    router: {
      type: "boolean",
      description: "Also start a router (shardctl router) and send the records through it, as curl or Postman would, instead of placing them here",
    },
    ...idsArg,
    ...jsonArg,
  },
  async run({ args }) {
    // The demo starts its own cluster: of the environment only SHARDCTL_VNODES applies, not
    // the SHARDCTL_NODES or SHARDCTL_RING of a real cluster (nor would a bad one stop it).
    const env = { SHARDCTL_VNODES: process.env.SHARDCTL_VNODES };
    // Without --nodes or --ring: nodes 1, 2, 3 on ports the system picks (port 0), known once bound.
    const { ring } = ringInForce({ nodes: args.nodes, vnodes: args.vnodes, ring: args.ring }, env);
    const wanted =
      args.nodes !== undefined || args.ring !== undefined
        ? ring.nodes.map((n) => ({ ...n, ...nodeAddress(n) }))
        : DEMO_NAMES.map((name) => ({ name, host: "127.0.0.1", port: 0, weight: 1 }));
    const ids = parseIds(args.ids);
    const dbs = args.db?.split(",").map((s) => s.trim()) ?? [];
    if (args.db !== undefined && dbs.length !== wanted.length) {
      throw new UsageError(`--db gives ${dbs.length} URL(s) for ${wanted.length} instances; give one per instance, comma-separated`);
    }
    for (const url of dbs) checkDbUrl(url);
    // with --json, stdout is the one document: these lines go to stderr, as every message there, after the command's name
    const say = (line: string) => (args.json ? console.error(`shardctl demo: ${line.trimStart()}`) : console.log(line));

    const dataDir = args.db === undefined ? mkdtempSync(join(tmpdir(), "shardctl-demo-")) : undefined;
    const instances: Instance[] = [];
    let router: Router | undefined;
    // Ctrl-C or SIGTERM part-way: stop at once, but leave no temp data behind.
    const onSignal = (signal: NodeJS.Signals) => {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      console.error(`\nshardctl demo: ${signal}: stopped${dataDir ? "; removed the temp data" : ""}`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    let failure: unknown;
    try {
      for (const [i, node] of wanted.entries()) {
        const db = dbs[i] ?? `sqlite:${join(dataDir!, `node-${node.name}.sqlite`)}`;
        const address = node.port === 0 ? `a free port of ${node.host}` : `${node.host}:${node.port}`;
        const instance = await startForCommand(
          { host: node.host, port: node.port, db, name: node.name, log: false, note: (line) => console.error(`shardctl demo: ${line}`) },
          { what: `the database ${redact(db)}`, address, node: node.name },
        );
        instances.push(instance);
        say(`started node ${instance.name} at ${instance.url} on ${redact(db)}`);
      }
      say("");

      // The instances are ring-aware, as a deployment is: each gets the ring once its port is known.
      const nodes = instances.map((s, i) => ({ name: s.name, url: s.url, weight: wanted[i]!.weight }));
      const demoRing = new Ring(nodes, { vnodes: ring.vnodes });
      for (const instance of instances) {
        const adoption = await instance.adoptRing(demoRing);
        if (!adoption.adopted) {
          throw new JobFailed(
            `node ${instance.name}: its database holds ring ${adoption.current}, not older than the demo's ring ` +
              `${demoRing.label}; give the demo fresh databases`,
          );
        }
      }
      say(`ring ${demoRing.label}: every instance answers 421 for the ids it does not own\n`);
      const client = new ShardedExpenseClient({ ring: demoRing });
      const records = recordsForIds(ids);
      if (args.router) {
        router = startRouter({ port: 0, ring: client.ring, log: false, note: (line) => console.error(`shardctl demo: router: ${line}`) });
        say(`started the router at ${router.url}\n`);
        const viaRouter = await runViaRouter(router.url, records, client.ring);
        const verify = await verifyRecords(client, records);
        if (args.json) {
          console.log(JSON.stringify({ router: viaRouter, verify }, null, 2));
        } else {
          console.log(`through the router: POST each record to ${router.url}, then GET it back; the router says which instance answered\n`);
          console.log(renderViaRouter(viaRouter));
          console.log(`\nclient verify: every node's listing against the ring\n`);
          console.log(renderVerify(verify));
        }
        if (!viaRouter.ok)
          throw new JobFailed(`${count(viaRouter.rows.filter((r) => !r.ok).length)} of ${plural(viaRouter.rows.length, "id")} failed through the router`);
        if (!verify.ok) throw new JobFailed(summarizeVerifyFailures(verify));
        return;
      }
      const run = await runRecords(client, records);
      const verify = await verifyRecords(client, records);
      if (args.json) {
        console.log(JSON.stringify({ run, verify }, null, 2));
      } else {
        console.log(`client run: POST each record to its owner, then GET it back\n`);
        console.log(renderRun(run));
        console.log(`\nclient verify: every node's listing against the ring\n`);
        console.log(renderVerify(verify));
      }
      if (!run.ok) throw new JobFailed(summarizeRunFailures(run));
      if (!verify.ok) throw new JobFailed(summarizeVerifyFailures(verify));
    } catch (e) {
      // What went wrong comes first, before the lines about stopping.
      if (!(e instanceof JobFailed)) throw e;
      console.error(`shardctl demo: ${e.message}`);
      failure = new JobFailed(e.message, { reported: true });
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await router?.stop();
      await Promise.allSettled(instances.map((s) => s.stop()));
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      say(`\nstopped ${router ? "the router and " : ""}${plural(instances.length, "instance")}${dataDir ? " and removed their temp data" : ""}`);
    }
    if (failure) throw failure;
  },
});
