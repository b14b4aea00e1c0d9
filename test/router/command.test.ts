/** `shardctl router`: usage errors in-process; the real command as a process, its log, and SIGTERM. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { runCli } from "../support/cli.ts";
import { waitFor } from "../support/net.ts";
import { heldNode } from "./support.ts";

const CLI = join(import.meta.dir, "../../src/cli.ts");

describe("usage", () => {
  test.each([
    [["router", "--port", "70000"], "--port must be from 0 to 65535, got 70000"],
    [["router", "--timeout", "0"], "--timeout must be from 1 to 120000, got 0"],
    [["router", "--nodes", "a=127.0.0.1:1,a=127.0.0.1:2"], 'duplicate node name "a"'],
    [["router", "--vnodes", "x"], "--vnodes must be an integer"],
    [["router", "5000"], 'unexpected argument "5000"'],
  ])("%p exits 2", async (argv, message) => {
    const r = await runCli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  test("a port that is taken exits 1 saying so", async () => {
    const taken = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    try {
      const r = await runCli("router", "--port", String(taken.port));
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${taken.port}: the address is in use`);
    } finally {
      taken.stop(true);
    }
  });

  test("--help describes it", async () => {
    const r = await runCli("router", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--timeout");
    expect(r.stdout).toContain("--ring");
  });
});

/** Starts `shardctl router --port 0 ...` as a process: its URL (from stderr) and what it has printed on stderr so far. */
async function spawnRouter(args: string[]) {
  const { SHARDCTL_RING: _, SHARDCTL_NODES: __, ...env } = process.env;
  const proc = Bun.spawn([process.execPath, CLI, "router", "--port", "0", ...args], { stdout: "pipe", stderr: "pipe", env });
  let err = "";
  const reading = (async () => {
    for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk);
  })();
  const url = await waitFor(() => /listening on (http:\/\/\S+?);/.exec(err)?.[1] ?? (proc.exitCode !== null ? "exited" : undefined), { timeoutMs: 20_000 });
  if (url === "exited") throw new Error(`router exited: ${err}`);
  return { proc, url, stderr: () => err, finished: reading };
}

describe("the command as a process", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: ["a", "b", "c"] });
  });
  afterAll(() => cluster?.stop());

  test("routes to the --nodes it is given, logs a line per request, and stops on SIGTERM with exit 0", async () => {
    const ownerOf = refOwnerOf([{ name: "a" }, { name: "b" }, { name: "c" }]);
    const router = await spawnRouter(["--nodes", cluster.nodeList]);
    try {
      expect(router.stderr()).toContain("from --nodes, 160 vnodes");
      const r = await fetch(`${router.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("8801")), headers: { "x-request-id": "cmd-1" } });
      expect([r.status, r.headers.get("x-shard-node")]).toEqual([201, ownerOf("8801")]);
      router.proc.kill("SIGTERM");
      expect(await router.proc.exited).toBe(0);
      const out = await new Response(router.proc.stdout).text();
      expect(out).toMatch(new RegExp(`^\\S+Z router POST /v1/expenses 201 \\d+\\.\\dms -> ${ownerOf("8801")} req=cmd-1\\n$`));
      await router.finished;
      const err = router.stderr();
      expect(err).toContain("SIGTERM: finishing requests in flight");
      expect(err).toContain("shardctl router: stopped");
    } finally {
      router.proc.kill("SIGKILL");
    }
  });

  test("--nodes naming the instances otherwise: the router does not start (exit 1), and prints the --nodes that matches", async () => {
    // the addresses of a, b and c under other names: every request would be answered 502 wrong_node
    const misnamed = cluster.nodes.map((n, i) => `n${i}=${n.url.slice("http://".length)}`).join(",");
    const { SHARDCTL_RING: _, SHARDCTL_NODES: __, ...env } = process.env;
    const proc = Bun.spawn([process.execPath, CLI, "router", "--port", "0", "--nodes", misnamed], { stdout: "pipe", stderr: "pipe", env });
    try {
      const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => "still running")]);
      const stderr = await new Response(proc.stderr).text();
      expect(code).toBe(1);
      expect(stderr).toBe(
        [
          "shardctl router: the node names do not match the instances' (X-Shard-Node); the router does not start",
          ...cluster.nodes.map((n, i) => `  ${n.url} answers as node "${n.name}", but the node list calls it "n${i}"`),
          "Names decide placement. To use the names the instances go by, run with:",
          `  --nodes ${cluster.nodeList}`,
          "or start each instance with --name set to its name in the node list.",
          "",
        ].join("\n"),
      );
    } finally {
      proc.kill("SIGKILL");
    }
  }, 30_000);

  test("SIGTERM while a request waits on its owner: the request still gets its answer", async () => {
    const node = heldNode("n");
    const router = await spawnRouter(["--nodes", `n=${node.url.slice("http://".length)}`]);
    try {
      const pending = fetch(`${router.url}/v1/expenses/1`);
      await waitFor(() => (node.seen.some((r) => r.path === "/v1/expenses/1") ? true : undefined));
      router.proc.kill("SIGTERM");
      await waitFor(() => (router.stderr().includes("SIGTERM: finishing requests in flight") ? true : undefined));
      node.release();
      const r = await pending;
      expect([r.status, r.headers.get("x-shard-node")]).toEqual([200, "n"]);
      expect(await router.proc.exited).toBe(0);
    } finally {
      node.release();
      router.proc.kill("SIGKILL");
      node.stop();
    }
  });
});
