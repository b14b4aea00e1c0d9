/**
 * `npm run bench:rebalance`: a node joins a cluster of three on MariaDB, with clients
 * writing all along. Four MariaDB servers (one per node, started here like the tests
 * start theirs), four `shardctl serve` processes (a, b, c on the old ring, d on the new
 * one), BENCH_RECORDS records (default 100,000) stored on their owners under the old ring,
 * then `shardctl rebalance --from old.json --to new.json --json` as a process of its own.
 *
 * Meanwhile a writer with the old ring keeps updating records that move (two workers,
 * one PUT at a time each), following Retry-After on a 503 and the owner named by a 421,
 * and times every write from its first attempt to its acknowledgement: the wait the fence
 * imposes as a client sees it.
 *
 * Prints: records moved per second (the whole job, and the copy pass alone), the fence as
 * the rebalance measured it and as the writer saw it, and the CPU time of each process
 * (the rebalance, the instances, the MariaDB servers), from /proc and the child's rusage.
 * Env: BENCH_RECORDS, BENCH_CONCURRENCY (the rebalance's --concurrency, default 4).
 */
import { cpus } from "node:os";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Expense } from "../src/expenses/model.ts";
import { seedRecord } from "../src/expenses/seed-data.ts";
import { parseNodeList } from "../src/ring/node.ts";
import { Ring } from "../src/ring/ring.ts";
import { openStore } from "../src/store/index.ts";
import { startMariaDBs, type MariaDB } from "../test/support/mariadb.ts";
import { freePort, waitFor } from "../test/support/net.ts";
import { cpuMicros } from "./proc.ts";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const CONCURRENCY = process.env.BENCH_CONCURRENCY ?? "4";
const cli = join(import.meta.dir, "../src/cli.ts");
const dir = mkdtempSync(join(tmpdir(), "shardctl-bench-rebalance-"));

const names = ["a", "b", "c", "d"];
const ports = await Promise.all(names.map(() => freePort()));
const nodes = parseNodeList(names.map((n, i) => `${n}=127.0.0.1:${ports[i]}`).join(","));
const OLD = new Ring(nodes.slice(0, 3), { vnodes: 160, epoch: 1 });
const NEW = new Ring(nodes, { vnodes: 160, epoch: 2 });
const ringFile = (ring: Ring, file: string) => {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify({ epoch: ring.epoch, vnodes: ring.vnodes, nodes: ring.nodes }));
  return path;
};
const [oldFile, newFile] = [ringFile(OLD, "old.json"), ringFile(NEW, "new.json")];

let servers: MariaDB[] = [];
const serves: Bun.Subprocess[] = [];
try {
  servers = await startMariaDBs(4);
  const db = (i: number) => servers[i]!.url("bench_rebalance");

  // the records, straight into their owners' databases (the store's own bulk write)
  const byOwner = new Map<string, Expense[]>();
  for (let i = 1; i <= RECORDS; i++) {
    const id = String(i);
    const owner = OLD.ownerOf(id).name;
    if (!byOwner.has(owner)) byOwner.set(owner, []);
    byOwner.get(owner)!.push(storedSeed(id));
  }
  for (const [i, name] of names.entries()) {
    const store = await openStore(db(i));
    const records = byOwner.get(name) ?? [];
    for (let k = 0; k < records.length; k += 5000) await store.putMany(records.slice(k, k + 5000));
    await store.close();
  }

  for (const [i, name] of names.entries()) {
    const prof = process.env.BENCH_PROFILE ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, `--cpu-prof-name=serve-${name}.md`] : [];
    const proc = Bun.spawn(
      [process.execPath, ...prof, cli, "serve", "--port", String(ports[i]), "--name", name, "--ring", i < 3 ? oldFile : newFile, "--db", db(i)],
      { stdout: "ignore", stderr: "inherit", env: { ...process.env, SHARDCTL_ADMIN_TOKEN: "" } },
    );
    serves.push(proc);
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

  const moving = Array.from({ length: RECORDS }, (_, i) => String(i + 1)).filter((id) => OLD.ownerOf(id).name !== NEW.ownerOf(id).name);
  const writer = startWriter(moving);

  const pids = { instances: serves.map((p) => p.pid), mariadb: servers.map((s) => s.pid) };
  const before = { instances: pids.instances.map(cpuMicros), mariadb: pids.mariadb.map(cpuMicros) };
  const started = performance.now();
  const prof = process.env.BENCH_PROFILE ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, `--cpu-prof-name=rebalance.md`] : [];
  const rebalance = Bun.spawn([process.execPath, ...prof, cli, "rebalance", "--from", oldFile, "--to", newFile, "--concurrency", CONCURRENCY, "--json"], {
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, SHARDCTL_ADMIN_TOKEN: "" },
  });
  const [out, code] = await Promise.all([new Response(rebalance.stdout).text(), rebalance.exited]);
  const wallMs = performance.now() - started;
  const usage = rebalance.resourceUsage();
  const after = { instances: pids.instances.map(cpuMicros), mariadb: pids.mariadb.map(cpuMicros) };
  const seen = await writer.stop();
  if (code !== 0) throw new Error(`shardctl rebalance exited with ${code}:\n${out}`);
  const report = JSON.parse(out);

  const cpuS = (list: (number | undefined)[], from: (number | undefined)[]) => list.reduce<number>((s, t, i) => s + ((t ?? 0) - (from[i] ?? 0)), 0) / 1e6;
  const rebalanceCpu = usage ? Number(usage.cpuTime.total) / 1e6 : NaN;
  const instancesCpu = cpuS(after.instances, before.instances);
  const mariadbCpu = cpuS(after.mariadb, before.mariadb);
  const moved = report.copy.examined as number;
  const row = (label: string, value: string) => console.log(`${label.padEnd(44)} ${value}`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}); bun ${Bun.version}; MariaDB ${await serverVersion(servers[0]!)}`);
  console.log(
    `3 -> 4 nodes, ${RECORDS.toLocaleString("en-US")} records, --concurrency ${CONCURRENCY}; a writer with the old ring updating moving records throughout\n`,
  );
  row("records moved", moved.toLocaleString("en-US"));
  row(
    "whole rebalance (wall)",
    `${(wallMs / 1000).toFixed(1)} s  -> ${Math.round(moved / (wallMs / 1000)).toLocaleString("en-US")} records/s   (goal >= 5,000/s)`,
  );
  row("  of which the copy pass", `${(report.copy.ms / 1000).toFixed(1)} s  -> ${report.copy.perSecond.toLocaleString("en-US")} records/s`);
  row(
    "  the verification pass",
    `${(report.verify.ms / 1000).toFixed(1)} s (${report.verify.examined.toLocaleString("en-US")} compared; ${report.verify.missing + report.verify.different + report.verify.extra} fixed)`,
  );
  row(
    "fence, as the rebalance measured it",
    `${report.fence.ms} ms   (goal < 2,000 ms; ${report.fence.drained} writes replayed, ${report.fence.compared} compared under it)`,
  );
  row(
    "writes to moving records (old-ring writer)",
    `${seen.count} acknowledged, ${seen.failed} failed; slowest ${Math.round(seen.max)} ms, p99 ${Math.round(seen.p99)} ms, ${seen.waited} waited on a 503`,
  );
  row(
    "time by step (ms)",
    Object.entries(report.steps)
      .map(([k, v]) => `${k} ${v}`)
      .join(", "),
  );
  row("CPU: the rebalance process", `${rebalanceCpu.toFixed(1)} s  (${Math.round((rebalanceCpu * 1e6) / moved)} us per record moved)`);
  row("CPU: the four instances", `${instancesCpu.toFixed(1)} s  (${Math.round((instancesCpu * 1e6) / moved)} us per record moved)`);
  row("CPU: the four MariaDB servers", `${mariadbCpu.toFixed(1)} s  (${Math.round((mariadbCpu * 1e6) / moved)} us per record moved)`);
} finally {
  for (const p of serves) p.kill("SIGTERM");
  await Promise.all(serves.map((p) => p.exited));
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
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

/**
 * Two workers PUT records that move, each sent to its owner under the old ring first; a
 * 503 is tried again after its Retry-After, a 421 at the owner it names. Each write is
 * timed from its first attempt to its 202.
 */
function startWriter(ids: readonly string[]) {
  let stopping = false;
  const times: number[] = [];
  let failed = 0;
  let waited = 0;
  const workers = Array.from({ length: 2 }, async (_, w) => {
    for (let n = 0; !stopping; n++) {
      const id = ids[Math.floor(Math.random() * ids.length)]!;
      let url = OLD.ownerOf(id).url;
      const start = performance.now();
      let hadToWait = false;
      for (let attempt = 0; ; attempt++) {
        const res = await fetch(`${url}/v1/expenses/${id}`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: `w${w} ${n}` }),
        }).catch(() => undefined);
        const body = (res ? await res.json().catch(() => undefined) : undefined) as { owner: { url: string } } | undefined;
        if (res?.status === 202) {
          times.push(performance.now() - start);
          if (hadToWait) waited++;
          break;
        }
        if (res?.status === 421 && body && attempt < 20) url = body.owner.url;
        else if (res?.status === 503 && attempt < 20) {
          hadToWait = true;
          await Bun.sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
        } else {
          failed++;
          break;
        }
      }
    }
  });
  return {
    async stop() {
      stopping = true;
      await Promise.all(workers);
      const sorted = [...times].sort((a, b) => a - b);
      return { count: times.length, failed, waited, max: sorted.at(-1) ?? 0, p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0 };
    },
  };
}
