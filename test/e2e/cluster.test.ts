/**
 * The main job end to end, on the compiled binary: three real MariaDB servers, three
 * `shardctl serve` processes (one per database), `client run` then `client verify`,
 * and the placement checked in each database directly. Then the faults: an instance
 * down, an instance SIGKILLed mid-run, a record planted on the wrong node.
 */
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import pkg from "../../package.json" with { type: "json" };
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { mysqlUnavailable, startMariaDBs, type MariaDB } from "../support/mariadb.ts";
import { freePort, waitFor } from "../support/net.ts";
import { parseNodeList } from "../../src/ring/node.ts";
import { Ring } from "../../src/ring/ring.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { parsePrometheusText, sampleValue } from "../support/prom-text.ts";
import { cli, compiledBinary, spawnCli, startServe, stopAll, type ServeProcess } from "./support.ts";

const NAMES = ["shard1", "shard2", "shard3"];
/** The owner of an id by the reference ring (the default 160 points per node). */
const ownerOf = refOwnerOf(NAMES.map((name) => ({ name })));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

// bun test's default is 5 s per test (bunfig.toml's [test] timeout is not read by bun);
// these tests run the binary several times and restart instances.
setDefaultTimeout(120_000);

describe.skipIf(!!mysqlUnavailable)("shardctl binary: three MariaDBs, three instances, the client", () => {
  let bin: ReturnType<typeof compiledBinary> | undefined;
  let dbs: MariaDB[] = [];
  let logDir = "";
  let databases = 0;

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), "shardctl-e2e-"));
    // Both settle before either failure is thrown, so afterAll stops whatever did start.
    const [built, servers] = await Promise.allSettled([Promise.resolve().then(compiledBinary), startMariaDBs(3)]);
    if (built.status === "fulfilled") bin = built.value;
    if (servers.status === "fulfilled") dbs = servers.value;
    if (built.status === "rejected") throw built.reason;
    if (servers.status === "rejected") throw servers.reason;
  }, 240_000);

  // A test's instances (and any binary it left running) end with it.
  afterEach(() => stopAll(), 60_000);

  afterAll(async () => {
    await stopAll();
    await Promise.all(dbs.map((d) => d.stop()));
    bin?.cleanup();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  }, 60_000);

  const shardctl = (...args: string[]) => cli(bin!.path, args, { timeoutMs: 120_000 });

  /**
   * Three `shardctl serve` processes, one per MariaDB, on a database made for this test
   * alone, so that no test sees another's records.
   */
  async function startCluster() {
    const database = `e2e_${databases++}`;
    const shards: ServeProcess[] = await Promise.all(NAMES.map((name, i) => startServe(bin!.path, { name, db: dbs[i]!.url(database), logDir })));
    const nodeList = shards.map((s) => `${s.name}=127.0.0.1:${s.port}`).join(",");
    const connect = (i: number) => mysql.createConnection({ host: "127.0.0.1", port: dbs[i]!.port, user: "root", database });

    /** The ids stored in one MariaDB, read with SQL, not through the service. */
    async function idsInDb(i: number): Promise<Set<string>> {
      const c = await connect(i);
      try {
        const [rows] = await c.query("SELECT CAST(id AS CHAR) AS id FROM expenses");
        return new Set((rows as { id: string }[]).map((r) => r.id));
      } finally {
        await c.end();
      }
    }

    return {
      shards,
      nodeList,
      connect,
      idsInDb,
      withNodes: (...args: string[]) => shardctl(...args, "--nodes", nodeList),
      /** Restarts a stopped instance on its port and database. */
      async restart(i: number): Promise<void> {
        shards[i] = await startServe(bin!.path, { name: NAMES[i]!, db: dbs[i]!.url(database), port: shards[i]!.port, logDir });
      },
      /** Each database holds exactly the ids (in numeric order) that the reference ring gives its node. */
      async expectPlacedInDbs(ids: string[]): Promise<void> {
        const stored = await Promise.all(NAMES.map((_, i) => idsInDb(i)));
        const byNumber = (a: string, b: string) => Number(a) - Number(b);
        expect(NAMES.map((name, i) => ({ name, ids: [...stored[i]!].sort(byNumber) }))).toEqual(
          NAMES.map((name) => ({ name, ids: ids.filter((id) => ownerOf(id) === name) })),
        );
      },
    };
  }

  test("the binary answers --version and rejects bad usage with exit 2", async () => {
    // the version, the commit and the Bun baked in by scripts/build.ts
    expect((await shardctl("--version")).stdout.trim()).toMatch(/^shardctl \d+\.\d+\.\d+ \(commit [0-9a-f]{12}(-dirty)?, bun \d+\.\d+\.\d+\)$/);
    expect(JSON.parse((await shardctl("--version", "--json")).stdout)).toEqual({
      version: pkg.version,
      commit: expect.stringMatching(/^[0-9a-f]{12}(-dirty)?$/),
      bun: Bun.version,
      build: "binary",
    });
    const r = await shardctl("client", "run", "--concurrency", "many");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--concurrency must be an integer from 1 to 1024, got "many"');
  });

  test("client run puts the seed records on their owners, verify agrees, and so does each database", async () => {
    const cluster = await startCluster();
    const run = await cluster.withNodes("client", "run");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n").filter((l) => /^ *\d+\s+shard\d\s+201 created\s+200 match$/.test(l))).toHaveLength(10);
    expect(run.stdout).toContain("10 ids: created 10, already stored 0, failed 0");

    const verify = await cluster.withNodes("client", "verify");
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain("10 of 10 ids on their owner with the expected content; 0 missing, 0 mismatched, 0 misplaced, 0 extra");

    await cluster.expectPlacedInDbs(range(1, 10));
  });

  test("one instance down: its ids fail naming node and reason, the others succeed; after restart a re-run completes", async () => {
    const cluster = await startCluster();
    const downUrl = cluster.shards[1]!.url;
    await cluster.shards[1]!.stop();
    const down = await cluster.withNodes("client", "run", "--ids", "11..60", "--retries", "1", "--timeout", "2000", "--json");
    expect(down.code).toBe(1);
    const rows = JSON.parse(down.stdout).rows as { id: string; node: string; ok: boolean; post: { outcome: string; message?: string } }[];
    const onDown = rows.filter((r) => r.node === "shard2");
    expect(onDown.map((r) => r.id)).toEqual(range(11, 60).filter((id) => ownerOf(id) === "shard2"));
    // Found down by the pre-flight check: its ids fail at once, unsent.
    for (const r of onDown) {
      expect(r.post.outcome).toBe("refused");
      expect(r.post.message).toBe(
        `node shard2 (${downUrl}): not sent: node down: connection refused (is the instance running?), found by the pre-flight check`,
      );
    }
    expect(rows.filter((r) => r.node !== "shard2").every((r) => r.ok)).toBe(true);
    expect(down.stderr).toContain(`${onDown.length} of 50 ids failed`);
    expect(down.stderr).toContain(
      `node shard2 (${downUrl}): ${onDown.length} ids; down: connection refused (is the instance running?), found by the pre-flight check`,
    );

    await cluster.restart(1);
    const again = await cluster.withNodes("client", "run", "--ids", "11..60");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`50 ids: created ${onDown.length}, already stored ${50 - onDown.length}, failed 0`);
    const verify = await cluster.withNodes("client", "verify", "--ids", "11..60");
    expect(verify.code).toBe(0);
    await cluster.expectPlacedInDbs(range(11, 60));
  });

  test("an instance SIGKILLed mid-run loses no record whose POST was acknowledged", async () => {
    const cluster = await startCluster();
    const victim = 2;
    const ids = range(1000, 1599);
    const victimIds = ids.filter((id) => ownerOf(id) === NAMES[victim]);
    // The run cannot end before the kill: an open transaction on the victim's database has
    // inserted its ids after the first `storable`, so the instance's inserts of those wait
    // on row locks. Once the first `storable` are committed, the run is stuck on the others.
    const storable = victimIds.slice(0, 40);
    const held = victimIds.slice(40);
    const concurrency = 8;
    const locker = await cluster.connect(victim);
    let result: Awaited<ReturnType<typeof spawnCli>["result"]>;
    try {
      await locker.query("SET SESSION sql_mode = ''"); // the other columns take their implicit defaults
      await locker.query("BEGIN");
      await locker.query(`INSERT INTO expenses (id) VALUES ${held.map(() => "(?)").join(", ")}`, held);
      const run = spawnCli(
        bin!.path,
        [
          "client",
          "run",
          "--nodes",
          cluster.nodeList,
          "--ids",
          "1000..1599",
          "--concurrency",
          String(concurrency),
          "--retries",
          "0",
          "--timeout",
          "60000",
          "--json",
        ],
        { timeoutMs: 120_000 },
      );
      await waitFor(
        async () => {
          const stored = await cluster.idsInDb(victim);
          return storable.every((id) => stored.has(id)) ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 20 },
      );
      await cluster.shards[victim]!.kill();
      result = await run.result;
    } finally {
      await locker.query("ROLLBACK");
      await locker.end();
    }
    expect(result.code).toBe(1);

    const rows = JSON.parse(result.stdout).rows as { id: string; node: string; ok: boolean; post: { ok: boolean; outcome: string } }[];
    const onVictim = rows.filter((r) => r.node === NAMES[victim]);
    expect(onVictim.map((r) => r.id)).toEqual(victimIds);
    const acked = onVictim.filter((r) => r.post.ok).map((r) => r.id);
    const lost = onVictim.filter((r) => !r.post.ok);
    // The kill came mid-run: every held id failed. Of the storable ones, only those in
    // flight at the kill (at most `concurrency`) can have lost their answer.
    expect(lost.map((r) => r.id)).toEqual(expect.arrayContaining(held));
    expect(acked.length).toBeGreaterThanOrEqual(storable.length - concurrency);
    for (const r of lost) expect({ id: r.id, outcome: r.post.outcome }).toEqual({ id: r.id, outcome: expect.stringMatching(/^(refused|reset)$/) });
    expect(rows.filter((r) => r.node !== NAMES[victim]).every((r) => r.ok)).toBe(true);

    // The database of the killed instance holds every acknowledged record.
    const stored = await cluster.idsInDb(victim);
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);

    await cluster.restart(victim);
    const again = await cluster.withNodes("client", "run", "--ids", "1000..1599", "--concurrency", "16");
    expect(again.code).toBe(0);
    const verify = await cluster.withNodes("client", "verify", "--ids", "1000..1599");
    expect(verify.code).toBe(0);
    await cluster.expectPlacedInDbs(ids);
  }, 180_000);

  test("a record planted on a node that does not own it is reported by verify with exit 1", async () => {
    const cluster = await startCluster();
    const urlOf = (name: string) => cluster.shards.find((s) => s.name === name)!.url;
    const post = (name: string, id: string) => fetch(`${urlOf(name)}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(id)) });
    for (const id of range(1, 10)) expect((await post(ownerOf(id), id)).status).toBe(201);
    const wrong = (id: string) => NAMES.find((name) => name !== ownerOf(id))!;
    for (const id of ["5000", "1"]) expect((await post(wrong(id), id)).status).toBe(201);

    const r = await cluster.withNodes("client", "verify", "--ids", "1..10,5000", "--json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.misplaced).toEqual([{ id: "5000", node: wrong("5000"), owner: ownerOf("5000") }]);
    expect(report.extra).toEqual([{ id: "1", node: wrong("1"), owner: ownerOf("1") }]);
    expect(report.missing).toEqual([]);
    expect(r.stderr).toContain(`misplaced: 5000 on ${wrong("5000")}, owner ${ownerOf("5000")}`);

    const human = await cluster.withNodes("client", "verify", "--ids", "1..10,5000");
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`^misplaced\\s+5000\\s+${ownerOf("5000")}\\s+${wrong("5000")}\\s+its owner does not have it$`, "m"));
  });

  /** Three ring-aware instances (one ring for all, from SHARDCTL_NODES) on a database of the test's own. */
  async function startRingAwareCluster() {
    const database = `e2e_${databases++}`;
    const ports = await Promise.all(NAMES.map(() => freePort()));
    const nodeList = NAMES.map((name, i) => `${name}=127.0.0.1:${ports[i]}`).join(",");
    const shards = await Promise.all(
      NAMES.map((name, i) => startServe(bin!.path, { name, db: dbs[i]!.url(database), port: ports[i], logDir, env: { SHARDCTL_NODES: nodeList } })),
    );
    const label = new Ring(parseNodeList(nodeList), { vnodes: 160 }).label;
    for (const s of shards) expect(s.log()).toContain(`ring ${label}`);
    return { database, nodeList, shards, label };
  }

  test("ring-aware instances (SHARDCTL_NODES): a client with other vnodes stores nothing on a non-owner and exits 1; ring check agrees", async () => {
    const { database, nodeList, label } = await startRingAwareCluster();

    const stale = await shardctl("client", "run", "--ids", "1..100", "--nodes", nodeList, "--vnodes", "50", "--json");
    expect(stale.code).toBe(1);
    const rows = JSON.parse(stale.stdout).rows as { id: string; ok: boolean; post: { outcome: string } }[];
    const staleOwner = refOwnerOf(
      NAMES.map((name) => ({ name })),
      50,
    );
    expect(rows.filter((r) => !r.ok).map((r) => r.id)).toEqual(range(1, 100).filter((id) => staleOwner(id) !== ownerOf(id)));
    expect(new Set(rows.filter((r) => !r.ok).map((r) => r.post.outcome))).toEqual(new Set(["ring-mismatch"]));
    // in each database, only ids its node owns
    for (const [i, name] of NAMES.entries()) {
      const c = await mysql.createConnection({ host: "127.0.0.1", port: dbs[i]!.port, user: "root", database });
      try {
        const [stored] = await c.query("SELECT CAST(id AS CHAR) AS id FROM expenses");
        for (const { id } of stored as { id: string }[]) expect({ id, on: name }).toEqual({ id, on: ownerOf(id) });
      } finally {
        await c.end();
      }
    }

    const right = await shardctl("client", "run", "--ids", "1..100", "--nodes", nodeList);
    expect(right.code).toBe(0);
    const check = await shardctl("ring", "check", "--nodes", nodeList);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`3 of 3 nodes hold ring ${label}`);
  });

  test("the binary's status and /metrics (prom-client inside the compiled binary): three nodes up with their counts, requests counted exactly", async () => {
    const { nodeList, shards, label } = await startRingAwareCluster();
    const ids = range(1, 30);
    const run = await shardctl("client", "run", "--ids", "1..30", "--nodes", nodeList);
    expect(run.code).toBe(0);

    const status = await shardctl("status", "--nodes", nodeList, "--json");
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as {
      ring: string;
      ok: boolean;
      nodes: { name: string; up: boolean; ready: boolean; ring: string; records: number; database: string }[];
    };
    expect({ ring: report.ring, ok: report.ok }).toEqual({ ring: label, ok: true });
    expect(report.nodes.map(({ name, up, ready, ring, records, database }) => ({ name, up, ready, ring, records, database }))).toEqual(
      NAMES.map((name) => ({ name, up: true, ready: true, ring: label, records: ids.filter((id) => ownerOf(id) === name).length, database: "mysql" })),
    );

    // each id: one POST and one GET on its owner (client run), nothing else on an expense route
    for (const [i, name] of NAMES.entries()) {
      const text = await (await fetch(`http://127.0.0.1:${shards[i]!.port}/metrics`)).text();
      const families = parsePrometheusText(text);
      const owned = ids.filter((id) => ownerOf(id) === name).length;
      expect({
        name,
        posts: sampleValue(families, "shardctl_http_requests_total", { method: "POST", route: "/v1/expenses", status: "201" }),
        gets: sampleValue(families, "shardctl_http_requests_total", { method: "GET", route: "/v1/expenses/:id", status: "200" }),
        records: sampleValue(families, "shardctl_records"),
        ring: sampleValue(families, "shardctl_ring_info", { label }),
      }).toEqual({ name, posts: owned, gets: owned, records: owned, ring: 1 });
    }

    // one node down: status exits 1 naming it
    await shards[1]!.stop();
    const down = await shardctl("status", "--nodes", nodeList);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`1 of 3 nodes is not well\n  node shard2 (http://127.0.0.1:${shards[1]!.port}): down: `);
    expect(down.stdout).toContain("2 of 3 nodes up, ready and on ring");
  });
});
