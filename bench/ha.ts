/**
 * `npm run bench:ha`: what a shard on a three-member Galera cluster costs and how fast it
 * recovers. Two `shardctl serve` processes in one run: one on a plain MariaDB, one on a
 * three-member Galera cluster (all on this machine, like the tests start them; every member
 * of the cluster shares the cores with the rest). POST and GET requests/s of each at
 * concurrency 1 and 32, the two interleaved round by round; the ratio Galera/plain is the
 * median of each round's ratio (goals: GET at least 0.9, POST at least 0.5).
 *
 * Then failover: writers POST to the Galera shard without a pause while the member in use is
 * killed (SIGKILL); the time from the kill to the first acknowledged write sent after it,
 * for several kills (the killed member restarted and synced between two), and its median
 * (goal: under 10 s with Galera's default provider options).
 *
 * Env: BENCH_ROUNDS (default 5), BENCH_SECONDS per round and cell (default 1.5), BENCH_KILLS
 * (default 5), BENCH_POOL (connections in each pool, default the store's), BENCH_PROVIDER_OPTIONS (more wsrep_provider_options for the cluster, e.g.
 * `evs.suspect_timeout=PT2S;evs.inactive_timeout=PT4S;evs.keepalive_period=PT0.5S`).
 */
import { cpus } from "node:os";
import { join } from "node:path";
import { seedRecord } from "../src/expenses/seed-data.ts";
import { openStore } from "../src/store/index.ts";
import { startGalera } from "../test/support/galera.ts";
import { startMariaDB } from "../test/support/mariadb.ts";
import { freePort, waitFor } from "../test/support/net.ts";
import { type Cell, expenseRequests, measure, medianCell, ready } from "./measure.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
const KILLS = Number(process.env.BENCH_KILLS ?? 5);
const PROVIDER_OPTIONS = process.env.BENCH_PROVIDER_OPTIONS;
/** Connections in each serve's pool (?pool=); default the store's default. */
const POOL = process.env.BENCH_POOL;
const CONCURRENCY = [1, 32];
const CLI = join(import.meta.dir, "../src/cli.ts");

interface Service {
  label: "plain" | "galera";
  base: string;
  proc: Bun.Subprocess;
  /** The database servers' processes (CPU per operation). */
  dbPids: () => number[];
  ids: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

const [plain, galera] = await Promise.all([startMariaDB(), startGalera(3, { providerOptions: PROVIDER_OPTIONS })]);
const services: Service[] = [];
try {
  const pool = POOL ? `?pool=${POOL}` : "";
  const urls = { plain: plain.url("bench_plain") + pool, galera: galera.url("bench_ha") + pool };
  for (const label of ["plain", "galera"] as const) {
    await (await openStore(urls[label])).close();
    const port = await freePort();
    // ring-aware, as deployed (a one-node ring), request log on, as bench:serve runs it
    const proc = Bun.spawn(
      [process.execPath, CLI, "serve", "--port", String(port), "--db", urls[label], "--name", "bench", "--nodes", `bench=127.0.0.1:${port}`],
      {
        stdout: "ignore",
        stderr: label === "galera" ? "pipe" : "inherit",
      },
    );
    const base = `http://127.0.0.1:${port}`;
    const dbPids = label === "plain" ? () => [plain.pid] : () => galera.members.flatMap((m) => (m.pid === undefined ? [] : [m.pid]));
    services.push({ label, base, proc, dbPids, ids: 0 });
    await ready(base, 30_000);
  }
  const [plainService, galeraService] = services as [Service, Service];
  // the Galera instance's move lines, kept for the failover report
  const moves: string[] = [];
  void (async () => {
    let rest = "";
    for await (const chunk of galeraService.proc.stderr as unknown as AsyncIterable<Uint8Array>) {
      const lines = (rest + new TextDecoder().decode(chunk)).split("\n");
      rest = lines.pop()!;
      for (const line of lines) if (line.includes("galera: moved")) moves.push(line);
    }
  })();

  const http = expenseRequests;
  const pidsOf = (s: Service) => [process.pid, s.proc.pid, ...s.dbPids()];

  // warm-up: JIT, pools, connections; and rows for GET
  for (const name of ["POST", "GET"] as const) for (const s of services) await measure(32, 1, pidsOf(s), (i) => http[name](s, i));

  const results: { op: string; concurrency: number; plain: Cell; galera: Cell; ratios: number[] }[] = [];
  for (const name of ["POST", "GET"] as const) {
    for (const concurrency of CONCURRENCY) {
      const cells: Record<Service["label"], Cell[]> = { plain: [], galera: [] };
      const ratios: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // alternate which goes first, so that neither always meets the other's leftovers
        const order = round % 2 === 0 ? [plainService, galeraService] : [galeraService, plainService];
        for (const s of order) cells[s.label].push(await measure(concurrency, SECONDS, pidsOf(s), (i) => http[name](s, i)));
        ratios.push(cells.galera.at(-1)!.rate / cells.plain.at(-1)!.rate);
      }
      results.push({ op: name, concurrency, plain: medianCell(cells.plain), galera: medianCell(cells.galera), ratios });
    }
  }

  // Failover: writers without a pause; kill the member in use; the first acknowledgement of a write sent after the kill.
  let stop = false;
  const acks: { sent: number; at: number }[] = [];
  let failedWrites = 0;
  let next = 10_000_000;
  const writers = Array.from({ length: 4 }, async () => {
    while (!stop) {
      const sent = performance.now();
      const r = await fetch(`${galeraService.base}/v1/expenses`, {
        method: "POST",
        body: JSON.stringify(seedRecord(String(next++))),
        signal: AbortSignal.timeout(15_000),
      }).catch(() => undefined);
      if (r?.status === 201) acks.push({ sent, at: performance.now() });
      else {
        failedWrites++;
        await Bun.sleep(20);
      }
      await r?.arrayBuffer().catch(() => {});
    }
  });
  type Status = { ready: boolean; database: { member: string; members: { state: string }[] } };
  const status = async () => (await (await fetch(`${galeraService.base}/status`)).json()) as Status;
  const failovers: { member: string; ms: number }[] = [];
  try {
    for (let k = 0; k < KILLS; k++) {
      await galera.synced(180_000);
      // a member that fed the last joiner may still be left behind: wait until the instance uses a synced member
      await waitFor(
        async () => {
          const now = await status();
          return now.ready && now.database.members.every((m) => m.state === "Synced") ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      await Bun.sleep(1000);
      const address = (await status()).database.member;
      const victim = galera.members.find((m) => m.address === address)!;
      const killed = performance.now();
      await victim.kill();
      const first = await waitFor(() => acks.find((a) => a.sent > killed), { timeoutMs: 60_000, intervalMs: 5 });
      failovers.push({ member: address, ms: first.at - killed });
      await victim.start();
    }
  } finally {
    stop = true;
    await Promise.all(writers);
  }

  const cpu = cpus();
  const pad = (text: string | number, width: number) => String(text).padStart(width);
  const us = (v: number | undefined) => (v === undefined ? "-" : v.toFixed(0));
  const sum = (values: (number | undefined)[]) => (values.some((v) => v === undefined) ? undefined : values.reduce((a, b) => a! + b!, 0));
  console.log(
    `machine: ${cpu.length} CPUs (nproc), ${cpu[0]?.model ?? "unknown CPU"}; bun ${Bun.version}; galera ${PROVIDER_OPTIONS ? `with ${PROVIDER_OPTIONS}` : "with default provider options"}`,
  );
  console.log(
    `method: medians of ${ROUNDS} rounds x ${SECONDS}s per cell, the two services alternating; two shardctl serve processes (ring-aware, request log on): one on a plain MariaDB, one on a three-member Galera cluster on this machine`,
  );
  console.log("");
  console.log("op    concurrency  plain req/s  galera req/s  galera/plain  (per round)                       goal");
  for (const r of results) {
    const goal = r.op === "GET" ? 0.9 : 0.5;
    const ratio = median(r.ratios);
    console.log(
      `${r.op.padEnd(5)} ${pad(r.concurrency, 11)}  ${pad(r.plain.rate.toFixed(0), 11)}  ${pad(r.galera.rate.toFixed(0), 12)}  ${pad(ratio.toFixed(2), 12)}  (${r.ratios
        .map((x) => x.toFixed(2))
        .join(" ")
        .padEnd(30)})  >= ${goal}: ${ratio >= goal ? "met" : "NOT met"}`,
    );
  }
  console.log("");
  console.log("CPU us per request (median round), by process: bench = this process (the HTTP client), databases = mariadbd (all three members for galera)");
  console.log("op    concurrency  plain: bench  serve  databases  total   galera: bench  serve  databases  total");
  for (const r of results) {
    const [p, g] = [r.plain.cpu, r.galera.cpu];
    console.log(
      `${r.op.padEnd(5)} ${pad(r.concurrency, 11)}  ${pad(us(p[0]), 12)}  ${pad(us(p[1]), 5)}  ${pad(us(sum(p.slice(2))), 9)}  ${pad(us(sum(p)), 5)}  ${pad(us(g[0]), 13)}  ${pad(us(g[1]), 5)}  ${pad(us(sum(g.slice(2))), 9)}  ${pad(us(sum(g)), 5)}`,
    );
  }
  console.log("");
  const ms = failovers.map((f) => f.ms);
  console.log(
    `failover: kill -9 of the member in use, ${failovers.length} kills; from the kill to the first acknowledged write sent after it: ` +
      `median ${Math.round(median(ms))} ms (each: ${ms.map((m) => Math.round(m)).join(", ")}); goal < 10000 ms: ${median(ms) < 10_000 ? "met" : "NOT met"}`,
  );
  console.log(`writers: ${acks.length} writes acknowledged, ${failedWrites} answered 503 (or no answer) during the kills`);
  for (const line of moves) console.log(`  ${line.replace(/^shardctl: node bench: /, "")}`);
} finally {
  for (const s of services) s.proc.kill("SIGTERM");
  for (const s of services) await s.proc.exited;
  await Promise.allSettled([plain.stop(), galera.stop()]);
}
