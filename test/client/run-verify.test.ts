import { describe, expect, test } from "bun:test";
import { runRecords } from "../../src/client/run.ts";
import { verifyRecords } from "../../src/client/verify.ts";
import { renderVerify } from "../../src/cli-output/verify-report.ts";
import { recordsForIds } from "../../src/client/input.ts";
import { ShardedExpenseClient } from "../../src/client/sharded-client.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { useCluster } from "../support/cluster.ts";

// Nodes 1, 2, 3 with one point each, as in the seed README; a fresh cluster for each test.
const cluster = useCluster({ nodes: ["1", "2", "3"] });
const ownerOf = refOwnerOf([{ name: "1" }, { name: "2" }, { name: "3" }], 1);
const client = () => new ShardedExpenseClient({ nodes: cluster().nodeList, vnodes: 1, retries: 1, backoffMs: 5, timeoutMs: 2000 });
const nodeUrl = (name: string) => cluster().nodes.find((n) => n.name === name)!.url;

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

/** Stores the seed record of each id on `node` (default: its owner by the reference ring), without the client. */
async function store(ids: string[], node?: string): Promise<void> {
  for (const id of ids) {
    const res = await fetch(`${nodeUrl(node ?? ownerOf(id))}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(id)) });
    expect(res.status).toBe(201);
  }
}

describe("runRecords", () => {
  test("the seed data lands as in the seed README: 5/1/4 over nodes 1, 2, 3 with one point each", async () => {
    const report = await runRecords(client(), recordsForIds(ids(1, 10)), { concurrency: 4 });
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
    await store(ids(1, 10));
    const report = await runRecords(client(), recordsForIds(ids(1, 10)));
    expect(report.ok).toBe(true);
    expect(new Set(report.rows.map((r) => `${r.post.status} ${r.post.outcome}`))).toEqual(new Set(["409 exists"]));
  });

  test("an id stored with other content fails as a conflict naming the field", async () => {
    await store(["3"]);
    const report = await runRecords(client(), [{ ...seedRecord("3"), description: "changed" }]);
    expect(report.ok).toBe(false);
    expect(report.rows[0]!.post).toMatchObject({ ok: false, outcome: "conflict", status: 409 });
    expect(report.rows[0]!.post.message).toContain('description: expected "changed", got "iPad for office use"');
    expect(report.rows[0]!.get.outcome).toBe("skipped");
  });

  test("a node list whose names do not match the instances' sends nothing, and says which --nodes would match", async () => {
    // The addresses of nodes 1 and 2 swapped under their names; node 3 as it is.
    const swapped = new ShardedExpenseClient({
      nodes: [
        { name: "1", url: nodeUrl("2") },
        { name: "2", url: nodeUrl("1") },
        { name: "3", url: nodeUrl("3") },
      ],
      vnodes: 1,
      retries: 0,
    });
    const report = await runRecords(swapped, recordsForIds(ids(300, 340)));
    expect(report.ok).toBe(false);
    const address = (name: string) => nodeUrl(name).slice("http://".length);
    expect(report.preflight.misnamed).toEqual([
      { node: "1", url: nodeUrl("2"), answeredAs: "2" },
      { node: "2", url: nodeUrl("1"), answeredAs: "1" },
    ]);
    expect(report.preflight.matchingNodes).toBe(`2=${address("2")},1=${address("1")},3=${address("3")}`);
    // Under the wrong names every owner may be wrong, node 3's ids included: none is sent.
    for (const r of report.rows) {
      expect(r.post).toMatchObject({ ok: false, outcome: "wrong-node", unsent: true });
      for (const name of ["1", "2", "3"]) expect((await fetch(`${nodeUrl(name)}/v1/expenses/${r.id}`)).status).toBe(404);
    }
    expect(report.failed).toBe(41);
  });

  test("with one node down its ids fail as refused, the others succeed; after restart a re-run completes", async () => {
    const onNode1 = ids(20, 40).filter((id) => ownerOf(id) === "1");
    await cluster().stopNode("1");
    try {
      const report = await runRecords(client(), recordsForIds(ids(20, 40)), { concurrency: 8 });
      expect(report.ok).toBe(false);
      const down = report.rows.filter((r) => r.node === "1");
      const up = report.rows.filter((r) => r.node !== "1");
      expect(down.map((r) => r.id)).toEqual(onNode1);
      expect(up.map((r) => r.id)).toEqual(ids(20, 40).filter((id) => ownerOf(id) !== "1"));
      // The pre-flight check found it down: its ids fail at once, unsent, naming it.
      for (const r of down) {
        expect(r.post).toMatchObject({ ok: false, outcome: "refused", unsent: true });
        expect(r.post.message).toBe(
          `node 1 (${nodeUrl("1")}): not sent: node down: connection refused (is the instance running?), found by the pre-flight check`,
        );
      }
      expect(up.every((r) => r.ok)).toBe(true);
      expect(report.failed).toBe(onNode1.length);
      expect(report.nodes.find((n) => n.node === "1")).toMatchObject({ ok: 0, failed: onNode1.length });
    } finally {
      await cluster().startNode("1");
    }
    const again = await runRecords(client(), recordsForIds(ids(20, 40)));
    expect(again.ok).toBe(true);
    expect(again.rows.filter((r) => r.node === "1").every((r) => r.post.outcome === "created")).toBe(true);
    expect(again.rows.filter((r) => r.node !== "1").every((r) => r.post.outcome === "exists")).toBe(true);
  });
});

describe("verifyRecords", () => {
  const expectedIds = [...ids(1, 10), ...ids(20, 40)];
  const expected = recordsForIds(expectedIds);
  const other = (name: string) => ["1", "2", "3"].find((n) => n !== name)!;

  test("a clean cluster verifies, counting records outside the checked ids as unchecked", async () => {
    await store(expectedIds);
    const report = await verifyRecords(client(), recordsForIds(ids(1, 10)), { pageSize: 4 });
    expect(report).toMatchObject({ ok: true, checked: 10, good: 10, missing: [], mismatched: [], misplaced: [], extra: [], errors: [] });
    expect(report.unchecked).toBe(21);
    expect(report.nodes.map((n) => n.records).reduce((a, b) => a + b)).toBe(31);
  });

  test("reports misplaced, extra, missing and mismatched records, each with node and owner", async () => {
    await store(expectedIds);
    // misplaced: id 500 only on a node that does not own it
    const wrong500 = other(ownerOf("500"));
    await store(["500"], wrong500);
    // extra: a second copy of id 5 on a non-owner
    const wrong5 = other(ownerOf("5"));
    await store(["5"], wrong5);
    // mismatched: id 6 changed on its owner
    const put = await fetch(`${nodeUrl(ownerOf("6"))}/v1/expenses/6`, { method: "PUT", body: JSON.stringify({ name: "Changed" }) });
    expect(put.status).toBe(202);

    const report = await verifyRecords(client(), [...expected, seedRecord("777")]);
    expect(report.ok).toBe(false);
    expect(report.misplaced).toEqual([{ id: "500", node: wrong500, owner: ownerOf("500") }]);
    expect(report.extra).toEqual([{ id: "5", node: wrong5, owner: ownerOf("5") }]);
    expect(report.missing).toEqual([{ id: "777", owner: ownerOf("777") }]);
    expect(report.mismatched).toEqual([{ id: "6", owner: ownerOf("6"), differences: [{ field: "name", expected: "Foo 6", actual: "Changed" }] }]);
    expect(report.good).toBe(expected.length - 1);
  });

  test("the summary counts other records in the right number", () => {
    const base = {
      ok: true,
      checked: 1,
      good: 1,
      nodes: [],
      missing: [],
      unknown: [],
      mismatched: [],
      misplaced: [],
      extra: [],
      errors: [],
      ring: "0:0000000000000000",
      rings: [],
      causes: [],
      preflight: { misnamed: [], down: [] },
    };
    expect(renderVerify({ ...base, unchecked: 1 })).toEndWith("; 1 other record on its owner (not in the checked ids)");
    expect(renderVerify({ ...base, unchecked: 2 })).toEndWith("; 2 other records on their owners (not in the checked ids)");
    expect(renderVerify({ ...base, unchecked: 0 })).toEndWith("0 extra");
  });

  test("the problem table shows the first 100 problems and says how many more --json has", () => {
    const base = {
      ok: false,
      checked: 0,
      good: 0,
      nodes: [],
      unknown: [],
      mismatched: [],
      extra: [],
      errors: [],
      unchecked: 0,
      missing: [],
      ring: "0:0000000000000000",
      rings: [],
      causes: [],
      preflight: { misnamed: [], down: [] },
    };
    const misplaced = ids(1, 250).map((id) => ({ id, node: "1", owner: "2" }));
    const text = renderVerify({ ...base, misplaced });
    expect(text.match(/^misplaced /gm)).toHaveLength(100);
    expect(text).toContain("(150 more problems not shown; --json lists them all)");
    expect(text).toEndWith("0 missing, 0 mismatched, 250 misplaced, 0 extra");
    expect(renderVerify({ ...base, misplaced: misplaced.slice(0, 100) })).not.toContain("more problems not shown");
  });

  test("a node that cannot be listed makes verify fail, saying so", async () => {
    await store(expectedIds);
    await cluster().stopNode("2");
    try {
      const report = await verifyRecords(client(), expected);
      expect(report.ok).toBe(false);
      expect(report.errors).toHaveLength(1);
      expect(report.errors[0]!.node).toBe("2");
      expect(report.errors[0]!.message).toContain("connection refused");
      // Its ids were never read, so they are unknown, not "missing on no node".
      expect(report.missing).toEqual([]);
      expect(report.unknown).toEqual(expectedIds.filter((id) => ownerOf(id) === "2").map((id) => ({ id, owner: "2" })));
    } finally {
      await cluster().startNode("2");
    }
  });

  test("a copy on a non-owner whose owner cannot be listed is misplaced with ownerUnread, not 'its owner does not have it'", async () => {
    const firstOwnedBy = (owner: string) => ids(900, 9000).find((id) => ownerOf(id) === owner)!;
    const of2 = firstOwnedBy("2"); // its owner will be down
    const of3 = firstOwnedBy("3"); // its owner is up and lacks it
    await store([of2, of3], "1");
    await cluster().stopNode("2");
    try {
      const report = await verifyRecords(client(), recordsForIds(ids(1, 10)));
      expect(report.ok).toBe(false);
      expect(report.misplaced).toHaveLength(2);
      expect(report.misplaced).toContainEqual({ id: of2, node: "1", owner: "2", ownerUnread: true });
      expect(report.misplaced).toContainEqual({ id: of3, node: "1", owner: "3" });
      const text = renderVerify(report);
      expect(text).toMatch(new RegExp(`misplaced +${of2} +2 +1 +its owner's listing failed before it`));
      expect(text).toMatch(new RegExp(`misplaced +${of3} +3 +1 +its owner does not have it`));
    } finally {
      await cluster().startNode("2");
    }
  });
});
