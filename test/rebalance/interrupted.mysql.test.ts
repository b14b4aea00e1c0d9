/**
 * A rebalance that does not run straight through, on MariaDB: the `shardctl rebalance`
 * process (bun src/cli.ts, a child process) SIGKILLed at random moments, under the fence
 * before any switch, and between two switches; instances restarted in the middle of the
 * copy. Each time the same command run again completes, every record ends once on its
 * new owner, and one more run does nothing.
 *
 * The moments that must not be left to chance are made to last: a node's switch waits
 * on a row lock held from outside on its instance_ring row (the fence is up on every
 * node then), and the copy waits on a gap lock on the target's expenses table.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import mysql from "mysql2/promise";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { mysqlUnavailable } from "../support/mariadb.ts";
import { killRunningCli, runCli, spawnCli } from "../support/cli.ts";
import { waitFor } from "../support/net.ts";
import { call } from "../support/http.ts";
import { expectPlacedOnce, JOINING, range, RebalanceCluster, seedRow, withCluster } from "./cluster.ts";
import { useMariaDBServers } from "../support/cluster.ts";

setDefaultTimeout(180_000);

/** `bun src/cli.ts rebalance --from OLD --to NEW --json` as a child process. */
const spawnRebalance = (c: RebalanceCluster) => spawnCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--json");

/** A connection to node `name`'s database. */
function connect(c: RebalanceCluster, name: string) {
  const u = new URL(c.db(name));
  return mysql.createConnection({ host: u.hostname, port: Number(u.port), user: u.username, database: u.pathname.slice(1) });
}

/**
 * Runs the rebalance to its end (the command again: it finishes the job, or finds it done
 * when the run before got through), checks the records, then once more: nothing to do.
 */
async function finishAndCheck(c: RebalanceCluster, ids: readonly string[], outcome: "done" | "already-done" = "done") {
  const final = await spawnRebalance(c).result;
  expect({ code: final.code, stderr: final.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  expect(JSON.parse(final.stdout).outcome).toBe(outcome);
  await expectPlacedOnce(c, new Map(ids.map((id) => [id, seedRow(id)])));
  const again = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--json");
  expect([again.code, JSON.parse(again.stdout).outcome]).toEqual([0, "already-done"]);
  for (const [name, p] of Object.entries(await c.phases())) expect({ name, ...p }).toEqual({ name, ring: c.next.label, phase: "done" });
}

describe.skipIf(!!mysqlUnavailable)("a rebalance killed or disturbed, then run again (MariaDB)", () => {
  const databases = useMariaDBServers(2, "interrupted");
  afterEach(killRunningCli);

  test("SIGKILL at random moments, then a run to completion: nothing lost or duplicated; once more: exit 0, nothing done", async () => {
    await withCluster({ ...JOINING, db: databases() }, 12_000, async (c, ids) => {
      const moving = ids.filter((id) => c.oldOwner(id) !== c.newOwner(id)).length;
      const kills: string[] = [];
      // the first in the middle of the copy: the new node holds some of its records, not all
      const observer = await connect(c, "d");
      try {
        const first = spawnRebalance(c);
        await waitFor(
          async () => {
            const [rows] = await observer.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM expenses");
            return rows[0]!.n > 0 && rows[0]!.n < moving ? true : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 2 },
        );
        first.proc.kill("SIGKILL");
        await first.result;
        kills.push(`mid-copy: ${JSON.stringify(await c.phases())}`);
      } finally {
        await observer.end();
      }
      // then at random moments (a run takes one or two seconds, half of it starting bun); a run
      // that gets through before its kill ends the series
      for (let k = 0; k < 3; k++) {
        const run = spawnRebalance(c);
        const delay = 150 + Math.floor(Math.random() * 1500);
        const ended = await Promise.race([run.result.then(() => true), Bun.sleep(delay).then(() => false)]);
        if (ended) {
          const r = await run.result;
          expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/^(shardctl rebalance: took over .*\n)?$/) });
          break;
        }
        run.proc.kill("SIGKILL");
        await run.result;
        kills.push(`${delay} ms: ${JSON.stringify(await c.phases())}`);
      }
      await finishAndCheck(c, ids, kills.length === 4 ? "done" : "already-done");
    });
  });

  /**
   * A 3 -> 4 rebalance killed when `reached` holds, node `held`'s switch waiting on a lock of
   * its instance_ring row meanwhile; `then` looks at the cluster as the kill left it, and the
   * lock goes before the next run completes the job.
   */
  async function killedWhileSwitchWaits(
    held: string,
    reached: (p: Awaited<ReturnType<RebalanceCluster["phases"]>>) => boolean,
    then: (c: RebalanceCluster, ids: string[]) => Promise<void>,
  ) {
    await withCluster({ ...JOINING, db: databases() }, 2000, async (c, ids) => {
      const holder = await connect(c, held);
      try {
        await holder.query("BEGIN");
        await holder.query("SELECT * FROM instance_ring FOR UPDATE");
        const run = spawnRebalance(c);
        await waitFor(async () => (reached(await c.phases()) ? true : undefined), { timeoutMs: 60_000, intervalMs: 10 });
        run.proc.kill("SIGKILL");
        await run.result;
        await then(c, ids);
        await holder.query("ROLLBACK");
      } finally {
        await holder.end();
      }
      await finishAndCheck(c, ids);
    });
  }

  test("SIGKILL under the fence before any switch: writes to moving records wait (503) until the next run switches", async () => {
    // d switches first: its switch waits, with the fence up everywhere
    await killedWhileSwitchWaits(
      "d",
      (p) => Object.values(p).every((n) => n.phase === "fenced"),
      async (c, ids) => {
        const leaving = ids.find((id) => c.oldOwner(id) === "a" && c.newOwner(id) === "d")!;
        const fenced = await call(c.instances.get("a")!.url, "PUT", `/v1/expenses/${leaving}`, { name: "under the fence" });
        expect([fenced.status, fenced.json.error, fenced.headers.get("retry-after")]).toEqual([503, "moving", "1"]);
      },
    );
  });

  test("SIGKILL between two switches: the switched node serves its new records, the others keep the fence, the next run switches them", async () => {
    // the order is d, a, b, c: a's switch waits after d's
    await killedWhileSwitchWaits(
      "a",
      (p) => p.d!.phase === "switched",
      async (c, ids) => {
        const now = await c.phases();
        expect([now.a!.phase, now.b!.phase, now.c!.phase]).toEqual(["fenced", "fenced", "fenced"]);
        const moved = ids.find((id) => c.oldOwner(id) === "a" && c.newOwner(id) === "d")!;
        expect((await call(c.instances.get("d")!.url, "GET", `/v1/expenses/${moved}`)).json.name).toBe(seedRecord(moved).name);
        expect((await call(c.instances.get("a")!.url, "DELETE", `/v1/expenses/${moved}`)).status).toBe(503);
      },
    );
  });

  test("a target and a source restarted while the copy waits: the rebalance goes on or fails naming the node and step; a run again completes", async () => {
    const c = await RebalanceCluster.start({ old: ["a", "b", "c"], next: ["a", "b", "c", "d"], db: databases() });
    const holder = await connect(c, "d");
    const observer = await connect(c, "d");
    try {
      const ids = range(1, 2000);
      await c.seed(ids);
      // the first copy into d waits on this gap lock
      await holder.query("BEGIN");
      await holder.query("SELECT * FROM expenses WHERE id >= 0 FOR UPDATE");
      const run = runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--json");
      const database = new URL(c.db("d")).pathname.slice(1);
      await waitFor(
        async () => {
          const [rows] = await observer.query<mysql.RowDataPacket[]>(
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'INSERT INTO expenses%'",
            [database],
          );
          return rows[0]!.n > 0 ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 20 },
      );
      await c.stopNode("a");
      await c.startNode("a");
      await c.stopNode("d");
      await holder.query("ROLLBACK");
      await c.startNode("d");
      const first = await run;
      if (first.code !== 0) {
        expect(first.code).toBe(1);
        expect(first.stderr).toMatch(/shardctl rebalance: copy: node [ad] \(http:\/\/127\.0\.0\.1:\d+\)/);
      }
      await finishAndCheck(c, ids, first.code === 0 ? "already-done" : "done");
    } finally {
      await holder.end();
      await observer.end();
      await c.stop();
    }
  });
});
