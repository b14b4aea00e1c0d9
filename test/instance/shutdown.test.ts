/**
 * Graceful stop: a request in flight when stop() is called (or SIGTERM/SIGINT arrives)
 * still gets its answer, no new connection is accepted, and the database pool is
 * closed afterwards. Start-up failures exit with the contract's statuses.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { startInstance } from "../../src/instance/index.ts";
import { openStore } from "../../src/store/index.ts";
import { StoreLoginRefused, StoreUnavailable, StoreUrlError } from "../../src/store/types.ts";
import { mysqlUnavailable } from "../support/mariadb.ts";
import { useMariaDB } from "../store/fixtures.ts";
import { freePort, waitFor } from "../support/net.ts";

const BUN = process.execPath;
const { SHARDCTL_DB: _, ...withoutDbEnv } = process.env;
const CLI = join(import.meta.dir, "../../src/cli.ts");

describe.skipIf(!!mysqlUnavailable)("stop() on MySQL", () => {
  const mariadb = useMariaDB("shutdown");

  test("a request in flight finishes, then the pool closes", async () => {
    const server = mariadb.server();
    const instance = await startInstance({ port: 0, db: server.url("shutdown"), log: false });
    await fetch(`${instance.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("1")) });

    // Hold a row lock so that the PUT below is still in flight when stop() is called.
    const locker = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root", database: "shutdown" });
    const threads = async (where: string) => {
      const [rows] = await locker.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = 'shutdown' AND ${where}`);
      return Number(rows[0]!.n);
    };
    await locker.query("BEGIN");
    await locker.query("SELECT * FROM expenses WHERE id = 1 FOR UPDATE");
    const put = fetch(`${instance.url}/v1/expenses/1`, {
      method: "PUT",
      body: JSON.stringify({ status: "approved" }),
    });
    // The PUT's UPDATE is on the server, waiting for the row lock.
    await waitFor(async () => ((await threads("INFO LIKE 'update%'")) === 1 ? true : undefined));

    let stopped = false;
    const stopping = instance.stop().then(() => (stopped = true));
    // stop() has begun once a new connection is refused; it must still be waiting for the PUT.
    await waitFor(() =>
      fetch(`${instance.url}/healthz`).then(
        () => undefined,
        () => true,
      ),
    );
    expect(stopped).toBe(false);

    await locker.query("COMMIT");
    const answer = await put;
    expect(answer.status).toBe(202);
    expect(((await answer.json()) as { status: string }).status).toBe("approved");
    await stopping;
    expect(stopped).toBe(true);

    // the instance's pool connections are gone; only ours is left on this database. The
    // server drops a thread from PROCESSLIST a moment after the client's QUIT, so under load
    // a closed connection can still be listed briefly: wait (2 s at most) for it to go.
    const count = () => threads("TRUE");
    const left = await waitFor(async () => ((await count()) === 1 ? 1 : undefined), { timeoutMs: 2_000 }).catch(count);
    await locker.end();
    expect(left).toBe(1);
  });
});

describe.skipIf(!!mysqlUnavailable)("serve on a MariaDB that refuses the login", () => {
  const mariadb = useMariaDB("login");

  test("says the login was refused, not that the database cannot be reached (exit 1)", async () => {
    const url = mariadb.server().url("x").replace("mysql://root@", "mysql://nobody:wrong@");
    const proc = Bun.spawn([BUN, CLI, "serve", "--port", "0", "--db", url], { stdout: "pipe", stderr: "pipe", env: withoutDbEnv });
    expect(await proc.exited).toBe(1);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toContain("(check the user and password): login refused: ER_ACCESS_DENIED_ERROR");
    expect(stderr).toContain("ER_ACCESS_DENIED_ERROR");
    expect(stderr).not.toContain("cannot reach");
    expect(stderr).not.toContain("wrong");
  });

  test("the store reports it as StoreLoginRefused (still a StoreUnavailable: 503 to requests)", async () => {
    const url = mariadb.server().url("x").replace("mysql://root@", "mysql://nobody@");
    const error = await openStore(url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreLoginRefused);
    expect(error).toBeInstanceOf(StoreUnavailable);
  });
});

describe("shardctl serve as a process", () => {
  const dir = mkdtempSync(join(tmpdir(), "shardctl-serve-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    test(`${signal}: exits 0 after a graceful stop`, async () => {
      const port = await freePort();
      const proc = Bun.spawn([BUN, CLI, "serve", "--port", String(port), "--db", `sqlite:${join(dir, `${signal}.sqlite`)}`], {
        stdout: "pipe",
        stderr: "pipe",
        env: withoutDbEnv,
      });
      try {
        await waitFor(
          () =>
            fetch(`http://127.0.0.1:${port}/healthz`).then(
              (r) => (r.ok ? true : undefined),
              () => undefined,
            ),
          {
            timeoutMs: 15_000,
          },
        );
        const created = await fetch(`http://127.0.0.1:${port}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord("1")) });
        expect(created.headers.get("x-shard-node")).toBe(`127.0.0.1:${port}`);
        proc.kill(signal);
        expect(await proc.exited).toBe(0);
        const stderr = await new Response(proc.stderr).text();
        expect(stderr).toContain(`${signal}: finishing requests in flight`);
        expect(stderr).toContain("stopped");
        const stdout = await new Response(proc.stdout).text();
        expect(stdout).toMatch(/POST \/v1\/expenses 201/);
      } finally {
        proc.kill("SIGKILL");
      }
    });
  }

  test("a database that cannot be reached: a clear message and exit 1", async () => {
    const dbPort = await freePort();
    const proc = Bun.spawn([BUN, CLI, "serve", "--port", "0", "--db", `mysql://root:secret@127.0.0.1:${dbPort}/x`], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(1);
    const stderr = await new Response(proc.stderr).text();
    // each word once: not "cannot reach ...: database unavailable: ECONNREFUSED connect ECONNREFUSED"
    expect(stderr).toBe(
      `shardctl serve: cannot use the database mysql://root:***@127.0.0.1:${dbPort}/x: the database cannot be reached: connect ECONNREFUSED 127.0.0.1:${dbPort}\n`,
    );
    expect(stderr).not.toContain("secret");
  });

  test("a malformed SHARDCTL_DB is blamed on SHARDCTL_DB, not on a --db never given (exit 2)", async () => {
    const proc = Bun.spawn([BUN, CLI, "serve", "--port", "0"], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...withoutDbEnv, SHARDCTL_DB: "foo:" },
    });
    expect(await proc.exited).toBe(2);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toContain('SHARDCTL_DB "foo:" is not a known database URL');
    expect(stderr).not.toContain("--db");
  });

  test("SHARDCTL_DB is used when --db is absent", async () => {
    const dbPort = await freePort();
    const proc = Bun.spawn([BUN, CLI, "serve", "--port", "0"], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, SHARDCTL_DB: `mysql://root@127.0.0.1:${dbPort}/from_env` },
    });
    expect(await proc.exited).toBe(1);
    expect(await new Response(proc.stderr).text()).toContain(`127.0.0.1:${dbPort}/from_env`);
  });

  test.each([
    ["--db", "postgres://x/y", "is not a known database URL"],
    ["--db", "mysql://root@127.0.0.1:3306/bad;name", "database name"],
    ["--port", "70000", "--port must be from 0 to 65535"],
  ])("bad usage %s %s: exit 2 with a message", async (flag, value, message) => {
    // --port 0 unless the case is about the port: the default 5001 may be taken on this machine
    const port = flag === "--port" ? [] : ["--port", "0"];
    const proc = Bun.spawn([BUN, CLI, "serve", ...port, flag, value], { stdout: "pipe", stderr: "pipe", env: withoutDbEnv });
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain(message);
  });

  test.each([
    ["postgres://x/y", "is not a known database URL"],
    ["mysql://root@127.0.0.1:3306/bad;name", "database name"],
  ])("a malformed --db %s is bad usage (exit 2) even when the port is taken", async (db, message) => {
    const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const proc = Bun.spawn([BUN, CLI, "serve", "--port", String(busy.port), "--db", db], {
        stdout: "pipe",
        stderr: "pipe",
        env: withoutDbEnv,
      });
      expect(await proc.exited).toBe(2);
      const stderr = await new Response(proc.stderr).text();
      expect(stderr).toContain(message);
      expect(stderr).not.toContain("in use");
    } finally {
      busy.stop(true);
    }
  });

  test.each(["0.0.0.0", "::", "[::]"])("--host %s without --name is refused: the default name matches no client address", async (host) => {
    const proc = Bun.spawn([BUN, CLI, "serve", "--host", host, "--port", "0", "--db", "postgres://x/y"], {
      stdout: "pipe",
      stderr: "pipe",
      env: withoutDbEnv,
    });
    expect(await proc.exited).toBe(2);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toContain(`--host ${host} listens on every address`);
    expect(stderr).toContain("give --name");
  });

  test("--host 0.0.0.0 with --name, or a specific --host, is not refused for its address", async () => {
    // a bad --db stops it before anything is bound (tests bind only 127.0.0.1)
    for (const args of [
      ["--host", "0.0.0.0", "--name", "db1:5001"],
      ["--host", "127.0.0.1"],
    ]) {
      const proc = Bun.spawn([BUN, CLI, "serve", ...args, "--port", "0", "--db", "postgres://x/y"], {
        stdout: "pipe",
        stderr: "pipe",
        env: withoutDbEnv,
      });
      expect(await proc.exited).toBe(2);
      const stderr = await new Response(proc.stderr).text();
      expect(stderr).not.toContain("every address");
      expect(stderr).toContain("postgres://x/y");
    }
  });

  test("startInstance rejects a malformed URL before binding: the busy port is not the error", async () => {
    const busy = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      await expect(startInstance({ port: busy.port, db: "postgres://x/y", log: false })).rejects.toBeInstanceOf(StoreUrlError);
    } finally {
      busy.stop(true);
    }
  });
});
