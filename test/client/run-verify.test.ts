import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runRecords } from "../../src/client/run.ts";
import { verifyRecords } from "../../src/client/verify.ts";
import { renderVerify } from "../../src/client/report.ts";
import { recordsForIds } from "../../src/client/records.ts";
import { ShardedExpenseClient } from "../../src/client/sharded-client.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { startLocalCluster, type LocalCluster } from "./cluster.ts";

let cluster: LocalCluster;
let client: ShardedExpenseClient;
beforeAll(async () => {
  cluster = await startLocalCluster(["1", "2", "3"]);
  client = new ShardedExpenseClient({ nodes: cluster.nodeList, vnodes: 1, retries: 1, backoffMs: 5, timeoutMs: 2000 });
});
afterAll(() => cluster.stop());

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

describe("runRecords", () => {
  test("the seed data lands as in the seed README: 5/1/4 over nodes 1, 2, 3 with one point each", async () => {
    const report = await runRecords(client, recordsForIds(ids(1, 10)), { concurrency: 4 });
    expect(report.ok).toBe(true);
    // seed README: 1->5002, 2->5003, 3->5001, 4->5001, 5->5003, 6->5001, 7->5001, 8->5003, 9->5001, 10->5003
    expect(report.rows.map((r) => `${r.id}:${r.node}`)).toEqual(["1:2", "2:3", "3:1", "4:1", "5:3", "6:1", "7:1", "8:3", "9:1", "10:3"]);
    expect(report.nodes.map((n) => [n.node, n.ids, n.ok, n.failed])).toEqual([
      ["1", 5, 5, 0],
      ["2", 1, 1, 0],
      ["3", 4, 4, 0],
    ]);
    expect(report.rows.every((r) => r.post.outcome === "created" && r.get.outcome === "match")).toBe(true);
  });

  test("a re-run is idempotent: every id 'exists' and the run succeeds", async () => {
    const report = await runRecords(client, recordsForIds(ids(1, 10)));
    expect(report.ok).toBe(true);
    expect(new Set(report.rows.map((r) => `${r.post.status} ${r.post.outcome}`))).toEqual(new Set(["409 exists"]));
  });

  test("an id stored with other content fails as a conflict naming the field", async () => {
    const report = await runRecords(client, [{ ...seedRecord("3"), description: "changed" }]);
    expect(report.ok).toBe(false);
    expect(report.rows[0]!.post).toMatchObject({ ok: false, outcome: "conflict", status: 409 });
    expect(report.rows[0]!.post.message).toContain('description: expected "changed", got "iPad for office use"');
    expect(report.rows[0]!.get.outcome).toBe("skipped");
  });

  test("a node list whose names do not match the instances' fails those nodes' ids as wrong-node without storing them", async () => {
    // The addresses of nodes 1 and 2 swapped under their names; node 3 as it is.
    const byName = (name: string) => cluster.nodes.find((n) => n.name === name)!.url;
    const swapped = new ShardedExpenseClient({
      nodes: [
        { name: "1", url: byName("2") },
        { name: "2", url: byName("1") },
        { name: "3", url: byName("3") },
      ],
      vnodes: 1,
      retries: 0,
    });
    const report = await runRecords(swapped, recordsForIds(ids(300, 340)));
    expect(report.ok).toBe(false);
    const wrong = report.rows.filter((r) => r.node !== "3");
    expect(wrong.length).toBeGreaterThan(0);
    for (const r of wrong) {
      expect(r.post).toMatchObject({ ok: false, outcome: "wrong-node" });
      expect(r.post.status).toBeUndefined();
      expect(r.post.message).toContain("nothing was sent to it");
      // Not stored under either name.
      for (const url of [byName("1"), byName("2")]) expect((await fetch(`${url}/v1/expenses/${r.id}`)).status).toBe(404);
    }
    const fine = report.rows.filter((r) => r.node === "3");
    expect(fine.every((r) => r.ok)).toBe(true);
    // Leave the cluster as the later tests expect it.
    for (const r of fine) expect((await fetch(`${byName("3")}/v1/expenses/${r.id}`, { method: "DELETE" })).status).toBe(204);
  });

  test("with one node down its ids fail as refused, the others succeed; after restart a re-run completes", async () => {
    await cluster.stopNode("1");
    try {
      const report = await runRecords(client, recordsForIds(ids(20, 40)), { concurrency: 8 });
      expect(report.ok).toBe(false);
      const down = report.rows.filter((r) => r.node === "1");
      const up = report.rows.filter((r) => r.node !== "1");
      expect(down.length).toBeGreaterThan(0);
      expect(up.length).toBeGreaterThan(0);
      for (const r of down) {
        expect(r.post.outcome).toBe("refused");
        expect(r.post.message).toContain(`node 1 (${cluster.nodes[0]!.url}): connection refused`);
      }
      expect(up.every((r) => r.ok)).toBe(true);
      expect(report.failed).toBe(down.length);
      expect(report.nodes.find((n) => n.node === "1")).toMatchObject({ ok: 0, failed: down.length });
    } finally {
      await cluster.startNode("1");
    }
    const again = await runRecords(client, recordsForIds(ids(20, 40)));
    expect(again.ok).toBe(true);
    expect(again.rows.filter((r) => r.node === "1").every((r) => r.post.outcome === "created")).toBe(true);
    expect(again.rows.filter((r) => r.node !== "1").every((r) => r.post.outcome === "exists")).toBe(true);
  });
});

describe("verifyRecords", () => {
  const expected = recordsForIds([...ids(1, 10), ...ids(20, 40)]);
  const nodeUrl = (name: string) => cluster.nodes.find((n) => n.name === name)!.url;
  const other = (name: string) => ["1", "2", "3"].find((n) => n !== name)!;

  test("a clean cluster verifies, counting records outside the checked ids as unchecked", async () => {
    const report = await verifyRecords(client, recordsForIds(ids(1, 10)), { pageSize: 4 });
    expect(report).toMatchObject({ ok: true, checked: 10, good: 10, missing: [], mismatched: [], misplaced: [], extra: [], errors: [] });
    expect(report.unchecked).toBe(21);
    expect(report.nodes.map((n) => n.records).reduce((a, b) => a + b)).toBe(31);
  });

  test("reports misplaced, extra, missing and mismatched records, each with node and owner", async () => {
    // misplaced: id 500 only on a node that does not own it
    const owner500 = client.ownerOf("500").name;
    const wrong500 = other(owner500);
    expect((await fetch(`${nodeUrl(wrong500)}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("500")) })).status).toBe(201);
    // extra: a second copy of id 5 on a non-owner
    const owner5 = client.ownerOf("5").name;
    const wrong5 = other(owner5);
    expect((await fetch(`${nodeUrl(wrong5)}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("5")) })).status).toBe(201);
    // mismatched: id 6 changed on its owner
    await client.update("6", { name: "Changed" });

    const report = await verifyRecords(client, [...expected, seedRecord("777")]);
    expect(report.ok).toBe(false);
    expect(report.misplaced).toEqual([{ id: "500", node: wrong500, owner: owner500 }]);
    expect(report.extra).toEqual([{ id: "5", node: wrong5, owner: owner5 }]);
    expect(report.missing).toEqual([{ id: "777", owner: client.ownerOf("777").name }]);
    expect(report.mismatched).toEqual([
      { id: "6", owner: client.ownerOf("6").name, differences: [{ field: "name", expected: "Foo 6", actual: "Changed" }] },
    ]);
    expect(report.good).toBe(expected.length - 1);
  });

  test("the summary counts other records in the right number", () => {
    const base = { ok: true, checked: 1, good: 1, nodes: [], missing: [], unknown: [], mismatched: [], misplaced: [], extra: [], errors: [] };
    expect(renderVerify({ ...base, unchecked: 1 })).toEndWith("; 1 other record on its owner (not in the checked ids)");
    expect(renderVerify({ ...base, unchecked: 2 })).toEndWith("; 2 other records on their owners (not in the checked ids)");
    expect(renderVerify({ ...base, unchecked: 0 })).toEndWith("0 extra");
  });

  test("the problem table shows the first 100 problems and says how many more --json has", () => {
    const base = { ok: false, checked: 0, good: 0, nodes: [], unknown: [], mismatched: [], extra: [], errors: [], unchecked: 0, missing: [] };
    const misplaced = ids(1, 250).map((id) => ({ id, node: "1", owner: "2" }));
    const text = renderVerify({ ...base, misplaced });
    expect(text.match(/^misplaced /gm)).toHaveLength(100);
    expect(text).toContain("(150 more problems not shown; --json lists them all)");
    expect(text).toEndWith("0 missing, 0 mismatched, 250 misplaced, 0 extra");
    expect(renderVerify({ ...base, misplaced: misplaced.slice(0, 100) })).not.toContain("more problems not shown");
  });

  test("a node that cannot be listed makes verify fail, saying so", async () => {
    await cluster.stopNode("2");
    try {
      const report = await verifyRecords(client, expected);
      expect(report.ok).toBe(false);
      expect(report.errors).toHaveLength(1);
      expect(report.errors[0]!.node).toBe("2");
      expect(report.errors[0]!.message).toContain("connection refused");
      // Its ids were never read, so they are unknown, not "missing on no node".
      const ofNode2 = expected.map((r) => String(r.id)).filter((id) => client.ownerOf(id).name === "2");
      expect(ofNode2.length).toBeGreaterThan(0);
      expect(report.missing).toEqual([]);
      expect(report.unknown).toEqual(ofNode2.map((id) => ({ id, owner: "2" })));
    } finally {
      await cluster.startNode("2");
    }
  });

  test("a copy on a non-owner whose owner cannot be listed is misplaced with ownerUnread, not 'its owner does not have it'", async () => {
    const firstOwnedBy = (owner: string) => ids(900, 9000).find((id) => client.ownerOf(id).name === owner)!;
    const of2 = firstOwnedBy("2"); // its owner will be down
    const of3 = firstOwnedBy("3"); // its owner is up and lacks it
    for (const id of [of2, of3]) {
      expect((await fetch(`${nodeUrl("1")}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(id)) })).status).toBe(201);
    }
    await cluster.stopNode("2");
    try {
      const report = await verifyRecords(client, recordsForIds(ids(1, 10)));
      expect(report.ok).toBe(false);
      expect(report.misplaced).toContainEqual({ id: of2, node: "1", owner: "2", ownerUnread: true });
      expect(report.misplaced).toContainEqual({ id: of3, node: "1", owner: "3" });
      const text = renderVerify(report);
      expect(text).toMatch(new RegExp(`misplaced +${of2} +2 +1 +its owner's listing failed before it`));
      expect(text).toMatch(new RegExp(`misplaced +${of3} +3 +1 +its owner does not have it`));
    } finally {
      await cluster.startNode("2");
      for (const id of [of2, of3]) await fetch(`${nodeUrl("1")}/v1/expenses/${id}`, { method: "DELETE" });
    }
  });
});
