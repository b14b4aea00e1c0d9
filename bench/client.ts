/**
 * `npm run bench:client`: the client's throughput on the real setup. Three MariaDB
 * servers (the test harness), three `shardctl serve` processes (separate processes, so
 * the CPU measured here is the client's own), then `client run` logic over 10,000
 * fresh ids at concurrency 1, 16 and 64: per id, a POST to its owner, then a GET back.
 *
 *   BENCH_IDS=2000 npm run bench:client     # fewer ids
 *
 * Bounded: the whole bench gives up after BENCH_MAX_SECONDS (default 600).
 */
import { cpus, availableParallelism, tmpdir } from "node:os";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { recordsForIds } from "../src/client/input.ts";
import { runRecords } from "../src/client/run.ts";
import { ShardedExpenseClient } from "../src/client/sharded-client.ts";
import { mysqlUnavailable, startMariaDBs, type MariaDB } from "../test/support/mariadb.ts";
import { freePort, waitFor } from "../test/support/net.ts";

const IDS = Number(process.env.BENCH_IDS ?? 10_000);
const CONCURRENCY = [1, 16, 64];
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 600);

if (mysqlUnavailable) {
  console.error(`bench:client needs MariaDB/MySQL: ${mysqlUnavailable}`);
  process.exit(1);
}

const repo = join(import.meta.dir, "..");
const procs: Bun.Subprocess[] = [];
let dbs: MariaDB[] = [];
const cleanup = async () => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  await Promise.all(dbs.map((d) => d.stop()));
};
const watchdog = setTimeout(async () => {
  console.error(`bench:client: gave up after ${MAX_SECONDS} s`);
  await cleanup();
  process.exit(1);
}, MAX_SECONDS * 1000);

const logDir = mkdtempSync(join(tmpdir(), "shardctl-bench-"));
try {
  console.log(`machine: ${availableParallelism()} CPUs (nproc), ${cpus()[0]?.model ?? "unknown CPU"}, ${process.platform}/${process.arch}`);
  console.log(`bun ${Bun.version}; MariaDB from the test harness (innodb_flush_log_at_trx_commit=2), one per instance`);

  dbs = await startMariaDBs(3);
  const names = ["shard1", "shard2", "shard3"];
  const nodes: { name: string; url: string }[] = [];
  for (const [i, name] of names.entries()) {
    const port = await freePort();
    const proc = Bun.spawn([process.execPath, "src/cli.ts", "serve", "--host", "127.0.0.1", "--port", String(port), "--name", name], {
      cwd: repo,
      env: { ...process.env, SHARDCTL_DB: dbs[i]!.url("expenses") },
      stdout: "ignore",
      stderr: Bun.file(join(logDir, `${name}.err`)),
    });
    procs.push(proc);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => ((await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined), { timeoutMs: 30_000 });
    nodes.push({ name, url });
  }
  const client = new ShardedExpenseClient({ nodes });
  console.log(`${IDS} ids per run, fresh ids each run; a run = per id, POST to its owner then GET it back (concurrency = ids in flight)\n`);

  // Warm-up: connections, JIT, prepared statements.
  await runRecords(client, recordsForIds(range(9_000_001, 500)), { concurrency: 16 });

  const header = ["concurrency", "ids", "requests", "seconds", "requests/s", "client CPU", "failed"];
  const lines: string[][] = [];
  for (const [run, concurrency] of CONCURRENCY.entries()) {
    const records = recordsForIds(range(1 + run * IDS, IDS));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await runRecords(client, records, { concurrency });
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuShare = (cpu.user + cpu.system) / 1000 / wallMs;
    const requests = records.length * 2;
    lines.push([
      String(concurrency),
      String(records.length),
      String(requests),
      (wallMs / 1000).toFixed(2),
      Math.round(requests / (wallMs / 1000)).toString(),
      `${(cpuShare * 100).toFixed(0)}% of one core`,
      String(report.failed),
    ]);
    console.error(`  concurrency ${concurrency}: ${lines.at(-1)![4]} requests/s`);
  }
  console.log();
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  console.log(
    header
      .map((h, i) => h.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
  for (const l of lines)
    console.log(
      l
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
  console.log("\nclient CPU = the bench process's user+system CPU time / wall time (the instances and MariaDBs are other processes)");
} finally {
  clearTimeout(watchdog);
  await cleanup();
  rmSync(logDir, { recursive: true, force: true });
}

function range(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(from + i));
}
