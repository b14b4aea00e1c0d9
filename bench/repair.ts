/**
 * `npm run bench:repair`: finding 4 of issue 18 at size. Three MariaDB servers (started
 * here like the tests start theirs), three `shardctl serve` processes without a ring (the
 * seed scenario), BENCH_RECORDS records (default 10,000) stored on a node that does not own
 * them (as a node list that forgot a node leaves them) beside BENCH_PLACED records (default
 * 20,000) on their owners, then `shardctl repair --nodes ... --json` as a process of its own,
 * and once more (nothing to do: the cost of a scan alone).
 *
 * Meanwhile a writer with the whole node list keeps updating records (two workers, one PUT at
 * a time each, to the owner), and times each: what a repair costs a client.
 *
 * Prints: records repaired per second (the whole job, the process's own elapsed time), the
 * run again, the writer's latencies, and the CPU time of each process (the repair, the
 * instances, the MariaDB servers), from /proc and the child's rusage.
 * Env: BENCH_RECORDS, BENCH_PLACED, BENCH_CONCURRENCY (the repair's --concurrency, default 2).
 */
import { cpus } from "node:os";
import { join } from "node:path";
import type { Expense } from "../src/expenses/model.ts";
import { seedRecord } from "../src/expenses/seed-data.ts";
import { parseNodeList } from "../src/ring/node.ts";
import { Ring } from "../src/ring/ring.ts";
import { openStore } from "../src/store/index.ts";
import { startMariaDBs, type MariaDB } from "../test/support/mariadb.ts";
import { freePort, waitFor } from "../test/support/net.ts";
import { cpuMicros } from "./proc.ts";

const MISPLACED = Number(process.env.BENCH_RECORDS ?? 10_000);
const PLACED = Number(process.env.BENCH_PLACED ?? 20_000);
const CONCURRENCY = process.env.BENCH_CONCURRENCY ?? "2";
const cli = join(import.meta.dir, "../src/cli.ts");

const names = ["a", "b", "c"];
const ports = await Promise.all(names.map(() => freePort()));
const nodeList = names.map((n, i) => `${n}=127.0.0.1:${ports[i]}`).join(",");
const nodes = parseNodeList(nodeList);
const RING = new Ring(nodes, { vnodes: 160 });
// the ring of a node list that forgot c: c's records land on a or b
const SHORT = new Ring(nodes.slice(0, 2), { vnodes: 160 });

// instances without a ring: no ring option reaches them from this shell
const ringless: Record<string, string | undefined> = { ...process.env, SHARDCTL_ADMIN_TOKEN: "" };
for (const name of ["SHARDCTL_NODES", "SHARDCTL_VNODES", "SHARDCTL_RING"]) delete ringless[name];

let servers: MariaDB[] = [];
const serves: Bun.Subprocess[] = [];
try {
  servers = await startMariaDBs(3);
  const db = (i: number) => servers[i]!.url("bench_repair");

  // ids 1.. whose owner is c go to where the short list puts them; the others to their owner
  const held = new Map<string, Expense[]>(names.map((n) => [n, []]));
  let [misplaced, placed] = [0, 0];
  for (let i = 1; misplaced < MISPLACED || placed < PLACED; i++) {
    const id = String(i);
    const owner = RING.ownerOf(id).name;
    if (owner === "c" ? misplaced++ >= MISPLACED : placed++ >= PLACED) continue;
    held.get(owner === "c" ? SHORT.ownerOf(id).name : owner)!.push(storedSeed(id));
  }
  for (const [i, name] of names.entries()) {
    const store = await openStore(db(i));
    const records = held.get(name)!;
    for (let k = 0; k < records.length; k += 5000) await store.putMany(records.slice(k, k + 5000));
    await store.close();
  }
  const all = [...held.values()].flat().map((r) => r.id);

  for (const [i, name] of names.entries()) {
    serves.push(
      Bun.spawn([process.execPath, cli, "serve", "--port", String(ports[i]), "--name", name, "--db", db(i)], {
        stdout: "ignore",
        stderr: "inherit",
        env: ringless,
      }),
    );
  }
  await Promise.all(
    nodes.map((n) =>
      waitFor(
        () =>
          fetch(`${n.url}/readyz`).then(
            (r) => (r.ok ? true : undefined),
            () => undefined,
          ),
        { timeoutMs: 30_000 },
      ),
    ),
  );

  const writer = startWriter(all);
  const pids = { instances: serves.map((p) => p.pid), mariadb: servers.map((s) => s.pid) };
  const before = { instances: pids.instances.map(cpuMicros), mariadb: pids.mariadb.map(cpuMicros) };
  const first = await runRepair();
  const after = { instances: pids.instances.map(cpuMicros), mariadb: pids.mariadb.map(cpuMicros) };
  const seen = await writer.stop();
  const again = await runRepair();

  const cpuS = (list: (number | undefined)[], from: (number | undefined)[]) => list.reduce<number>((s, t, i) => s + ((t ?? 0) - (from[i] ?? 0)), 0) / 1e6;
  const instancesCpu = cpuS(after.instances, before.instances);
  const mariadbCpu = cpuS(after.mariadb, before.mariadb);
  const repaired = first.report.placed as number;
  const perS = (ms: number) => Math.round(repaired / (ms / 1000)).toLocaleString("en-US");
  const row = (label: string, value: string) => console.log(`${label.padEnd(44)} ${value}`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}); bun ${Bun.version}; MariaDB ${await serverVersion(servers[0]!)}`);
  console.log(
    `3 instances without a ring; ${MISPLACED.toLocaleString("en-US")} records off their owner (node c forgotten), ` +
      `${PLACED.toLocaleString("en-US")} on it; --concurrency ${CONCURRENCY}; a writer updating records throughout\n`,
  );
  row("records put on their owner", `${repaired.toLocaleString("en-US")} (of ${first.report.scanned.toLocaleString("en-US")} scanned)`);
  row("whole repair (wall, process start to exit)", `${(first.wallMs / 1000).toFixed(2)} s  -> ${perS(first.wallMs)} records/s`);
  row("  the repair's own time (survey to check)", `${(first.report.elapsedMs / 1000).toFixed(2)} s  -> ${perS(first.report.elapsedMs)} records/s`);
  row(
    "run again: nothing to do (wall; own time)",
    `${(again.wallMs / 1000).toFixed(2)} s; ${(again.report.elapsedMs / 1000).toFixed(2)} s for ${again.report.scanned.toLocaleString("en-US")} scanned`,
  );
  row(
    "the writer's PUTs (whole node list)",
    `${seen.count} answered (202, or 404 before the record was placed), ${seen.failed} failed; median ${seen.p50.toFixed(1)} ms, p99 ${seen.p99.toFixed(1)} ms, slowest ${Math.round(seen.max)} ms`,
  );
  row("CPU: the repair process", `${first.cpuS.toFixed(2)} s  (${Math.round((first.cpuS * 1e6) / repaired)} us per record repaired)`);
  row("CPU: the three instances", `${instancesCpu.toFixed(2)} s  (${Math.round((instancesCpu * 1e6) / repaired)} us per record repaired)`);
  row("CPU: the three MariaDB servers", `${mariadbCpu.toFixed(2)} s  (${Math.round((mariadbCpu * 1e6) / repaired)} us per record repaired)`);
  if (again.report.outcome !== "nothing-to-do") throw new Error(`the run again found work: ${JSON.stringify(again.report.outcome)}`);
} finally {
  for (const p of serves) p.kill("SIGTERM");
  await Promise.all(serves.map((p) => p.exited));
  await Promise.all(servers.map((s) => s.stop()));
}

/** `shardctl repair --nodes ... --json` as a process: its report, wall time and CPU. */
async function runRepair() {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, cli, "repair", "--nodes", nodeList, "--concurrency", CONCURRENCY, "--json"], {
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, SHARDCTL_ADMIN_TOKEN: "" },
  });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`shardctl repair exited with ${code}:\n${out}`);
  const usage = proc.resourceUsage();
  return { report: JSON.parse(out), wallMs, cpuS: usage ? Number(usage.cpuTime.total) / 1e6 : Number.NaN };
}

function storedSeed(id: string): Expense {
  const r = seedRecord(id);
  return { ...r, id, estimated_costs: String(r.estimated_costs), status: "pending", decision_date: "" };
}

async function serverVersion(server: MariaDB): Promise<string> {
  const mysql = await import("mysql2/promise");
  const c = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root" });
  const [[row]] = await c.query<import("mysql2/promise").RowDataPacket[]>("SELECT VERSION() AS v");
  await c.end();
  return String(row!.v);
}

/** Two workers PUT random records at their owner under the whole node list (404 for one not there yet), each timed. */
function startWriter(ids: readonly string[]) {
  let stopping = false;
  const times: number[] = [];
  let failed = 0;
  const workers = Array.from({ length: 2 }, async (_, w) => {
    for (let n = 0; !stopping; n++) {
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      const start = performance.now();
      const res = await fetch(`${RING.ownerOf(id).url}/v1/expenses/${id}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: `w${w} ${n}` }),
      }).catch(() => undefined);
      await res?.arrayBuffer();
      if (res?.status === 202 || res?.status === 404) times.push(performance.now() - start);
      else failed++;
    }
  });
  return {
    async stop() {
      stopping = true;
      await Promise.all(workers);
      const sorted = [...times].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.floor(sorted.length * q)] ?? 0;
      return { count: times.length, failed, max: sorted.at(-1) ?? 0, p50: at(0.5), p99: at(0.99) };
    },
  };
}
