/**
 * Real MySQL-compatible servers for tests: each one gets its own data dir, port,
 * socket, tmpdir and pid file (instances that share /tmp as tmpdir break each other
 * at start-up), binds to 127.0.0.1 only, and is stopped by PID.
 *
 * Without a server binary the MySQL suites skip with a printed reason, except under
 * CI=true, where a missing binary is an error (.ci/run installs mariadb-server).
 */
import { mkdtempSync, rmSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./net.ts";
import { skipBecause } from "./skip.ts";

export interface MariaDB {
  readonly port: number;
  readonly dir: string;
  /** The server process's id (a new one after restart()). */
  readonly pid: number;
  /** `mysql://root@127.0.0.1:<port>/<database>` */
  url(database: string): string;
  stop(): Promise<void>;
  /** SIGKILL, for fault tests. */
  kill(): Promise<void>;
  /** Stops the server process (SIGTERM) but keeps its data dir and port, for restart(). */
  halt(): Promise<void>;
  /** Starts a halted server again on the same data dir and port; resolves when it accepts connections. */
  restart(): Promise<void>;
}

function which(names: string[]): string | undefined {
  for (const n of names) {
    const found = Bun.which(n, { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/usr/local/sbin:/usr/local/mysql/bin` });
    if (found) return found;
  }
  return undefined;
}

export const serverBinary = which(["mariadbd", "mysqld"]);
export const installDbBinary = which(["mariadb-install-db", "mysql_install_db"]);

/** Why MySQL suites cannot run here, or undefined when they can. */
export const mysqlUnavailable: string | undefined = skipBecause(
  "MySQL suites",
  serverBinary && installDbBinary
    ? undefined
    : "no MariaDB/MySQL server binary (mariadbd + mariadb-install-db) on PATH or in /usr/sbin; install mariadb-server to run them",
);

const isRoot = process.getuid?.() === 0;

export async function startMariaDB(): Promise<MariaDB> {
  if (!serverBinary || !installDbBinary) throw new Error(mysqlUnavailable);
  const dir = mkdtempSync(join(tmpdir(), "shardctl-mariadb-"));
  const install = Bun.spawnSync(
    [
      installDbBinary,
      "--no-defaults",
      `--datadir=${join(dir, "data")}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      // its own tmpdir too: bootstraps that share /tmp have failed on each other's temporary tables
      `--tmpdir=${dir}`,
      ...(isRoot ? ["--user=root"] : []),
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (install.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (${install.exitCode}): ${install.stderr.toString()}`);
  }

  // A port can be taken between freePort() and bind; retry a few times.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const started = await launch(dir, port);
    if (typeof started !== "string") return handle(dir, port, started);
    const log = errorLog(dir);
    if (attempt >= 3 || !/address already in use/i.test(log)) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mariadbd did not start (${started}) on port ${port}:\n${log.slice(-2000)}`);
    }
  }
}

/** mariadbd on the data dir in `dir`, once it accepts connections; else why not. */
async function launch(dir: string, port: number): Promise<Bun.Subprocess | "exited" | "timeout"> {
  const proc = Bun.spawn(
    [
      serverBinary!,
      "--no-defaults",
      `--datadir=${join(dir, "data")}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      `--socket=${join(dir, "mariadbd.sock")}`,
      `--pid-file=${join(dir, "mariadbd.pid")}`,
      `--tmpdir=${dir}`,
      `--log-error=${join(dir, "error.log")}`,
      "--skip-name-resolve",
      "--skip-log-bin",
      "--innodb-buffer-pool-size=64M",
      "--innodb-flush-log-at-trx-commit=2",
      "--max-connections=500",
      ...(isRoot ? ["--user=root"] : []),
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  const ready = await waitFor(
    async () => {
      if (proc.exitCode !== null) return "exited";
      return (await canConnect(port)) ? "ready" : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  ).catch(() => "timeout" as const);
  if (ready === "ready") return proc;
  proc.kill("SIGKILL");
  await proc.exited;
  return ready;
}

function errorLog(dir: string): string {
  const path = join(dir, "error.log");
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/**
 * Starts `n` servers at once (the cluster tests use three, one per instance). When one
 * fails, the others are stopped before the error is thrown: the caller never got them,
 * so its afterAll could not.
 */
export async function startMariaDBs(n: number, start: () => Promise<MariaDB> = startMariaDB): Promise<MariaDB[]> {
  const results = await Promise.allSettled(Array.from({ length: n }, () => start()));
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    await Promise.allSettled(started.map((s) => s.stop()));
    throw failed.reason;
  }
  return started;
}

async function canConnect(port: number): Promise<boolean> {
  const mysql = await import("mysql2/promise");
  try {
    const c = await mysql.createConnection({ host: "127.0.0.1", port, user: "root", connectTimeout: 1000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}

function handle(dir: string, port: number, started: Bun.Subprocess): MariaDB {
  let proc = started;
  let stopped = false;
  const end = async (signal: "SIGTERM" | "SIGKILL") => {
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    await proc.exited;
    clearTimeout(timer);
  };
  const stop = async (signal: "SIGTERM" | "SIGKILL") => {
    if (stopped) return;
    stopped = true;
    await end(signal);
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    port,
    dir,
    get pid() {
      return proc.pid;
    },
    url: (database) => `mysql://root@127.0.0.1:${port}/${database}`,
    stop: () => stop("SIGTERM"),
    kill: () => stop("SIGKILL"),
    halt: () => end("SIGTERM"),
    async restart() {
      const again = await launch(dir, port);
      if (typeof again === "string") throw new Error(`mariadbd did not start again (${again}) on port ${port}:\n${errorLog(dir).slice(-2000)}`);
      proc = again;
    },
  };
}
