import { existsSync, readFileSync } from "node:fs";

/** CPU time (user + system) of a process so far, in microseconds; undefined without /proc. */
export function cpuMicros(pid: number): number | undefined {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return undefined;
  const stat = readFileSync(file, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6; // utime, stime in USER_HZ (100)
}
