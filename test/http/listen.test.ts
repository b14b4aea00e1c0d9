/**
 * Every listener of the binary holds its port alone: a second `serve`, `router` or
 * `status --web` on a port that the same command already serves exits 1 saying the
 * address is in use (Bun sets SO_REUSEPORT unless told not to, and the kernel would split
 * the connections between the two).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { freePort, waitFor } from "../support/net.ts";

const CLI = join(import.meta.dir, "../../src/cli.ts");
const VARIABLES = ["SHARDCTL_NAME", "SHARDCTL_PORT", "SHARDCTL_HOST", "SHARDCTL_DB", "SHARDCTL_NODES", "SHARDCTL_VNODES", "SHARDCTL_RING"];
const env = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !VARIABLES.includes(k)));

/** `shardctl <args>` as a process, with what it has written on stderr so far. */
function spawn(args: string[]) {
  const proc = Bun.spawn([process.execPath, CLI, ...args], { env: env(), stdout: "ignore", stderr: "pipe" });
  let stderr = "";
  const read = (async () => {
    for await (const chunk of proc.stderr as unknown as AsyncIterable<Uint8Array>) stderr += new TextDecoder().decode(chunk);
  })();
  return { proc, stderr: () => stderr, read };
}

const NODES = ["--nodes", "a=127.0.0.1:1"];
const COMMANDS: [string, (port: number) => string[], string][] = [
  ["serve", (port) => ["serve", "--port", String(port), "--db", "sqlite::memory:"], " listening on "],
  ["router", (port) => ["router", "--port", String(port), ...NODES], " listening on "],
  ["status --web", (port) => ["status", "--web", String(port), ...NODES], "the cluster page"],
];

describe("a second listener on a port in use", () => {
  for (const [name, argv, started] of COMMANDS) {
    test(`a second ${name} on the port of a running one exits 1: the address is in use`, async () => {
      const port = await freePort();
      const first = spawn(argv(port));
      try {
        await waitFor(() => (first.stderr().includes(started) ? true : first.proc.exitCode !== null ? Promise.reject(first.stderr()) : undefined), {
          timeoutMs: 20_000,
        });
        const second = spawn(argv(port));
        // on a port shared by SO_REUSEPORT the second one would start and keep running
        const code = await Promise.race([second.proc.exited, Bun.sleep(15_000).then(() => "still running")]);
        if (code === "still running") second.proc.kill("SIGKILL");
        await second.read;
        expect({ code, started: second.stderr().includes(started) }).toEqual({ code: 1, started: false });
        expect(second.stderr()).toContain(`127.0.0.1:${port}: the address is in use`);
        // the first one still answers: nothing took its port
        expect(first.proc.exitCode).toBeNull();
      } finally {
        first.proc.kill("SIGTERM");
        await first.proc.exited;
        await first.read;
      }
    }, 60_000);
  }
});
