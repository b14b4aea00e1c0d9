/**
 * `npm run bench:serve`: requests/s of one expense instance on MariaDB (POST, PUT and GET
 * at concurrency 1 and 32, HTTP over loopback), beside the same inserts, updates and selects
 * sent straight through a mysql2 pool to the same server in the same run, as a ratio.
 * Both sides make the same driver call: prepared statements through the pool's
 * callback `execute`, as the store does. The instance is a separate `shardctl serve`
 * process with its request log on (as deployed, sent to /dev/null). Medians of several
 * rounds. Beside the rates: CPU time per operation of each process (this bench with its
 * HTTP client or mysql2 pool, the serve process, mariadbd), from /proc, which says
 * where the time goes on a machine where the three share the cores.
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_SECONDS per round and cell (default 1.5),
 * BENCH_POOL (connections in each pool, default the service's default).
 */
import { cpus } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { seedRecord } from "../src/expenses/seed-data.ts";
import { openStore } from "../src/store/index.ts";
import { toRow } from "../src/store/record.ts";
import { DEFAULT_POOL } from "../src/store/url.ts";
import { startMariaDB } from "../test/support/mariadb.ts";
import { freePort, waitFor } from "../test/support/net.ts";
import { cpuMicros } from "./proc.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
const CONCURRENCY = [1, 32];
const POOL = Number(process.env.BENCH_POOL ?? DEFAULT_POOL);

interface Cell {
  rate: number;
  /** CPU microseconds per operation: this process, the serve process, mariadbd. */
  cpu: (number | undefined)[];
}

/** Runs `op(i)` from `concurrency` workers for `seconds`: operations per second and CPU per operation. */
async function measure(concurrency: number, seconds: number, op: (i: number) => Promise<void>): Promise<Cell> {
  let next = 0;
  let done = 0;
  const pids = [process.pid, proc!.pid, server.pid];
  const before = pids.map(cpuMicros);
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op(next++);
        done++;
      }
    }),
  );
  const rate = done / ((performance.now() - start) / 1000);
  const cpu = pids.map(cpuMicros).map((t, k) => (t === undefined || before[k] === undefined ? undefined : (t - before[k]) / done));
  return { rate, cpu };
}

/** The round with the median rate. */
const medianCell = (cells: Cell[]) => [...cells].sort((a, b) => a.rate - b.rate)[cells.length >> 1]!;

const server = await startMariaDB();
let proc: Bun.Subprocess | undefined;
try {
  // Both databases get the schema from the store's own migrations.
  for (const db of ["bench_http", "bench_raw"]) await (await openStore(server.url(db))).close();

  const port = await freePort();
  proc = Bun.spawn(
    [process.execPath, join(import.meta.dir, "../src/cli.ts"), "serve", "--port", String(port), "--db", `${server.url("bench_http")}?pool=${POOL}`],
    { stdout: "ignore", stderr: "inherit" },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitFor(() => fetch(`${base}/readyz`).then((r) => (r.ok ? true : undefined), () => undefined), { timeoutMs: 20_000 });

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
  let httpId = 0;
  let rawId = 0;
  const INSERT =
    "INSERT INTO expenses (id, name, email, category, description, link, estimated_costs_cents, submit_date, status, decision_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const SELECT =
    "SELECT id, name, email, category, description, link, estimated_costs_cents, submit_date, status, decision_date FROM expenses WHERE id = ?";
  const UPDATE = "UPDATE expenses SET status = ? WHERE id = ?";
  const STATUSES = ["approved", "rejected", "pending"] as const;

  const ops = {
    POST: {
      http: async () => {
        const id = String(++httpId);
        const r = await fetch(`${base}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(id)) });
        if (r.status !== 201) throw new Error(`POST ${id}: ${r.status} ${await r.text()}`);
        await r.arrayBuffer();
      },
      raw: async () => {
        const id = String(++rawId);
        const row = toRow({ ...seedRecord(id), estimated_costs: "800", status: "pending", decision_date: "" } as never);
        await run(INSERT, [row.id, row.name, row.email, row.category, row.description, row.link, row.costCents, row.submitDate, row.status, row.decisionDate]);
      },
    },
    // PUT changes the status of a stored record; the raw side runs the UPDATE and reads the row back.
    PUT: {
      http: async (i: number) => {
        const id = (i % httpId) + 1;
        const r = await fetch(`${base}/v1/expenses/${id}`, { method: "PUT", body: JSON.stringify({ status: STATUSES[i % 3] }) });
        if (r.status !== 202) throw new Error(`PUT ${id}: ${r.status} ${await r.text()}`);
        await r.json();
      },
      raw: async (i: number) => {
        const id = (i % rawId) + 1;
        await run(UPDATE, [STATUSES[i % 3]!, id]);
        const rows = await run<unknown[]>(SELECT, [id]);
        if (rows.length !== 1) throw new Error(`SELECT ${id}: ${rows.length} rows`);
      },
    },
    GET: {
      http: async (i: number) => {
        const id = (i % httpId) + 1;
        const r = await fetch(`${base}/v1/expenses/${id}`);
        if (r.status !== 200) throw new Error(`GET ${id}: ${r.status}`);
        await r.json();
      },
      raw: async (i: number) => {
        const id = (i % rawId) + 1;
        const rows = await run<unknown[]>(SELECT, [id]);
        if (rows.length !== 1) throw new Error(`SELECT ${id}: ${rows.length} rows`);
      },
    },
  };

  // warm-up: JIT, pools, connections
  for (const op of [ops.POST, ops.PUT, ops.GET]) {
    await measure(32, 0.5, op.http);
    await measure(32, 0.5, op.raw);
  }

  const results: { op: string; concurrency: number; http: Cell; raw: Cell }[] = [];
  for (const name of ["POST", "PUT", "GET"] as const) {
    for (const concurrency of CONCURRENCY) {
      const http: Cell[] = [];
      const rawCells: Cell[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        http.push(await measure(concurrency, SECONDS, ops[name].http));
        rawCells.push(await measure(concurrency, SECONDS, ops[name].raw));
      }
      results.push({ op: name, concurrency, http: medianCell(http), raw: medianCell(rawCells) });
    }
  }
  // The HTTP hop alone (no database): the most any HTTP endpoint of this server can do here.
  const floor = new Map<number, Cell>();
  for (const concurrency of CONCURRENCY) {
    const cells: Cell[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      cells.push(
        await measure(concurrency, SECONDS, async () => {
          const r = await fetch(`${base}/healthz`);
          await r.arrayBuffer();
        }),
      );
    }
    floor.set(concurrency, medianCell(cells));
  }
  await raw.end();

  const cpu = cpus();
  console.log(`machine: ${cpu.length} CPUs (nproc), ${cpu[0]?.model ?? "unknown CPU"}; bun ${Bun.version}; MariaDB ${version?.v}`);
  console.log(`method: medians of ${ROUNDS} rounds x ${SECONDS}s per cell; service pool ${POOL} connections, raw mysql2 pool ${POOL}; both sides: prepared statements through the pool's callback execute; the service runs as a separate serve process with its request log on`);
  console.log("");
  console.log("op    concurrency  service req/s  raw mysql2 ops/s  ratio   (HTTP alone: GET /healthz req/s)");
  for (const r of results) {
    console.log(
      `${r.op.padEnd(5)} ${String(r.concurrency).padStart(11)}  ${r.http.rate.toFixed(0).padStart(13)}  ${r.raw.rate.toFixed(0).padStart(16)}  ${(r.http.rate / r.raw.rate).toFixed(2).padStart(5)}   (${floor.get(r.concurrency)!.rate.toFixed(0)})`,
    );
  }
  const us = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(0));
  const total = (c: Cell) => (c.cpu.some((v) => v === undefined) ? undefined : c.cpu.reduce((a, b) => a! + b!, 0));
  console.log("");
  console.log("CPU us per operation (median round), by process: bench = this process (HTTP client, or the raw mysql2 pool)");
  console.log("op    concurrency  service: bench  serve  mariadbd  total   raw: bench  mariadbd  total   /healthz: bench  serve");
  for (const r of results) {
    const h = floor.get(r.concurrency)!;
    console.log(
      `${r.op.padEnd(5)} ${String(r.concurrency).padStart(11)}  ${us(r.http.cpu[0]).padStart(14)}  ${us(r.http.cpu[1]).padStart(5)}  ${us(r.http.cpu[2]).padStart(8)}  ${us(total(r.http)).padStart(5)}  ${us(r.raw.cpu[0]).padStart(10)}  ${us(r.raw.cpu[2]).padStart(8)}  ${us(total(r.raw)).padStart(5)}  ${us(h.cpu[0]).padStart(15)}  ${us(h.cpu[1]).padStart(5)}`,
    );
  }
} finally {
  proc?.kill("SIGTERM");
  await proc?.exited;
  await server.stop();
}
