/**
 * `npm run bench:router`: what the router's hop costs. GET by id at concurrency 32
 * (and 1), the same ids from the same fetch client in the same run, two ways:
 *
 *   direct   the client places each id on the ring itself and asks its owner
 *   router   the client asks `shardctl router`, which asks the owner
 *
 * in alternating rounds, medians. The three instances are `shardctl serve` processes,
 * each on its own database of one harness-started MariaDB (BENCH_DB=sqlite: a SQLite
 * file each), and the router is a `shardctl router` process; all with their request
 * logs on (sent nowhere), as deployed. Beside the rates: CPU time per request of the
 * router process, of the three instances, of the database and of this process (its
 * fetch client), from /proc.
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_SECONDS per round and cell (default 2),
 * BENCH_IDS stored before measuring (default 3000), BENCH_DB (mysql | sqlite).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { seedRecord } from "../src/expenses/seed-data.ts";
import { Ring } from "../src/ring/ring.ts";
import { cpuMicros } from "./proc.ts";
import { mysqlUnavailable, startMariaDB, type MariaDB } from "../test/support/mariadb.ts";
import { freePort, waitFor } from "../test/support/net.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const IDS = Number(process.env.BENCH_IDS ?? 3000);
const DB = process.env.BENCH_DB ?? "mysql";
const CONCURRENCY = [32, 1];
const GOAL = 0.6;

if (DB !== "mysql" && DB !== "sqlite") throw new Error(`BENCH_DB must be mysql or sqlite, got ${DB}`);
if (DB === "mysql" && mysqlUnavailable) {
  console.error(`bench:router needs MariaDB/MySQL (or BENCH_DB=sqlite): ${mysqlUnavailable}`);
  process.exit(1);
}

const cli = join(import.meta.dir, "../src/cli.ts");
const dataDir = mkdtempSync(join(tmpdir(), "shardctl-bench-router-"));
const procs: Bun.Subprocess[] = [];
let mariadb: MariaDB | undefined;

/** Starts `shardctl <args>` on a free port and waits until GET /readyz answers 200. */
async function spawnCli(args: string[], env: Record<string, string> = {}): Promise<{ proc: Bun.Subprocess; url: string }> {
  const port = await freePort();
  const proc = Bun.spawn([process.execPath, cli, ...args, "--port", String(port)], {
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "inherit",
  });
  procs.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(() => fetch(`${url}/readyz`).then((r) => (r.ok ? true : undefined), () => undefined), { timeoutMs: 30_000 });
  return { proc, url };
}

interface Cell {
  rate: number;
  /** CPU microseconds per request: this process, the router, the instances together, the database. */
  cpu: { bench?: number; router?: number; instances?: number; db?: number };
}

try {
  if (DB === "mysql") mariadb = await startMariaDB();
  const names = ["shard1", "shard2", "shard3"];
  const instances = [];
  for (const name of names) {
    const db = mariadb ? mariadb.url(`bench_${name}`) : `sqlite:${join(dataDir, `${name}.sqlite`)}`;
    instances.push({ name, ...(await spawnCli(["serve", "--name", name], { SHARDCTL_DB: db })) });
  }
  const ring = new Ring(
    instances.map((s) => ({ name: s.name, url: s.url, weight: 1 })),
    { vnodes: 160 },
  );
  const nodeList = instances.map((s) => `${s.name}=${s.url.slice("http://".length)}`).join(",");
  const router = await spawnCli(["router", "--nodes", nodeList]);

  // The records, stored through the router (each on its owner).
  const ids = Array.from({ length: IDS }, (_, i) => String(i + 1));
  for (let i = 0; i < ids.length; i += 64) {
    await Promise.all(
      ids.slice(i, i + 64).map(async (id) => {
        const r = await fetch(`${router.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(id)) });
        if (r.status !== 201 && r.status !== 409) throw new Error(`POST ${id}: ${r.status} ${await r.text()}`);
        await r.arrayBuffer();
      }),
    );
  }

  const targets = {
    direct: (id: string) => `${ring.ownerOf(id).url}/v1/expenses/${id}`,
    router: (id: string) => `${router.url}/v1/expenses/${id}`,
  };
  const pids = {
    bench: [process.pid],
    router: [router.proc.pid],
    instances: instances.map((s) => s.proc.pid),
    db: mariadb ? [mariadb.pid] : [],
  };
  const cpuOf = (list: number[]) => {
    const values = list.map(cpuMicros);
    return values.some((v) => v === undefined) || list.length === 0 ? undefined : values.reduce((a, b) => a! + b!, 0)!;
  };

  /** GET by id from `concurrency` workers for `seconds`: requests per second and CPU per request. */
  async function measure(way: keyof typeof targets, concurrency: number, seconds: number): Promise<Cell> {
    let next = 0;
    let done = 0;
    const before = Object.fromEntries(Object.entries(pids).map(([k, list]) => [k, cpuOf(list)]));
    const start = performance.now();
    const deadline = start + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const id = ids[next++ % ids.length]!;
          const r = await fetch(targets[way](id));
          if (r.status !== 200) throw new Error(`GET ${id} (${way}): ${r.status} ${await r.text()}`);
          await r.json();
          done++;
        }
      }),
    );
    const rate = done / ((performance.now() - start) / 1000);
    const cpu = Object.fromEntries(
      Object.entries(pids).map(([k, list]) => {
        const now = cpuOf(list);
        const was = before[k];
        return [k, now === undefined || was === undefined ? undefined : (now - was) / done];
      }),
    );
    return { rate, cpu };
  }

  // Warm-up: JIT, keep-alive connections, prepared statements.
  for (const way of ["direct", "router"] as const) await measure(way, 32, 1);

  const median = (cells: Cell[]) => [...cells].sort((a, b) => a.rate - b.rate)[cells.length >> 1]!;
  const results: { concurrency: number; direct: Cell; router: Cell; ratios: number[] }[] = [];
  for (const concurrency of CONCURRENCY) {
    const direct: Cell[] = [];
    const routed: Cell[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so that neither always meets a warmer or busier machine.
      const pair = round % 2 === 0 ? (["direct", "router"] as const) : (["router", "direct"] as const);
      const cells: Partial<Record<"direct" | "router", Cell>> = {};
      for (const way of pair) cells[way] = await measure(way, concurrency, SECONDS);
      direct.push(cells.direct!);
      routed.push(cells.router!);
      ratios.push(cells.router!.rate / cells.direct!.rate);
    }
    results.push({ concurrency, direct: median(direct), router: median(routed), ratios: ratios.sort((a, b) => a - b) });
  }

  const us = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(0));
  console.log(`machine: ${availableParallelism()} CPUs (nproc), ${cpus()[0]?.model ?? "unknown CPU"}; bun ${Bun.version}`);
  console.log(
    `setup: 3 shardctl serve processes on ${mariadb ? "one MariaDB (a database each)" : "SQLite (a file each)"}, 1 shardctl router process, ` +
      `request logs on; ${IDS} records; GET by id, the same ids both ways, one fetch client`,
  );
  console.log(`method: ${ROUNDS} rounds x ${SECONDS} s per cell, direct and router alternating; medians (ratio: median of each round's router/direct)\n`);
  console.log("concurrency  direct req/s  router req/s  ratio  (per round)              goal");
  for (const r of results) {
    const ratio = r.ratios[r.ratios.length >> 1]!;
    const goal = r.concurrency === 32 ? `>= ${GOAL}: ${ratio >= GOAL ? "met" : "NOT met"}` : "";
    console.log(
      `${String(r.concurrency).padStart(11)}  ${r.direct.rate.toFixed(0).padStart(12)}  ${r.router.rate.toFixed(0).padStart(12)}  ${ratio.toFixed(2).padStart(5)}  (${r.ratios.map((x) => x.toFixed(2)).join(" ")})`.padEnd(68) +
        goal,
    );
  }
  console.log("\nCPU us per request (median round), by process");
  console.log("concurrency  way     bench client  router  instances  database  total");
  for (const r of results) {
    for (const way of ["direct", "router"] as const) {
      const c = r[way].cpu;
      const parts = [c.bench, way === "router" ? c.router : 0, c.instances, mariadb ? c.db : 0];
      const total = parts.some((v) => v === undefined) ? undefined : parts.reduce((a, b) => a! + b!, 0);
      console.log(
        `${String(r.concurrency).padStart(11)}  ${way.padEnd(6)}  ${us(c.bench).padStart(12)}  ${us(way === "router" ? c.router : undefined).padStart(6)}  ${us(c.instances).padStart(9)}  ${us(c.db).padStart(8)}  ${us(total).padStart(5)}`,
      );
    }
  }
} finally {
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  await mariadb?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
