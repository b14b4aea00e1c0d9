/** Runs `shardctl <argv>` in this process through the real runner: its exit status and what it printed. */
import { spyOn } from "bun:test";
import { root } from "../../src/cli.ts";
import { main } from "../../src/main.ts";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(...argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" "))),
    spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" "))),
    spyOn(process.stdout, "write").mockImplementation((chunk: any) => (out.push(String(chunk)), true)),
  ];
  try {
    const code = await main(root, argv);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}
