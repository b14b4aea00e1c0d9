/** verify names the likely cause: a node list that left a node out, records of another ring, two instances on one database. */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeCause } from "../../src/cli-output/verify-report.ts";
import { ShardedExpenseClient } from "../../src/client/sharded-client.ts";
import { recordsForIds } from "../../src/client/input.ts";
import { verifyRecords } from "../../src/client/verify.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { useCluster } from "../support/cluster.ts";

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

async function post(url: string, id: string): Promise<void> {
  const res = await fetch(`${url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(id)) });
  expect(res.status).toBe(201);
}

describe("records placed by another ring", () => {
  const cluster = useCluster({ nodes: ["1", "2", "3"] });
  const urlOf = (name: string) => cluster().nodes.find((n) => n.name === name)!.url;

  test("written with one point per node, checked with 160: verify names --vnodes 1", async () => {
    const wanted = ids(1, 200);
    const byOne = refOwnerOf([{ name: "1" }, { name: "2" }, { name: "3" }], 1);
    const by160 = refOwnerOf([{ name: "1" }, { name: "2" }, { name: "3" }], 160);
    for (const id of wanted) await post(urlOf(byOne(id)), id);

    const report = await verifyRecords(new ShardedExpenseClient({ nodes: cluster().nodeList }), recordsForIds(wanted));
    expect(report.ok).toBe(false);
    const onTheirOwner = wanted.filter((id) => byOne(id) === by160(id)).length;
    expect(report.misplaced.length).toBe(200 - onTheirOwner);
    expect(report.causes).toEqual([{ kind: "other-ring", nodes: cluster().nodeList, vnodes: 1, fit: 200, of: 200, fitInForce: onTheirOwner }]);
    expect(describeCause(report.causes[0]!)).toBe(
      `the records were placed by another ring: 200 of 200 records are where --nodes ${cluster().nodeList} --vnodes 1 puts them ` +
        `(the ring in force: ${onTheirOwner}). Check --nodes, --vnodes and --ring against the ring the data was written with; if the ring in ` +
        "force is the right one, shardctl repair puts the records on their owners under it.",
    );
  });

  test("written under the default names (host:port), checked under the instances' names 1, 2, 3: verify names the address list", async () => {
    const addresses = ["1", "2", "3"].map((name) => urlOf(name).slice("http://".length));
    const byAddress = refOwnerOf(addresses.map((name) => ({ name })));
    const wanted = ids(1, 150);
    for (const id of wanted) await post(`http://${byAddress(id)}`, id);

    const report = await verifyRecords(new ShardedExpenseClient({ nodes: cluster().nodeList }), recordsForIds(wanted));
    expect(report.causes).toMatchObject([{ kind: "other-ring", nodes: addresses.join(","), vnodes: 160, fit: 150, of: 150 }]);
  });

  test("a few stray records are not blamed on another ring", async () => {
    const by160 = refOwnerOf([{ name: "1" }, { name: "2" }, { name: "3" }], 160);
    const wanted = ids(1, 100);
    for (const id of wanted) await post(urlOf(by160(id)), id);
    const stray = ids(500, 505);
    for (const id of stray) await post(urlOf(["1", "2", "3"].find((n) => n !== by160(id))!), id);
    const report = await verifyRecords(new ShardedExpenseClient({ nodes: cluster().nodeList }), recordsForIds(wanted));
    expect(report.misplaced.length).toBe(6);
    expect(report.causes).toEqual([]);
  });
});

describe("records written with a node list that left a node out (finding 4 of issue 18)", () => {
  const cluster = useCluster({ nodes: ["1", "2", "3"] });
  const urlOf = (name: string) => cluster().nodes.find((n) => n.name === name)!.url;
  const full = refOwnerOf([{ name: "1" }, { name: "2" }, { name: "3" }]);
  const short = refOwnerOf([{ name: "1" }, { name: "2" }]);

  test("every record where the list without node 3 puts it: verify names that list and the repair, not a shared database", async () => {
    const wanted = ids(1, 60);
    for (const id of wanted) await post(urlOf(short(id)), id);
    const report = await verifyRecords(new ShardedExpenseClient({ nodes: cluster().nodeList }), recordsForIds(wanted));
    const misplaced = wanted.filter((id) => full(id) !== short(id)).length;
    expect(report.misplaced.length).toBe(misplaced);
    const shortList = cluster().nodeList.split(",").slice(0, 2).join(",");
    expect(report.causes).toEqual([{ kind: "short-node-list", left: ["3"], nodes: shortList, fit: 60, of: 60, fitInForce: 60 - misplaced }]);
    expect(describeCause(report.causes[0]!)).toBe(
      `the records were written with a node list that left out node 3: 60 of 60 records are where --nodes ${shortList} puts them, or on ` +
        `their owner among the nodes it leaves out (the ring in force: ${60 - misplaced}). shardctl repair with the full node list puts them on their owners.`,
    );
  });

  test("written first with the whole list, later without node 3: still named (node 3's own records are where they belong)", async () => {
    for (const id of ids(1, 40)) await post(urlOf(full(id)), id);
    for (const id of ids(41, 80)) await post(urlOf(short(id)), id);
    const report = await verifyRecords(new ShardedExpenseClient({ nodes: cluster().nodeList }), recordsForIds(ids(1, 80)));
    expect(report.causes).toMatchObject([{ kind: "short-node-list", left: ["3"], fit: 80, of: 80 }]);
  });

  test("too few records off their owner (two) name no cause", async () => {
    const wanted = ids(1, 200)
      .filter((id) => full(id) === short(id))
      .slice(0, 20);
    const off = ids(1, 200)
      .filter((id) => full(id) !== short(id))
      .slice(0, 2);
    for (const id of [...wanted, ...off]) await post(urlOf(short(id)), id);
    const report = await verifyRecords(new ShardedExpenseClient({ nodes: cluster().nodeList }), recordsForIds([...wanted, ...off]));
    expect([report.misplaced.length, report.causes]).toEqual([2, []]);
  });
});

describe("two instances on one database", () => {
  let instances: Instance[] = [];
  let dir = "";
  afterEach(async () => {
    await Promise.allSettled(instances.map((s) => s.stop()));
    instances = [];
    rmSync(dir, { recursive: true, force: true });
  });

  test("nodes that list the same records are named as probably sharing a database", async () => {
    dir = mkdtempSync(join(tmpdir(), "shardctl-shared-db-"));
    const shared = `sqlite:${join(dir, "shared.sqlite")}`;
    instances = [
      await startInstance({ port: 0, db: shared, name: "a", log: false }),
      await startInstance({ port: 0, db: shared, name: "b", log: false }),
      await startInstance({ port: 0, db: `sqlite:${join(dir, "c.sqlite")}`, name: "c", log: false }),
    ];
    const client = new ShardedExpenseClient({ nodes: instances.map((s) => ({ name: s.name, url: s.url })) });
    const owner = refOwnerOf([{ name: "a" }, { name: "b" }, { name: "c" }]);
    const wanted = ids(1, 30);
    for (const id of wanted) await post(instances.find((s) => s.name === owner(id))!.url, id);

    const report = await verifyRecords(client, recordsForIds(wanted));
    expect(report.ok).toBe(false);
    const inShared = wanted.filter((id) => owner(id) !== "c").length;
    expect(report.extra.length).toBe(inShared);
    expect(report.causes).toEqual([{ kind: "shared-database", nodes: ["a", "b"], records: inShared }]);
    expect(describeCause(report.causes[0]!)).toBe(
      `nodes a and b list the same ${inShared} records: two instances answering from one database? Give each instance its own --db.`,
    );
  });
});

describe("likelyCauses on its own", () => {
  test("four nodes, two left out of the list: both named", async () => {
    const { likelyCauses } = await import("../../src/client/diagnose.ts");
    const { Ring } = await import("../../src/ring/ring.ts");
    const nodes = ["a", "b", "c", "d"].map((name, i) => ({ name, url: `http://127.0.0.1:${5001 + i}`, weight: 1 }));
    const short = refOwnerOf([{ name: "a" }, { name: "c" }]);
    const placed = ids(1, 400);
    const listings = new Map(nodes.map((n) => [n.name, placed.filter((id) => short(id) === n.name)]));
    expect(likelyCauses(new Ring(nodes, { vnodes: 160 }), listings, 200)).toMatchObject([{ kind: "short-node-list", left: ["b", "d"], fit: 400, of: 400 }]);
  });

  test("of rings that fit the records equally, the default (160 points) is named, not one that merely ties", async () => {
    const { likelyCauses } = await import("../../src/client/diagnose.ts");
    const { Ring } = await import("../../src/ring/ring.ts");
    const urls = { "1": "http://127.0.0.1:5001", "2": "http://127.0.0.1:5002", "3": "http://127.0.0.1:5003" };
    const nodes = Object.entries(urls).map(([name, url]) => ({ name, url, weight: 1 }));
    const inForce = new Ring(nodes, { vnodes: 1 });
    const by160 = refOwnerOf(nodes, 160);
    const by150 = refOwnerOf(nodes, 150);
    // records placed with 160 points, only ids that 150 points would place alike: both rings fit all of them
    const placed = ids(1, 3000)
      .filter((id) => by160(id) === by150(id) && by160(id) !== refOwnerOf(nodes, 1)(id))
      .slice(0, 300);
    expect(placed.length).toBe(300);
    const listings = new Map(nodes.map((n) => [n.name, placed.filter((id) => by160(id) === n.name)]));
    const causes = likelyCauses(inForce, listings, placed.length);
    expect(causes).toMatchObject([{ kind: "other-ring", vnodes: 160, fit: 300, of: 300 }]);
  });
});
