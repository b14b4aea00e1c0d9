/**
 * The main job end to end, on the compiled binary: three real MariaDB servers, three
 * `shardctl serve` processes (one per database), `client run` then `client verify`,
 * and the placement checked in each database directly. Then the faults: an instance
 * down, an instance SIGKILLed mid-run, a record planted on the wrong node.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { mysqlUnavailable, startMariaDBs, type MariaDB } from "../support/mariadb.ts";
import { waitFor } from "../support/net.ts";
import { cli, compiledBinary, spawnCli, startServe, stopAll, type ServeProcess } from "./support.ts";

const NAMES = ["shard1", "shard2", "shard3"];

// bun test's default is 5 s per test (bunfig.toml's [test] timeout is not read by bun);
// these tests run the binary several times and restart instances.
setDefaultTimeout(120_000);

describe.skipIf(!!mysqlUnavailable)("shardctl binary: three MariaDBs, three instances, the client", () => {
  let bin: ReturnType<typeof compiledBinary> | undefined;
  let dbs: MariaDB[] = [];
  let shards: ServeProcess[] = [];
  let nodeList = "";
  let logDir = "";

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), "shardctl-e2e-"));
    // Both settle before either failure is thrown, so afterAll stops whatever did start.
    const [built, servers] = await Promise.allSettled([Promise.resolve().then(compiledBinary), startMariaDBs(3)]);
    if (built.status === "fulfilled") bin = built.value;
    if (servers.status === "fulfilled") dbs = servers.value;
    if (built.status === "rejected") throw built.reason;
    if (servers.status === "rejected") throw servers.reason;
    shards = await Promise.all(NAMES.map((name, i) => startServe(bin!.path, { name, db: dbs[i]!.url("expenses"), logDir })));
    nodeList = shards.map((s) => `${s.name}=127.0.0.1:${s.port}`).join(",");
  }, 240_000);

  afterAll(async () => {
    await stopAll();
    await Promise.all(dbs.map((d) => d.stop()));
    bin?.cleanup();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  }, 60_000);

  const shardctl = (...args: string[]) => cli(bin!.path, args, { timeoutMs: 120_000 });
  const withNodes = (...args: string[]) => shardctl(...args, "--nodes", nodeList);

  /** Restarts a stopped instance on its port and database. */
  async function restart(i: number): Promise<void> {
    shards[i] = await startServe(bin!.path, { name: NAMES[i]!, db: dbs[i]!.url("expenses"), port: shards[i]!.port, logDir });
  }

  /** The ids stored in one MariaDB, read with SQL, not through the service. */
  async function idsInDb(i: number): Promise<Set<string>> {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: dbs[i]!.port, user: "root", database: "expenses" });
    try {
      const [rows] = await c.query("SELECT CAST(id AS CHAR) AS id FROM expenses");
      return new Set((rows as { id: string }[]).map((r) => r.id));
    } finally {
      await c.end();
    }
  }

  /** id -> owner name, from `client ring --json` of the binary. */
  async function owners(ids: string): Promise<Map<string, string>> {
    const r = await withNodes("client", "ring", "--ids", ids, "--json");
    expect(r.code).toBe(0);
    return new Map((JSON.parse(r.stdout) as { id: string; node: string }[]).map((x) => [x.id, x.node]));
  }

  /** Every id sits in exactly the database of its owner. */
  async function expectPlacedInDbs(ids: string): Promise<void> {
    const owner = await owners(ids);
    const stored = await Promise.all(NAMES.map((_, i) => idsInDb(i)));
    for (const [id, node] of owner) {
      const where = NAMES.filter((_, i) => stored[i]!.has(id));
      expect({ id, where }).toEqual({ id, where: [node] });
    }
  }

  test("the binary answers --version and rejects bad usage with exit 2", async () => {
    expect((await shardctl("--version")).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const r = await shardctl("client", "run", "--concurrency", "many");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--concurrency must be an integer from 1 to 1024, got "many"');
  });

  test("client run puts the seed records on their owners, verify agrees, and so does each database", async () => {
    const run = await withNodes("client", "run");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n").filter((l) => /^ *\d+\s+shard\d\s+http\S+\s+201 created\s+200 match$/.test(l))).toHaveLength(10);
    expect(run.stdout).toContain("10 ids: 10 ok, 0 failed");

    const verify = await withNodes("client", "verify");
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain("10 of 10 ids on their owner with the expected content; 0 missing, 0 mismatched, 0 misplaced, 0 extra");

    await expectPlacedInDbs("1..10");
    const total = (await Promise.all(NAMES.map((_, i) => idsInDb(i)))).reduce((n, s) => n + s.size, 0);
    expect(total).toBe(10);
  });

  test("one instance down: its ids fail naming node and reason, the others succeed; after restart a re-run completes", async () => {
    await shards[1]!.stop();
    const down = await withNodes("client", "run", "--ids", "11..60", "--retries", "1", "--timeout", "2000", "--json");
    expect(down.code).toBe(1);
    const rows = JSON.parse(down.stdout).rows as { id: string; node: string; ok: boolean; post: { outcome: string; message?: string } }[];
    const onDown = rows.filter((r) => r.node === "shard2");
    expect(onDown.length).toBeGreaterThan(0);
    for (const r of onDown) {
      expect(r.post.outcome).toBe("refused");
      expect(r.post.message).toContain(`node shard2 (${shards[1]!.url}): connection refused`);
    }
    expect(rows.filter((r) => r.node !== "shard2").every((r) => r.ok)).toBe(true);
    expect(down.stderr).toContain(`${onDown.length} of 50 ids failed`);
    expect(down.stderr).toContain(`node shard2 (${shards[1]!.url}): connection refused`);

    await restart(1);
    const again = await withNodes("client", "run", "--ids", "11..60");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("50 ids: 50 ok, 0 failed");
    const verify = await withNodes("client", "verify", "--ids", "1..60");
    expect(verify.code).toBe(0);
    await expectPlacedInDbs("1..60");
  });

  test("an instance SIGKILLed mid-run loses no record whose POST was acknowledged", async () => {
    const victim = 2;
    const ids = "1000..3999";
    const before = (await idsInDb(victim)).size;
    const concurrency = 8;
    const run = spawnCli(bin!.path, ["client", "run", "--nodes", nodeList, "--ids", ids, "--concurrency", String(concurrency), "--retries", "0", "--timeout", "2000", "--json"], {
      timeoutMs: 120_000,
    });
    // Kill once the victim has stored some of this run's records. Up to `concurrency` of
    // the rows counted may not be acknowledged yet, so wait for that many more than the
    // 30 acknowledged records the test asks for below.
    await waitFor(async () => ((await idsInDb(victim)).size >= before + 30 + concurrency ? true : undefined), { timeoutMs: 60_000, intervalMs: 10 });
    await shards[victim]!.kill();
    const result = await run.result;
    expect(result.code).toBe(1);

    const rows = JSON.parse(result.stdout).rows as { id: string; node: string; ok: boolean; post: { ok: boolean; outcome: string } }[];
    const acked = rows.filter((r) => r.node === "shard3" && r.post.ok).map((r) => r.id);
    const lost = rows.filter((r) => r.node === "shard3" && !r.post.ok);
    expect(acked.length).toBeGreaterThanOrEqual(30);
    expect(lost.length).toBeGreaterThan(0); // the kill really came mid-run
    for (const r of lost) expect(["refused", "reset", "network", "timeout"]).toContain(r.post.outcome);
    expect(rows.filter((r) => r.node !== "shard3").every((r) => r.ok)).toBe(true);

    // The database of the killed instance holds every acknowledged record.
    const stored = await idsInDb(victim);
    expect(acked.filter((id) => !stored.has(id))).toEqual([]);

    await restart(victim);
    const again = await withNodes("client", "run", "--ids", ids, "--concurrency", "16");
    expect(again.code).toBe(0);
    const verify = await withNodes("client", "verify", "--ids", `1..60,${ids}`);
    expect(verify.code).toBe(0);
    await expectPlacedInDbs(ids);
  }, 180_000);

  test("a record planted on a node that does not own it is reported by verify with exit 1", async () => {
    const owner = await owners("5000,1");
    const wrong = (id: string) => shards.find((s) => s.name !== owner.get(id))!;
    for (const id of ["5000", "1"]) {
      const res = await fetch(`${wrong(id).url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(id)) });
      expect(res.status).toBe(201);
    }
    const r = await withNodes("client", "verify", "--ids", "1..60,5000", "--json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.misplaced).toEqual([{ id: "5000", node: wrong("5000").name, owner: owner.get("5000") }]);
    expect(report.extra).toEqual([{ id: "1", node: wrong("1").name, owner: owner.get("1") }]);
    expect(report.missing).toEqual([]);
    expect(r.stderr).toContain(`misplaced: 5000 on ${wrong("5000").name}, owner ${owner.get("5000")}`);

    const human = await withNodes("client", "verify", "--ids", "1..60,5000");
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`^misplaced\\s+5000\\s+${owner.get("5000")}\\s+${wrong("5000").name}\\s+its owner does not have it$`, "m"));
  });
});
