/**
 * Finding 6 of issue 18, end to end: after `rebalance --keep-data` the old owners keep
 * copies of the moved records. Through the router, a moved record deleted (204) is gone from
 * GET (404) and from the listing too: the listing shows each record from its owner only,
 * never a leftover copy. Real instances on SQLite, the rebalance through the CLI.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startRouter, type Router } from "../../src/router/index.ts";
import { RebalanceCluster, range } from "../rebalance/cluster.ts";
import { runCli } from "../support/cli.ts";
import { call } from "../support/http.ts";

let c: RebalanceCluster;
let router: Router;
const ids = range(1, 300);
beforeAll(async () => {
  c = await RebalanceCluster.start({ old: ["a", "b", "c"], next: ["a", "b", "c", "d"] });
  await c.seed(ids);
  const run = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--keep-data", "--json");
  expect(run.code).toBe(0);
  router = startRouter({ port: 0, ring: c.next, log: false });
});
afterAll(async () => {
  router?.stop();
  await c?.stop();
});

/** Every page of the router's listing, `limit` a page. */
async function listAll(limit: number): Promise<string[]> {
  const out: string[] = [];
  let after: string | null = null;
  do {
    const page: any = await call(router.url, "GET", `/v1/expenses?limit=${limit}${after === null ? "" : `&after=${after}`}`);
    expect(page.status).toBe(200);
    out.push(...page.json.items.map((r: { id: string }) => r.id));
    after = page.json.next;
  } while (after !== null);
  return out;
}

test("a moved record deleted through the router: 204, then GET 404, and neither the next page nor the whole listing shows its leftover copy", async () => {
  const moved = ids.filter((id) => c.oldOwner(id) !== c.newOwner(id));
  expect(moved.length).toBeGreaterThan(20);
  // the leftover copies are there: --keep-data
  const id = moved.find((m) => Number(m) > 1)!;
  expect((await call(c.instances.get(c.oldOwner(id))!.url, "GET", "/v1/expenses?limit=1000")).json.items.map((r: { id: string }) => r.id)).toContain(id);

  expect((await call(router.url, "DELETE", `/v1/expenses/${id}`)).status).toBe(204);
  expect((await call(router.url, "GET", `/v1/expenses/${id}`)).status).toBe(404);
  const next = await call(router.url, "GET", `/v1/expenses?after=${Number(id) - 1}&limit=1`);
  expect(next.json.items.map((r: { id: string }) => r.id)).toEqual([String(Number(id) + 1)]);
  const expected = ids.filter((i) => i !== id);
  for (const limit of [7, 100, 1000]) expect(await listAll(limit)).toEqual(expected);
});
