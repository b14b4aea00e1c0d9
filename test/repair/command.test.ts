/**
 * `shardctl repair` through the CLI runner, on real instances (SQLite files, in this
 * process): finding 4 of issue 18 from the start (records written with a node list that
 * forgot a node, then repaired with the whole list), the report as text and JSON, differing
 * copies and --prefer, an admin token, bad usage. What each database holds is read with SQL.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { readRows } from "../rebalance/cluster.ts";
import { runCli } from "../support/cli.ts";
import { useCluster } from "../support/cluster.ts";
import { call } from "../support/http.ts";

const full = refOwnerOf([{ name: "a" }, { name: "b" }, { name: "c" }]);
const short = refOwnerOf([{ name: "a" }, { name: "b" }]);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

describe("shardctl repair on instances that hold no ring (the seed scenario)", () => {
  const cluster = useCluster({ nodes: ["a", "b", "c"] });
  const shortList = () => cluster().nodeList.split(",").slice(0, 2).join(",");
  /** node -> the ids its database holds, by SQL. */
  const holdings = async () =>
    Object.fromEntries(
      await Promise.all(
        ["a", "b", "c"].map(async (n) => [n, (await readRows(cluster().db(n))).map((r) => r.id).sort((x, y) => Number(x) - Number(y))] as const),
      ),
    );

  test("finding 4: written with node c forgotten, verify names the short list; the dry run counts; repair puts each on its owner; verify exits 0", async () => {
    const run = await runCli("client", "run", "--nodes", shortList(), "--ids", "1..200");
    expect(run.code).toBe(0);
    const misplaced = range(1, 200).filter((id) => full(id) !== short(id));
    expect(misplaced.length).toBeGreaterThan(30);

    const before = await runCli("client", "verify", "--nodes", cluster().nodeList, "--ids", "1..200");
    expect(before.code).toBe(1);
    expect(before.stdout).toContain("likely cause: the records were written with a node list that left out node c");
    expect(before.stdout).toContain("shardctl repair with the full node list puts them on their owners");
    expect(before.stdout).not.toContain("one database");

    const held = await holdings();
    const dry = await runCli("repair", "--nodes", cluster().nodeList, "--dry-run", "--json");
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan).toMatchObject({ outcome: "dry-run", ringFrom: "options", found: { ids: misplaced.length, copies: misplaced.length } });
    expect([plan.placed, plan.removed, plan.same, plan.differing]).toEqual([misplaced.length, misplaced.length, 0, []]);
    expect(plan.pairs).toEqual(
      ["a", "b"].map((from) => ({ from, to: "c", copies: misplaced.filter((id) => short(id) === from).length })).filter((p) => p.copies > 0),
    );
    expect(await holdings()).toEqual(held);

    const repaired = await runCli("repair", "--nodes", cluster().nodeList);
    expect({ code: repaired.code, stderr: repaired.stderr }).toEqual({ code: 0, stderr: "" });
    expect(repaired.stdout).toContain(`${misplaced.length} records placed on their owner`);
    expect(repaired.stdout).toContain("check: no stray copy left; every record is on its owner only under ring 0:");
    const after = await holdings();
    for (const n of ["a", "b", "c"]) expect(after[n]).toEqual(range(1, 200).filter((id) => full(id) === n));
    for (const row of await readRows(cluster().db("c"))) expect(row.name).toBe(seedRecord(row.id).name);

    const verify = await runCli("client", "verify", "--nodes", cluster().nodeList, "--ids", "1..200");
    expect([verify.code, verify.stderr]).toEqual([0, ""]);
    const again = await runCli("repair", "--nodes", cluster().nodeList);
    expect([again.code, again.stdout]).toEqual([0, expect.stringContaining("Every record is on its owner only (200 scanned): nothing to do.")]);
  });

  test("a stray copy that differs from its owner's: the owner's kept, the difference shown with both values; --prefer stray keeps the stray's", async () => {
    const id = range(1, 100).find((i) => full(i) === "c")!;
    const other = range(1, 100).filter((i) => full(i) === "c")[1]!;
    for (const i of [id, other]) expect((await call(cluster().url("c"), "POST", "/v1/expenses", seedRecord(i))).status).toBe(201);
    for (const i of [id, other]) expect((await call(cluster().url("a"), "POST", "/v1/expenses", { ...seedRecord(i), name: "Stray" })).status).toBe(201);

    const kept = await runCli("repair", "--nodes", cluster().nodeList, "--wide");
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain("Differing copies (--prefer owner; --json has both records of each):");
    expect(kept.stdout).toMatch(new RegExp(`\\b${id}\\s+c\\s+a\\s+owner's\\s+name: owner "${seedRecord(id).name}", stray "Stray"`));
    expect((await call(cluster().url("c"), "GET", `/v1/expenses/${id}`)).json.name).toBe(seedRecord(id).name);
    expect((await call(cluster().url("a"), "GET", "/v1/expenses")).json.items).toEqual([]);

    expect((await call(cluster().url("b"), "POST", "/v1/expenses", { ...seedRecord(id), name: "Stray on b" })).status).toBe(201);
    const preferred = await runCli("repair", "--nodes", cluster().nodeList, "--prefer", "stray", "--json");
    expect(preferred.code).toBe(0);
    expect(JSON.parse(preferred.stdout).differing).toMatchObject([{ id, owner: "c", node: "b", fields: ["name"], kept: "stray" }]);
    expect((await call(cluster().url("c"), "GET", `/v1/expenses/${id}`)).json.name).toBe("Stray on b");
    expect((await call(cluster().url("b"), "GET", "/v1/expenses")).json.items).toEqual([]);
  });

  test("--prefer none leaves a differing copy, names it, exit 1; bad usage is exit 2", async () => {
    const id = range(1, 100).find((i) => full(i) === "c")!;
    expect((await call(cluster().url("c"), "POST", "/v1/expenses", seedRecord(id))).status).toBe(201);
    expect((await call(cluster().url("a"), "POST", "/v1/expenses", { ...seedRecord(id), email: "stray@example.com" })).status).toBe(201);
    const left = await runCli("repair", "--nodes", cluster().nodeList, "--prefer", "none");
    expect(left.code).toBe(1);
    expect(left.stdout).toContain(`${id} (owner c): its copies on a differ from its owner's: both left (--prefer none)`);
    expect(left.stderr).toContain("shardctl repair: repair left records off their owner under ring 0:");
    expect((await call(cluster().url("a"), "GET", `/v1/expenses/${id}`)).status).toBe(200);

    const bad = await runCli("repair", "--nodes", cluster().nodeList, "--prefer", "newest");
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--prefer must be one of owner, stray, none, got "newest"')]);
  });
});

describe("shardctl repair against instances with an admin token", () => {
  const cluster = useCluster({ nodes: ["a", "b"], adminToken: "repair-secret" });
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.SHARDCTL_ADMIN_TOKEN;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.SHARDCTL_ADMIN_TOKEN;
    else process.env.SHARDCTL_ADMIN_TOKEN = saved;
  });

  test("without the token: exit 2 naming SHARDCTL_ADMIN_TOKEN, nothing changed; with it: repaired", async () => {
    const owner = refOwnerOf([{ name: "a" }, { name: "b" }]);
    const id = range(1, 50).find((i) => owner(i) === "b")!;
    expect((await call(cluster().url("a"), "POST", "/v1/expenses", seedRecord(id))).status).toBe(201);
    delete process.env.SHARDCTL_ADMIN_TOKEN;
    const refused = await runCli("repair", "--nodes", cluster().nodeList);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringMatching(/refuses admin requests: .*give the cluster's token in SHARDCTL_ADMIN_TOKEN/)]);
    expect((await call(cluster().url("a"), "GET", `/v1/expenses/${id}`)).status).toBe(200);
    process.env.SHARDCTL_ADMIN_TOKEN = "repair-secret";
    const done = await runCli("repair", "--nodes", cluster().nodeList, "--json");
    expect([done.code, JSON.parse(done.stdout).placed]).toEqual([0, 1]);
    expect((await call(cluster().url("b"), "GET", `/v1/expenses/${id}`)).status).toBe(200);
  });
});
