/**
 * Three ring-aware instances, 100 ids: the owner of each id (by the reference ring)
 * serves it; the two others answer 421 naming the owner, for POST, GET, PUT and DELETE,
 * and execute nothing. Afterwards each database, read with SQL directly, holds exactly
 * the ids its node owns (those not deleted), with the owner's PUT applied. On SQLite
 * files and on MariaDB.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { forEachLimit } from "../../src/client/pool.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { mysqlUnavailable, startMariaDB, type MariaDB } from "../support/mariadb.ts";
import { localNodes, referenceOwner, ringOf, startCluster } from "../support/cluster.ts";
import { call } from "../support/http.ts";

const IDS = Array.from({ length: 100 }, (_, i) => String(i + 1));
const NAMES = ["a", "b", "c"];

/** Runs the scenario on a fresh cluster; `rowsOf(name)` reads `[id, name]` of every row of that node's database. */
async function ownersOnly(db: (name: string) => string, rowsOf: (name: string) => Promise<[string, string][]>) {
  const ring = ringOf(await localNodes(NAMES), { epoch: 3 });
  const owner = referenceOwner(ring);
  const cluster = await startCluster({ ring, db });
  try {
    const url = (name: string) => cluster.url(name);
    const expectMisdirected = (r: { status: number; headers: Headers; json: any }, id: string, where: string) => {
      const own = ring.node(owner(id))!;
      expect({ where, status: r.status, body: r.json }).toEqual({
        where,
        status: 421,
        body: {
          error: "misdirected",
          message: expect.stringContaining(`expense ${id} belongs to node ${own.name} (${own.url})`),
          field: "id",
          id,
          owner: { name: own.name, url: own.url },
          ring: ring.label,
        },
      });
      expect(r.headers.get("x-shard-ring")).toBe(ring.label);
    };

    await forEachLimit(IDS, 16, async (id) => {
      const others = NAMES.filter((n) => n !== owner(id));
      // Non-owners first: their refusal cannot lean on the owner already having the id.
      for (const n of others) expectMisdirected(await call(url(n), "POST", "/v1/expenses", seedRecord(id)), id, `POST ${id} on ${n}`);
      const created = await call(url(owner(id)), "POST", "/v1/expenses", seedRecord(id));
      expect({ id, status: created.status, ring: created.headers.get("x-shard-ring") }).toEqual({ id, status: 201, ring: ring.label });

      for (const n of others) expectMisdirected(await call(url(n), "GET", `/v1/expenses/${id}`), id, `GET ${id} on ${n}`);
      expect((await call(url(owner(id)), "GET", `/v1/expenses/${id}`)).json?.name).toBe(`Foo ${id}`);

      for (const n of others) {
        expectMisdirected(await call(url(n), "PUT", `/v1/expenses/${id}`, { name: `wrong ${n}` }), id, `PUT ${id} on ${n}`);
      }
      expect((await call(url(owner(id)), "PUT", `/v1/expenses/${id}`, { name: `Owner ${id}` })).status).toBe(202);

      if (Number(id) % 2 === 0) {
        for (const n of others) expectMisdirected(await call(url(n), "DELETE", `/v1/expenses/${id}`), id, `DELETE ${id} on ${n}`);
        expect((await call(url(owner(id)), "DELETE", `/v1/expenses/${id}`)).status).toBe(204);
      }
    });

    // The listing is never refused: each node lists what it holds.
    for (const n of NAMES) {
      const page = await call(url(n), "GET", "/v1/expenses?limit=1000");
      expect(page.status).toBe(200);
      expect(page.headers.get("x-shard-ring")).toBe(ring.label);
    }
  } finally {
    await cluster.stop();
  }
  // Each database holds exactly its node's odd ids, changed by the owner's PUT only.
  for (const n of NAMES) {
    const expected = IDS.filter((id) => owner(id) === n && Number(id) % 2 === 1).map((id): [string, string] => [id, `Owner ${id}`]);
    const rows = (await rowsOf(n)).sort((x, y) => Number(x[0]) - Number(y[0]));
    expect({ node: n, rows }).toEqual({ node: n, rows: expected });
  }
  // every node got some ids, so each 421 above was a real refusal
  for (const n of NAMES) expect(IDS.some((id) => owner(id) === n)).toBe(true);
}

describe("ring-aware instances on SQLite", () => {
  const dir = mkdtempSync(join(tmpdir(), "shardctl-ring-aware-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("each id is served by its owner only; each database holds only its own ids", async () => {
    const file = (name: string) => join(dir, `${name}.sqlite`);
    await ownersOnly(
      (name) => `sqlite:${file(name)}`,
      async (name) => {
        const db = new Database(file(name), { readonly: true });
        try {
          return db
            .query<{ id: number; name: string }, []>("SELECT id, name FROM expenses")
            .all()
            .map((r) => [String(r.id), r.name]);
        } finally {
          db.close();
        }
      },
    );
  });
});

describe.skipIf(!!mysqlUnavailable)("ring-aware instances on MariaDB", () => {
  let server: MariaDB;
  beforeAll(async () => {
    server = await startMariaDB();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("each id is served by its owner only; each database holds only its own ids", async () => {
    await ownersOnly(
      (name) => server.url(`ring_aware_${name}`),
      async (name) => {
        const c = await mysql.createConnection({ host: "127.0.0.1", port: server.port, user: "root", database: `ring_aware_${name}` });
        try {
          const [rows] = await c.query<mysql.RowDataPacket[]>("SELECT id, name FROM expenses");
          return rows.map((r) => [String(r.id), r.name as string]);
        } finally {
          await c.end();
        }
      },
    );
  });
});
