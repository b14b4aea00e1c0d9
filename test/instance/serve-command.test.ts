/**
 * `shardctl serve` as a deployment runs it: SHARDCTL_NAME, SHARDCTL_PORT and
 * SHARDCTL_HOST (flags win), a wildcard address without a name refused, a bad --host
 * named, and a start-up line that says which database it really is.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeStoreUrl } from "../../src/store/url.ts";
import { runCli } from "../support/cli.ts";
import { freePort, waitFor } from "../support/net.ts";

const CLI = join(import.meta.dir, "../../src/cli.ts");
const VARIABLES = ["SHARDCTL_NAME", "SHARDCTL_PORT", "SHARDCTL_HOST", "SHARDCTL_DB", "SHARDCTL_NODES", "SHARDCTL_VNODES", "SHARDCTL_RING"];
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !VARIABLES.includes(k)));

/** Starts `serve` in its own process; resolves with its start-up line once it listens. */
async function serve(args: string[], env: Record<string, string>, cwd?: string) {
  const proc = Bun.spawn([process.execPath, CLI, "serve", ...args], { env: { ...cleanEnv(), ...env }, cwd, stdout: "ignore", stderr: "pipe" });
  let stderr = "";
  const reader = (async () => {
    for await (const chunk of proc.stderr as unknown as AsyncIterable<Uint8Array>) stderr += new TextDecoder().decode(chunk);
  })();
  const line = await waitFor(() => stderr.split("\n").find((l) => l.includes(" listening on ")) ?? (proc.exitCode !== null ? `exited: ${stderr}` : undefined), {
    timeoutMs: 20_000,
  });
  return {
    line,
    stderr: () => stderr,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      await reader;
    },
  };
}

describe("what serve says on stderr", () => {
  test("every line after the command's name: the start, a ring adopted at run time, the stop", async () => {
    const port = await freePort();
    const s = await serve(["--name", "a", "--port", String(port), "--nodes", `a=127.0.0.1:${port}`, "--db", "sqlite::memory:"], {});
    try {
      const next = { epoch: 1, vnodes: 160, nodes: [{ name: "a", url: `http://127.0.0.1:${port}` }] };
      const put = await fetch(`http://127.0.0.1:${port}/ring`, { method: "PUT", body: JSON.stringify(next), headers: { "content-type": "application/json" } });
      expect(put.status).toBe(200);
      const label = put.headers.get("x-shard-ring")!;
      await waitFor(() => (s.stderr().includes(`adopted ring ${label}`) ? true : undefined));
    } finally {
      await s.stop();
    }
    const lines = s.stderr().trimEnd().split("\n");
    // one rule: "shardctl serve: ", not "[a] ring ... adopted" or "shardctl: node a: ..."
    expect(lines.filter((l) => !l.startsWith("shardctl serve: "))).toEqual([]);
    expect(lines).toContainEqual(expect.stringMatching(/^shardctl serve: node a: adopted ring 1:[0-9a-f]{16}; it replaces ring 0:[0-9a-f]{16}$/));
  });
});

describe("serve reads SHARDCTL_NAME, SHARDCTL_PORT, SHARDCTL_HOST; flags win", () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((s) => s()));
  });

  test("from the environment alone", async () => {
    const port = await freePort();
    const s = await serve([], { SHARDCTL_NAME: "env-node", SHARDCTL_PORT: String(port), SHARDCTL_HOST: "127.0.0.1", SHARDCTL_DB: "sqlite::memory:" });
    stops.push(s.stop);
    expect(s.line).toContain(`node env-node listening on http://127.0.0.1:${port}`);
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(r.headers.get("x-shard-node")).toBe("env-node");
  });

  test("a flag wins over its variable", async () => {
    const [envPort, flagPort] = [await freePort(), await freePort()];
    const s = await serve(["--name", "flag-node", "--port", String(flagPort), "--host", "127.0.0.1"], {
      SHARDCTL_NAME: "env-node",
      SHARDCTL_PORT: String(envPort),
      SHARDCTL_HOST: "999.9.9.9",
      SHARDCTL_DB: "sqlite::memory:",
    });
    stops.push(s.stop);
    expect(s.line).toContain(`node flag-node listening on http://127.0.0.1:${flagPort}`);
  });

  test("the start-up line shows the default SQLite file by its absolute path", async () => {
    const cwd = realpathSync(mkdtempSync(join(tmpdir(), "shardctl-serve-cwd-")));
    try {
      const port = await freePort();
      const s = await serve(["--port", String(port)], {}, cwd);
      stops.push(s.stop);
      expect(s.line).toContain(`(db sqlite:${cwd}/data/shardctl-${port}.sqlite;`);
      await s.stop();
      stops.pop();
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe("serve usage errors about the address (exit 2, before anything is bound)", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of VARIABLES) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  test.each(["0.0.0.0", "::", "[::]"])("--host %s without a name is refused, saying why and what to give", async (host) => {
    for (const k of VARIABLES) delete process.env[k];
    const r = await runCli("serve", "--host", host, "--port", "5001", "--db", "sqlite::memory:");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--host ${host} listens on every address`);
    expect(r.stderr).toContain("give --name (or SHARDCTL_NAME)");
  });

  test("SHARDCTL_HOST=0.0.0.0 is refused the same way; with SHARDCTL_NAME it is not", async () => {
    for (const k of VARIABLES) delete process.env[k];
    process.env.SHARDCTL_HOST = "0.0.0.0";
    const refused = await runCli("serve", "--db", "sqlite::memory:");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("SHARDCTL_HOST 0.0.0.0 listens on every address");
    process.env.SHARDCTL_NAME = "db1:5001";
    // a bad --db is the next check, so the name is accepted without binding anything
    const named = await runCli("serve", "--db", "postgres://x/y");
    expect(named.code).toBe(2);
    expect(named.stderr).not.toContain("every address");
    expect(named.stderr).toContain("postgres://x/y");
  });

  test("a malformed --host or SHARDCTL_HOST is bad usage naming it (not a database problem)", async () => {
    for (const k of VARIABLES) delete process.env[k];
    const cases: [string[], string][] = [
      [["--host", "999.1.1.1"], '--host "999.1.1.1" is not an IPv4 address'],
      [["--host", "1.2.3"], '--host "1.2.3" is not an IPv4 address'],
      [["--host", "[::g]"], '--host "[::g]" is not an IPv6 address'],
      [["--host", "a b"], '--host "a b" is not an IP address or a host name'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli("serve", ...args, "--db", "sqlite::memory:");
      expect({ args, code: r.code, named: r.stderr.includes(message), blamesDb: /database/.test(r.stderr) }).toEqual({
        args,
        code: 2,
        named: true,
        blamesDb: false,
      });
    }
    process.env.SHARDCTL_HOST = "999.1.1.1";
    const env = await runCli("serve", "--db", "sqlite::memory:");
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('SHARDCTL_HOST "999.1.1.1" is not an IPv4 address');
  });

  test("an address that is not this machine's is bad usage naming --host", async () => {
    for (const k of VARIABLES) delete process.env[k];
    // TEST-NET-1 (RFC 5737): never a local address
    const r = await runCli("serve", "--host", "192.0.2.1", "--port", "0", "--db", "sqlite::memory:");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--host is no address of this machine");
  });

  test("SHARDCTL_PORT out of range names the variable", async () => {
    for (const k of VARIABLES) delete process.env[k];
    process.env.SHARDCTL_PORT = "70000";
    const r = await runCli("serve", "--db", "sqlite::memory:");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SHARDCTL_PORT must be from 0 to 65535, got 70000");
  });
});

describe("describeStoreUrl: the database as the start-up line shows it", () => {
  test("a MySQL URL without a port says which port it resolved; the password is hidden", () => {
    expect(describeStoreUrl("mysql://shard:secret@db.local/expenses")).toBe("mysql://shard:***@db.local/expenses (port 3306, the default: the URL names none)");
    expect(describeStoreUrl("mysql://shard:secret@db.local:3307/expenses")).toBe("mysql://shard:***@db.local:3307/expenses");
  });

  test("a relative SQLite path is shown absolute", () => {
    expect(describeStoreUrl("sqlite:./data/x.sqlite")).toBe(`sqlite:${join(process.cwd(), "data/x.sqlite")}`);
    expect(describeStoreUrl("sqlite::memory:")).toBe("sqlite::memory:");
  });
});
