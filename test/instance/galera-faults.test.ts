/**
 * An instance on a three-member Galera cluster while members fail, under concurrent POST,
 * PUT and DELETE from clients that settle every 503 by sending the request again
 * (test/support/writers.ts): the member in use killed (SIGKILL), frozen (SIGSTOP) and
 * restarted; quorum lost (two of three killed). After each, every acknowledged write is on
 * every surviving member with its acknowledged content (read by SQL), no deleted record is
 * back, nothing else is there; how long writes were unavailable is printed. GET /status,
 * /metrics, /readyz and shardctl status show the members; reads after a move, through the
 * router too, see every write before it.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { type Instance, startInstance } from "../../src/instance/index.ts";
import { type GaleraMember, galeraUnavailable, useGalera } from "../support/galera.ts";
import { runCli } from "../support/cli.ts";
import { call } from "../support/http.ts";
import { waitFor } from "../support/net.ts";
import { parsePrometheusText, sampleValue } from "../support/prom-text.ts";
import { routerFor } from "../router/support.ts";
import { expectModel, Writers } from "../support/writers.ts";

setDefaultTimeout(180_000);

const WRITERS = 4;

describe.skipIf(!!galeraUnavailable)("an instance on a three-member Galera cluster, members failing under writes", () => {
  const galera = useGalera();
  let n = 0;
  const member = (i: number) => galera().members[i]!;

  /** An instance on a fresh database of the cluster (members in `order`), and the database's name. */
  async function instance(order?: readonly number[]) {
    const database = `faults_${n++}`;
    const inst = await startInstance({ port: 0, db: galera().url(database, order), name: "g", log: false });
    return { inst, database };
  }

  /** The member the instance uses now, as its GET /status says. */
  const inUse = async (inst: Instance) => (await call(inst.url, "GET", "/status")).json.database.member as string | null;

  /** Every member that runs holds exactly what the writers' model says. */
  async function expectOnSurvivors(database: string, writers: Writers, members: readonly GaleraMember[]) {
    expect(writers.unexpected).toEqual([]);
    for (const m of members) expectModel(`member ${m.address}`, await m.records(database), writers.model);
  }

  /**
   * Heals the cluster, starts an instance on a fresh database (members in `order`) and writers on
   * it, runs `faults` once they are going; then stops both, heals the cluster again and checks
   * every member holds exactly what the writers were acknowledged.
   */
  async function underWrites(order: readonly number[] | undefined, faults: (inst: Instance, writers: Writers, database: string) => Promise<void>) {
    await galera().heal();
    const { inst, database } = await instance(order);
    const writers = new Writers(inst.url, WRITERS);
    try {
      await writers.acknowledged(50);
      await faults(inst, writers, database);
    } catch (e) {
      // the cluster may be unable to serve: do not wait for it to settle what the writers have in flight
      writers.abandon();
      throw e;
    } finally {
      await writers.stop();
      await inst.stop();
    }
    await galera().heal();
    await expectOnSurvivors(database, writers, galera().members);
  }

  const report = (what: string, writers: Writers, fault: number) => {
    const first = writers.firstAckAfter(fault);
    console.log(
      `[galera] ${what}: the first write sent after it acknowledged ${first === undefined ? "never" : `${Math.round(first - fault)} ms`} after it; ` +
        `longest time without one ${Math.round(writers.longestGapAfter(fault))} ms; ${writers.stats.acknowledged} writes acknowledged, ` +
        `${writers.stats.unavailable} answered 503 and sent again`,
    );
  };

  test("GET /status names every member and the one in use, /metrics has their figures, /readyz is 200", async () => {
    await galera().heal();
    const { inst } = await instance([1, 0, 2]);
    try {
      const status = (await call(inst.url, "GET", "/status")).json;
      expect(status.ready).toBe(true);
      expect(status.database).toMatchObject({ dialect: "mysql", cluster: "galera", member: member(1).address, moves: 0 });
      expect(Date.parse(status.database.since)).toBeGreaterThan(Date.now() - 60_000);
      expect(status.database.members).toEqual(
        [1, 0, 2].map((i) => ({ address: member(i).address, state: "Synced", clusterSize: 3, inUse: i === 1, usable: true })),
      );
      const metrics = parsePrometheusText(await (await fetch(`${inst.url}/metrics`)).text());
      const value = (name: string, labels: Record<string, string> = {}) => sampleValue(metrics, name, labels);
      expect(value("shardctl_galera_member_in_use", { member: member(1).address })).toBe(1);
      expect(value("shardctl_galera_member_in_use", { member: member(0).address })).toBe(0);
      expect(value("shardctl_galera_cluster_size", { member: member(2).address })).toBe(3);
      expect(value("shardctl_galera_usable_members")).toBe(3);
      expect(value("shardctl_galera_recv_queue", { member: member(1).address })).toBeGreaterThanOrEqual(0);
      expect(value("shardctl_galera_flow_control_paused_seconds_total", { member: member(1).address })).toBeGreaterThanOrEqual(0);
      expect(value("shardctl_galera_member_moves_total")).toBe(0);
      expect((await call(inst.url, "GET", "/readyz")).status).toBe(200);
      // shardctl status reads them: a row per member, the one in use marked
      const report = await runCli("status", "--nodes", `g=${new URL(inst.url).host}`, "--json");
      expect(JSON.parse(report.stdout).nodes[0].galera).toEqual({
        member: member(1).address,
        since: status.database.since,
        members: [1, 0, 2].map((i) => ({ address: member(i).address, state: "Synced", clusterSize: 3, inUse: i === 1, usable: true, problem: null })),
      });
      const table = (await runCli("status", "--nodes", `g=${new URL(inst.url).host}`)).stdout;
      expect(table).toContain(`g     ${member(1).address}  Synced        3  yes, `);
    } finally {
      await inst.stop();
    }
  });

  test("kill -9 of the member in use: writes resume on the next member, nothing acknowledged is lost; the killed member rejoins and is used again", async () => {
    await underWrites(undefined, async (inst, writers, database) => {
      expect(await inUse(inst)).toBe(member(0).address);
      const killed = performance.now();
      await member(0).kill();
      await writers.acknowledged(50);
      report("kill -9 of the member in use", writers, killed);
      expect(await inUse(inst)).toBe(member(1).address);

      // the killed member comes back (IST, or a full copy), and is synced again
      await member(0).start();
      await galera().synced(120_000);
      await writers.acknowledged(20);
      // then the member in use now dies (the one it moved to, or a third: a member that feeds a joiner is left too), and the
      // first in the URL's order, back, is used again
      const address = await inUse(inst);
      const now = galera().members.find((m) => m.address === address)!;
      expect(now).not.toBe(member(0));
      const second = performance.now();
      await now.kill();
      await writers.acknowledged(50);
      report("kill -9 of the next member in use", writers, second);
      expect(await inUse(inst)).toBe(member(0).address);
      await writers.stop();
      await expectOnSurvivors(
        database,
        writers,
        galera().members.filter((m) => m.running),
      );
      const status = (await call(inst.url, "GET", "/status")).json.database;
      expect(status.moves).toBeGreaterThanOrEqual(2);
      expect(status.members.find((m: { address: string }) => m.address === now.address)).toMatchObject({ state: "down", usable: false });
    });
  });

  test("SIGSTOP of the member in use: the instance leaves it within seconds, nothing acknowledged is lost; thawed, it catches up", async () => {
    await underWrites([2, 1, 0], async (inst, writers, database) => {
      const frozen = performance.now();
      member(2).freeze();
      await writers.acknowledged(50);
      report("SIGSTOP of the member in use", writers, frozen);
      expect(await inUse(inst)).toBe(member(1).address);
      const status = (await call(inst.url, "GET", "/status")).json.database;
      expect(status.members[0]).toMatchObject({ address: member(2).address, state: "down", usable: false });
      expect(status.members[0].problem).toContain("no answer within");
      await writers.stop();
      await expectOnSurvivors(database, writers, [member(0), member(1)]);
    });
  });

  test("restart of the member in use (a clean stop, then start): writes go on through the others, nothing acknowledged is lost", async () => {
    await underWrites(undefined, async (inst, writers) => {
      const stopped = performance.now();
      await member(0).halt();
      await writers.acknowledged(50);
      report("clean stop of the member in use", writers, stopped);
      expect(await inUse(inst)).toBe(member(1).address);
      await member(0).start();
      await galera().synced(120_000);
      await writers.acknowledged(50);
    });
  });

  test("quorum lost (two of three killed): readiness false naming the cause, no write acknowledged; back when the survivor re-forms the primary component and a member returns", async () => {
    await underWrites(undefined, async (inst, writers, database) => {
      await Promise.all([member(1).kill(), member(2).kill()]);
      const lost = performance.now();
      // the survivor, the member in use, leaves the primary component once it evicts the dead (evs.suspect_timeout)
      const ready = await waitFor(
        async () => {
          const r = await call(inst.url, "GET", "/readyz");
          return r.status === 503 ? r.json : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(ready.ready).toBe(false);
      expect(ready.message).toContain("no member of the Galera cluster is usable");
      expect(ready.message).toContain(`${member(0).address} is outside the primary component`);
      expect(ready.message).toContain(`${member(1).address} is down`);
      // a GET is refused too (503), never answered from a member that lost quorum
      expect((await call(inst.url, "GET", "/v1/expenses/1000001")).status).toBe(503);
      await Bun.sleep(3000);
      expect((await call(inst.url, "GET", "/status")).json.database.member).toBeNull();

      // the operator re-forms the primary component from the survivor (Galera waits for that, or for all three), and a member returns
      const reformed = performance.now();
      await member(0).sql("SET GLOBAL wsrep_provider_options = 'pc.bootstrap=YES'");
      await member(1).start();
      await writers.acknowledged(50);
      report("quorum lost, then re-formed", writers, reformed);
      // nothing sent after the quorum went was acknowledged before it was re-formed
      const acknowledgedMeanwhile = writers.sent.filter((s) => s.at > lost && s.at < reformed && s.status >= 200 && s.status < 300);
      expect(acknowledgedMeanwhile).toEqual([]);
      expect((await call(inst.url, "GET", "/readyz")).status).toBe(200);
      await writers.stop();
      await expectOnSurvivors(database, writers, [member(0), member(1)]);
    });
  });

  test("reads right after a move see every write acknowledged before it, through the router too", async () => {
    await galera().heal();
    const { inst } = await instance();
    const router = routerFor([{ name: "g", url: inst.url }]);
    try {
      const ids = Array.from({ length: 300 }, (_, i) => String(i + 1));
      for (const id of ids) expect((await call(router.url, "POST", "/v1/expenses", seedRecord(id))).status).toBe(201);
      await member(0).kill();
      // the first answer after the move, then every id: none is missing
      await waitFor(async () => ((await call(router.url, "GET", `/v1/expenses/${ids.at(-1)}`)).status === 200 ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 20,
      });
      for (const id of ids) expect({ id, status: (await call(router.url, "GET", `/v1/expenses/${id}`)).status }).toEqual({ id, status: 200 });
      expect(await inUse(inst)).toBe(member(1).address);
      expect((await call(router.url, "GET", "/readyz")).status).toBe(200);
    } finally {
      await router.stop();
      await inst.stop();
    }
  });
});
