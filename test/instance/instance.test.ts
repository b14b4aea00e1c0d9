import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { defaultDbUrl, startInstance } from "../../src/instance/index.ts";
import { isWildcardHost } from "../../src/http/listen.ts";
import { freePort, waitFor } from "../support/net.ts";

/** Sends `head` on a fresh connection and returns what comes back until the answer's body has started (or the socket closes). */
function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(head));
    const done = () => {
      socket.destroy();
      resolve(text);
    };
    socket.on("data", (chunk) => {
      text += chunk.toString("utf8");
      if (/\r\n\r\n[\s\S]*\}/.test(text)) done();
    });
    socket.on("end", done);
    socket.on("error", (e) => (text ? done() : reject(e)));
    socket.setTimeout(10_000, () => reject(new Error(`no answer; got ${JSON.stringify(text)}`)));
  });
}

describe("startInstance", () => {
  test("port 0 gives a real port, and the default name is host:port as in the ring", async () => {
    const instance = await startInstance({ port: 0, db: "sqlite::memory:", log: false });
    try {
      expect(instance.port).toBeGreaterThan(0);
      expect(instance.name).toBe(`127.0.0.1:${instance.port}`);
      expect(instance.url).toBe(`http://127.0.0.1:${instance.port}`);
      const r = await fetch(`${instance.url}/healthz`);
      expect(r.headers.get("x-shard-node")).toBe(instance.name);
    } finally {
      await instance.stop();
    }
  });

  test("three instances in one process keep their own records and names", async () => {
    const nodes = await Promise.all(["a", "b", "c"].map((name) => startInstance({ port: 0, db: "sqlite::memory:", name, log: false })));
    try {
      for (const [i, node] of nodes.entries()) {
        const r = await fetch(`${node.url}/v1/expenses`, { method: "POST", body: JSON.stringify(seedRecord(String(i + 1))) });
        expect(r.status).toBe(201);
      }
      for (const [i, node] of nodes.entries()) {
        const r = await fetch(`${node.url}/v1/expenses`);
        expect(r.headers.get("x-shard-node")).toBe(["a", "b", "c"][i]!);
        expect(((await r.json()) as { items: { id: string }[] }).items.map((x) => x.id)).toEqual([String(i + 1)]);
      }
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  });

  test("a database that cannot be opened releases the port and rejects", async () => {
    await expect(startInstance({ port: 0, db: "mysql://root@127.0.0.1:1/x", log: false })).rejects.toThrow(/ECONNREFUSED/);
  });

  test("while the database is still opening, requests get a JSON 503 that names the node", async () => {
    // A "MySQL server" that accepts connections and never greets: the store stays opening.
    const held: { end(): void }[] = [];
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: (s) => void held.push(s), data() {} } });
    const port = await freePort();
    const starting = startInstance({ port, db: `mysql://root@127.0.0.1:${silent.port}/x`, log: false });
    starting.catch(() => {});
    try {
      const r = await waitFor(() => (held.length > 0 ? fetch(`http://127.0.0.1:${port}/v1/expenses/1`) : undefined));
      expect(r.status).toBe(503);
      expect(r.headers.get("x-shard-node")).toBe(`127.0.0.1:${port}`);
      expect(r.headers.get("content-type")).toContain("application/json");
      expect(((await r.json()) as { error: string }).error).toBe("starting");
    } finally {
      for (const s of held) s.end();
      silent.stop(true);
    }
    await expect(starting).rejects.toThrow();
  });

  test("a body far over the limit (past Bun's own default) still gets the JSON 413 with X-Shard-Node", async () => {
    const instance = await startInstance({ port: 0, db: "sqlite::memory:", log: false });
    try {
      // Declared length only: the answer must come from the header, before the body is read.
      for (const length of [17 * 1024 * 1024, 200 * 1024 * 1024, 2 ** 40]) {
        const answer = await rawRequest(
          instance.port,
          `POST /v1/expenses HTTP/1.1\r\nHost: 127.0.0.1:${instance.port}\r\nContent-Length: ${length}\r\nContent-Type: application/json\r\n\r\n{"id":`,
        );
        expect({ length, status: answer.split("\r\n")[0] }).toEqual({ length, status: "HTTP/1.1 413 Payload Too Large" });
        expect(answer.toLowerCase()).toContain(`x-shard-node: ${instance.name}`);
        expect(answer).toContain('"error":"body_too_large"');
      }
      // an actual 17 MiB body, sent in full
      const r = await fetch(`${instance.url}/v1/expenses`, { method: "POST", body: " ".repeat(17 * 1024 * 1024) });
      expect(r.status).toBe(413);
      expect(r.headers.get("x-shard-node")).toBe(instance.name);
      expect(((await r.json()) as { error: string }).error).toBe("body_too_large");
    } finally {
      await instance.stop();
    }
  });

  test("a short Host header (db1, x) is routed by the real path (Elysia assumed 4+ characters)", async () => {
    const instance = await startInstance({ port: 0, db: "sqlite::memory:", name: "n1", log: false });
    try {
      const body = JSON.stringify(seedRecord("5"));
      const created = await rawRequest(
        instance.port,
        `POST /v1/expenses HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      expect(created.split("\r\n")[0]).toBe("HTTP/1.1 201 Created");
      for (const host of ["db1", "x", "a:1"]) {
        const got = await rawRequest(instance.port, `GET /v1/expenses/5 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        expect({ host, status: got.split("\r\n")[0] }).toEqual({ host, status: "HTTP/1.1 200 OK" });
        expect(got).toContain('"id":"5"');
      }
    } finally {
      await instance.stop();
    }
  });

  test("isWildcardHost: the spellings of every address, and nothing else", () => {
    for (const h of ["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", "::0"]) expect({ h, w: isWildcardHost(h) }).toEqual({ h, w: true });
    for (const h of ["127.0.0.1", "::1", "[::1]", "localhost", "db1", "10.0.0.1"]) expect({ h, w: isWildcardHost(h) }).toEqual({ h, w: false });
  });

  test("the default database is a SQLite file per port under ./data", () => {
    expect(defaultDbUrl(5001)).toBe("sqlite:./data/shardctl-5001.sqlite");
  });
});

describe("serve without --db", () => {
  const cwd = mkdtempSync(join(tmpdir(), "shardctl-default-db-"));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  test("creates ./data/shardctl-<port>.sqlite in the working directory", async () => {
    const { SHARDCTL_DB: _, ...env } = process.env;
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/cli.ts"), "serve", "--port", "0"], {
      cwd,
      env,
      stdout: "ignore",
      stderr: "pipe",
    });
    try {
      const file = await waitFor(() => (existsSync(join(cwd, "data")) ? readdirSync(join(cwd, "data")).find((f) => f.endsWith(".sqlite")) : undefined), {
        timeoutMs: 15_000,
      });
      expect(file).toMatch(/^shardctl-\d+\.sqlite$/);
    } finally {
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
    }
  });
});
