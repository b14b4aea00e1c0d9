/**
 * `npm run bench:serve`: requests/s of one expense instance on MariaDB (POST and GET
 * at concurrency 1 and 32, HTTP over loopback), beside the same inserts and selects
 * sent straight through a mysql2 pool (prepared statements) to the same server in the
 * same run, as a ratio. The instance is a separate `shardctl serve` process with its
 * request log on (as deployed, sent to /dev/null). Medians of several rounds.
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

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
const CONCURRENCY = [1, 32];
const POOL = Number(process.env.BENCH_POOL ?? DEFAULT_POOL);

/** Runs `op(i)` from `concurrency` workers for `seconds`; operations per second. */
async function measure(concurrency: number, seconds: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let done = 0;
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
  return done / ((performance.now() - start) / 1000);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

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

  const raw = mysql.createPool({
    host: "127.0.0.1",
    port: server.port,
    user: "root",
    database: "bench_raw",
    connectionLimit: POOL,
    dateStrings: true,
  });
  const [[version]] = (await raw.query("SELECT VERSION() AS v")) as unknown as [[{ v: string }]];

  // Each POST uses a fresh id; ids continue across rounds so that every insert is new.
  let httpId = 0;
  let rawId = 0;
  const INSERT =
    "INSERT INTO expenses (id, name, email, category, description, link, estimated_costs_cents, submit_date, status, decision_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const SELECT =
    "SELECT id, name, email, category, description, link, estimated_costs_cents, submit_date, status, decision_date FROM expenses WHERE id = ?";

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
        await raw.execute(INSERT, [row.id, row.name, row.email, row.category, row.description, row.link, row.costCents, row.submitDate, row.status, row.decisionDate]);
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
        const [rows] = (await raw.execute(SELECT, [id])) as unknown as [unknown[]];
        if (rows.length !== 1) throw new Error(`SELECT ${id}: ${rows.length} rows`);
      },
    },
  };

  // warm-up: JIT, pools, connections
  for (const op of [ops.POST, ops.GET]) {
    await measure(32, 0.5, op.http);
    await measure(32, 0.5, op.raw);
  }

  const results: { op: string; concurrency: number; http: number; raw: number }[] = [];
  for (const name of ["POST", "GET"] as const) {
    for (const concurrency of CONCURRENCY) {
      const http: number[] = [];
      const rawRates: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        http.push(await measure(concurrency, SECONDS, ops[name].http));
        rawRates.push(await measure(concurrency, SECONDS, ops[name].raw));
      }
      results.push({ op: name, concurrency, http: median(http), raw: median(rawRates) });
    }
  }
  // The HTTP hop alone (no database): the most any HTTP endpoint of this server can do here.
  const floor = new Map<number, number>();
  for (const concurrency of CONCURRENCY) {
    const rates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rates.push(
        await measure(concurrency, SECONDS, async () => {
          const r = await fetch(`${base}/healthz`);
          await r.arrayBuffer();
        }),
      );
    }
    floor.set(concurrency, median(rates));
  }
  await raw.end();

  const cpu = cpus();
  console.log(`machine: ${cpu.length} CPUs (nproc), ${cpu[0]?.model ?? "unknown CPU"}; bun ${Bun.version}; MariaDB ${version?.v}`);
  console.log(`method: medians of ${ROUNDS} rounds x ${SECONDS}s per cell; service pool ${POOL} connections, raw mysql2 pool ${POOL} (execute = prepared statements); the service runs as a separate serve process with its request log on`);
  console.log("");
  console.log("op    concurrency  service req/s  raw mysql2 ops/s  ratio   (HTTP alone: GET /healthz req/s)");
  for (const r of results) {
    console.log(
      `${r.op.padEnd(5)} ${String(r.concurrency).padStart(11)}  ${r.http.toFixed(0).padStart(13)}  ${r.raw.toFixed(0).padStart(16)}  ${(r.http / r.raw).toFixed(2).padStart(5)}   (${floor.get(r.concurrency)!.toFixed(0)})`,
    );
  }
} finally {
  proc?.kill("SIGTERM");
  await proc?.exited;
  await server.stop();
}
