/** The terminal progress bar of the long-running commands (client run). */

export interface ProgressSink {
  update(label: string, done: number, total: number): void;
  finish(): void;
}

/**
 * A one-line bar on stderr, redrawn at most every 100 ms; only when stderr is a
 * terminal and the job is long enough to watch. Otherwise a no-op.
 */
export function progressBar({
  total,
  stream = process.stderr,
  minTotal = 200,
}: {
  total: number;
  stream?: NodeJS.WriteStream;
  minTotal?: number;
}): ProgressSink {
  if (!stream.isTTY || total < minTotal) return { update() {}, finish() {} };
  let last = -Infinity; // the first update draws, however young the process (performance.now() starts near 0)
  let drawn = false;
  return {
    update(label, done, of) {
      const now = performance.now();
      if (done < of && now - last < 100) return;
      last = now;
      const width = 30;
      const filled = of === 0 ? width : Math.round((done / of) * width);
      const pct = of === 0 ? 100 : Math.floor((done / of) * 100);
      stream.write(`\r${label.padEnd(4)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${of} ${pct}%\x1b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write("\r\x1b[K");
    },
  };
}
