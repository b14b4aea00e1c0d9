import { expect, test } from "bun:test";
import { progressBar } from "../../src/cli-output/progress.ts";

test("the progress bar draws only on a terminal and only for long jobs, and clears its line", () => {
  const written: string[] = [];
  const tty = { isTTY: true, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  const bar = progressBar({ total: 1000, stream: tty });
  bar.update("POST", 1000, 2000);
  bar.finish();
  expect(written[0]).toBe(`\rPOST [${"#".repeat(15)}${".".repeat(15)}] 1000/2000 50%\x1b[K`);
  expect(written.at(-1)).toBe("\r\x1b[K");

  const quiet: string[] = [];
  const pipe = { isTTY: false, write: (s: string) => quiet.push(s) } as unknown as NodeJS.WriteStream;
  const none = progressBar({ total: 1000, stream: pipe });
  none.update("POST", 10, 1000);
  none.finish();
  progressBar({ total: 10, stream: tty }).update("POST", 5, 10); // a short job: no bar
  expect(quiet).toEqual([]);
  expect(written).toHaveLength(2);
});
