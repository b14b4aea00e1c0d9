/**
 * The client against ring-aware instances: it sends its ring's label, adopts a newer
 * ring (GET /ring) after a 421 or a newer X-Shard-Ring, retries once, and otherwise fails
 * naming both labels. Whatever the client's ring, no record ends up on a node that does
 * not own it (each database is read directly and checked against the reference ring).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShardedExpenseClient } from "../../src/client/sharded-client.ts";
import { ShardRequestError } from "../../src/client/errors.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { Ring } from "../../src/ring/ring.ts";
import { runCli } from "../support/cli.ts";
import { clustersPerTest, localNodes, referenceOwner, ringOf } from "../support/cluster.ts";
import { call } from "../support/http.ts";

const dir = mkdtempSync(join(tmpdir(), "shardctl-ring-following-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let clusters = 0;
const startCluster = clustersPerTest();

const NAMES = ["a", "b", "c"];
const doc = (ring: Ring) => ({ ...ring.toJSON(), label: ring.label });

/** Three ring-aware instances on SQLite files holding `ring`; `ids(name)` reads a node's ids with SQL. */
async function cluster(options: { epoch?: number; vnodes?: number } = {}) {
  const prefix = join(dir, `c${clusters++}`);
  const ring = ringOf(await localNodes(NAMES), options);
  const log: string[] = [];
  const running = await startCluster({ ring, db: (name) => `sqlite:${prefix}-${name}.sqlite`, log: (line) => void log.push(line) });
  const ids = (name: string): string[] => {
    const db = new Database(`${prefix}-${name}.sqlite`, { readonly: true });
    try {
      return db
        .query<{ id: number }, []>("SELECT id FROM expenses ORDER BY id")
        .all()
        .map((r) => String(r.id));
    } finally {
      db.close();
    }
  };
  return { ring, ids, instances: running, log };
}

/** A ring file for `ring` with other vnodes and epoch: same nodes and addresses. */
function ringFile(ring: Ring, { epoch, vnodes }: { epoch: number; vnodes: number }): string {
  const path = join(dir, `ring-${epoch}-${vnodes}-${clusters++}.json`);
  writeFileSync(path, JSON.stringify({ epoch, vnodes, nodes: ring.nodes.map((n) => ({ name: n.name, url: n.url })) }));
  return path;
}

/** Every stored id is on its owner under `ring` (reference), and no id is on two nodes. */
function expectOnlyOwners(ids: (name: string) => string[], ring: Ring): Map<string, string> {
  const owner = referenceOwner(ring);
  const where = new Map<string, string>();
  for (const n of NAMES) {
    for (const id of ids(n)) {
      expect({ id, on: n }).toEqual({ id, on: owner(id) });
      expect(where.has(id)).toBe(false);
      where.set(id, n);
    }
  }
  return where;
}

describe("client run with a ring other than the instances'", () => {
  test("other vnodes, same epoch: ids it places right are stored, the others fail naming both labels (exit 1); none lands on a non-owner", async () => {
    const c = await cluster({ epoch: 0, vnodes: 160 });
    const stale = new Ring(c.ring.nodes, { vnodes: 50, epoch: 0 });
    const r = await runCli("client", "run", "--ids", "1..200", "--json", "--ring", ringFile(c.ring, { epoch: 0, vnodes: 50 }));
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    const [truth, theirs] = [referenceOwner(c.ring), referenceOwner(stale)];
    const agree = Array.from({ length: 200 }, (_, i) => String(i + 1)).filter((id) => truth(id) === theirs(id));
    const failed = report.rows.filter((row: any) => !row.ok);
    expect(failed.map((row: any) => row.id).sort()).toEqual(
      Array.from({ length: 200 }, (_, i) => String(i + 1))
        .filter((id) => !agree.includes(id))
        .sort(),
    );
    for (const row of failed) {
      expect(row.post.outcome).toBe("ring-mismatch");
      expect(row.post.message).toContain(`its ring ${c.ring.label} and this client's ring ${stale.label} differ`);
    }
    const stored = expectOnlyOwners(c.ids, c.ring);
    expect([...stored.keys()].sort()).toEqual([...agree].sort());
  });

  test("an older ring: the client adopts the instances' newer ring and every record ends on its true owner (exit 0)", async () => {
    const c = await cluster({ epoch: 2, vnodes: 160 });
    const r = await runCli("client", "run", "--ids", "1..150", "--ring", ringFile(c.ring, { epoch: 1, vnodes: 40 }));
    expect(r.code).toBe(0);
    // once per adoption, after the command's name as every message
    expect(r.stderr.match(/holds a newer ring/g)).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^shardctl client run: node \\S+ holds a newer ring: using ring ${c.ring.label} instead of 1:`, "m"));
    const stored = expectOnlyOwners(c.ids, c.ring);
    expect(stored.size).toBe(150);
  });

  test("client verify with an older ring adopts the instances' ring and says so once, not once per node", async () => {
    const c = await cluster({ epoch: 2, vnodes: 160 });
    expect((await runCli("client", "run", "--ids", "1..60", "--ring", ringFile(c.ring, { epoch: 2, vnodes: 160 }))).code).toBe(0);
    const r = await runCli("client", "verify", "--ids", "1..60", "--ring", ringFile(c.ring, { epoch: 1, vnodes: 40 }));
    expect(r.code).toBe(0);
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      expect.stringMatching(new RegExp(`^shardctl client verify: node [abc] holds a newer ring: using ring ${c.ring.label} instead of 1:[0-9a-f]{16}$`)),
    ]);
  });

  test("a newer ring than the instances': they are named as the stale ones (exit 1); none lands on a non-owner", async () => {
    const c = await cluster({ epoch: 1, vnodes: 160 });
    const newer = new Ring(c.ring.nodes, { vnodes: 30, epoch: 5 });
    const r = await runCli("client", "run", "--ids", "1..150", "--json", "--ring", ringFile(c.ring, { epoch: 5, vnodes: 30 }));
    expect(r.code).toBe(1);
    const failed = JSON.parse(r.stdout).rows.filter((row: any) => !row.ok);
    expect(failed.length).toBeGreaterThan(0);
    for (const row of failed) {
      expect(row.post.message).toContain(`its ring ${c.ring.label} is older than this client's ring ${newer.label}: the instance is the stale one`);
    }
    // stored ids are on their owner under both rings: the instance's (it accepted them) and the client's (it sent them there)
    const stored = expectOnlyOwners(c.ids, c.ring);
    const clientOwner = referenceOwner(newer);
    for (const [id, n] of stored) expect({ id, n }).toEqual({ id, n: clientOwner(id) });
  });

  test("client verify with another ring fails naming each node's ring and the client's", async () => {
    const c = await cluster({ epoch: 0, vnodes: 160 });
    expect((await runCli("client", "run", "--ids", "1..20", "--ring", ringFile(c.ring, { epoch: 0, vnodes: 160 }))).code).toBe(0);
    const other = new Ring(c.ring.nodes, { vnodes: 20, epoch: 0 });
    const r = await runCli("client", "verify", "--ids", "1..20", "--ring", ringFile(c.ring, { epoch: 0, vnodes: 20 }));
    expect(r.code).toBe(1);
    for (const n of c.ring.nodes)
      expect(r.stderr).toContain(`node ${n.name} (${n.url}): its ring ${c.ring.label} and this client's ring ${other.label} differ`);
  });
});

describe("ShardedExpenseClient follows a switch of the cluster's ring", () => {
  test("after PUT /ring on every instance, requests under the old ring are retried once at the new owner; each node's ring is read at most once", async () => {
    const c = await cluster({ epoch: 1, vnodes: 160 });
    const adopted: string[] = [];
    const client = new ShardedExpenseClient({
      ring: c.ring,
      onRingAdopted: (ring, previous, from) => void adopted.push(`${previous.label} -> ${ring.label} from ${from.name}`),
    });
    for (const id of ["1", "2", "3"]) expect((await client.create(seedRecord(id))).id).toBe(id);
    const next = new Ring(c.ring.nodes, { vnodes: 25, epoch: 2 });
    for (const n of NAMES) expect((await call(c.instances.url(n), "PUT", "/ring", doc(next))).status).toBe(200);

    // ids whose owner changes with the switch: under the old ring each first goes to the wrong node
    const [before, after] = [referenceOwner(c.ring), referenceOwner(next)];
    const moving = Array.from({ length: 400 }, (_, i) => String(i + 100))
      .filter((id) => before(id) !== after(id))
      .slice(0, 40);
    const results = await Promise.all(moving.map((id) => client.ensure(seedRecord(id))));
    expect(results.map((r) => [r.record.id, r.node.name])).toEqual(moving.map((id) => [id, after(id)]));
    expect(client.ring.label).toBe(next.label);
    expect(adopted.length).toBe(1);
    expect(adopted[0]).toStartWith(`${c.ring.label} -> ${next.label} from `);
    const reads = c.log.filter((line) => / GET \/ring 200 /.test(line));
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads.length).toBeLessThanOrEqual(NAMES.length);
    // where each record is: 1..3 on their owner under the ring they were written with, the rest under the new one
    for (const n of NAMES) {
      const expected = [...["1", "2", "3"].filter((id) => before(id) === n), ...moving.filter((id) => after(id) === n)];
      expect({ n, ids: c.ids(n) }).toEqual({ n, ids: expected.sort((x, y) => Number(x) - Number(y)) });
    }
  });

  test("a node that keeps answering 421 from a newer ring gets one ring read and one retry, never a loop", async () => {
    const requests: string[] = [];
    let url = "";
    const fake = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        const { pathname } = new URL(req.url);
        requests.push(`${req.method} ${pathname}`);
        const ring = new Ring([{ name: "x", url, weight: 1 }], { vnodes: 3, epoch: 9 });
        const headers = { "x-shard-node": "x", "x-shard-ring": ring.label };
        if (pathname === "/ring") return Response.json(doc(ring), { headers });
        return Response.json({ error: "misdirected", message: "always", id: "1", owner: { name: "x", url }, ring: ring.label }, { status: 421, headers });
      },
    });
    url = `http://127.0.0.1:${fake.port}`;
    try {
      const client = new ShardedExpenseClient({ ring: new Ring([{ name: "x", url, weight: 1 }], { vnodes: 3, epoch: 1 }), retries: 0 });
      const error = await client.create(seedRecord("1")).catch((e) => e);
      expect(error).toBeInstanceOf(ShardRequestError);
      expect(error.kind).toBe("ring-mismatch");
      expect(error.message).toContain("HTTP 421 again after this client adopted ring 9:");
      expect(requests).toEqual(["POST /v1/expenses", "GET /ring", "POST /v1/expenses"]);
    } finally {
      fake.stop(true);
    }
  });

  test("a 2xx from a node with a newer ring stands, and the client places by that ring from then on", async () => {
    const c = await cluster({ epoch: 3, vnodes: 160 });
    const older = new Ring(c.ring.nodes, { vnodes: 160, epoch: 1 }); // same placement, older epoch
    const client = new ShardedExpenseClient({ ring: older });
    const created = await client.create(seedRecord("8"));
    expect(created.id).toBe("8");
    expect(client.ring.label).toBe(c.ring.label);
    expect(client.ringSeenAt(referenceOwner(c.ring)("8"))).toBe(c.ring.label);
  });
});
