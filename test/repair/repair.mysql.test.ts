/**
 * `shardctl repair` on MariaDB, where the store matters:
 *
 *   - finding 4 of issue 18 from the start, on instances that hold no ring;
 *   - under live writers on ring-aware instances: records misplaced straight into the
 *     databases, writers (each the only writer of its ids, one attempt per request, every
 *     answer recorded) creating, updating, deleting and reading on the owners while the repair
 *     runs; then every row is judged by SQL: each id on its owner only, the last acknowledged
 *     write's record there (or none after an acknowledged delete), the seed's where no write
 *     was acknowledged;
 *   - the `shardctl repair` process (bun src/cli.ts, a child) SIGKILLed between its placements
 *     and its removals (made to last: a node's table locked from outside), then at random
 *     moments, a client deleting records the killed runs had placed; the run to the end leaves
 *     each record once on its owner, the deleted ones nowhere; once more: nothing to do.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import mysql from "mysql2/promise";
import type { Expense } from "../../src/expenses/model.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { parseNodeList } from "../../src/ring/node.ts";
import { Ring } from "../../src/ring/ring.ts";
import { openStore } from "../../src/store/index.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { readRows, type Row } from "../rebalance/cluster.ts";
import { stored } from "../store/store.contract.ts";
import { killRunningCli, runCli, spawnCli } from "../support/cli.ts";
import { type Cluster, localNodes, startCluster, useMariaDBServers } from "../support/cluster.ts";
import { call } from "../support/http.ts";
import { mysqlUnavailable } from "../support/mariadb.ts";
import { waitFor } from "../support/net.ts";

setDefaultTimeout(180_000);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

/** A ring-aware cluster a, b, c (epoch 1) on `db`, and the ids 1..`misplaced` stored straight on a node that does not own them. */
async function misplacedCluster(db: (name: string) => string, misplaced: number) {
  const ring = new Ring(parseNodeList(await localNodes(["a", "b", "c"])), { vnodes: 160, epoch: 1 });
  const cluster = await startCluster({ ring, db });
  const owner = refOwnerOf(ring.nodes);
  const wrong = (id: string) => ["a", "b", "c"][(["a", "b", "c"].indexOf(owner(id)) + 1 + (Number(id) % 2)) % 3]!;
  const ids = range(1, misplaced);
  await put(cluster, ids, wrong);
  return { ring, cluster, owner, ids, wrong };
}

/** Stores the seed record of each id on `on(id)`, straight into the databases. */
async function put(cluster: Cluster, ids: readonly string[], on: (id: string) => string, record: (id: string) => Expense = (id) => stored(id)) {
  const byNode = new Map<string, Expense[]>();
  for (const id of ids) byNode.set(on(id), [...(byNode.get(on(id)) ?? []), record(id)]);
  for (const [name, records] of byNode) {
    const store = await openStore(cluster.db(name));
    try {
      await store.putMany(records);
    } finally {
      await store.close();
    }
  }
}

/** A connection to node `name`'s database. */
function connect(cluster: Cluster, name: string) {
  const u = new URL(cluster.db(name));
  return mysql.createConnection({ host: u.hostname, port: Number(u.port), user: u.username, database: u.pathname.slice(1) });
}

/** node -> id -> row, by SQL. */
async function rowsOf(cluster: Cluster): Promise<Map<string, Map<string, Row>>> {
  return new Map(await Promise.all(cluster.nodes.map(async (n) => [n.name, new Map((await readRows(cluster.db(n.name))).map((r) => [r.id, r]))] as const)));
}

/** The ids held off their owner, or by more than their owner: `id on nodes (owner o)`. */
function offOwner(rows: Map<string, Map<string, Row>>, owner: (id: string) => string): string[] {
  const where = new Map<string, string[]>();
  for (const [node, held] of rows) for (const id of held.keys()) where.set(id, [...(where.get(id) ?? []), node]);
  return [...where].filter(([id, on]) => on.length !== 1 || on[0] !== owner(id)).map(([id, on]) => `${id} on ${on.join(",")} (owner ${owner(id)})`);
}

const asRow = (r: Pick<Expense, "id" | "name" | "estimated_costs" | "status">): Row => ({
  id: r.id,
  name: r.name,
  cents: Math.round(Number(r.estimated_costs) * 100),
  status: r.status,
});

/** `bun src/cli.ts repair --nodes LIST --json` as a child process. */
const spawnRepair = (nodeList: string) => spawnCli("repair", "--nodes", nodeList, "--json");

describe.skipIf(!!mysqlUnavailable)("shardctl repair on MariaDB", () => {
  const databases = useMariaDBServers(2, "repair");
  afterEach(killRunningCli);

  test("finding 4: client run with node c forgotten, on instances with no ring; repair with the whole list; client verify exits 0", async () => {
    const cluster = await startCluster({ nodes: ["a", "b", "c"], db: databases() });
    try {
      const short = cluster.nodeList.split(",").slice(0, 2).join(",");
      expect((await runCli("client", "run", "--nodes", short, "--ids", "1..500")).code).toBe(0);
      const before = await runCli("client", "verify", "--nodes", cluster.nodeList, "--ids", "1..500");
      expect([before.code, before.stdout]).toEqual([1, expect.stringContaining("left out node c")]);
      const repaired = await runCli("repair", "--nodes", cluster.nodeList, "--json");
      expect([repaired.code, repaired.stderr]).toEqual([0, ""]);
      const report = JSON.parse(repaired.stdout);
      const owner = refOwnerOf([{ name: "a" }, { name: "b" }, { name: "c" }]);
      const misplaced = range(1, 500).filter((id) => owner(id) === "c").length;
      expect(report).toMatchObject({ outcome: "repaired", placed: misplaced, removed: misplaced, remaining: 0, unresolved: [] });
      const verify = await runCli("client", "verify", "--nodes", cluster.nodeList, "--ids", "1..500");
      expect([verify.code, verify.stderr]).toEqual([0, ""]);
      expect(offOwner(await rowsOf(cluster), owner)).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });

  test("under live writers: nothing acknowledged lost, no deleted record back, every record on its owner only", async () => {
    const { cluster, owner, ids } = await misplacedCluster(databases(), 3000);
    try {
      // records on their owner too, and ids nobody stored yet
      const placed = range(3001, 3600);
      await put(cluster, placed, owner);
      const fresh = range(3601, 3900);
      const seeded = new Map([...ids, ...placed].map((id) => [id, asRow(stored(id))]));
      const all = [...ids, ...placed, ...fresh];

      // each writer thread the only writer of its ids; one attempt per request; an answer that says nothing certain retires the id
      const acked = new Map<string, Row | null>();
      const uncertain = new Set<string>();
      const counts = { ops: 0, acked: 0, created: 0, deleted: 0, updated: 0 };
      let stop = false;
      const writer = async (t: number, threads: number) => {
        const mine = all.filter((_, i) => i % threads === t);
        let n = 0;
        while (!stop) {
          const id = mine[Math.floor(Math.random() * mine.length)]!;
          if (uncertain.has(id)) {
            await Bun.sleep(1);
            continue;
          }
          const url = cluster.url(owner(id));
          const pick = Math.random();
          n++;
          counts.ops++;
          let status: number;
          let body: Expense | undefined;
          try {
            if (pick < 0.3) {
              const r = await call(url, "POST", "/v1/expenses", { ...seedRecord(id), name: `created by ${t}.${n}` });
              [status, body] = [r.status, r.json];
              if (status === 201) counts.created++;
            } else if (pick < 0.6) {
              const r = await call(url, "PUT", `/v1/expenses/${id}`, { name: `updated by ${t}.${n}`, status: "approved", decision_date: "01-02-2024" });
              [status, body] = [r.status, r.json];
              if (status === 202) counts.updated++;
            } else if (pick < 0.8) {
              status = (await call(url, "DELETE", `/v1/expenses/${id}`)).status;
              if (status === 204) counts.deleted++;
            } else {
              status = (await call(url, "GET", `/v1/expenses/${id}`)).status;
            }
          } catch {
            status = 0;
          }
          history.set(id, [
            ...(history.get(id) ?? []),
            `${Math.round(performance.now() - t0)}:${pick < 0.3 ? "POST" : pick < 0.6 ? "PUT" : pick < 0.8 ? "DELETE" : "GET"}=${status}`,
          ]);
          if (status === 201 || status === 202) acked.set(id, asRow(body!));
          else if (status === 204) acked.set(id, null);
          else if (![200, 404, 409].includes(status)) uncertain.add(id);
          if (status >= 201 && status <= 204) counts.acked++;
        }
      };
      const history = new Map<string, string[]>();
      const t0 = performance.now();
      const writers = Array.from({ length: 4 }, (_, t) => writer(t, 4));
      await waitFor(() => (counts.acked >= 30 ? true : undefined), { timeoutMs: 30_000, intervalMs: 5 });
      const began = Math.round(performance.now() - t0);
      const ackedBefore = counts.acked;
      const repaired = await runCli("repair", "--nodes", cluster.nodeList, "--json");
      const ackedDuring = counts.acked - ackedBefore;
      const ended = Math.round(performance.now() - t0);
      await Bun.sleep(100);
      stop = true;
      await Promise.all(writers);

      expect([repaired.code, repaired.stderr]).toEqual([0, ""]);
      const report = JSON.parse(repaired.stdout);
      expect([report.ringFrom, report.remaining, report.unresolved]).toEqual(["cluster", 0, []]);
      expect(report.found.ids).toBeGreaterThan(2500);
      // the writers wrote while the repair ran
      expect(ackedDuring).toBeGreaterThan(10);
      expect(uncertain.size).toBe(0);

      const rows = await rowsOf(cluster);
      expect(offOwner(rows, owner).slice(0, 5)).toEqual([]);
      const lost: string[] = [];
      for (const id of all) {
        const expected = acked.has(id) ? acked.get(id)! : (seeded.get(id) ?? null);
        const found = rows.get(owner(id))!.get(id) ?? null;
        if (JSON.stringify(found) !== JSON.stringify(expected))
          lost.push(`${id}: expected ${JSON.stringify(expected)}, found ${JSON.stringify(found)}; repair ${began}..${ended}: ${history.get(id)?.join(" ")}`);
      }
      expect(lost.slice(0, 5)).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });

  test("SIGKILL at random moments, a client deleting what killed runs placed: the run to the end converges, the deleted stay deleted; once more: nothing to do", async () => {
    const { cluster, owner, ids } = await misplacedCluster(databases(), 8000);
    try {
      const deleted = new Set<string>();
      const kills: string[] = [];
      // First a kill that must come between placements and removals: node a's table locked from
      // outside (its rows and gaps), so that the batch waits on a while b and c take their records.
      const lock = await connect(cluster, "a");
      const observer = await connect(cluster, "b");
      try {
        await lock.query("BEGIN");
        await lock.query("SELECT * FROM expenses FOR UPDATE");
        const count = async () =>
          Number(((await observer.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM expenses"))[0] as mysql.RowDataPacket[])[0]!.n);
        const before = await count();
        const run = spawnRepair(cluster.nodeList);
        await waitFor(async () => ((await count()) > before ? true : undefined), { timeoutMs: 60_000, intervalMs: 10 });
        run.proc.kill("SIGKILL");
        expect((await run.result).signal).toBe("SIGKILL");
        // records b owns, placed on it, their stray copies still where they were: a client deletes five
        const rows = await rowsOf(cluster);
        const placedNotRemoved = ids.filter((id) => owner(id) === "b" && rows.get("b")!.has(id) && [...rows].some(([n, held]) => n !== "b" && held.has(id)));
        expect(placedNotRemoved.length).toBeGreaterThan(5);
        for (const id of placedNotRemoved.slice(0, 5)) {
          expect((await call(cluster.url("b"), "DELETE", `/v1/expenses/${id}`)).status).toBe(204);
          deleted.add(id);
        }
        kills.push(`between placements and removals: ${placedNotRemoved.length} placed, strays left; 5 deleted`);
      } finally {
        await lock.query("ROLLBACK");
        await lock.end();
        await observer.end();
      }
      for (let k = 0; k < 3; k++) {
        const run = spawnRepair(cluster.nodeList);
        const delay = 300 + Math.floor(Math.random() * 1500);
        const ended = await Promise.race([run.result.then(() => true), Bun.sleep(delay).then(() => false)]);
        if (ended) break;
        run.proc.kill("SIGKILL");
        await run.result;
        // a client deletes a few of the records now on their owner (placed by the killed runs)
        const onOwner = ids.filter((id) => !deleted.has(id));
        let found = 0;
        for (const id of onOwner) {
          if (found >= 5) break;
          if ((await call(cluster.url(owner(id)), "GET", `/v1/expenses/${id}`)).status !== 200) continue;
          expect((await call(cluster.url(owner(id)), "DELETE", `/v1/expenses/${id}`)).status).toBe(204);
          deleted.add(id);
          found++;
        }
        kills.push(`${delay} ms: ${found} deleted`);
      }
      const final = await spawnRepair(cluster.nodeList).result;
      expect({ code: final.code, stderr: final.stderr, kills }).toEqual({ code: 0, stderr: "", kills });
      const rows = await rowsOf(cluster);
      expect(offOwner(rows, owner).slice(0, 5)).toEqual([]);
      const wrong = ids.filter((id) => {
        const row = rows.get(owner(id))!.get(id);
        return deleted.has(id) ? row !== undefined : JSON.stringify(row) !== JSON.stringify(asRow(stored(id)));
      });
      expect(wrong.slice(0, 5)).toEqual([]);
      const again = await runCli("repair", "--nodes", cluster.nodeList, "--json");
      expect([again.code, JSON.parse(again.stdout).outcome]).toEqual([0, "nothing-to-do"]);
    } finally {
      await cluster.stop();
    }
  });
});
