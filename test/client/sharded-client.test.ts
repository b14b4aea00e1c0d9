import { describe, expect, test } from "bun:test";
import { ConflictError, ShardedExpenseClient } from "../../src/client/sharded-client.ts";
import { ShardRequestError } from "../../src/client/errors.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { useCluster } from "../support/cluster.ts";

const NAMES = ["a", "b", "c"];
const cluster = useCluster({ nodes: NAMES });
/** The owner of an id by the reference ring (the client's default 160 points per node). */
const ownerOf = refOwnerOf(NAMES.map((name) => ({ name })));
const client = () => new ShardedExpenseClient({ nodes: cluster().nodeList, retries: 0 });
const urlOf = (name: string) => cluster().nodes.find((n) => n.name === name)!.url;

/** Which nodes answer 200 for the id when asked directly. */
async function holders(id: string): Promise<string[]> {
  const out: string[] = [];
  for (const n of cluster().nodes) {
    if ((await fetch(`${n.url}/v1/expenses/${id}`)).status === 200) out.push(n.name);
  }
  return out;
}

/** Stores the seed record of each id on its owner, without the client under test. */
async function storeOnOwners(ids: string[]): Promise<void> {
  for (const id of ids) {
    const res = await fetch(`${urlOf(ownerOf(id))}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(id)) });
    expect(res.status).toBe(201);
  }
}

describe("ShardedExpenseClient", () => {
  test("create stores the record on its owner only; get reads it from there", async () => {
    const shards = client();
    const stored = await shards.create(seedRecord("1"));
    expect(stored).toMatchObject({ ...seedRecord("1"), status: "pending", decision_date: "" });
    expect(await holders("1")).toEqual([ownerOf("1")]);
    expect(await shards.get(1)).toEqual(stored);
    expect(await shards.get("999")).toBeUndefined();
  });

  test("create of a stored id throws the 409 with the server's message", async () => {
    await storeOnOwners(["1"]);
    const e = await client()
      .create(seedRecord("1"))
      .catch((x) => x);
    expect(e).toBeInstanceOf(ShardRequestError);
    expect(e.status).toBe(409);
    expect(e.message).toStartWith(`node ${ownerOf("1")} (${urlOf(ownerOf("1"))}): HTTP 409: `);
  });

  test("ensure: created, then exists for the same record, conflict for other content", async () => {
    const shards = client();
    expect((await shards.ensure(seedRecord("2"))).outcome).toBe("created");
    expect((await shards.ensure(seedRecord("2"))).outcome).toBe("exists");
    const e = await shards.ensure({ ...seedRecord("2"), name: "Other" }).catch((x) => x);
    expect(e).toBeInstanceOf(ConflictError);
    expect(e.differences).toEqual([{ field: "name", expected: "Other", actual: "Foo 2" }]);
    expect((await shards.get("2"))?.name).toBe("Foo 2"); // nothing overwritten
  });

  test("a rejected record fails with the status and the field's message, and is not stored", async () => {
    const e = await client()
      .create({ ...seedRecord("3"), email: 42 as unknown as string })
      .catch((x) => x);
    expect(e).toBeInstanceOf(ShardRequestError);
    expect(e.status).toBe(422);
    expect(e.message).toContain("email");
    expect(await holders("3")).toEqual([]);
  });

  test("update and delete go to the owner", async () => {
    await storeOnOwners(["4"]);
    const shards = client();
    const updated = await shards.update("4", { status: "approved", decision_date: "13-10-2016" });
    expect(updated).toMatchObject({ id: "4", status: "approved", decision_date: "13-10-2016" });
    expect(await shards.update("404", { name: "x" })).toBeUndefined();
    expect(await shards.delete("4")).toBe(true);
    expect(await shards.delete("4")).toBe(false);
    expect(await holders("4")).toEqual([]);
  });

  test("list pages through one node's records in numeric id order", async () => {
    const ids = ["5", "9", "10", "99", ...Array.from({ length: 26 }, (_, i) => String(100 + i)), "1000"];
    await storeOnOwners([...ids].reverse());
    const shards = client();
    for (const name of NAMES) {
      const listed: string[] = [];
      for await (const r of shards.list(name, { pageSize: 3 })) listed.push(r.id);
      expect({ name, listed }).toEqual({ name, listed: ids.filter((id) => ownerOf(id) === name) });
    }
  });

  test("a node list whose names do not match the instances' fails with wrong-node", async () => {
    const [a, b, c] = cluster().nodes;
    const swapped = new ShardedExpenseClient({
      nodes: [
        { name: "a", url: b!.url },
        { name: "b", url: a!.url },
        { name: "c", url: c!.url },
      ],
      retries: 0,
    });
    const id = ["1", "2", "5", "6", "7", "8"].find((x) => ownerOf(x) !== "c")!;
    const e = await swapped.get(id).catch((x) => x);
    expect(e).toBeInstanceOf(ShardRequestError);
    expect(e.kind).toBe("wrong-node");
    expect(e.message).toContain(`answered by node "${ownerOf(id) === "a" ? "b" : "a"}"`);
  });
});
