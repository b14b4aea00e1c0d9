/** The terminal progress bar of the long-running commands (client run, rebalance). */
import { count } from "./words.ts";

export interface ProgressSink {
  /** `done` of `total` items finished, `failed` of them failed. */
  update(done: number, total: number, failed: number): void;
  finish(): void;
}

/**
 * A one-line bar on stderr, redrawn at most every 100 ms; only when stderr is a
 * terminal and the job is long enough to watch. Otherwise a no-op.
 *
 *   [#########...........] 6,128/20,000 ids 31% 1,234/s ETA 0:11 3 failed
 *
 * The line never reaches the terminal's last column (no wrap, so `\r` redraws it): on a
 * narrow terminal the bar goes first, then the word "ids", the rate and the ETA.
 */
export function progressBar({
  total,
  stream = process.stderr,
  minTotal = 200,
  now = () => performance.now(),
  unit = "ids",
  label = "",
}: {
  total: number;
  stream?: Pick<NodeJS.WriteStream, "isTTY" | "write" | "columns">;
  minTotal?: number;
  now?: () => number;
  /** What is counted: "ids", "records". */
  unit?: string;
  /** A word in front of the bar: the step ("copy"). */
  label?: string;
}): ProgressSink {
  if (!stream.isTTY || total < minTotal) return { update() {}, finish() {} };
  const started = now();
  let last = -Infinity; // the first update draws, however young the process (performance.now() starts near 0)
  let drawn = false;
  return {
    update(done, of, failed) {
      const t = now();
      if (done < of && t - last < 100) return;
      last = t;
      const columns = (stream.columns || 80) - (label ? label.length + 1 : 0);
      stream.write(`\r${label ? `${label} ` : ""}${progressLine(done, of, failed, (t - started) / 1000, columns, unit)}\x1b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write("\r\x1b[K");
    },
  };
}

/** The bar's text for a terminal `columns` wide: at most columns - 1 characters. */
export function progressLine(done: number, total: number, failed: number, seconds: number, columns: number, unit = "ids"): string {
  const room = columns - 1;
  const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
  const rate = seconds > 0 ? done / seconds : 0;
  const parts = {
    counts: `${count(done)}/${count(total)}`,
    ids: unit,
    pct: `${pct}%`,
    rate: rate > 0 ? `${count(Math.round(rate))}/s` : "",
    eta: done >= total ? "" : rate > 0 ? `ETA ${clock((total - done) / rate)}` : "ETA --",
    failed: failed > 0 ? `${count(failed)} failed` : "",
  };
  const text = (shown: ReadonlySet<string>) =>
    (Object.keys(parts) as (keyof typeof parts)[])
      .filter((k) => shown.has(k) && parts[k] !== "")
      .map((k) => parts[k])
      .join(" ");
  // Counts, percentage and failures always; then what fits, the most useful first; the bar last.
  const shown = new Set<string>(["counts", "pct", "failed"]);
  for (const key of ["eta", "rate", "ids"]) {
    if (text(new Set([...shown, key])).length <= room) shown.add(key);
  }
  const line = text(shown);
  const width = Math.min(MAX_BAR, room - line.length - 3);
  if (width < MIN_BAR) return line.slice(0, room);
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${line}`;
}

const MIN_BAR = 5;
const MAX_BAR = 30;

/** `0:07`, `12:34`, `1:02:03`. */
function clock(secondsLeft: number): string {
  const s = Math.ceil(secondsLeft);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh > 0 ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}
