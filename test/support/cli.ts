/** Runs `shardctl <argv>` in this process through the real runner: its exit status and what it printed. */
import { spyOn } from "bun:test";
import { cliOptions, root } from "../../src/cli.ts";
import { runCli as runTree } from "../../src/cli-runner.ts";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Both, in the order written (as a terminal shows them), each line marked `out: ` or `err: `. */
  readonly interleaved: string;
}

export async function runCli(...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const both: string[] = [];
  const write = (to: string[], mark: string) => (text: string) => {
    to.push(text);
    both.push(...text.split("\n").map((line) => `${mark}: ${line}`));
  };
  const toOut = write(out, "out");
  const toErr = write(err, "err");
  const spies = [
    spyOn(console, "log").mockImplementation((...a: unknown[]) => toOut(a.join(" "))),
    spyOn(console, "error").mockImplementation((...a: unknown[]) => toErr(a.join(" "))),
    spyOn(process.stdout, "write").mockImplementation((chunk: unknown) => {
      toOut(String(chunk));
      return true;
    }),
  ];
  try {
    const code = await runTree(root, argv, cliOptions);
    return { code, stdout: out.join("\n"), stderr: err.join("\n"), interleaved: both.join("\n") };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}
