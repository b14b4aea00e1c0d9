/**
 * `shardctl rebalance` between shards on plain MariaDB servers and a shard on a three-member
 * Galera cluster, with the Galera member in use killed (SIGKILL) while the records move: onto
 * the Galera shard (it joins), and off it again (it leaves). The run goes on through the
 * instance's move to another member (or, run again, resumes); afterwards every record is once
 * on its owner under the new ring (read by SQL), client verify passes, and the killed member
 * rejoins with every record.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { type GaleraMember, galeraUnavailable, useGalera } from "../support/galera.ts";
import { runCli } from "../support/cli.ts";
import { useMariaDBServers } from "../support/cluster.ts";
import { call } from "../support/http.ts";
import { waitFor } from "../support/net.ts";
import { expectPlacedOnce, type RebalanceCluster, seedRow, withCluster } from "./cluster.ts";

setDefaultTimeout(240_000);

const RECORDS = 6000;

describe.skipIf(!!galeraUnavailable)("rebalance between plain shards and a Galera shard, a member killed mid-copy", () => {
  const plain = useMariaDBServers(1, "ha_rebalance");
  const galera = useGalera();
  let n = 0;

  /** Runs the rebalance; once node g's rebalance has begun copying, kills the Galera member g uses. */
  async function rebalanceKillingMember(c: RebalanceCluster): Promise<GaleraMember> {
    const g = c.instances.get("g")!;
    let finished = false;
    const run = runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--json").finally(() => {
      finished = true;
    });
    await waitFor(async () => ((await call(g.url, "GET", "/ring")).json.rebalance?.phase === "copying" ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 10,
    });
    const address = (await call(g.url, "GET", "/status")).json.database.member;
    const killed = galera().members.find((m) => m.address === address)!;
    await killed.kill();
    // the kill met the rebalance under way, not after it
    expect(finished).toBe(false);
    let result = await run;
    if (result.code !== 0) {
      // it stopped on the outage (its retries ran out): the same command again resumes it
      console.log(`[galera] the first run stopped (exit ${result.code}): ${result.stdout.slice(0, 300)} ${result.stderr.slice(-300)}`);
      result = await runCli("rebalance", "--from", c.oldFile, "--to", c.newFile, "--json");
    }
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.outcome).toBe("done");
    // g went on through another member
    const status = (await call(g.url, "GET", "/status")).json.database;
    expect(status.moves).toBe(1);
    expect(status.member).not.toBe(address);
    console.log(`[galera] rebalance with member ${address} killed mid-copy: fence ${report.fence.ms} ms, ${report.cleanup.deleted} records moved`);
    return killed;
  }

  async function afterwards(c: RebalanceCluster, ids: string[], killed: GaleraMember, database: string) {
    await expectPlacedOnce(c, new Map(ids.map((id) => [id, seedRow(id)])));
    const verify = await runCli("client", "verify", "--ring", c.newFile, "--ids", `1..${RECORDS}`);
    expect(verify.code).toBe(0);
    // the killed member comes back with what the shard holds
    await galera().heal();
    const held = await killed.records(database);
    expect(held.map((r) => r.id).sort()).toEqual(ids.filter((id) => c.newOwner(id) === "g").sort());
  }

  test("plain shards a, b -> a, b and g on Galera: the records g owns now are copied onto it while its member in use dies", async () => {
    await galera().heal();
    const database = `rebalance_in_${n++}`;
    const onPlain = plain();
    const db = (name: string) => (name === "g" ? galera().url(database) : onPlain(name));
    await withCluster({ old: ["a", "b"], next: ["a", "b", "g"], db }, RECORDS, async (c, ids) => {
      const killed = await rebalanceKillingMember(c);
      await afterwards(c, ids, killed, database);
    });
  });

  test("a, b and g on Galera -> plain shards a, b: g's records leave it while its member in use dies", async () => {
    await galera().heal();
    const database = `rebalance_out_${n++}`;
    const onPlain = plain();
    const db = (name: string) => (name === "g" ? galera().url(database, [1, 2, 0]) : onPlain(name));
    await withCluster({ old: ["a", "b", "g"], next: ["a", "b"], db }, RECORDS, async (c, ids) => {
      const killed = await rebalanceKillingMember(c);
      await afterwards(c, ids, killed, database);
    });
  });
});
