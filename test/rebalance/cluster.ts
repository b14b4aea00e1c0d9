/**
 * A cluster for rebalance tests: the instances of test/support/cluster.ts (in this
 * process, one database each: on MariaDB servers the test file started, or SQLite files),
 * the old and the new ring as files, records stored straight into the old owners'
 * databases, and what each database holds read back with SQL. Owners come from the
 * reference ring.
 */
import { expect } from "bun:test";
import { Database } from "bun:sqlite";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { parseNodeList, type Node } from "../../src/ring/node.ts";
import { Ring } from "../../src/ring/ring.ts";
import type { Instance } from "../../src/instance/index.ts";
import { openStore, parseStoreUrl } from "../../src/store/index.ts";
import { localNodes, startCluster, type Cluster } from "../support/cluster.ts";
import { call } from "../support/http.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { stored } from "../store/store.contract.ts";

/** A record as the database holds it, the columns read with SQL. */
export interface Row {
  readonly id: string;
  readonly name: string;
  readonly cents: number;
  readonly status: string;
}

export interface ClusterSpec {
  /** Node names of the old ring, and of the new one (a name in both is the same node); weights optional. */
  readonly old: readonly (string | { name: string; weight: number })[];
  readonly next: readonly (string | { name: string; weight: number })[];
  readonly vnodes?: number;
  /** Where each node's database lives; default a SQLite file per node in the cluster's temp dir. */
  readonly db?: (name: string) => string;
  readonly adminToken?: string;
}

/** The instances (test/support/cluster.ts), both rings and their files, the records, the rows. */
export class RebalanceCluster {
  readonly oldFile: string;
  readonly newFile: string;

  private constructor(
    readonly old: Ring,
    readonly next: Ring,
    readonly spec: ClusterSpec,
    readonly cluster: Cluster,
  ) {
    this.oldFile = join(cluster.dir, "old.json");
    this.newFile = join(cluster.dir, "new.json");
    this.oldOwner = refOwnerOf(old.nodes, old.vnodes);
    this.newOwner = refOwnerOf(next.nodes, next.vnodes);
    const file = (ring: Ring) =>
      JSON.stringify({ epoch: ring.epoch, vnodes: ring.vnodes, nodes: ring.nodes.map((n) => ({ name: n.name, url: n.url, weight: n.weight })) });
    writeFileSync(this.oldFile, file(old));
    writeFileSync(this.newFile, file(next));
  }

  /** Builds both rings on free ports and starts every node: nodes of the old ring with it, joining nodes with the new one. */
  static async start(spec: ClusterSpec): Promise<RebalanceCluster> {
    const named = (n: string | { name: string; weight: number }) => (typeof n === "string" ? { name: n, weight: 1 } : n);
    const names = [...new Set([...spec.old, ...spec.next].map((n) => named(n).name))];
    const at = new Map(parseNodeList(await localNodes(names)).map((n) => [n.name, n]));
    const nodes = (list: ClusterSpec["old"]): Node[] => list.map((n) => ({ ...at.get(named(n).name)!, weight: named(n).weight }));
    const vnodes = spec.vnodes ?? 160;
    const [old, next] = [new Ring(nodes(spec.old), { vnodes, epoch: 1 }), new Ring(nodes(spec.next), { vnodes, epoch: 2 })];
    const cluster = await startCluster({
      nodes: names.map((n) => (old.node(n) ?? next.node(n))!),
      ring: (n) => (old.node(n) ? old : next),
      db: spec.db,
      adminToken: spec.adminToken,
    });
    return new RebalanceCluster(old, next, spec, cluster);
  }

  /** Node `name`'s database URL. */
  db(name: string): string {
    return this.cluster.db(name);
  }

  /** The instances running now, by name. */
  get instances(): Map<string, Instance> {
    return this.cluster.instances;
  }

  /** Node `name` (again, after stopNode), with `ring` or the ring it would be started with: the old one, or the new one for a joining node. */
  startNode(name: string, ring?: Ring): Promise<Instance> {
    return this.cluster.startNode(name, ring);
  }

  /** Each node's ring label and rebalance phase, as its GET /ring says. */
  async phases(): Promise<Record<string, { ring: string; phase: string | undefined }>> {
    const out: Record<string, { ring: string; phase: string | undefined }> = {};
    for (const name of this.names) {
      const ring = (await call(this.instances.get(name)!.url, "GET", "/ring")).json as { label: string; rebalance?: { phase: string } };
      out[name] = { ring: ring.label, phase: ring.rebalance?.phase };
    }
    return out;
  }

  stopNode(name: string): Promise<void> {
    return this.cluster.stopNode(name);
  }

  get names(): string[] {
    return [...new Set([...this.old.nodes, ...this.next.nodes].map((n) => n.name))].sort();
  }

  /** Owner of an id under the old and the new ring, by the reference ring. */
  readonly oldOwner: (id: string) => string;
  readonly newOwner: (id: string) => string;

  /** Stores the seed record of each id on its owner under the old ring, straight into the databases. */
  async seed(ids: readonly string[]): Promise<void> {
    const owner = this.oldOwner;
    const byNode = new Map<string, string[]>();
    for (const id of ids) byNode.set(owner(id), [...(byNode.get(owner(id)) ?? []), id]);
    for (const [name, list] of byNode) {
      const store = await openStore(this.db(name));
      try {
        await store.putMany(list.map((id) => stored(id)));
      } finally {
        await store.close();
      }
    }
  }

  /** Every row of every node's database, read with SQL: node -> id -> row. */
  async rows(): Promise<Map<string, Map<string, Row>>> {
    const out = new Map<string, Map<string, Row>>();
    for (const name of this.names) out.set(name, new Map((await readRows(this.db(name))).map((r) => [r.id, r])));
    return out;
  }

  stop(): Promise<void> {
    return this.cluster.stop();
  }
}

/** The cluster most tests use: a, b, c joined by d. */
export const JOINING: ClusterSpec = { old: ["a", "b", "c"], next: ["a", "b", "c", "d"] };

/**
 * Runs `work` on a started cluster whose old owners hold the seed records of ids 1..`records`;
 * the cluster stops after, whatever happens.
 */
export async function withCluster<T>(spec: ClusterSpec, records: number, work: (c: RebalanceCluster, ids: string[]) => Promise<T>): Promise<T> {
  const c = await RebalanceCluster.start(spec);
  try {
    const ids = range(1, records);
    await c.seed(ids);
    return await work(c, ids);
  } finally {
    await c.stop();
  }
}

/** The rows of a database URL's expenses table, by SQL (not through the store). */
export async function readRows(url: string): Promise<Row[]> {
  const sql = "SELECT CAST(id AS CHAR) AS id, name, estimated_costs_cents AS cents, status FROM expenses ORDER BY id";
  if (url.startsWith("sqlite:")) {
    const db = new Database(url.slice("sqlite:".length), { readonly: true });
    try {
      return db
        .query<Row, []>(sql)
        .all()
        .map((r) => ({ ...r, id: String(r.id), cents: Number(r.cents) }));
    } finally {
      db.close();
    }
  }
  const target = parseStoreUrl(url);
  if (target.dialect !== "mysql") throw new Error(`readRows: ${url} is no MySQL URL`);
  // a Galera shard: the first member that answers, once it has applied every write the cluster ordered
  let failure: unknown;
  for (const { host, port } of target.members) {
    const c = await mysql.createConnection({ host, port, user: target.user, password: target.password, database: target.database }).catch((e: unknown) => {
      failure = e;
      return undefined;
    });
    if (!c) continue;
    try {
      if (target.members.length > 1) await c.query("SET SESSION wsrep_sync_wait = 1");
      const [rows] = await c.query<mysql.RowDataPacket[]>(sql);
      return rows.map((r) => ({ id: String(r.id), name: String(r.name), cents: Number(r.cents), status: String(r.status) }));
    } finally {
      await c.end();
    }
  }
  throw failure;
}

/** The seed record of `id`, as a row holds it. */
export function seedRow(id: string): Row {
  const r = seedRecord(id);
  return { id, name: r.name, cents: Number(r.estimated_costs) * 100, status: "pending" };
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

/** Every id of `expected` in exactly one database, its new owner's, as expected; nothing else anywhere. */
export async function expectPlacedOnce(c: RebalanceCluster, expected: ReadonlyMap<string, Row>) {
  const rows = await c.rows();
  const where = new Map<string, string[]>();
  for (const [node, held] of rows) for (const id of held.keys()) where.set(id, [...(where.get(id) ?? []), node]);
  const misplaced = [...where]
    .filter(([id, nodes]) => nodes.length !== 1 || nodes[0] !== c.newOwner(id))
    .map(([id, nodes]) => ({ id, nodes, owner: c.newOwner(id) }));
  expect(misplaced.slice(0, 5)).toEqual([]);
  const missing = [...expected.keys()].filter((id) => !where.has(id));
  expect(missing.slice(0, 5)).toEqual([]);
  expect(where.size).toBe(expected.size);
  for (const [id, row] of expected) expect(rows.get(c.newOwner(id))!.get(id)).toEqual(row);
}
