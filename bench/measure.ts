/** What the request-rate benches share: a timed run of concurrent workers, the round to quote, the requests they time. */
import { seedRecord } from "../src/expenses/seed-data.ts";
import { waitFor } from "../test/support/net.ts";
import { cpuMicros } from "./proc.ts";

export interface Cell {
  rate: number;
  /** CPU microseconds per operation of each process measured (undefined without /proc). */
  cpu: (number | undefined)[];
}

/** Runs `op(i)` from `concurrency` workers for `seconds`: operations per second and CPU per operation of `pids`. */
export async function measure(concurrency: number, seconds: number, pids: number[], op: (i: number) => Promise<void>): Promise<Cell> {
  let next = 0;
  let done = 0;
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
export const medianCell = (cells: Cell[]) => [...cells].sort((a, b) => a.rate - b.rate)[cells.length >> 1]!;

/** An expense instance under test: its address, and how many ids the bench has POSTed to it (1..ids are stored). */
export interface Target {
  readonly label: string;
  readonly base: string;
  ids: number;
}

const STATUSES = ["approved", "rejected", "pending"] as const;

/** The requests the benches time: a POST of a fresh id, a PUT of a stored record's status, a GET of a stored record. */
export const expenseRequests = {
  POST: async (s: Target) => {
    const id = String(++s.ids);
    const r = await fetch(`${s.base}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(id)) });
    if (r.status !== 201) throw new Error(`${s.label} POST ${id}: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  },
  PUT: async (s: Target, i: number) => {
    const id = (i % s.ids) + 1;
    const r = await fetch(`${s.base}/v1/expenses/${id}`, { method: "PUT", body: JSON.stringify({ status: STATUSES[i % 3] }) });
    if (r.status !== 202) throw new Error(`${s.label} PUT ${id}: ${r.status} ${await r.text()}`);
    await r.json();
  },
  GET: async (s: Target, i: number) => {
    const id = (i % s.ids) + 1;
    const r = await fetch(`${s.base}/v1/expenses/${id}`);
    if (r.status !== 200) throw new Error(`${s.label} GET ${id}: ${r.status}`);
    await r.json();
  },
};

/** Resolves when the instance at `base` answers /readyz with 200. */
export function ready(base: string, timeoutMs: number): Promise<true> {
  return waitFor(
    () =>
      fetch(`${base}/readyz`).then(
        (r) => (r.ok ? true : undefined),
        () => undefined,
      ),
    { timeoutMs },
  );
}
