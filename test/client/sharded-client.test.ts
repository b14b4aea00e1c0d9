import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConflictError, ShardedExpenseClient } from "../../src/client/sharded-client.ts";
import { ShardRequestError } from "../../src/client/errors.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { startLocalCluster, type LocalCluster } from "./cluster.ts";

let cluster: LocalCluster;
let client: ShardedExpenseClient;
beforeAll(async () => {
  cluster = await startLocalCluster();
  client = new ShardedExpenseClient({ nodes: cluster.nodeList, retries: 0 });
});
afterAll(() => cluster.stop());

/** Which nodes answer 200 for the id when asked directly. */
async function holders(id: string): Promise<string[]> {
  const out: string[] = [];
  for (const n of cluster.nodes) {
    if ((await fetch(`${n.url}/v1/expenses/${id}`)).status === 200) out.push(n.name);
  }
  return out;
}

describe("ShardedExpenseClient", () => {
  test("create stores the record on its owner only; get reads it from there", async () => {
    const owner = client.ownerOf("1").name;
    const stored = await client.create(seedRecord("1"));
    expect(stored).toMatchObject({ ...seedRecord("1"), status: "pending", decision_date: "" });
    expect(await holders("1")).toEqual([owner]);
    expect(await client.get(1)).toEqual(stored);
    expect(await client.get("999")).toBeUndefined();
  });

  test("create of a stored id throws the 409 with the server's message", async () => {
    const e = await client.create(seedRecord("1")).catch((x) => x);
    expect(e).toBeInstanceOf(ShardRequestError);
    expect(e.status).toBe(409);
    expect(e.message).toStartWith(`node ${client.ownerOf("1").name} (${client.ownerOf("1").url}): HTTP 409: `);
  });

  test("ensure: created, then exists for the same record, conflict for other content", async () => {
    expect((await client.ensure(seedRecord("2"))).outcome).toBe("created");
    expect((await client.ensure(seedRecord("2"))).outcome).toBe("exists");
    const e = await client.ensure({ ...seedRecord("2"), name: "Other" }).catch((x) => x);
    expect(e).toBeInstanceOf(ConflictError);
    expect(e.differences).toEqual([{ field: "name", expected: "Other", actual: "Foo 2" }]);
    expect((await client.get("2"))?.name).toBe("Foo 2"); // nothing overwritten
  });

  test("a rejected record fails with the status and the field's message, and is not stored", async () => {
    const e = await client.create({ ...seedRecord("3"), email: 42 as unknown as string }).catch((x) => x);
    expect(e).toBeInstanceOf(ShardRequestError);
    expect([400, 422]).toContain(e.status);
    expect(e.message).toContain("email");
    expect(await holders("3")).toEqual([]);
  });

  test("update and delete go to the owner", async () => {
    await client.create(seedRecord("4"));
    const updated = await client.update("4", { status: "approved", decision_date: "13-10-2016" });
    expect(updated).toMatchObject({ id: "4", status: "approved", decision_date: "13-10-2016" });
    expect(await client.update("404", { name: "x" })).toBeUndefined();
    expect(await client.delete("4")).toBe(true);
    expect(await client.delete("4")).toBe(false);
    expect(await holders("4")).toEqual([]);
  });

  test("list pages through one node's records in id order", async () => {
    for (let i = 100; i < 130; i++) await client.ensure(seedRecord(String(i)));
    for (const n of cluster.nodes) {
      const ids: string[] = [];
      for await (const r of client.list(n.name, { pageSize: 3 })) ids.push(r.id);
      const mine = ["1", "2", ...Array.from({ length: 30 }, (_, i) => String(100 + i))].filter((id) => client.ownerOf(id).name === n.name);
      expect(ids).toEqual(mine);
    }
  });

  test("a node list whose names do not match the instances' fails with wrong-node", async () => {
    const [a, b, c] = cluster.instances;
    const swapped = new ShardedExpenseClient({
      nodes: [
        { name: "a", url: b!.url },
        { name: "b", url: a!.url },
        { name: "c", url: c!.url },
      ],
      retries: 0,
    });
    const id = ["1", "2", "5", "6", "7", "8"].find((x) => swapped.ownerOf(x).name !== "c")!;
    const e = await swapped.get(id).catch((x) => x);
    expect(e).toBeInstanceOf(ShardRequestError);
    expect(e.kind).toBe("wrong-node");
    expect(e.message).toContain(`answered by node "${swapped.ownerOf(id).name === "a" ? "b" : "a"}"`);
  });
});
