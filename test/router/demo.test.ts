/** `shardctl demo --router`: the seed's flow through a router, in-process through the CLI runner. */
import { describe, expect, test } from "bun:test";
import { refOwnerOf } from "../ring/reference.ts";
import { runCli } from "../support/cli.ts";

describe("demo --router", () => {
  test("every record goes through the router to its owner: the seed's table with one point per node (5/1/4)", async () => {
    const r = await runCli("demo", "--router", "--vnodes", "1", "--json");
    expect(r.code).toBe(0);
    const { router, verify } = JSON.parse(r.stdout);
    const ownerOf = refOwnerOf([{ name: "1" }, { name: "2" }, { name: "3" }], 1);
    expect(
      router.rows.map((row: { id: string; node: string; post: number; get: number; ok: boolean }) => [row.id, row.node, row.post, row.get, row.ok]),
    ).toEqual(Array.from({ length: 10 }, (_, i) => [String(i + 1), ownerOf(String(i + 1)), 201, 200, true]));
    expect(router.nodes.map((n: { node: string; ids: number }) => [n.node, n.ids])).toEqual([
      ["1", 5],
      ["2", 1],
      ["3", 4],
    ]);
    expect(router.listed).toBe(10);
    expect(verify.ok).toBe(true);
    expect(r.stderr).toContain("started the router at http://127.0.0.1:");
  });

  test("the table names the instance that answered each id", async () => {
    const r = await runCli("demo", "--router", "--ids", "1..3");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("id  POST  GET  X-Shard-Node  X-Shard-Url");
    expect(r.stdout).toMatch(/3 ids through http:\/\/127\.0\.0\.1:\d+: 3 answered by their owner, 0 failed; the merged listing has 3 records/);
    expect(r.stdout).toContain("stopped the router and 3 instances");
  });
});
