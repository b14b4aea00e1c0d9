/** `shardctl ring check` against real instances: all agree, some disagree, one is down, one has no ring. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ring } from "../../src/ring/ring.ts";
import { startInstance } from "../../src/instance/index.ts";
import { runCli } from "../support/cli.ts";
import { clustersPerTest, localNodes, ringOf } from "../support/cluster.ts";
import { call } from "../support/http.ts";

const dir = mkdtempSync(join(tmpdir(), "shardctl-ring-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const startCluster = clustersPerTest();

async function cluster(epoch = 1) {
  const ring = ringOf(await localNodes(["a", "b", "c"]), { epoch });
  const running = await startCluster({ ring, db: () => "sqlite::memory:" });
  const file = join(dir, `ring-${n++}.json`);
  writeFileSync(file, JSON.stringify({ ...ring.toJSON(), label: ring.label }));
  return { ring, file, url: (name: string) => running.url(name), running };
}

const doc = (ring: Ring) => ({ ...ring.toJSON(), label: ring.label });

describe("shardctl ring check", () => {
  test("every instance holds the ring: exit 0, a row each", async () => {
    const c = await cluster();
    const r = await runCli("ring", "check", "--ring", c.file);
    expect(r.code).toBe(0);
    for (const name of ["a", "b", "c"]) expect(r.stdout).toMatch(new RegExp(`^${name} +http://127\\.0\\.0\\.1:\\d+ +${c.ring.label} +agrees`, "m"));
    expect(r.stdout).toContain(`3 of 3 nodes hold ring ${c.ring.label}`);
  });

  test("an instance with a newer ring, and one that is down: exit 1 naming each, --json rows", async () => {
    const c = await cluster();
    const next = new Ring(c.ring.nodes, { vnodes: 10, epoch: 2 });
    expect((await call(c.url("b"), "PUT", "/ring", doc(next))).status).toBe(200);
    await c.running.stopNode("c");
    const r = await runCli("ring", "check", "--ring", c.file, "--json", "--timeout", "2000");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ring).toBe(c.ring.label);
    expect(report.rows.map((row: any) => [row.node, row.state, row.ring ?? null])).toEqual([
      ["a", "agrees", c.ring.label],
      ["b", "newer", next.label],
      ["c", "down", null],
    ]);
    expect(r.stderr).toContain(`2 of 3 nodes do not hold ring ${c.ring.label}`);
    expect(r.stderr).toContain(`node b (${c.ring.node("b")!.url}): newer: it holds a newer ring, ${next.label}: the ring checked (${c.ring.label}) is stale`);
    expect(r.stderr).toMatch(new RegExp(`node c \\(${c.ring.node("c")!.url}\\): down: connection refused`));
  });

  test("an older ring on an instance names it stale; when all hold another ring, the hint names it", async () => {
    const c = await cluster(3);
    const older = join(dir, `older-${n++}.json`);
    writeFileSync(older, JSON.stringify({ epoch: 1, vnodes: 160, nodes: c.ring.nodes.map((x) => ({ name: x.name, url: x.url })) }));
    const r = await runCli("ring", "check", "--ring", older);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^a .* newer/m);
    expect(r.stderr).toContain(`every node holds ring ${c.ring.label}: give this command (and the clients) that ring`);

    const newer = join(dir, `newer-${n++}.json`);
    writeFileSync(newer, JSON.stringify({ epoch: 4, vnodes: 160, nodes: c.ring.nodes.map((x) => ({ name: x.name, url: x.url })) }));
    const s = await runCli("ring", "check", "--ring", newer);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`it holds an older ring, ${c.ring.label}: the instance is stale`);
  });

  test("an instance without a ring is named: it checks no ownership", async () => {
    const plain = await startInstance({ port: 0, db: "sqlite::memory:", name: "solo", log: false });
    try {
      const r = await runCli("ring", "check", "--nodes", `solo=127.0.0.1:${plain.port}`);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`1 of 1 node does not hold ring`);
      expect(r.stderr).toContain(`node solo (${plain.url}): no-ring: it has no ring: started without one, it checks no ownership`);
    } finally {
      await plain.stop();
    }
  });
});
