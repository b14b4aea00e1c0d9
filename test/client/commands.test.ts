/** The client commands and demo, in-process through the CLI runner (exit statuses, output). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli as cli } from "../support/cli.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { useCluster } from "../support/cluster.ts";
import { hangingOnRequests } from "./fake-nodes.ts";
import { freePort } from "../support/net.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "shardctl-cmd-test-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("usage errors exit 2 and say what was wrong", () => {
  test.each([
    [["client", "run", "--concurrency", "0"], "--concurrency must be from 1 to 1024, got 0"],
    [["client", "run", "--timeout", "soon"], '--timeout must be an integer from 1 to 600000, got "soon"'],
    // the service answers at most 1000 records a page; a larger page size would fail every listing
    [["client", "verify", "--page-size", "1001"], "--page-size must be from 1 to 1000, got 1001"],
    // a word citty would ignore: verify would check the default ids 1..10 and pass
    [["client", "verify", "5..7"], 'unexpected argument "5..7"; ids go in --ids (e.g. --ids 5..7)'],
    [["client", "run", "--ids", "1..3", "--data", "x.json"], "give --ids (seed records) or --data FILE (your records), not both"],
    [["client", "verify", "--data", "/nonexistent.json"], "shardctl client verify: --data: /nonexistent.json: no such file\n"],
    [["client", "run", "--data", tmpdir()], `--data: ${tmpdir()}: is a directory, not a file`],
    // a negative value is judged by its option, not taken for an unknown option "-1"
    [["client", "run", "--retries", "-1"], "--retries must be from 0 to 20, got -1"],
    [["client", "ring", "--nodes", "a=127.0.0.1:1,a=127.0.0.1:2"], 'duplicate node name "a"'],
    [["demo", "--db", "sqlite:/tmp/x.sqlite"], "--db gives 1 URL(s) for 3 instances"],
    [["demo", "--db", "foo:,sqlite::memory:,sqlite::memory:"], 'shardctl demo: --db "foo:" is not a known database URL'],
  ])("%p", async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe("client ring", () => {
  test("--json maps ids to node names and urls without HTTP (the seed table with one point per node)", async () => {
    const r = await cli("client", "ring", "--nodes", "1=127.0.0.1:5001,2=127.0.0.1:5002,3=127.0.0.1:5003", "--vnodes", "1", "--ids", "1..4", "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { id: "1", node: "2", url: "http://127.0.0.1:5002" },
      { id: "2", node: "3", url: "http://127.0.0.1:5003" },
      { id: "3", node: "1", url: "http://127.0.0.1:5001" },
      { id: "4", node: "1", url: "http://127.0.0.1:5001" },
    ]);
  });
});

describe("client run and verify", () => {
  const cluster = useCluster({ nodes: ["1", "2", "3"] });
  const ownerOf = refOwnerOf([{ name: "1" }, { name: "2" }, { name: "3" }]);

  test("run prints the id -> node -> POST/GET table and per-node counts; verify is clean", async () => {
    const run = await cli("client", "run", "--nodes", cluster().nodeList, "--ids", "1..10");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^id\s+node\s+POST\s+GET$/);
    expect(lines.filter((l) => /^ *\d+\s+\d\s+201 created\s+200 match$/.test(l))).toHaveLength(10);
    expect(run.stdout).toMatch(/^node\s+url\s+ids\s+created\s+exists\s+failed$/m);
    expect(run.stdout).toMatch(/^10 ids: created 10, already stored 0, failed 0, in [\d.]+ s$/m);

    const again = await cli("client", "run", "--nodes", cluster().nodeList, "--ids", "1..10,11");
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^11 ids: created 1, already stored 10, failed 0, in [\d.]+ s$/m);

    const verify = await cli("client", "verify", "--nodes", cluster().nodeList, "--json");
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, checked: 10, good: 10 });

    const largest = await cli("client", "verify", "--nodes", cluster().nodeList, "--page-size", "1000", "--json");
    expect([largest.code, largest.stderr]).toEqual([0, ""]);
    expect(JSON.parse(largest.stdout)).toMatchObject({ ok: true, good: 10, errors: [] });
  });

  test("--data NDJSON sends the user's records; a conflicting re-send exits 1 naming node and field", async () => {
    const file = join(dir, "mine.ndjson");
    writeFileSync(file, [seedRecord("300"), { ...seedRecord("301"), estimated_costs: 12.5 }].map((r) => JSON.stringify(r)).join("\n"));
    const ok = await cli("client", "run", "--nodes", cluster().nodeList, "--data", file, "--json");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).rows.map((r: { id: string; ok: boolean }) => [r.id, r.ok])).toEqual([
      ["300", true],
      ["301", true],
    ]);

    writeFileSync(file, JSON.stringify([{ ...seedRecord("300"), name: "Someone else" }]));
    const bad = await cli("client", "run", "--nodes", cluster().nodeList, "--data", file);
    expect(bad.code).toBe(1);
    const owner = ownerOf("300");
    expect(bad.stderr).toBe(
      [
        "shardctl client run: 1 of 1 id failed",
        `  node ${owner} (${cluster().nodes.find((n) => n.name === owner)!.url}): 1 id`,
        '    POST 409 conflict: 1 id (300): HTTP 409: the id is stored with other content (name: expected "Someone else", got "Foo 300")',
      ].join("\n"),
    );
  });

  test("with a node down, run exits 1 and names the node and the reason for its ids", async () => {
    await cluster().stopNode("3");
    try {
      const r = await cli("client", "run", "--nodes", cluster().nodeList, "--ids", "1..10", "--retries", "0");
      expect(r.code).toBe(1);
      const onNode3 = Array.from({ length: 10 }, (_, i) => String(i + 1)).filter((id) => ownerOf(id) === "3");
      expect(r.stderr).toBe(
        [
          `shardctl client run: ${onNode3.length} of 10 ids failed`,
          `  node 3 (${cluster().nodes[2]!.url}): ${onNode3.length} ids; down: connection refused (is the instance running?), found by the pre-flight check`,
          `    POST not sent (node 3 down): ${onNode3.length} ids (${onNode3.join(", ")})`,
        ].join("\n"),
      );
      // nothing was sent, so no status and no "refused": the row says so, and why its node's circuit opened
      expect(r.stdout).toMatch(/^ *\d+\s+3\s+not sent \(node 3 down\)\s+skipped\s+connection refused \(is the[^…]*…$/m);
    } finally {
      await cluster().startNode("3");
    }
  });
});

describe("client run output that scales", () => {
  const cluster = useCluster({ nodes: ["1", "2", "3"] });
  const ownerOf = refOwnerOf([{ name: "1" }, { name: "2" }, { name: "3" }]);

  test("1,500 ids with a node down: the first 100 failed rows, per-node counts, a summary of a few lines; every line fits 80 columns", async () => {
    await cluster().stopNode("2");
    try {
      const r = await cli("client", "run", "--nodes", cluster().nodeList, "--ids", "1..1500");
      expect(r.code).toBe(1);
      const onNode2 = Array.from({ length: 1500 }, (_, i) => String(i + 1)).filter((id) => ownerOf(id) === "2");
      const out = r.stdout.split("\n");
      const failedRows = out.filter((l) => /^ *\d+\s+2\s+not sent \(node 2 down\)\s+skipped\s+connection refused /.test(l));
      expect(failedRows).toHaveLength(100);
      expect(out).toContain(`(${(onNode2.length - 100).toLocaleString("en-US")} more failed rows; --json lists all)`);
      expect(out).toContain(`(${(1500 - onNode2.length).toLocaleString("en-US")} ok rows not shown; --table shows all)`);
      // 2 + 100 rows, the two notes, the node table (2 + 3), the summary, and blank lines between
      expect(out).toHaveLength(102 + 2 + 5 + 1 + 3);
      expect(out.at(-1)).toMatch(
        new RegExp(`^1,500 ids: created ${(1500 - onNode2.length).toLocaleString("en-US")}, already stored 0, failed ${onNode2.length}, in [\\d.]+ s$`),
      );
      for (const line of out) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(80);
      // stderr: the count, the node, one line for its one cause
      expect(r.stderr.split("\n")).toHaveLength(3);
      expect(r.stderr).toStartWith(`shardctl client run: ${onNode2.length} of 1,500 ids failed\n  node 2 (`);

      const wide = await cli("client", "run", "--nodes", cluster().nodeList, "--ids", "1..1500", "--wide");
      const widest = Math.max(...wide.stdout.split("\n").map((l) => Bun.stringWidth(l)));
      expect(widest).toBeGreaterThan(80);
      expect(wide.stdout).toMatch(/not sent \(node 2 down\)\s+skipped\s+connection refused \(is the instance running\?\), found by the pre-flight check$/m);
    } finally {
      await cluster().startNode("2");
    }
  }, 60_000);

  test("a 422 shows every field error the instance listed", async () => {
    const file = join(dir, "bad-fields.json");
    writeFileSync(file, JSON.stringify([{ ...seedRecord("7"), email: "not-an-address", submit_date: "31-02-2016", link: "ftp://x" }]));
    const r = await cli("client", "run", "--nodes", cluster().nodeList, "--data", file, "--wide");
    expect(r.code).toBe(1);
    for (const field of ["email", "submit_date", "link"]) expect(r.stderr).toContain(`${field}: `);
    expect(r.stderr).toMatch(/POST 422 http: 1 id \(7\): HTTP 422: email: [^;]+; link: [^;]+; submit_date: /);
  });

  test("instances whose names are not the node list's: one pre-flight error with the --nodes that matches, nothing sent", async () => {
    // The instances go by 1, 2, 3; the client names each address by itself (the default).
    const byAddress = cluster()
      .nodes.map((n) => n.url.slice("http://".length))
      .join(",");
    const r = await cli("client", "run", "--nodes", byAddress, "--ids", "1..10");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const matching = cluster()
      .nodes.map((n) => `${n.name}=${n.url.slice("http://".length)}`)
      .join(",");
    expect(r.stderr).toBe(
      [
        "shardctl client run: the node names do not match the instances' (X-Shard-Node); nothing was sent",
        ...cluster().nodes.map((n) => `  ${n.url} answers as node "${n.name}", but the node list calls it "${n.url.slice("http://".length)}"`),
        "Names decide placement. To use the names the instances go by, run with:",
        `  --nodes ${matching}`,
        "or start each instance with --name set to its name in the node list.",
      ].join("\n"),
    );
    for (const n of cluster().nodes) expect(await (await fetch(`${n.url}/v1/expenses`)).json()).toEqual({ items: [], next: null });
    const verify = await cli("client", "verify", "--nodes", byAddress);
    expect([verify.code, verify.stdout]).toEqual([1, ""]);
    expect(verify.stderr).toContain(`  --nodes ${matching}\n`);
    // The value it printed works.
    expect((await cli("client", "run", "--nodes", matching, "--ids", "1..10")).code).toBe(0);
  });

  test("Ctrl-C prints the partial summary and exits 130", async () => {
    // Node 3 answers its check and then hangs, so the run is surely in progress when interrupted.
    const hanging = hangingOnRequests("3");
    try {
      const nodes = `${cluster()
        .nodes.slice(0, 2)
        .map((n) => `${n.name}=${n.url.slice("http://".length)}`)
        .join(",")},3=127.0.0.1:${hanging.port}`;
      const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/cli.ts"), "client", "run", "--nodes", nodes, "--ids", "1..400"], {
        stdout: "pipe",
        stderr: "pipe",
      });
      while (hanging.requests() < 8) await Bun.sleep(10); // every worker is stuck on node 3
      const interrupted = performance.now();
      proc.kill("SIGINT");
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect(code).toBe(130);
      expect(performance.now() - interrupted).toBeLessThan(3000); // not the 5 s timeout of the requests in flight
      expect(stdout).toMatch(
        /^interrupted after [\d.]+ s: [\d,]+ of 400 ids finished: created [\d,]+, already stored 0, failed 0; [\d,]+ not finished \(a re-run completes them\)$/m,
      );
      // the summary once, on stdout; stderr says where it is and what is left to do
      expect(stderr).toStartWith("shardctl client run: interrupted (the summary above says what was done; a re-run completes the rest)\n");
      expect(stderr).not.toContain("interrupted after");
    } finally {
      hanging.stop();
    }
  }, 30_000);
});

describe("demo", () => {
  test("starts three instances, runs and verifies the seed data, stops them", async () => {
    const r = await cli("demo", "--vnodes", "1");
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^started node [123] at http:\/\/127\.0\.0\.1:\d+ on sqlite:/gm)).toHaveLength(3);
    // ring-aware, under the ring of nodes 1, 2, 3 with one point each (fingerprint from test/ring/ring.test.ts's Python vector)
    expect(r.stdout).toContain("ring 0:213422739a09c16e: every instance answers 421 for the ids it does not own");
    // names 1, 2, 3 with one point each: the seed README's table and its 5/1/4 split
    expect(r.stdout).toMatch(/^ *1\s+2\s+201 created\s+200 match$/m);
    expect(r.stdout).toMatch(/^3\s+http\S+\s+4\s+4\s+0\s+0$/m);
    expect(r.stdout).toContain("10 of 10 ids on their owner with the expected content; 0 missing, 0 mismatched, 0 misplaced, 0 extra");
    expect(r.stdout).toContain("stopped 3 instances and removed their temp data");
    const dirs = /on sqlite:(\S+)\/node-1\.sqlite/.exec(r.stdout)![1]!;
    expect(await Bun.file(join(dirs, "node-1.sqlite")).exists()).toBe(false);
  });

  test("a real cluster's SHARDCTL_NODES and SHARDCTL_RING do not apply to the demo's own cluster; SHARDCTL_VNODES does", async () => {
    const ringFile = join(dir, "ring-vnodes-7.json");
    writeFileSync(ringFile, JSON.stringify({ vnodes: 7, nodes: ["a=127.0.0.1:1"] }));
    const saved = { ...process.env };
    Object.assign(process.env, { SHARDCTL_NODES: "not a node list", SHARDCTL_RING: ringFile, SHARDCTL_VNODES: "1" });
    try {
      const r = await cli("demo", "--json");
      expect(r.code).toBe(0);
      // one point per node (SHARDCTL_VNODES=1, not the ring file's 7): the seed README's table
      expect(JSON.parse(r.stdout).run.rows.map((x: { node: string }) => x.node)).toEqual(["2", "3", "1", "1", "3", "1", "1", "3", "1", "3"]);
    } finally {
      for (const k of ["SHARDCTL_NODES", "SHARDCTL_RING", "SHARDCTL_VNODES"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  test("an instance that cannot start fails the demo (1) naming the node, where and why, without a stack", async () => {
    const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const taken = `127.0.0.1:${busy.port}`;
      const r = await cli("demo", "--nodes", `a=${taken},b=127.0.0.1:1,c=127.0.0.1:2`);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`shardctl demo: cannot start node a on ${taken}: the address is in use`);
      // The error first, then the stopping.
      expect(r.interleaved).toBe(
        [`err: shardctl demo: cannot start node a on ${taken}: the address is in use`, "out: ", "out: stopped 0 instances and removed their temp data"].join(
          "\n",
        ),
      );
    } finally {
      busy.stop(true);
    }
  });

  test("--ring starts the ring file's nodes at their addresses and uses its vnodes", async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const ringFile = join(dir, "demo-ring.json");
    writeFileSync(ringFile, JSON.stringify({ vnodes: 1, nodes: ["x", "y", "z"].map((name, i) => `${name}=127.0.0.1:${ports[i]}`) }));
    const r = await cli("demo", "--ring", ringFile, "--json");
    expect(r.code).toBe(0);
    for (const [i, name] of ["x", "y", "z"].entries()) expect(r.stderr).toContain(`started node ${name} at http://127.0.0.1:${ports[i]} on sqlite:`);
    const owner = refOwnerOf([{ name: "x" }, { name: "y" }, { name: "z" }], 1);
    const rows = JSON.parse(r.stdout).run.rows as { id: string; node: string }[];
    expect(rows.map((row) => row.node)).toEqual(rows.map((row) => owner(row.id)));
  });

  test("SIGTERM part-way stops the demo with 143 and removes its temp data", async () => {
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/cli.ts"), "demo", "--ids", "1..100000"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = proc.stdout.getReader();
    let text = "";
    while (!/^started node 3 .*$/m.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const dataDir = /on sqlite:(\S+)\/node-1\.sqlite/.exec(text)![1]!;
    expect(await Bun.file(join(dataDir, "node-1.sqlite")).exists()).toBe(true);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(143);
    expect(await new Response(proc.stderr).text()).toContain("shardctl demo: SIGTERM: stopped; removed the temp data");
    expect(await Bun.file(join(dataDir, "node-1.sqlite")).exists()).toBe(false);
  }, 30_000);

  test("--json prints the run and verify reports", async () => {
    const r = await cli("demo", "--json", "--ids", "1..20");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.run.rows).toHaveLength(20);
    expect(out.verify).toMatchObject({ ok: true, good: 20 });
  });
});
