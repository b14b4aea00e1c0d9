/**
 * `npm run bench:router`: what the router's hop costs. GET by id at concurrency 32
 * (and 1), the same ids from the same fetch client in the same run, two ways:
 *
 *   direct   the client places each id on the ring itself and asks its owner
 *   router   the client asks `shardctl router`, which asks the owner
 *
 *   bare     the same hop through bench/bare-proxy.ts, which only forwards (no
 *            validation, header hygiene, timeout, retry or log): router against bare is
 *            the router's own work, bare against direct the hop itself
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

/** Starts `shardctl <args>` (or `script PORT <args>`) on a free port and waits until it answers (shardctl: GET /readyz 200). */
async function spawnCli(args: string[], env: Record<string, string> = {}, script = cli): Promise<{ proc: Bun.Subprocess; url: string }> {
  const port = await freePort();
  const argv = script === cli ? [...args, "--port", String(port)] : [String(port), ...args];
  const proc = Bun.spawn([process.execPath, script, ...argv], {
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "inherit",
  });
  procs.push(proc);
  const url = `http://127.0.0.1:${port}`;
  const probe = script === cli ? "/readyz" : "/v1/expenses/1";
  await waitFor(
    () =>
      fetch(`${url}${probe}`).then(
        (r) => (r.ok || script !== cli ? true : undefined),
        () => undefined,
      ),
    { timeoutMs: 30_000 },
  );
  return { proc, url };
}

interface Cell {
  rate: number;
  /** CPU microseconds per request: this process, the router, the bare proxy, the instances together, the database. */
  cpu: { bench?: number; router?: number; bare?: number; instances?: number; db?: number };
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

  const bare = await spawnCli([nodeList], {}, join(import.meta.dir, "bare-proxy.ts"));

  const targets = {
    direct: (id: string) => `${ring.ownerOf(id).url}/v1/expenses/${id}`,
    bare: (id: string) => `${bare.url}/v1/expenses/${id}`,
    router: (id: string) => `${router.url}/v1/expenses/${id}`,
  };
  const pids = {
    bench: [process.pid],
    router: [router.proc.pid],
    bare: [bare.proc.pid],
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

  type Way = keyof typeof targets;
  const WAYS: Way[] = ["direct", "bare", "router"];
  // Warm-up: JIT, keep-alive connections, prepared statements.
  for (const way of WAYS) await measure(way, 32, 1);

  const median = (cells: Cell[]) => [...cells].sort((a, b) => a.rate - b.rate)[cells.length >> 1]!;
  const middle = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const results: { concurrency: number; cells: Record<Way, Cell>; ratios: Record<"router" | "bare", number[]> }[] = [];
  for (const concurrency of CONCURRENCY) {
    const rounds: Record<Way, Cell[]> = { direct: [], bare: [], router: [] };
    const ratios = { router: [] as number[], bare: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      // A different order each round, so that no way always meets a warmer or busier machine.
      const order = WAYS.map((_, k) => WAYS[(k + round) % WAYS.length]!);
      const cells = {} as Record<Way, Cell>;
      for (const way of order) cells[way] = await measure(way, concurrency, SECONDS);
      for (const way of WAYS) rounds[way].push(cells[way]);
      ratios.router.push(cells.router.rate / cells.direct.rate);
      ratios.bare.push(cells.bare.rate / cells.direct.rate);
    }
    results.push({ concurrency, cells: { direct: median(rounds.direct), bare: median(rounds.bare), router: median(rounds.router) }, ratios });
  }

  const us = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(0));
  const fixed = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(" ");
  console.log(`machine: ${availableParallelism()} CPUs (nproc), ${cpus()[0]?.model ?? "unknown CPU"}; bun ${Bun.version}`);
  console.log(
    `setup: 3 shardctl serve processes on ${mariadb ? "one MariaDB (a database each)" : "SQLite (a file each)"}, 1 shardctl router process, ` +
      `request logs on; ${IDS} records; GET by id, the same ids every way, one fetch client`,
  );
  console.log(`method: ${ROUNDS} rounds x ${SECONDS} s per cell, the ways in rotating order; medians; a ratio is the median of each round's x/direct\n`);
  console.log("concurrency  direct req/s  bare req/s  router req/s  bare/direct  router/direct  (router/direct per round)  goal");
  for (const r of results) {
    const ratio = middle(r.ratios.router);
    const goal = r.concurrency === 32 ? `>= ${GOAL}: ${ratio >= GOAL ? "met" : "NOT met"}` : "";
    console.log(
      `${String(r.concurrency).padStart(11)}  ${r.cells.direct.rate.toFixed(0).padStart(12)}  ${r.cells.bare.rate.toFixed(0).padStart(10)}  ` +
        `${r.cells.router.rate.toFixed(0).padStart(12)}  ${middle(r.ratios.bare).toFixed(2).padStart(11)}  ${ratio.toFixed(2).padStart(13)}  ` +
        `(${fixed(r.ratios.router)})`.padEnd(27) +
        goal,
    );
  }
  console.log("\nCPU us per request (median round), by process: the proxy is the router or the bare proxy");
  console.log("concurrency  way     bench client  proxy  instances  database  total");
  for (const r of results) {
    for (const way of WAYS) {
      const c = r.cells[way].cpu;
      const proxy = way === "router" ? c.router : way === "bare" ? c.bare : 0;
      const parts = [c.bench, proxy, c.instances, mariadb ? c.db : 0];
      const total = parts.some((v) => v === undefined) ? undefined : parts.reduce((a, b) => a! + b!, 0);
      console.log(
        `${String(r.concurrency).padStart(11)}  ${way.padEnd(6)}  ${us(c.bench).padStart(12)}  ${(way === "direct" ? "-" : us(proxy)).padStart(5)}  ${us(c.instances).padStart(9)}  ${us(mariadb ? c.db : undefined).padStart(8)}  ${us(total).padStart(5)}`,
      );
    }
  }
} finally {
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  await mariadb?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
