/**
 * `client run` and `client verify` against misbehaving nodes: two real instances and a
 * third node played by a local server that hangs, or streams an endless body; and a
 * real instance that restarts mid-run.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { recordsForIds } from "../../src/client/input.ts";
import { runRecords } from "../../src/client/run.ts";
import { ShardedExpenseClient } from "../../src/client/sharded-client.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { useCluster } from "../support/cluster.ts";
import { endlessBodies, hangingOnRequests, hungListener, type FakeNode } from "./fake-nodes.ts";

const NAMES = ["1", "2", "3"];
const ownerOf = refOwnerOf(NAMES.map((name) => ({ name })));
const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

/** Node "3" as a server of the test's own making; stopped after each test. */
let fakes: FakeNode[] = [];
afterEach(() => {
  for (const f of fakes) f.stop();
  fakes = [];
});
function fake<F extends FakeNode>(node: F): F {
  fakes.push(node);
  return node;
}

describe("client run with a misbehaving node among three", () => {
  const cluster = useCluster({ nodes: ["1", "2"] });
  const nodesWith = (url3: string) => [...cluster().nodes, { name: "3", url: url3 }];

  test("a node that hangs on requests: the run ends in seconds, its ids fail naming it, the others succeed", async () => {
    const client = new ShardedExpenseClient({ nodes: nodesWith(fake(hangingOnRequests("3")).url) }); // default timeout 5 s, 5 retries
    const wanted = ids(1, 120);
    const started = performance.now();
    const report = await runRecords(client, recordsForIds(wanted), { concurrency: 8 });
    const seconds = (performance.now() - started) / 1000;
    // Without the circuit: 5 s per attempt, 6 attempts, 8 at a time over node 3's ids, about 2.5 minutes.
    expect(seconds).toBeLessThan(12);
    const on3 = wanted.filter((id) => ownerOf(id) === "3");
    expect(on3.length).toBeGreaterThan(20);
    const failed = report.rows.filter((r) => !r.ok);
    expect(failed.map((r) => r.id)).toEqual(on3);
    for (const r of failed) {
      expect(r.post.outcome).toBe("timeout");
      expect(r.post.message).toMatch(
        /^node 3 \(http:\/\/127\.0\.0\.1:\d+\): (not sent: node down|gave up: node down|gave up after \d+ attempts?: node down): timeout: no answer within 5000 ms, failing for [\d.]+ s, \d+ attempts$/,
      );
    }
    // Most were never sent at all.
    expect(failed.filter((r) => r.post.unsent).length).toBeGreaterThanOrEqual(on3.length - 8);
    expect(report.rows.filter((r) => r.node !== "3").every((r) => r.ok)).toBe(true);
    expect(report.nodes.find((n) => n.node === "3")!.circuit).toMatchObject({ state: "open", unsent: expect.any(Number) });
    expect(report.nodes.find((n) => n.node === "1")!.circuit).toMatchObject({ state: "closed", failures: 0 });
  }, 30_000);

  test("a node that accepts connections and answers nothing fails its ids at once after the pre-flight check's grace", async () => {
    const client = new ShardedExpenseClient({ nodes: nodesWith(fake(hungListener()).url) });
    const started = performance.now();
    const report = await runRecords(client, recordsForIds(ids(1, 60)));
    // the check asks again for its grace (the client's timeout, 5 s), each probe waiting 2 s at most
    expect(performance.now() - started).toBeLessThan(5000 + 2000 + 2000);
    expect(report.preflight.down).toEqual([{ node: "3", url: expect.stringMatching(/^http:/), kind: "timeout", reason: "timeout: no answer within 2000 ms" }]);
    const failed = report.rows.filter((r) => !r.ok);
    expect(failed.map((r) => r.id)).toEqual(ids(1, 60).filter((id) => ownerOf(id) === "3"));
    for (const r of failed) {
      expect(r.post).toMatchObject({ ok: false, outcome: "timeout", unsent: true });
      expect(r.post.message).toEndWith("not sent: node down: timeout: no answer within 2000 ms, found by the pre-flight check");
    }
  }, 30_000);

  test("a node whose answers never end: its ids fail fast with the limit in the message", async () => {
    const endless = fake(endlessBodies("3"));
    const client = new ShardedExpenseClient({ nodes: nodesWith(endless.url) });
    const started = performance.now();
    const report = await runRecords(client, recordsForIds(ids(1, 60)));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(report.preflight.down).toMatchObject([{ node: "3", kind: "invalid-response" }]);
    const failed = report.rows.filter((r) => !r.ok);
    expect(failed.map((r) => r.id)).toEqual(ids(1, 60).filter((id) => ownerOf(id) === "3"));
    expect(failed[0]!.post.message).toContain("HTTP 200 with an answer over 1 MiB");
    expect(endless.streamed()).toBeLessThan(64 << 20);
  }, 30_000);
});

describe("client run while an instance restarts", () => {
  const cluster = useCluster({ nodes: NAMES });

  test("an instance down for 2 s mid-run: its ids are retried and all succeed", async () => {
    const client = new ShardedExpenseClient({ nodes: cluster().nodeList });
    let restarted: Promise<void> | undefined;
    let downFor = 0;
    const report = await runRecords(client, recordsForIds(ids(1, 300)), {
      concurrency: 4,
      onProgress: ({ done }) => {
        if (done !== 20) return;
        restarted = (async () => {
          await cluster().stopNode("1");
          const down = performance.now();
          await Bun.sleep(2000);
          await cluster().startNode("1");
          downFor = performance.now() - down;
        })();
      },
    });
    await restarted;
    expect(downFor).toBeGreaterThanOrEqual(2000);
    expect(report.failed).toBe(0);
    expect(report.ok).toBe(true);
    const node1 = report.nodes.find((n) => n.node === "1")!;
    expect(node1.ids).toBe(ids(1, 300).filter((id) => ownerOf(id) === "1").length);
    // The restart was met, and outlasted: node 1's requests were retried, its circuit never opened.
    expect(node1.circuit!.retries).toBeGreaterThan(0);
    expect(node1.circuit).toMatchObject({ state: "closed", unsent: 0 });
    expect(node1.circuit!.openedBecause).toBeUndefined();
  }, 30_000);
});

describe("the commands against a node whose answers never end", () => {
  const cluster = useCluster({ nodes: ["1", "2"] });

  /**
   * Runs the CLI in a process of its own, so that its memory can be measured: its own peak
   * (VmHWM of /proc, read while it runs). Its rusage maxRSS is not that on Linux: a process
   * started by posix_spawn keeps the high-water mark of the memory it was spawned from, here
   * this test process's, however large the tests before made it (450-520 MiB in full runs).
   */
  async function shardctl(...argv: string[]) {
    const started = performance.now();
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/cli.ts"), ...argv], { stdout: "pipe", stderr: "pipe" });
    let peakKiB: number | undefined;
    const watch = setInterval(() => {
      try {
        const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${proc.pid}/status`, "utf8"));
        if (hwm) peakKiB = Math.max(peakKiB ?? 0, Number(hwm[1]));
      } catch {}
    }, 5);
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearInterval(watch);
    const maxRssMiB = peakKiB === undefined ? proc.resourceUsage()!.maxRSS / (1 << 20) : peakKiB / 1024;
    return { code, stdout, stderr, seconds: (performance.now() - started) / 1000, maxRssMiB };
  }

  test("client run and client verify fail fast naming the node, in bounded memory", async () => {
    const endless = fake(endlessBodies("3"));
    const nodes = `${cluster().nodeList},3=127.0.0.1:${endless.port}`;
    for (const command of ["run", "verify"]) {
      const r = await shardctl("client", command, "--nodes", nodes, "--ids", "1..200");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`node 3 \\(${endless.url.replaceAll(".", "\\.")}\\).*HTTP 200 with an answer over \\d+ MiB`));
      expect(r.seconds).toBeLessThan(10);
      // Reading the whole body drove run to 2.4 GB and verify to 4.2 GB.
      expect(r.maxRssMiB).toBeLessThan(400);
    }
    expect(endless.streamed()).toBeLessThan(256 << 20);
  }, 60_000);

  test("a node that passes the pre-flight check and then streams its listing without end: verify stops at 16 MiB", async () => {
    const endless = fake(endlessBodies("3", { readyOk: true }));
    const r = await shardctl("client", "verify", "--nodes", `${cluster().nodeList},3=127.0.0.1:${endless.port}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `node 3 (${endless.url}): listing failed: HTTP 200 with an answer over 16 MiB (an instance's answers are far smaller); stopped reading it (verify is incomplete)`,
    );
    expect(r.maxRssMiB).toBeLessThan(400);
    expect(endless.streamed()).toBeLessThan(64 << 20);
  }, 60_000);
});
