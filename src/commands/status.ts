/**
 * `shardctl status`: every node of the ring in force at a glance (src/client/status.ts);
 * `--watch` redraws it in place; `--web PORT` serves the cluster page
 * (src/cli-output/cluster-page.ts) until Ctrl-C.
 */
import { defineCommand } from "citty";
import { renderClusterPage, STATUS_PATH } from "../cli-output/cluster-page.ts";
import { renderStatus, summarizeStatus } from "../cli-output/status-report.ts";
import { tableWidth } from "../cli-output/table.ts";
import { clusterStatus, type ClusterStatus } from "../client/status.ts";
import { errorMessage, JobFailed, UsageError } from "../errors.ts";
import { ringInForce } from "./_ring.ts";
import type { Ring } from "../ring/ring.ts";
import { hostPort, hostProblem, LISTENER } from "../http/listen.ts";
import { jsonArg, ringArgs, wideArg } from "./_args.ts";
import { intOption, parseIds } from "./_parse.ts";

/**
 * Resolves on the first Ctrl-C or SIGTERM, or (`output`) when standard output's reader is
 * gone (`status --watch | head`: EPIPE), so that a watch does not go on checking the nodes
 * for nobody; `off()` stops listening.
 */
function stopSignal(output = false): { stopped: Promise<NodeJS.Signals | "EPIPE">; off(): void } {
  let resolve!: (s: NodeJS.Signals | "EPIPE") => void;
  const stopped = new Promise<NodeJS.Signals | "EPIPE">((r) => (resolve = r));
  const onInt = () => resolve("SIGINT");
  const onTerm = () => resolve("SIGTERM");
  const onOutputError = (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") resolve("EPIPE");
  };
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);
  if (output) process.stdout.on("error", onOutputError);
  return {
    stopped,
    off() {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      process.stdout.off("error", onOutputError);
    },
  };
}

/** Redraws on a terminal (cursor home, clear below); one report after another otherwise. */
async function watch(ring: Ring, intervalMs: number, show: (s: ClusterStatus) => string, json: boolean): Promise<void> {
  const tty = process.stdout.isTTY && !json;
  const signal = stopSignal(true);
  let stop = false;
  void signal.stopped.then(() => (stop = true));
  if (tty) process.stdout.write("\x1b[2J\x1b[?25l"); // a clear screen, and no cursor while redrawing
  try {
    while (!stop) {
      const status = await clusterStatus(ring, { timeoutMs: Math.min(2000, intervalMs) });
      if (stop) break;
      const text = json ? JSON.stringify(status) : `${show(status)}\n(every ${intervalMs / 1000} s; Ctrl-C to stop)`;
      if (tty) process.stdout.write(`\x1b[H${text.replaceAll("\n", "\x1b[K\n")}\x1b[K\n\x1b[J`);
      else process.stdout.write(json ? `${text}\n` : `${text}\n\n`); // not console.log: a closed pipe must reach stopSignal as EPIPE
      await Promise.race([Bun.sleep(intervalMs), signal.stopped]);
    }
  } finally {
    signal.off();
    if (tty) process.stdout.write("\x1b[?25h");
  }
}

/** The cluster page and its status.json, until Ctrl-C. */
async function serveWeb(ring: Ring, host: string, port: number, intervalMs: number, sampleIds: readonly string[]): Promise<void> {
  const page = renderClusterPage(ring, { refreshMs: intervalMs, sampleIds });
  // One check at a time, shared by every page open; a fresh one when the last is older than the interval.
  // A check still running is shared too (a node down takes the whole timeout), never a second one beside it.
  let last: { at: number; status: Promise<ClusterStatus>; running: boolean } | undefined;
  const current = () => {
    if (!last || (!last.running && performance.now() - last.at >= intervalMs / 2)) {
      const check = { at: performance.now(), status: clusterStatus(ring), running: true };
      const done = () => {
        check.running = false;
      };
      check.status.then(done, done);
      last = check;
    }
    return last.status;
  };
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      ...LISTENER,
      hostname: host,
      port,
      async fetch(request) {
        const path = new URL(request.url).pathname;
        if (request.method !== "GET" && request.method !== "HEAD") return new Response("only GET\n", { status: 405, headers: { allow: "GET, HEAD" } });
        if (path === "/") return new Response(page, { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
        if (path === `/${STATUS_PATH}`) return Response.json(await current(), { headers: { "cache-control": "no-store" } });
        return new Response("not found: the cluster page is at /\n", { status: 404 });
      },
      error: (e) => new Response(`internal error: ${e.message}\n`, { status: 500 }),
    });
  } catch (e) {
    const inUse = e instanceof Error && "code" in e && e.code === "EADDRINUSE";
    throw new JobFailed(`cannot listen on ${hostPort(host, port)}: ${inUse ? "the address is in use" : errorMessage(e)}`);
  }
  const signal = stopSignal();
  console.error(`shardctl status: the cluster page of ring ${ring.label} is at http://${hostPort(host, server.port!)}/ (Ctrl-C to stop)`);
  const got = await signal.stopped;
  signal.off();
  console.error(`shardctl status: ${got}: stopped`);
  await server.stop(true);
}

export default defineCommand({
  meta: {
    name: "status",
    description:
      "Every node of the ring at a glance (--watch; --web for a page)\n\n" +
      "Per node: its state (ready; not ready: it answers but its database does not serve; down: no answer), the ring it " +
      "holds, records, version, database, time of the check, a rebalance's progress. Exit 1 when a node is down, not ready " +
      "or on another ring (named). --watch redraws it; --web PORT serves it as a page that refreshes itself.",
  },
  args: {
    ...ringArgs,
    watch: { type: "boolean", description: "Check again every --interval and redraw, until Ctrl-C" },
    interval: { type: "string", valueHint: "S", description: "Seconds between checks for --watch and --web (default: 2)" },
    web: { type: "string", valueHint: "PORT", description: "Serve the cluster page on PORT (0 picks one) until Ctrl-C" },
    host: { type: "string", valueHint: "HOST", description: "Address of the page with --web (default: 127.0.0.1)" },
    ...wideArg,
    ...jsonArg,
  },
  async run({ args }) {
    const { ring } = ringInForce(args);
    const intervalS = intOption(args.interval, "interval", { min: 1, max: 3600 }) ?? 2;
    const intervalMs = intervalS * 1000;
    const show = (s: ClusterStatus) => renderStatus(s, { maxWidth: tableWidth(args.wide) });
    if (args.web !== undefined) {
      if (args.watch || args.json) throw new UsageError("--web serves the page; give it without --watch and --json");
      const port = intOption(args.web, "web", { min: 0, max: 65535 })!;
      const host = args.host ?? "127.0.0.1";
      const problem = hostProblem(host);
      if (problem) throw new UsageError(`--host "${host}" ${problem}`);
      return serveWeb(ring, host, port, intervalMs, parseIds("1..10"));
    }
    if (args.host !== undefined) throw new UsageError("--host goes with --web (the address of the page)");
    if (args.watch) return watch(ring, intervalMs, show, !!args.json);
    if (args.interval !== undefined) throw new UsageError("--interval goes with --watch or --web");
    const status = await clusterStatus(ring);
    console.log(args.json ? JSON.stringify(status, null, 2) : show(status));
    if (!status.ok) throw new JobFailed(summarizeStatus(status));
  },
});
