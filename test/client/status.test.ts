/**
 * `shardctl status` against real ring-aware instances (SQLite, in this process): a row per
 * node with its records (expected counts from the reference ring), exit 0 when all is
 * well; a node down, or one on another ring, is exit 1 naming it; --watch keeps reporting
 * until Ctrl-C and exits 0.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { Ring } from "../../src/ring/ring.ts";
import { VERSION } from "../../src/version.ts";
import { runCli } from "../support/cli.ts";
import { waitFor } from "../support/net.ts";
import { clustersPerTest, localNodes, referenceOwner, ringOf } from "../support/cluster.ts";
import { call } from "../support/http.ts";

const CLI = join(import.meta.dir, "../../src/cli.ts");
const startCluster = clustersPerTest();

/** Three ring-aware instances holding `ids`, each on its owner; the expected count per node, by the reference ring. */
async function cluster(ids: string[]) {
  const ring = ringOf(await localNodes(["a", "b", "c"]));
  const c = await startCluster({ ring, db: () => "sqlite::memory:" });
  const owner = referenceOwner(ring);
  const expected: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (const id of ids) {
    expect((await call(c.url(owner(id)), "POST", "/v1/expenses", seedRecord(id))).status).toBe(201);
    expected[owner(id)]!++;
  }
  return { ring, c, expected, nodes: c.nodeList };
}

const IDS = Array.from({ length: 30 }, (_, k) => String(100 + k));

describe("shardctl status", () => {
  test("one row per node: up, ready, ring, records, version, database, check time; exit 0", async () => {
    const { ring, expected, nodes } = await cluster(IDS);
    const r = await runCli("status", "--nodes", nodes, "--json");
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.ok).toBe(true);
    expect(status.ring).toBe(ring.label);
    expect(status.nodes.map((n: any) => [n.name, n.ring, n.agreement, n.problem])).toEqual(["a", "b", "c"].map((name) => [name, ring.label, "agrees", null]));
    for (const n of status.nodes) expect(typeof n.latencyMs).toBe("number");
    expect(status.nodes.map((n: any) => n.records)).toEqual([expected.a, expected.b, expected.c]);
    expect(status.nodes.map((n: any) => [n.up, n.ready, n.version, n.database])).toEqual([
      [true, true, VERSION, "sqlite"],
      [true, true, VERSION, "sqlite"],
      [true, true, VERSION, "sqlite"],
    ]);
  });

  test("the table, with the ring file the instances hold: exit 0 and the total", async () => {
    const { ring, expected } = await cluster(IDS);
    const file = join(await tmp(), "ring.json");
    await Bun.write(file, JSON.stringify(ring.toJSON()));
    const r = await runCli("status", "--ring", file);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`all 3 nodes up, ready and on ring ${ring.label}`);
    for (const name of ["a", "b", "c"]) {
      expect(r.stdout).toMatch(new RegExp(`^${name} .* ready +${ring.label} +${expected[name]} +${VERSION.replaceAll(".", "\\.")} +sqlite +\\d+$`, "m"));
    }
    expect(r.stdout).toMatch(new RegExp(`^total .* ${IDS.length}$`, "m"));
  });

  test("a node down: exit 1, naming it", async () => {
    const { ring, c } = await cluster([]);
    await c.instances.get("b")!.stop();
    const file = join(await tmp(), "ring.json");
    await Bun.write(file, JSON.stringify(ring.toJSON()));
    const r = await runCli("status", "--ring", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("1 of 3 nodes is not well");
    expect(r.stderr).toMatch(new RegExp(`node b \\(${ring.node("b")!.url}\\): down: `));
    expect(r.stderr).not.toMatch(/node [ac] \(/);
  });

  test("rings that disagree: exit 1, naming the node and both rings", async () => {
    const { ring, c } = await cluster([]);
    const newer = new Ring(ring.nodes, { vnodes: ring.vnodes, epoch: 1 });
    await c.instances.get("c")!.adoptRing(newer);
    const file = join(await tmp(), "ring.json");
    await Bun.write(file, JSON.stringify(ring.toJSON()));
    const r = await runCli("status", "--ring", file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`node c (${ring.node("c")!.url}): holds a newer ring, ${newer.label}: the ring asked about (${ring.label}) is stale`);
    expect(r.stderr).not.toMatch(/node [ab] \(/);
  });

  test("--watch reports again and again until Ctrl-C, then exits 0", async () => {
    const { nodes } = await cluster(["7"]);
    const proc = Bun.spawn([process.execPath, CLI, "status", "--nodes", nodes, "--watch", "--interval", "1", "--json"], { stdout: "pipe", stderr: "pipe" });
    let out = "";
    const reading = (async () => {
      for await (const chunk of proc.stdout as unknown as AsyncIterable<Uint8Array>) out += new TextDecoder().decode(chunk);
    })();
    await waitFor(() => (out.split("\n").filter(Boolean).length >= 2 ? true : undefined), { timeoutMs: 20_000 });
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    await reading;
    const reports = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(reports.length).toBeGreaterThanOrEqual(2);
    for (const s of reports) expect(s.nodes.map((n: any) => n.records).reduce((a: number, b: number) => a + b, 0)).toBe(1);
  }, 30_000);

  test("--watch ends when its reader goes away (status --watch | head -1), with exit 0", async () => {
    const { nodes } = await cluster(["7"]);
    // a real pipe, as a shell makes it: head reads one line and exits, closing the pipe
    const command = [process.execPath, CLI, "status", "--nodes", nodes, "--watch", "--interval", "1", "--json"].map((a) => `'${a}'`).join(" ");
    const proc = Bun.spawn(["bash", "-c", `${command} | head -1; echo "status: \${PIPESTATUS[0]}"`], { stdout: "pipe", stderr: "pipe" });
    const ended = await Promise.race([proc.exited.then(() => "ended"), Bun.sleep(20_000).then(() => "still running after 20 s")]);
    if (ended !== "ended") proc.kill("SIGKILL");
    expect(ended).toBe("ended");
    const [first, last] = (await new Response(proc.stdout).text()).trim().split("\n");
    expect(JSON.parse(first!).nodes.length).toBe(3);
    expect(last).toBe("status: 0");
  }, 30_000);

  test("what a node says is printed safely: no escape sequence or line of its own reaches the terminal, and long text is clipped", async () => {
    const evil = `\x1b[2J\x1b]0;pwned\x07line one\nnode other: fine\r${"x".repeat(500)}`;
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(request) {
        const headers = { "x-shard-node": "odd" };
        if (new URL(request.url).pathname === "/status")
          return Response.json({ ready: false, message: evil, ring: evil, version: evil, records: 1, database: "sqlite" }, { headers });
        return Response.json({ error: "not_found", message: evil }, { status: 404, headers });
      },
    });
    try {
      const r = await runCli("status", "--nodes", `odd=127.0.0.1:${server.port}`);
      expect(r.code).toBe(1);
      for (const [stream, text] of [
        ["stdout", r.stdout],
        ["stderr", r.stderr],
      ] as const) {
        // no ESC, BEL or CR from the node; each line is one of ours, none as long as what was sent
        // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the output
        expect({ stream, controls: /[\x1b\x07\r]/.test(text) }).toEqual({ stream, controls: false });
        expect({ stream, forged: text.split("\n").some((l) => l.startsWith("node other")) }).toEqual({ stream, forged: false });
        expect({ stream, longest: Math.max(...text.split("\n").map((l) => l.length)) < 500 }).toEqual({ stream, longest: true });
      }
      expect(r.stderr).toContain("node odd");
      expect(r.stderr).toContain("not ready: \ufffd[2J");
    } finally {
      server.stop(true);
    }
  });

  test("bad usage: exit 2", async () => {
    for (const args of [
      ["--interval", "1"],
      ["--host", "127.0.0.1"],
      ["--web", "70000"],
      ["--web", "0", "--json"],
    ]) {
      const r = await runCli("status", "--nodes", "a=127.0.0.1:1", ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
    }
  });
});

async function tmp(): Promise<string> {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  return mkdtempSync(join(tmpdir(), "shardctl-status-"));
}
