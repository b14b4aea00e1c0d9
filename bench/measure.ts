/** What the request-rate benches share: a timed run of concurrent workers, and the round to quote. */
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
