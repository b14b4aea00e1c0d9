/**
 * PUT /ring while requests are in flight, on MariaDB: no request is decided under one
 * ring and executed under the other. A write held between its ownership check and its
 * commit (a row lock taken from outside) holds the switch back; a switch that cannot
 * wait long enough changes nothing; and under a stream of writes across the switch,
 * every answer is true to the ring it names and every database holds exactly what its
 * node acknowledged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mysql from "mysql2/promise";
import { forEachLimit } from "../../src/client/pool.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { Ring } from "../../src/ring/ring.ts";
import { startInstance } from "../../src/instance/index.ts";
import { mysqlUnavailable, startMariaDB, type MariaDB } from "../support/mariadb.ts";
import { waitFor } from "../support/net.ts";
import { localNodes, referenceOwner, ringOf, startCluster } from "../support/cluster.ts";
import { call } from "../support/http.ts";

const doc = (ring: Ring) => ({ ...ring.toJSON(), label: ring.label });

describe.skipIf(!!mysqlUnavailable)("PUT /ring with requests in flight (MariaDB)", () => {
  let server: MariaDB;
  let databases = 0;
  beforeAll(async () => {
    server = await startMariaDB();
  });
  afterAll(async () => {
    await server?.stop();
  });
  const connect = (database?: string) => mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root", database });

  /** Instance a of ring {a, b} (epoch 1), an id X that a owns now and b owns under the next ring (epoch 2), X stored on a, and X's row locked from outside. */
  async function heldWrite(switchTimeoutMs?: number) {
    const database = `switch_${databases++}`;
    const nodes = await localNodes(["a", "b"]);
    const ring = ringOf(nodes, { epoch: 1 });
    const next = new Ring(ring.nodes, { vnodes: 9, epoch: 2 });
    const [before, after] = [referenceOwner(ring), referenceOwner(next)];
    const id = Array.from({ length: 1000 }, (_, i) => String(i)).find((x) => before(x) === "a" && after(x) === "b")!;
    const port = Number(new URL(ring.node("a")!.url).port);
    const instance = await startInstance({
      port,
      db: server.url(database),
      name: "a",
      log: false,
      ring: { ring, source: "test" },
      ringSwitchTimeoutMs: switchTimeoutMs,
    });
    expect((await call(instance.url, "POST", "/v1/expenses", seedRecord(id))).status).toBe(201);
    const holder = await connect(database);
    await holder.query("BEGIN");
    await holder.query("SELECT id FROM expenses WHERE id = ? FOR UPDATE", [Number(id)]);
    const observer = await connect();
    const events: string[] = [];
    // The write: checked under ring 1, then stuck on the row lock until `holder` ends.
    const write = call(instance.url, "PUT", `/v1/expenses/${id}`, { name: "written under ring 1" }).then((r) => {
      events.push("write answered");
      return r;
    });
    await waitFor(async () => {
      const [rows] = await observer.query<mysql.RowDataPacket[]>(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND STATE = 'Updating' AND INFO LIKE 'update %'",
        [database],
      );
      return rows[0]!.n > 0 ? true : undefined;
    });
    const cleanup = async () => {
      await holder.end().catch(() => {});
      await observer.end().catch(() => {});
      await instance.stop();
    };
    return { ring, next, id, instance, holder, write, events, database, cleanup };
  }

  test("a switch waits for a write between its check and its commit; the write answers under the old ring, later requests under the new", async () => {
    const h = await heldWrite();
    try {
      const put = call(h.instance.url, "PUT", "/ring", doc(h.next)).then((r) => {
        h.events.push("switch answered");
        return r;
      });
      // Without the lock the switch would answer in milliseconds; with it, it waits for the write.
      expect(await Promise.race([put.then(() => "switched"), Bun.sleep(500).then(() => "waiting")])).toBe("waiting");
      expect(h.instance.ring?.label).toBe(h.ring.label);
      // A request that arrives while the switch waits queues behind it: it starts under ring 1
      // (its answer was labelled so at arrival) and runs under ring 2, and says ring 2.
      const queued = call(h.instance.url, "GET", `/v1/expenses/${h.id}`);
      expect(await Promise.race([queued.then(() => "answered"), Bun.sleep(200).then(() => "queued")])).toBe("queued");
      await h.holder.query("ROLLBACK");
      const [written, switched] = await Promise.all([h.write, put]);
      const late = await queued;
      expect([late.status, late.headers.get("x-shard-ring"), late.json.ring, late.json.owner?.name]).toEqual([421, h.next.label, h.next.label, "b"]);
      expect(h.events).toEqual(["write answered", "switch answered"]);
      expect([written.status, written.headers.get("x-shard-ring"), written.json.name]).toEqual([202, h.ring.label, "written under ring 1"]);
      expect([switched.status, switched.json.label]).toEqual([200, h.next.label]);
      const after = await call(h.instance.url, "PUT", `/v1/expenses/${h.id}`, { name: "after the switch" });
      expect([after.status, after.json.owner?.name, after.json.ring]).toEqual([421, "b", h.next.label]);
      const [[row]] = await h.holder.query<mysql.RowDataPacket[]>("SELECT name FROM expenses WHERE id = ?", [Number(h.id)]);
      expect(row!.name).toBe("written under ring 1");
    } finally {
      await h.cleanup();
    }
  });

  test("a switch that cannot wait for the requests in flight is a 503 with Retry-After, and changes nothing", async () => {
    const h = await heldWrite(300);
    try {
      const put = await call(h.instance.url, "PUT", "/ring", doc(h.next));
      expect([put.status, put.json.error, put.headers.get("retry-after")]).toEqual([503, "switch_timeout", "1"]);
      expect(put.json.message).toContain(`ring ${h.next.label} not adopted: 1 request(s) in flight did not finish within 300 ms; nothing changed`);
      expect((await call(h.instance.url, "GET", "/ring")).json.label).toBe(h.ring.label);
      const [[saved]] = await h.holder.query<mysql.RowDataPacket[]>("SELECT epoch FROM instance_ring");
      expect(Number(saved!.epoch)).toBe(1);
      await h.holder.query("ROLLBACK");
      expect((await h.write).status).toBe(202);
    } finally {
      await h.cleanup();
    }
  });

  test("writes across a switch of three instances: each answer is true to the ring it names; each database holds what its node acknowledged", async () => {
    const names = ["a", "b", "c"];
    const ring = ringOf(await localNodes(names), { epoch: 1 });
    const next = new Ring(ring.nodes, { vnodes: 20, epoch: 2 });
    const owners = new Map([ring, next].map((r) => [r.label, referenceOwner(r)]));
    const prefix = `switch_load_${databases++}`;
    const cluster = await startCluster({ ring, db: (n) => server.url(`${prefix}_${n}`) });
    const answers: { id: string; node: string; status: number; label: string | null; body: any; sentAfterSwitch: boolean }[] = [];
    const switchedAt = new Map<string, number>();
    try {
      const ids = Array.from({ length: 600 }, (_, i) => String(i + 1));
      const first = owners.get(ring.label)!;
      let sent = 0;
      const writes = forEachLimit(ids, 16, async (id) => {
        // A client that keeps to ring 1: each id to its owner under ring 1.
        const node = first(id);
        const started = performance.now();
        const r = await call(cluster.url(node), "POST", "/v1/expenses", seedRecord(id), { "x-shard-ring": ring.label });
        const switched = switchedAt.get(node);
        answers.push({
          id,
          node,
          status: r.status,
          label: r.headers.get("x-shard-ring"),
          body: r.json,
          sentAfterSwitch: switched !== undefined && started > switched,
        });
        sent++;
      });
      await waitFor(() => (sent >= 100 ? true : undefined), { timeoutMs: 30_000, intervalMs: 5 });
      const puts = await Promise.all(
        names.map(async (n) => {
          const r = await call(cluster.url(n), "PUT", "/ring", doc(next));
          switchedAt.set(n, performance.now());
          return r.status;
        }),
      );
      expect(puts).toEqual([200, 200, 200]);
      await writes;

      expect(answers.length).toBe(ids.length);
      const acknowledged = new Map(names.map((n) => [n, new Set<string>()]));
      for (const a of answers) {
        expect([ring.label, next.label]).toContain(a.label ?? "no X-Shard-Ring");
        const owner = owners.get(a.label!)!(a.id);
        if (a.status === 201) {
          expect({ id: a.id, node: a.node, owner }).toEqual({ id: a.id, node: a.node, owner: a.node });
          acknowledged.get(a.node)!.add(a.id);
        } else {
          expect({ id: a.id, status: a.status }).toEqual({ id: a.id, status: 421 });
          expect([a.body.ring, a.body.owner.name]).toEqual([a.label, owner]);
        }
        if (a.sentAfterSwitch) expect({ id: a.id, label: a.label }).toEqual({ id: a.id, label: next.label });
      }
      // both rings answered, and some ids were refused after the switch
      expect(new Set(answers.map((a) => a.label)).size).toBe(2);
      expect(answers.some((a) => a.status === 421)).toBe(true);
    } finally {
      await cluster.stop();
    }
    const c = await connect();
    try {
      for (const n of names) {
        const [rows] = await c.query<mysql.RowDataPacket[]>(`SELECT id FROM \`${prefix}_${n}\`.expenses ORDER BY id`);
        const expected = answers
          .filter((a) => a.node === n && a.status === 201)
          .map((a) => Number(a.id))
          .sort((x, y) => x - y);
        expect({ node: n, ids: rows.map((r) => Number(r.id)) }).toEqual({ node: n, ids: expected });
      }
    } finally {
      await c.end();
    }
  });
});
