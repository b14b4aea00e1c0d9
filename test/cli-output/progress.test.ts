import { describe, expect, test } from "bun:test";
import { progressBar, progressLine } from "../../src/cli-output/progress.ts";

/** A terminal `columns` wide that keeps what is written to it. */
function terminal(columns: number) {
  const written: string[] = [];
  return { written, stream: { isTTY: true, columns, write: (s: string) => written.push(s) > 0 } };
}

/** What a line shows: without the carriage return and the erase-to-end-of-line. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the bar ends in ESC [K
const visible = (s: string) => s.replace(/^\r/, "").replace(/\x1b\[K$/, "");

describe("progressBar", () => {
  test("counts ids, and shows the rate, the ETA and the failures", () => {
    const term = terminal(100);
    let t = 0;
    const bar = progressBar({ total: 20_000, stream: term.stream, now: () => t });
    t = 5000; // 6,128 ids in 5 s: 1,226 a second, 13,872 left: 11.3 s
    bar.update(6128, 20_000, 3);
    expect(visible(term.written[0]!)).toBe(`[${"#".repeat(9)}${".".repeat(21)}] 6,128/20,000 ids 30% 1,226/s ETA 0:12 3 failed`);
    bar.finish();
    expect(term.written.at(-1)).toBe("\r\x1b[K");
  });

  test("fits the terminal, never touching its last column (a line that wraps cannot be redrawn)", () => {
    for (const columns of [20, 30, 40, 50, 60, 80, 200]) {
      for (const [done, failed] of [
        [0, 0],
        [6128, 0],
        [12_345, 9_876],
        [20_000, 20_000],
      ] as const) {
        const line = progressLine(done, 20_000, failed, 12, columns);
        expect({ columns, line, fits: line.length <= columns - 1 }).toEqual({ columns, line, fits: true });
        if (columns >= 30) expect(line).toContain(`${done.toLocaleString("en-US")}/20,000`);
        if (failed > 0 && columns >= 40) expect(line).toContain(`${failed.toLocaleString("en-US")} failed`);
      }
    }
  });

  test("narrow terminals: counts, percentage and failures always, then ETA, rate, the word ids and the bar as room allows", () => {
    expect(progressLine(6128, 20_000, 3, 5, 40)).toBe("6,128/20,000 ids 30% ETA 0:12 3 failed");
    expect(progressLine(6128, 20_000, 0, 5, 40)).toBe("6,128/20,000 ids 30% 1,226/s ETA 0:12");
    // 46 characters of text leave 59 - 46 - 3 = 10 for the bar, 31% of it filled
    expect(progressLine(6128, 20_000, 3, 5, 60)).toBe("[###.......] 6,128/20,000 ids 30% 1,226/s ETA 0:12 3 failed");
  });

  test("a step's label in front and another unit (the rebalance: copy ... records), the whole line within the terminal", () => {
    const term = terminal(70);
    let t = 0;
    const bar = progressBar({ total: 26_000, stream: term.stream, now: () => t, unit: "records", label: "copy" });
    t = 1000;
    bar.update(13_000, 26_000, 0);
    const line = visible(term.written[0]!);
    expect(line).toStartWith("copy [");
    expect(line).toEndWith("] 13,000/26,000 records 50% 13,000/s ETA 0:01");
    expect(line.length).toBeLessThanOrEqual(69);
  });

  test("only on a terminal and only for long jobs", () => {
    const quiet: string[] = [];
    const pipe = { isTTY: false, columns: 80, write: (s: string) => quiet.push(s) > 0 };
    const none = progressBar({ total: 1000, stream: pipe });
    none.update(10, 1000, 0);
    none.finish();
    const term = terminal(80);
    progressBar({ total: 10, stream: term.stream }).update(5, 10, 0); // a short job: no bar
    expect(quiet).toEqual([]);
    expect(term.written).toEqual([]);
  });
});
