/**
 * The pre-flight check gives a node that is not ready at first a grace (its readiness
 * asked again with backoff, a Retry-After honoured) before its circuit opens; an open
 * circuit lets a request through again within a few seconds. Both with a node that becomes
 * ready one second late, on real instances.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { DEFAULT_PROBE_AFTER_MS } from "../../src/client/circuit.ts";
import { recordsForIds } from "../../src/client/input.ts";
import { preflight } from "../../src/client/preflight.ts";
import { runRecords } from "../../src/client/run.ts";
import { ShardedExpenseClient } from "../../src/client/sharded-client.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
const ownerOf = refOwnerOf([{ name: "a" }, { name: "b" }, { name: "c" }]);

let cluster: Cluster | undefined;
const fronts: { stop(): void }[] = [];
afterEach(async () => {
  for (const f of fronts.splice(0)) f.stop();
  await cluster?.stop();
  cluster = undefined;
});

/**
 * In front of node `name`'s instance: for the first `lateMs` every request is answered 503
 * as an instance answers while it starts (with `retryAfter`, if given), then passed on.
 */
function lateFront(name: string, instanceUrl: string, lateMs: number, retryAfter?: string) {
  const readyAt = performance.now() + lateMs;
  const seen: number[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname === "/readyz") seen.push(performance.now());
      if (performance.now() < readyAt) {
        return Response.json(
          { error: "starting", message: "the instance is starting: its database is not open yet; retry shortly" },
          { status: 503, headers: { "x-shard-node": name, ...(retryAfter && { "retry-after": retryAfter }) } },
        );
      }
      const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
      const answer = await fetch(instanceUrl + url.pathname + url.search, { method: request.method, headers: request.headers, body });
      return new Response(await answer.arrayBuffer(), { status: answer.status, headers: answer.headers });
    },
  });
  const front = { url: `http://127.0.0.1:${server.port}`, readyz: seen, stop: () => void server.stop(true) };
  fronts.push(front);
  return front;
}

describe("the pre-flight grace", () => {
  test.each([
    ["503 with Retry-After: 1, as an instance that is starting", "1"],
    ["503 without Retry-After", undefined],
  ])("a node not ready for its first second (%s) is waited for: every id is stored", async (_, retryAfter) => {
    cluster = await startCluster({ nodes: ["a", "b", "c"], db: () => "sqlite::memory:" });
    const late = lateFront("c", cluster.url("c"), 1000, retryAfter);
    const nodes = cluster.nodes.map((n) => (n.name === "c" ? { name: "c", url: late.url } : n));
    const started = performance.now();
    const report = await runRecords(new ShardedExpenseClient({ nodes }), recordsForIds(ids(1, 30)));
    expect(report.preflight.down).toEqual([]);
    expect(report.rows.filter((r) => !r.ok)).toEqual([]);
    expect(report.rows.filter((r) => r.node === "c").length).toBeGreaterThan(0);
    // asked again until ready: more than once, and not before the second was over
    expect(late.readyz.length).toBeGreaterThan(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000);
    if (retryAfter) expect(late.readyz[1]! - late.readyz[0]!).toBeGreaterThanOrEqual(990);
  });

  test("a node not ready beyond the grace has its circuit opened, naming the last answer", async () => {
    cluster = await startCluster({ nodes: ["a", "b", "c"], db: () => "sqlite::memory:" });
    const late = lateFront("c", cluster.url("c"), 60_000);
    const nodes = cluster.nodes.map((n) => (n.name === "c" ? { name: "c", url: late.url } : n));
    const client = new ShardedExpenseClient({ nodes });
    const started = performance.now();
    const checked = await preflight(client, { graceMs: 700 });
    // asked again within the grace, then given up (no probe starts after it)
    expect(late.readyz.length).toBeGreaterThan(1);
    expect(late.readyz.at(-1)! - started).toBeLessThanOrEqual(700);
    expect(performance.now() - started).toBeLessThan(2700);
    expect(checked.down).toEqual([
      {
        node: "c",
        url: late.url,
        kind: "http",
        status: 503,
        // what the instance says, as status says it: "not ready" is the node's condition
        reason: "the instance is starting: its database is not open yet; retry shortly",
      },
    ]);
    expect(client.circuits().find((c) => c.node === "c")!.state).toBe("open");
  });
});

describe("the circuit probes again", () => {
  test("a node down at the pre-flight check and up a second later is used again within a few seconds, not 30", async () => {
    cluster = await startCluster({ nodes: ["a", "b", "c"], db: () => "sqlite::memory:" });
    await cluster.stopNode("c");
    const client = new ShardedExpenseClient({ nodes: cluster.nodeList });
    const checked = await preflight(client);
    expect(checked.down.map((d) => [d.node, d.kind])).toEqual([["c", "refused"]]);
    const downAt = performance.now();
    setTimeout(() => void cluster?.startNode("c"), 1000);
    const id = ids(1, 50).find((i) => ownerOf(i) === "c")!;
    // the client's circuit refuses at once until it lets a probe through; then the record is stored
    let stored: string | undefined;
    let refusals = 0;
    while (stored === undefined && performance.now() - downAt < 15_000) {
      try {
        stored = (await client.ensure(seedRecord(id))).outcome;
      } catch {
        refusals++;
        await Bun.sleep(100);
      }
    }
    const afterMs = performance.now() - downAt;
    expect(stored).toBe("created");
    expect(refusals).toBeGreaterThan(0);
    expect(afterMs).toBeLessThan(DEFAULT_PROBE_AFTER_MS + 5000);
    expect(DEFAULT_PROBE_AFTER_MS).toBeLessThanOrEqual(5000);
    expect(client.circuits().find((c) => c.node === "c")!.state).toBe("closed");
  }, 30_000);
});
