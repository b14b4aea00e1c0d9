/** Runs `shardctl <argv>`: in this process through the real runner, or as a child process (to be killed). */
import { join } from "node:path";
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

/** Child processes of spawnCli not ended yet: a test's afterEach kills them (SIGKILL). */
export const runningCli = new Set<Bun.Subprocess>();

/** `bun src/cli.ts <argv>` as a child process (no admin token in its environment): the process, and its exit status, output and signal once it ends. */
export function spawnCli(...argv: string[]) {
  const proc = Bun.spawn([process.execPath, "src/cli.ts", ...argv], {
    cwd: join(import.meta.dir, "../.."),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, SHARDCTL_ADMIN_TOKEN: "" },
  });
  runningCli.add(proc);
  const result = (async () => {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    runningCli.delete(proc);
    return { code, stdout, stderr, signal: proc.signalCode };
  })();
  return { proc, result };
}

/** Kills (SIGKILL) every child process of spawnCli still running, and waits for them. */
export async function killRunningCli(): Promise<void> {
  const left = [...runningCli];
  for (const p of left) p.kill("SIGKILL");
  await Promise.all(left.map((p) => p.exited));
}
