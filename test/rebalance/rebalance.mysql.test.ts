/**
 * `shardctl rebalance` end to end on MariaDB: a node joins, a node leaves, a weight
 * changes. Afterwards every record is in exactly one database, its owner's under the new
 * ring by the reference ring (read with SQL), `client verify` with the new ring passes,
 * exactly the planned records moved, and a second run does nothing.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { ShardedExpenseClient } from "../../src/client/sharded-client.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { mysqlUnavailable } from "../support/mariadb.ts";
import { runCli } from "../support/cli.ts";
import { call } from "../support/http.ts";
import { expectPlacedOnce, JOINING, range, RebalanceCluster, seedRow, withCluster } from "./cluster.ts";
import { useMariaDBServers } from "../support/cluster.ts";

setDefaultTimeout(120_000);

/** Expected (from, to) -> count of `ids` by the reference ring. */
function expectedPairs(c: RebalanceCluster, ids: readonly string[]) {
  const pairs = new Map<string, number>();
  for (const id of ids) {
    const [from, to] = [c.oldOwner(id), c.newOwner(id)];
    if (from !== to) pairs.set(`${from}>${to}`, (pairs.get(`${from}>${to}`) ?? 0) + 1);
  }
  return [...pairs]
    .map(([k, records]) => ({ from: k.split(">")[0]!, to: k.split(">")[1]!, records }))
    .sort((x, y) => (`${x.from}\0${x.to}` < `${y.from}\0${y.to}` ? -1 : 1));
}

describe.skipIf(!!mysqlUnavailable)("shardctl rebalance on MariaDB", () => {
  const databases = useMariaDBServers(2, "rebalance");

  test("3 -> 4 nodes: each record once, on its new owner; exactly the planned records moved; client verify passes; once more does nothing", async () => {
    await withCluster({ ...JOINING, db: databases() }, 3000, async (c, ids) => {
      const before = await c.rows();

      const dry = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--dry-run", "--json");
      expect([dry.code, dry.stderr]).toEqual([0, ""]);
      const plan = JSON.parse(dry.stdout).plan;
      const pairs = expectedPairs(c, ids);
      expect(plan.pairs).toEqual(pairs);
      expect(pairs.every((p) => p.to === "d")).toBe(true);
      expect(plan.moving).toBe(pairs.reduce((s, p) => s + p.records, 0));
      // the dry run changed nothing
      expect(await c.rows()).toEqual(before);
      expect((await call(c.instances.get("a")!.url, "GET", "/ring")).json.rebalance).toBeUndefined();

      const run = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--json");
      expect([run.code, run.stderr]).toEqual([0, ""]);
      const report = JSON.parse(run.stdout);
      expect(report.outcome).toBe("done");
      // exactly the records whose owner changes were copied, and deleted from their old owner
      expect([report.copy.examined, report.copy.missing, report.copy.different, report.copy.extra]).toEqual([plan.moving, plan.moving, 0, 0]);
      expect(report.verify).toMatchObject({ examined: plan.moving, same: plan.moving, missing: 0, different: 0, extra: 0 });
      expect(report.cleanup).toEqual({ deleted: plan.moving });
      expect(report.switched).toEqual(["d", "a", "b", "c"]);
      expect(report.fence.ms).toBeGreaterThanOrEqual(0);
      await expectPlacedOnce(c, new Map(ids.map((id) => [id, seedRow(id)])));
      for (const name of c.names) {
        const ring = (await call(c.instances.get(name)!.url, "GET", "/ring")).json;
        expect([ring.label, ring.rebalance.phase, ring.rebalance.holder]).toEqual([c.next.label, "done", null]);
      }

      const verify = await runCli("client", "verify", "--ring", c.newFile, "--ids", "1..3000");
      expect([verify.code, verify.stderr]).toEqual([0, ""]);

      const again = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile);
      expect([again.code, again.stdout]).toEqual([
        0,
        `rebalance ${c.old.label} -> ${c.next.label}: done already, every node holds ring ${c.next.label}; nothing to do.`,
      ]);
    });
  });

  test("4 -> 3 nodes: the leaving node's records go to their new owners; it holds nothing after and answers 421 for every id", async () => {
    await withCluster({ old: ["a", "b", "c", "d"], next: ["a", "b", "c"], db: databases() }, 3000, async (c, ids) => {
      const pairs = expectedPairs(c, ids);
      expect(pairs.every((p) => p.from === "d")).toBe(true);
      // --from left out: the instances tell their ring
      const run = await runCli("rebalance", "--to", c.newFile, "--json");
      expect([run.code, run.stderr]).toEqual([0, ""]);
      const report = JSON.parse(run.stdout);
      expect(report.plan.pairs).toEqual(pairs);
      expect(report.copy.missing).toBe(report.plan.moving);
      await expectPlacedOnce(c, new Map(ids.map((id) => [id, seedRow(id)])));
      expect((await c.rows()).get("d")!.size).toBe(0);
      const d = c.instances.get("d")!;
      const someId = ids.find((id) => c.oldOwner(id) === "d")!;
      const refused = await call(d.url, "GET", `/v1/expenses/${someId}`);
      expect([refused.status, refused.json.owner.name, refused.json.ring]).toEqual([421, c.newOwner(someId), c.next.label]);
      expect((await runCli("client", "verify", "--ring", c.newFile, "--ids", "1..3000")).code).toBe(0);
    });
  });

  test("a weight change moves ids onto that node only, between nodes that stay", async () => {
    await withCluster({ old: ["a", "b", "c"], next: [{ name: "a", weight: 2 }, "b", "c"], db: databases() }, 2000, async (c, ids) => {
      const run = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--json");
      expect([run.code, run.stderr]).toEqual([0, ""]);
      const report = JSON.parse(run.stdout);
      const pairs = expectedPairs(c, ids);
      expect(report.plan.pairs).toEqual(pairs);
      expect(new Set(pairs.map((p) => p.to))).toEqual(new Set(["a"]));
      expect(report.switched).toEqual(["a", "b", "c"]);
      await expectPlacedOnce(c, new Map(ids.map((id) => [id, seedRow(id)])));
    });
  });

  test("a writer with the old ring throughout: every write acknowledged and in its last acknowledged state, no deleted record back, none twice", async () => {
    const c = await RebalanceCluster.start({ old: ["a", "b", "c"], next: ["a", "b", "c", "d"], db: databases() });
    try {
      const seeded = range(1, 3000);
      await c.seed(seeded);
      const writer = oldRingWriter(c, seeded, range(100_001, 101_000));
      // the rebalance starts once the writer is under way, and the writer goes on after it
      await writer.until((n) => n >= 200);
      const run = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--json");
      const done = writer.acknowledged;
      await writer.until((n) => n >= done + 200);
      await writer.stop();
      expect([run.code, run.stderr]).toEqual([0, ""]);
      const report = JSON.parse(run.stdout);
      expect(report.outcome).toBe("done");

      const rows = await c.rows();
      const where = new Map<string, string[]>();
      for (const [node, held] of rows) for (const id of held.keys()) where.set(id, [...(where.get(id) ?? []), node]);
      const problems: string[] = [];
      for (const [id, state] of writer.expected) {
        const at = where.get(id) ?? [];
        if (writer.uncertain.has(id)) {
          if (at.length > 1 || (at.length === 1 && at[0] !== c.newOwner(id))) problems.push(`${id} (outcome unknown) is on ${at.join(", ")}`);
        } else if (state === null) {
          if (at.length > 0) problems.push(`${id} was deleted (acknowledged) but is on ${at.join(", ")}`);
        } else if (at.length !== 1 || at[0] !== c.newOwner(id)) {
          problems.push(`${id} is on ${at.join(", ") || "no node"}, its owner is ${c.newOwner(id)}`);
        } else if (rows.get(at[0]!)!.get(id)!.name !== state) {
          problems.push(`${id} holds name ${rows.get(at[0]!)!.get(id)!.name}, the last acknowledged write said ${state}`);
        }
      }
      expect(problems.slice(0, 10)).toEqual([]);
      for (const id of where.keys()) expect(writer.expected.has(id)).toBe(true);
      // it wrote during the whole rebalance: creates, updates and deletes acknowledged
      expect(Object.values(writer.counts).every((n) => n > 20)).toBe(true);
      // none failed: writes to moving records waited out the fence (503 + Retry-After), and after
      // the switch the client followed the 421s to the new owners, adopting the new ring
      expect([...writer.uncertain]).toEqual([]);
      expect(writer.client.ring.label).toBe(c.next.label);
    } finally {
      await c.stop();
    }
  });
});

/**
 * Clients that keep the old ring: each of four workers creates, updates, deletes and
 * re-creates its own ids (one request at a time, so the last acknowledged write of an
 * id is well defined), and notes every acknowledged write. A write that failed has an
 * unknown outcome: its id is left out of the strict checks.
 */
function oldRingWriter(c: RebalanceCluster, seeded: readonly string[], fresh: readonly string[]) {
  const client = new ShardedExpenseClient({ ring: c.old, retries: 8 });
  /** id -> the name its last acknowledged write left, or null: deleted (absent ids of `fresh` are not listed until created). */
  const expected = new Map<string, string | null>(seeded.map((id) => [id, seedRecord(id).name]));
  const uncertain = new Set<string>();
  const counts = { create: 0, update: 0, delete: 0 };
  let acknowledged = 0;
  let stopping = false;
  const waiters: { test: (n: number) => boolean; resolve: () => void }[] = [];
  const acked = () => {
    acknowledged++;
    for (const w of waiters.filter((w) => w.test(acknowledged))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const workers = Array.from({ length: 4 }, async (_, w) => {
    const mine = (id: string) => Number(id) % 4 === w;
    const present = seeded.filter(mine);
    const absent = fresh.filter(mine);
    for (let n = 0; !stopping; n++) {
      const roll = Math.random();
      const kind = absent.length > 0 && (roll < 0.3 || present.length < 10) ? "create" : roll < 0.75 ? "update" : "delete";
      const pool = kind === "create" ? absent : present;
      const id = pool.splice(Math.floor(Math.random() * pool.length), 1)[0]!;
      const name = `w${w} ${kind} ${n}`;
      try {
        if (kind === "create") await client.create({ ...seedRecord(id), name });
        else if (kind === "update") {
          if ((await client.update(id, { name })) === undefined) throw new Error(`update of ${id}: 404`);
        } else if (!(await client.delete(id))) throw new Error(`delete of ${id}: 404`);
      } catch {
        uncertain.add(id);
        continue;
      }
      expected.set(id, kind === "delete" ? null : name);
      (kind === "delete" ? absent : present).push(id);
      counts[kind]++;
      acked();
    }
  });
  return {
    client,
    expected,
    uncertain,
    counts,
    get acknowledged() {
      return acknowledged;
    },
    /** Resolves once `test` holds for the number of acknowledged writes. */
    until: (test: (n: number) => boolean) => (test(acknowledged) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ test, resolve }))),
    stop: async () => {
      stopping = true;
      await Promise.all(workers);
    },
  };
}
