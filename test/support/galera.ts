/**
 * Real MariaDB Galera clusters for tests, modelled on mariadb.ts: every member gets its own
 * option file, data dir, socket, tmpdir and pid file under one temp dir, binds 127.0.0.1
 * only (SQL, group communication, IST and SST ports all free ports), and is stopped by PID.
 * The first member bootstraps the cluster (--wsrep-new-cluster), the others join it with a
 * full state transfer (rsync). Run as root, the members run as the `mysql` user: the rsync
 * state transfer refuses to run as root.
 *
 * Without galera-4 (libgalera_smm.so) or rsync the Galera suites skip with a printed reason,
 * except under CI=true, where that is an error (.ci/run installs them).
 *
 * A test process that dies without its afterAll still leaves no member behind: every member
 * alive at exit is sent SIGKILL.
 */
import { afterAll, beforeAll } from "bun:test";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import mysql from "mysql2/promise";
import { installDbBinary, serverBinary } from "./mariadb.ts";
import { waitFor } from "./net.ts";
import { skipBecause } from "./skip.ts";

export const GALERA_PROVIDER = ["/usr/lib/galera/libgalera_smm.so", "/usr/lib64/galera-4/libgalera_smm.so", "/usr/lib/galera-4/libgalera_smm.so"].find(
  existsSync,
);

/** Why Galera suites cannot run here, or undefined when they can. */
export const galeraUnavailable: string | undefined = skipBecause(
  "Galera suites",
  !serverBinary || !installDbBinary
    ? "no MariaDB server binary (mariadbd + mariadb-install-db); install mariadb-server"
    : !GALERA_PROVIDER
      ? "no Galera provider (libgalera_smm.so); install galera-4"
      : !Bun.which("rsync")
        ? "no rsync (the state transfer method the harness uses); install rsync"
        : undefined,
);

const isRoot = process.getuid?.() === 0;
const mysqlUser = isRoot ? mysqlIds() : undefined;

function mysqlIds(): { uid: number; gid: number } | undefined {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("mysql:"));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** The wsrep_% status of a member, as SHOW GLOBAL STATUS gives it. */
export type Wsrep = Record<string, string>;

export interface GaleraMember {
  /** 0, 1, 2: the member's place in the cluster's list. */
  readonly index: number;
  /** The SQL port. */
  readonly port: number;
  /** `127.0.0.1:<port>`, as a store URL and GET /status name it. */
  readonly address: string;
  readonly dir: string;
  /** The member's process id while it runs. */
  readonly pid: number | undefined;
  readonly running: boolean;
  readonly frozen: boolean;
  /** SIGKILL; the data dir stays for start(). */
  kill(): Promise<void>;
  /** SIGTERM (a clean leave), waiting for the process to end; the data dir stays for start(). */
  halt(): Promise<void>;
  /** SIGSTOP: the process stays but answers nothing (a frozen server). */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Starts a stopped member again: it joins the cluster (IST or SST); resolves when it accepts connections. */
  start(): Promise<void>;
  /** Its wsrep_% status now; undefined when it does not answer within a second. */
  wsrep(): Promise<Wsrep | undefined>;
  /** A statement on a connection of its own (as root), closed after. */
  sql<T = mysql.RowDataPacket[]>(statement: string, values?: unknown[], database?: string): Promise<T>;
  /** Every record of `database` on this member (id and name), read after it applied every write the cluster ordered (wsrep_sync_wait). */
  records(database: string): Promise<{ id: string; name: string }[]>;
}

export interface GaleraCluster {
  readonly members: readonly GaleraMember[];
  readonly dir: string;
  /** `mysql://root@<member>,<member>,.../<database>`, the members in `order` (default all, in index order). */
  url(database: string, order?: readonly number[]): string;
  /** Resolves when every member runs, answers Primary, Synced and ready, and sees a cluster of them all. */
  synced(timeoutMs?: number): Promise<void>;
  /** Brings every member back (thaws the frozen, starts the stopped), then waits until synced(). */
  heal(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The processes below `pid` (children, their children, ...), read from /proc; none without it. */
function descendants(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const parent = new Map<number, number>();
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {}
  }
  const found: number[] = [];
  const below = (p: number) => {
    for (const [child, of] of parent) {
      if (of === p) {
        found.push(child);
        below(child);
      }
    }
  };
  below(pid);
  return found;
}

/** Processes of every cluster this test process started, killed at exit if still alive. */
const alive = new Set<Bun.Subprocess>();
process.on("exit", () => {
  for (const p of alive) {
    try {
      process.kill(p.pid, "SIGCONT");
      process.kill(p.pid, "SIGKILL");
    } catch {}
  }
});

/**
 * `span` ports in a row that are free now, below the kernel's range of ephemeral ports. A
 * member keeps its ports across restarts, and a port of that range may be taken meanwhile as
 * the local end of any outgoing connection (the test's own pools among them): a member that
 * restarts would then fail to listen (its IST port, base_port + 1, most often).
 */
async function quietPorts(taken: Set<number>, span: number): Promise<number> {
  const top = ephemeralStart() - span;
  for (;;) {
    const port = QUIET_FROM + Math.floor(Math.random() * (top - QUIET_FROM));
    const range = Array.from({ length: span }, (_, i) => port + i);
    if (range.some((p) => taken.has(p))) continue;
    if ((await Promise.all(range.map(canBind))).every(Boolean)) {
      for (const p of range) taken.add(p);
      return port;
    }
  }
}

const QUIET_FROM = 10_000;

function ephemeralStart(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return low > QUIET_FROM + 1000 ? low : 32768;
  } catch {
    return 32768;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

interface Ports {
  sql: number;
  gcomm: number;
  sst: number;
}

export interface GaleraOptions {
  /** More wsrep_provider_options, `;`-separated (e.g. evs.suspect_timeout=PT2S), after base_port and gcache.size. */
  readonly providerOptions?: string;
}

function optionFile(dir: string, me: Ports, all: readonly Ports[], name: string, options: GaleraOptions): string {
  return [
    "[mysqld]",
    `datadir=${join(dir, "data")}`,
    `port=${me.sql}`,
    "bind-address=127.0.0.1",
    `socket=${join(dir, "mariadbd.sock")}`,
    `pid-file=${join(dir, "mariadbd.pid")}`,
    `tmpdir=${join(dir, "tmp")}`,
    `log-error=${join(dir, "error.log")}`,
    ...(isRoot ? ["user=mysql"] : []),
    "skip-name-resolve",
    "innodb-buffer-pool-size=64M",
    "innodb-log-file-size=16M",
    "innodb-flush-log-at-trx-commit=2",
    "max-connections=500",
    "binlog_format=ROW",
    "innodb_autoinc_lock_mode=2",
    "wsrep_on=ON",
    `wsrep_provider=${GALERA_PROVIDER}`,
    `wsrep_cluster_name=${name}`,
    `wsrep_cluster_address=gcomm://${all.map((p) => `127.0.0.1:${p.gcomm}`).join(",")}`,
    `wsrep_node_address=127.0.0.1:${me.gcomm}`,
    // the group communication and IST on 127.0.0.1 too (by default they listen on every address)
    `wsrep_provider_options=base_port=${me.gcomm};gmcast.listen_addr=tcp://127.0.0.1:${me.gcomm};ist.recv_addr=127.0.0.1:${me.gcomm + 1};` +
      `gcache.size=32M${options.providerOptions ? `;${options.providerOptions}` : ""}`,
    `wsrep_sst_receive_address=127.0.0.1:${me.sst}`,
    `wsrep_node_incoming_address=127.0.0.1:${me.sql}`,
    "wsrep_sst_method=rsync",
    "",
  ].join("\n");
}

function own(path: string) {
  if (mysqlUser) chownSync(path, mysqlUser.uid, mysqlUser.gid);
}

function chownTree(path: string) {
  if (!mysqlUser) return;
  const r = Bun.spawnSync(["chown", "-R", `${mysqlUser.uid}:${mysqlUser.gid}`, path]);
  if (r.exitCode !== 0) throw new Error(`chown -R ${path} failed: ${r.stderr.toString()}`);
}

async function connect(port: number, database?: string) {
  return mysql.createConnection({ host: "127.0.0.1", port, user: "root", database, connectTimeout: 1000 });
}

/** wsrep_% status of the server on `port`, or undefined when it does not answer within `timeoutMs`. */
export async function wsrepStatus(port: number, timeoutMs = 1000): Promise<Wsrep | undefined> {
  let c: mysql.Connection | undefined;
  const timer = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs));
  const read = (async () => {
    c = await connect(port);
    const [rows] = await c.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'wsrep_%'");
    return Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)]));
  })().catch(() => undefined);
  const result = await Promise.race([read, timer]);
  // a frozen server never answers: the socket is dropped, not closed politely
  c?.destroy();
  return result;
}

/**
 * Starts `n` members (default 3) and resolves when they form one synced cluster. When
 * anything fails, every member started is killed and the temp dir removed before the error.
 */
export async function startGalera(n = 3, options: GaleraOptions = {}): Promise<GaleraCluster> {
  if (galeraUnavailable) throw new Error(galeraUnavailable);
  const dir = mkdtempSync(join(tmpdir(), "shardctl-galera-"));
  own(dir);
  const taken = new Set<number>();
  const ports: Ports[] = [];
  for (let i = 0; i < n; i++) {
    // the group port and the IST port above it
    const gcomm = await quietPorts(taken, 2);
    ports.push({ sql: await quietPorts(taken, 1), gcomm, sst: await quietPorts(taken, 1) });
  }
  const name = `shardctl_test_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const members: Member[] = ports.map((p, i) => {
    const memberDir = join(dir, `m${i + 1}`);
    mkdirSync(join(memberDir, "tmp"), { recursive: true });
    writeFileSync(join(memberDir, "my.cnf"), optionFile(memberDir, p, ports, name, options));
    chownTree(memberDir);
    return new Member(i, p.sql, memberDir);
  });
  const cluster = new Cluster(dir, members);
  try {
    await Promise.all(members.map((m) => m.install()));
    await members[0]!.launch(true);
    await waitFor(async () => ((await wsrepStatus(members[0]!.port))?.wsrep_local_state_comment === "Synced" ? true : undefined), {
      timeoutMs: 60_000,
    });
    await Promise.all(members.slice(1).map((m) => m.launch(false)));
    await cluster.synced(120_000);
    return cluster;
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

class Member implements GaleraMember {
  private proc: Bun.Subprocess | undefined;
  frozen = false;

  constructor(
    readonly index: number,
    readonly port: number,
    readonly dir: string,
  ) {}

  get address() {
    return `127.0.0.1:${this.port}`;
  }

  get pid() {
    return this.proc?.pid;
  }

  get running() {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  private get cnf() {
    return join(this.dir, "my.cnf");
  }

  log(): string {
    const path = join(this.dir, "error.log");
    return existsSync(path) ? readFileSync(path, "utf8") : "";
  }

  async install() {
    const r = Bun.spawnSync([installDbBinary!, `--defaults-file=${this.cnf}`, "--auth-root-authentication-method=normal", "--skip-test-db"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    if (r.exitCode !== 0) throw new Error(`mariadb-install-db failed for member ${this.index + 1} (${r.exitCode}): ${r.stderr.toString().slice(-2000)}`);
    chownTree(this.dir);
  }

  /** mariadbd on this member's option file; resolves when it accepts connections (a joiner: after its state transfer). */
  async launch(bootstrap: boolean) {
    const proc = Bun.spawn([serverBinary!, `--defaults-file=${this.cnf}`, ...(bootstrap ? ["--wsrep-new-cluster"] : [])], {
      stdout: "ignore",
      stderr: "ignore",
    });
    this.proc = proc;
    this.frozen = false;
    alive.add(proc);
    void proc.exited.then(() => alive.delete(proc));
    const ok = await waitFor(
      async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) return "exited" as const;
        try {
          const c = await connect(this.port);
          await c.end();
          return "ready" as const;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    ).catch(() => "timeout" as const);
    if (ok !== "ready") {
      proc.kill("SIGKILL");
      await proc.exited;
      throw new Error(`member ${this.index + 1} (port ${this.port}) did not start (${ok}):\n${this.log().slice(-3000)}`);
    }
  }

  start() {
    if (this.running) throw new Error(`member ${this.index + 1} is running already`);
    return this.launch(false);
  }

  async kill() {
    const proc = this.proc;
    if (!proc || !this.running) return;
    // a state transfer runs in processes of its own (wsrep_sst_rsync, rsync): they go too, by PID
    const children = descendants(proc.pid);
    proc.kill("SIGKILL");
    await proc.exited;
    for (const pid of children) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    this.frozen = false;
  }

  async halt() {
    const proc = this.proc;
    if (!proc || !this.running) return;
    if (this.frozen) this.thaw();
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    await proc.exited;
    clearTimeout(timer);
  }

  freeze() {
    if (!this.running) throw new Error(`member ${this.index + 1} is not running`);
    this.proc!.kill("SIGSTOP");
    this.frozen = true;
  }

  thaw() {
    if (!this.running) return;
    this.proc!.kill("SIGCONT");
    this.frozen = false;
  }

  wsrep() {
    return wsrepStatus(this.port);
  }

  async records(database: string) {
    const c = await connect(this.port, database);
    try {
      await c.query("SET SESSION wsrep_sync_wait = 1");
      const [rows] = await c.query<mysql.RowDataPacket[]>("SELECT CAST(id AS CHAR) AS id, name FROM expenses ORDER BY id");
      return rows.map((r) => ({ id: String(r.id), name: String(r.name) }));
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }

  async sql<T = mysql.RowDataPacket[]>(statement: string, values: unknown[] = [], database?: string): Promise<T> {
    const c = await connect(this.port, database);
    try {
      const [rows] = await c.query(statement, values);
      return rows as T;
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }
}

class Cluster implements GaleraCluster {
  constructor(
    readonly dir: string,
    readonly members: Member[],
  ) {}

  url(database: string, order: readonly number[] = this.members.map((m) => m.index)) {
    return `mysql://root@${order.map((i) => this.members[i]!.address).join(",")}/${database}`;
  }

  async synced(timeoutMs = 60_000) {
    const n = this.members.length;
    let last: (Wsrep | undefined)[] = [];
    await waitFor(
      async () => {
        last = await Promise.all(this.members.map((m) => (m.running && !m.frozen ? m.wsrep() : undefined)));
        const ok = last.every(
          (w) =>
            w?.wsrep_cluster_status === "Primary" && w.wsrep_local_state_comment === "Synced" && w.wsrep_ready === "ON" && Number(w.wsrep_cluster_size) === n,
        );
        return ok ? true : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    ).catch(() => {
      const states = last.map(
        (w, i) => `member ${i + 1}: ${w ? `${w.wsrep_cluster_status}/${w.wsrep_local_state_comment}/size ${w.wsrep_cluster_size}` : "no answer"}`,
      );
      throw new Error(`the Galera cluster did not sync within ${timeoutMs} ms (${states.join("; ")})`);
    });
  }

  async heal(timeoutMs = 120_000) {
    for (const m of this.members) if (m.frozen) m.thaw();
    await this.primary();
    await Promise.all(this.members.filter((m) => !m.running).map((m) => m.start()));
    await this.synced(timeoutMs);
  }

  /**
   * Makes sure a primary component runs for the stopped members to join, as an operator would
   * after a test left the cluster without one: from a running member (pc.bootstrap), or, with
   * none running, by bootstrapping the first member again from its data (safe_to_bootstrap).
   */
  private async primary() {
    const running = this.members.filter((m) => m.running);
    if (running.length === 0) {
      const first = this.members[0]!;
      const state = join(first.dir, "data", "grastate.dat");
      if (existsSync(state)) writeFileSync(state, readFileSync(state, "utf8").replace(/^safe_to_bootstrap: *0/m, "safe_to_bootstrap: 1"));
      await first.launch(true);
      return;
    }
    // a member that just thawed or lost its peers needs a moment to say where it stands
    const deadline = performance.now() + 15_000;
    for (;;) {
      const states = await Promise.all(running.map((m) => m.wsrep()));
      if (states.some((w) => w?.wsrep_cluster_status === "Primary")) return;
      if (performance.now() > deadline) break;
      await Bun.sleep(500);
    }
    await running[0]!.sql("SET GLOBAL wsrep_provider_options = 'pc.bootstrap=YES'");
  }

  async stop() {
    await Promise.all(
      this.members.map(async (m) => {
        if (m.frozen) m.thaw();
        await m.kill();
      }),
    );
    // a process that was still writing there (a state transfer's) may recreate a file while the tree goes: try again
    for (let attempt = 1; ; attempt++) {
      try {
        rmSync(this.dir, { recursive: true, force: true });
        return;
      } catch (e) {
        if (attempt >= 5) throw e;
        await Bun.sleep(200);
      }
    }
  }
}

/**
 * A Galera cluster for the enclosing describe block (one per test file: forming one takes
 * 10-20 s), stopped after it. `heal()` before a test that needs every member: a fault test
 * leaves members down or frozen when it fails.
 */
export function useGalera(n = 3) {
  let cluster: GaleraCluster | undefined;
  beforeAll(async () => {
    cluster = await startGalera(n);
  }, 240_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return () => {
    if (!cluster) throw new Error("useGalera: the cluster is not started yet (use it inside a test)");
    return cluster;
  };
}
