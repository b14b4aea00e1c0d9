/**
 * `npm run bench:serve`: requests/s of one expense instance on MariaDB (POST, PUT and GET
 * at concurrency 1 and 32, HTTP over loopback), beside the same inserts, updates and selects
 * sent straight through a mysql2 pool to the same server in the same run, as a ratio.
 * Both sides make the same driver call: prepared statements through the pool's
 * callback `execute`, as the store does. The instance is a separate `shardctl serve`
 * process, ring-aware (every request on an id pays the ownership check), with its request
 * log on (as deployed, sent to /dev/null). Medians of several rounds. Beside the rates: CPU
 * time per operation of each process (this bench with its HTTP client or mysql2 pool, the
 * serve process, mariadbd), from /proc, which says where the time goes on a machine where
 * the three share the cores.
 *
 * Beside them, bench/bare-serve.ts: Bun.serve and the same driver call, nothing else (no
 * framework, validation, ring check, metrics or log), the floor of any instance on this
 * machine. service/bare is what the instance's own work costs; bare/raw what the HTTP hop
 * costs.
 *
 * Before/after in one run: BENCH_BASELINE=<another checkout of shardctl, with node_modules>
 * starts that checkout's serve as well (its own database on the same server), and every
 * round measures this checkout, the baseline and the raw driver one after the other, so
 * both see the same machine.
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_SECONDS per round and cell (default 1.5),
 * BENCH_POOL (connections in each pool, default the service's default), BENCH_OPS (a comma
 * list of POST, PUT, GET; default all), BENCH_BASELINE.
 */
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { seedRecord } from "../src/expenses/seed-data.ts";
import { openStore } from "../src/store/index.ts";
import { toRow } from "../src/store/row.ts";
import { DEFAULT_POOL } from "../src/store/url.ts";
import { startMariaDB } from "../test/support/mariadb.ts";
import { freePort } from "../test/support/net.ts";
import { type Cell, expenseRequests, measure, medianCell, ready } from "./measure.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
const CONCURRENCY = [1, 32];
const POOL = Number(process.env.BENCH_POOL ?? DEFAULT_POOL);
const OPS = (process.env.BENCH_OPS ?? "POST,PUT,GET").split(",").map((op) => op.trim().toUpperCase());
const BASELINE = process.env.BENCH_BASELINE;
for (const op of OPS) if (!["POST", "PUT", "GET"].includes(op)) throw new Error(`BENCH_OPS: unknown operation ${op} (POST, PUT, GET)`);
if (BASELINE && !existsSync(join(BASELINE, "src/cli.ts"))) throw new Error(`BENCH_BASELINE: ${BASELINE}/src/cli.ts not found`);

/** One serve process under test: this checkout's, or the baseline's. */
interface Service {
  label: string;
  base: string;
  proc: Bun.Subprocess;
  /** Ids POSTed so far (each POST uses a fresh one; PUT and GET pick among them). */
  ids: number;
}

const server = await startMariaDB();
const services: Service[] = [];
try {
  const checkouts = [{ label: "service", dir: join(import.meta.dir, "..") }, ...(BASELINE ? [{ label: "baseline", dir: BASELINE }] : [])];
  const labels = [...checkouts.map((c) => c.label), "bare"];
  // Every database gets the schema from this checkout's migrations (the baseline's serve migrates further if it must).
  for (const db of ["bench_raw", ...labels.map((label) => `bench_${label}`)]) await (await openStore(server.url(db))).close();

  for (const label of labels) {
    const port = await freePort();
    const db = server.url(`bench_${label}`);
    const dir = checkouts.find((c) => c.label === label)?.dir;
    // Ring-aware, as deployed: a one-node ring, so that the instance owns every id the bench sends.
    // The bare server (bare-serve.ts): an HTTP hop and the driver call, nothing else.
    const command = dir
      ? ["serve", "--port", String(port), "--db", `${db}?pool=${POOL}`, "--name", "bench", "--nodes", `bench=127.0.0.1:${port}`]
      : [String(port), db, String(POOL)];
    const proc = Bun.spawn([process.execPath, dir ? join(dir, "src/cli.ts") : join(import.meta.dir, "bare-serve.ts"), ...command], {
      stdout: "ignore",
      stderr: "inherit",
    });
    const base = `http://127.0.0.1:${port}`;
    services.push({ label, base, proc, ids: 0 });
    await ready(base, 20_000);
  }

  // The callback pool: the same call the store makes (no promise wrapper, which captures
  // a stack trace per call).
  const raw = mysql.createPool({
    host: "127.0.0.1",
    port: server.port,
    user: "root",
    database: "bench_raw",
    connectionLimit: POOL,
    dateStrings: true,
  });
  const run = <T>(sql: string, values: mysql.ExecuteValues[]) =>
    new Promise<T>((resolve, reject) => raw.pool.execute(sql, values, (e, result) => (e ? reject(e) : resolve(result as T))));
  const [[version]] = (await raw.query("SELECT VERSION() AS v")) as unknown as [[{ v: string }]];

  // Each POST uses a fresh id; ids continue across rounds so that every insert is new.
  let rawId = 0;
  const INSERT =
    "INSERT INTO expenses (id, name, email, category, description, link, estimated_costs_cents, submit_date, status, decision_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const SELECT = "SELECT id, name, email, category, description, link, estimated_costs_cents, submit_date, status, decision_date FROM expenses WHERE id = ?";
  const UPDATE = "UPDATE expenses SET status = ? WHERE id = ?";
  const STATUSES = ["approved", "rejected", "pending"] as const;

  const http = expenseRequests;
  const rawOps = {
    POST: async () => {
      const id = String(++rawId);
      const row = toRow({ ...seedRecord(id), estimated_costs: "800", status: "pending", decision_date: "" } as never);
      await run(INSERT, [row.id, row.name, row.email, row.category, row.description, row.link, row.costCents, row.submitDate, row.status, row.decisionDate]);
    },
    PUT: async (i: number) => {
      const id = (i % rawId) + 1;
      await run(UPDATE, [STATUSES[i % 3]!, id]);
      const rows = await run<unknown[]>(SELECT, [id]);
      if (rows.length !== 1) throw new Error(`SELECT ${id}: ${rows.length} rows`);
    },
    GET: async (i: number) => {
      const id = (i % rawId) + 1;
      const rows = await run<unknown[]>(SELECT, [id]);
      if (rows.length !== 1) throw new Error(`SELECT ${id}: ${rows.length} rows`);
    },
  };
  const pidsOf = (s?: Service) => [process.pid, s?.proc.pid ?? 0, server.pid];

  // warm-up: JIT, pools, connections; and rows for PUT and GET
  for (const name of ["POST", "PUT", "GET"] as const) {
    for (const s of services) await measure(32, 0.5, pidsOf(s), (i) => http[name](s, i));
    await measure(32, 0.5, pidsOf(), rawOps[name]);
  }

  // Per operation and concurrency: one cell per service, then the raw driver.
  const results: { op: string; concurrency: number; services: Cell[]; raw: Cell }[] = [];
  for (const name of OPS as (keyof typeof http)[]) {
    for (const concurrency of CONCURRENCY) {
      const cells: Cell[][] = services.map(() => []);
      const rawCells: Cell[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        for (const [k, s] of services.entries()) cells[k]!.push(await measure(concurrency, SECONDS, pidsOf(s), (i) => http[name](s, i)));
        rawCells.push(await measure(concurrency, SECONDS, pidsOf(), rawOps[name]));
      }
      results.push({ op: name, concurrency, services: cells.map(medianCell), raw: medianCell(rawCells) });
    }
  }
  // The HTTP hop alone (no database): the most any HTTP endpoint of this server can do here.
  const floor = new Map<number, Cell[]>();
  for (const concurrency of CONCURRENCY) {
    const cells: Cell[][] = services.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [k, s] of services.entries()) {
        cells[k]!.push(
          await measure(concurrency, SECONDS, pidsOf(s), async () => {
            const r = await fetch(`${s.base}/healthz`);
            await r.arrayBuffer();
          }),
        );
      }
    }
    floor.set(concurrency, cells.map(medianCell));
  }
  await raw.end();

  const cpu = cpus();
  const pad = (text: string, width: number) => text.padStart(width);
  const us = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(0));
  const total = (c: Cell) => (c.cpu.some((v) => v === undefined) ? undefined : c.cpu.reduce((a, b) => a! + b!, 0));
  console.log(`machine: ${cpu.length} CPUs (nproc), ${cpu[0]?.model ?? "unknown CPU"}; bun ${Bun.version}; MariaDB ${version?.v}`);
  console.log(
    `method: medians of ${ROUNDS} rounds x ${SECONDS}s per cell; service pool ${POOL} connections, raw mysql2 pool ${POOL}; both sides: prepared statements through the pool's callback execute; the service runs as a separate, ring-aware serve process with its request log on`,
  );
  if (BASELINE) console.log(`baseline: the serve of ${BASELINE}, measured in the same rounds, right after this checkout's`);
  console.log("bare: bench/bare-serve.ts (Bun.serve, the same driver call, the row as JSON; nothing else): the floor of any instance here");
  console.log("");
  const names = services.map((s) => s.label);
  console.log(
    `op    concurrency  ${names.map((n) => pad(`${n} req/s`, 14)).join("  ")}  raw mysql2 ops/s  ${names.map((n) => pad(`ratio ${n}`, 9 + n.length - 3)).join("  ")}   (HTTP alone: GET /healthz req/s)`,
  );
  for (const r of results) {
    const healthz = floor.get(r.concurrency)!;
    console.log(
      `${r.op.padEnd(5)} ${pad(String(r.concurrency), 11)}  ${r.services.map((c) => pad(c.rate.toFixed(0), 14)).join("  ")}  ${pad(r.raw.rate.toFixed(0), 16)}  ${r.services.map((c, k) => pad((c.rate / r.raw.rate).toFixed(2), 9 + names[k]!.length - 3)).join("  ")}   (${healthz.map((c) => c.rate.toFixed(0)).join(" / ")})`,
    );
  }
  console.log("");
  console.log("CPU us per operation (median round), by process: bench = this process (HTTP client, or the raw mysql2 pool)");
  for (const [k, label] of names.entries()) {
    console.log(`${label}:`);
    console.log("op    concurrency  http: bench  serve  mariadbd  total   raw: bench  mariadbd  total   /healthz: bench  serve");
    for (const r of results) {
      const h = floor.get(r.concurrency)![k]!;
      const c = r.services[k]!;
      console.log(
        `${r.op.padEnd(5)} ${pad(String(r.concurrency), 11)}  ${pad(us(c.cpu[0]), 11)}  ${pad(us(c.cpu[1]), 5)}  ${pad(us(c.cpu[2]), 8)}  ${pad(us(total(c)), 5)}  ${pad(us(r.raw.cpu[0]), 10)}  ${pad(us(r.raw.cpu[2]), 8)}  ${pad(us(total({ ...r.raw, cpu: [r.raw.cpu[0], r.raw.cpu[2]] })), 5)}  ${pad(us(h.cpu[0]), 15)}  ${pad(us(h.cpu[1]), 5)}`,
      );
    }
  }
} finally {
  for (const s of services) s.proc.kill("SIGTERM");
  for (const s of services) await s.proc.exited;
  await server.stop();
}
