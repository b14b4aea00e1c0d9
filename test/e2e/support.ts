/**
 * The compiled binary and `shardctl serve` processes for the end-to-end tests. Every
 * process started here is remembered by PID and stopped by `stopAll()`, also when a
 * test fails.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "../support/net.ts";

const repo = join(import.meta.dir, "../..");

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((e) => newestMtime(join(path, e))));
}

/**
 * dist/shardctl when it is newer than every source file, else a fresh build in a temp
 * dir (a compile takes some seconds). SHARDCTL_BIN overrides both.
 */
export function compiledBinary(): { path: string; cleanup(): void } {
  if (process.env.SHARDCTL_BIN) return { path: process.env.SHARDCTL_BIN, cleanup() {} };
  const dist = join(repo, "dist/shardctl");
  const sources = Math.max(newestMtime(join(repo, "src")), newestMtime(join(repo, "package.json")), newestMtime(join(repo, "scripts/build.ts")));
  try {
    if (statSync(dist).mtimeMs > sources) return { path: dist, cleanup() {} };
  } catch {}
  const dir = mkdtempSync(join(tmpdir(), "shardctl-bin-"));
  const out = join(dir, "shardctl");
  const build = Bun.spawnSync([process.execPath, "scripts/build.ts", out], { cwd: repo, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`build failed (${build.exitCode}):\n${build.stdout}\n${build.stderr}`);
  }
  return { path: out, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const running = new Set<Bun.Subprocess>();

export interface ServeProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL at once: a crash. */
  kill(): Promise<void>;
  log(): string;
}

/** `shardctl serve` on 127.0.0.1, ready (GET /readyz 200) when this resolves. */
export async function startServe(
  bin: string,
  { name, db, port, logDir, env = {} }: { name: string; db: string; port?: number; logDir: string; env?: Record<string, string> },
): Promise<ServeProcess> {
  const realPort = port ?? (await freePort());
  const logFile = join(logDir, `serve-${name}-${Date.now()}.log`);
  const proc = Bun.spawn([bin, "serve", "--host", "127.0.0.1", "--port", String(realPort), "--name", name], {
    env: { ...process.env, SHARDCTL_DB: db, ...env },
    stdout: Bun.file(logFile),
    stderr: Bun.file(logFile),
  });
  running.add(proc);
  const url = `http://127.0.0.1:${realPort}`;
  const log = () => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  const end = async (signal: "SIGTERM" | "SIGKILL") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await proc.exited;
    clearTimeout(timer);
    running.delete(proc);
  };
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}`);
        const res = await fetch(`${url}/readyz`).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
  } catch (e) {
    await end("SIGKILL");
    throw new Error(`shardctl serve --name ${name} did not get ready: ${(e as Error).message}\n${log()}`);
  }
  return { name, port: realPort, url, pid: proc.pid, stop: () => end("SIGTERM"), kill: () => end("SIGKILL"), log };
}

/** Stops every process started here that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(async (p) => {
      p.kill("SIGKILL");
      await p.exited;
      running.delete(p);
    }),
  );
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `shardctl <args>`; resolves with its exit status and output. Killed after `timeoutMs`. */
export function spawnCli(bin: string, args: string[], { timeoutMs = 60_000, env = {} as Record<string, string> } = {}) {
  const proc = Bun.spawn([bin, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  running.add(proc);
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const result = (async (): Promise<CliResult> => {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    running.delete(proc);
    return { code, stdout, stderr };
  })();
  return { pid: proc.pid, result };
}

export function cli(bin: string, args: string[], options?: { timeoutMs?: number }): Promise<CliResult> {
  return spawnCli(bin, args, options).result;
}
