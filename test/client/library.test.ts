/** The library sample of docs/client.md, through the package entry (src/index.ts), against real instances. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ShardedExpenseClient, ShardRequestError, seedRecord } from "../../src/index.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { startCluster, type Cluster } from "../support/cluster.ts";

let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ nodes: ["a", "b", "c"] });
});
afterAll(() => cluster.stop());

test("the library sample: create, ensure, update, get, delete, list, errors", async () => {
  const shards = new ShardedExpenseClient({ nodes: cluster.nodeList, timeoutMs: 2000, retries: 3 });
  const owner = shards.ownerOf("7");
  expect(owner.name).toBe(refOwnerOf([{ name: "a" }, { name: "b" }, { name: "c" }])("7"));

  await shards.create(seedRecord("7"));
  expect((await shards.ensure(seedRecord("7"))).outcome).toBe("exists");
  await shards.update("7", { status: "approved", decision_date: "13-10-2016" });
  expect(await shards.get("7")).toMatchObject({ id: "7", status: "approved", decision_date: "13-10-2016" });

  const onOwner: string[] = [];
  for await (const r of shards.list(owner.name)) onOwner.push(r.id);
  expect(onOwner).toEqual(["7"]);

  const e = await shards.create(seedRecord("7")).catch((x) => x);
  expect(e).toBeInstanceOf(ShardRequestError);
  expect([e.kind, e.node, e.status]).toEqual(["http", owner.name, 409]);

  expect(await shards.delete("7")).toBe(true);
  expect(await shards.get("7")).toBeUndefined();
});
