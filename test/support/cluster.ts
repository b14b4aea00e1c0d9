/**
 * Real expense instances in this process for the tests, one per node, each on its own
 * database: a SQLite file in the cluster's temp dir unless `db` names another (a MariaDB
 * database on a server the test file started, `sqlite::memory:`). With a ring the
 * instances are ring-aware; the ring is built before they start (ports picked first), and
 * expected owners come from the reference ring (test/ring/reference.ts), never from the
 * code under test. `stop()` stops every instance and removes the temp dir.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startInstance, type Instance } from "../../src/instance/index.ts";
import { parseNodeList } from "../../src/ring/node.ts";
import { Ring } from "../../src/ring/ring.ts";
import { refOwnerOf } from "../ring/reference.ts";
import { startMariaDBs, type MariaDB } from "./mariadb.ts";
import { freePort } from "./net.ts";

export interface NodeAt {
  readonly name: string;
  readonly url: string;
}

export interface ClusterOptions {
  /**
   * The nodes: names, each started on a free port of its own (port 0), or nodes with an
   * address, started on its port. Default: the nodes of `ring`, else a, b and c.
   */
  readonly nodes?: readonly (string | NodeAt)[];
  /** Makes the instances ring-aware: one ring for all, or each node's own (a rebalance: the old ring, the new one for joining nodes). */
  readonly ring?: Ring | ((name: string) => Ring);
  /** Each node's database URL. Default: a SQLite file per node in the cluster's temp dir. */
  readonly db?: (name: string) => string;
  readonly adminToken?: string;
  /** The instances' request log lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface Cluster {
  /** The instances running now, by name: stopNode takes one out, startNode puts it back. */
  readonly instances: Map<string, Instance>;
  /** Every node, in the order given, with the address it runs at. */
  readonly nodes: readonly NodeAt[];
  /** `name=127.0.0.1:port,...` for --nodes and ShardedExpenseClient. */
  readonly nodeList: string;
  /** The one ring all nodes were started with, if there is one. */
  readonly ring: Ring | undefined;
  /** The temp dir of the cluster (the default SQLite files), removed by stop(). */
  readonly dir: string;
  url(name: string): string;
  db(name: string): string;
  /** Stops node `name`; its data stays. */
  stopNode(name: string): Promise<void>;
  /** Starts node `name` (again) on its port and database, with `ring` or the ring it was started with. */
  startNode(name: string, ring?: Ring): Promise<Instance>;
  stop(): Promise<void>;
}

/** A cluster whose nodes were all started with one ring. */
export type RingCluster = Cluster & { readonly ring: Ring };

export function startCluster(options: ClusterOptions & { readonly ring: Ring }): Promise<RingCluster>;
export function startCluster(options?: ClusterOptions): Promise<Cluster>;
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const { ring, adminToken, log = false } = options;
  const given = options.nodes ?? (ring instanceof Ring ? ring.nodes : ["a", "b", "c"]);
  const dir = mkdtempSync(join(tmpdir(), "shardctl-cluster-"));
  const db = options.db ?? ((name: string) => `sqlite:${join(dir, `${name.replace(/\W/g, "_")}.sqlite`)}`);
  const ringOfNode = (name: string) => (ring instanceof Ring ? ring : ring?.(name));
  /** The port of each node: its address's, or (a name alone) the one it got on its first start. */
  const ports = new Map(given.map((n) => (typeof n === "string" ? [n, 0] : [n.name, Number(new URL(n.url).port)])));
  const instances = new Map<string, Instance>();

  const startNode = async (name: string, nodeRing = ringOfNode(name)): Promise<Instance> => {
    const port = ports.get(name);
    if (port === undefined) throw new Error(`startNode: no node ${name} in this cluster`);
    const instance = await startInstance({
      port,
      db: db(name),
      name,
      log,
      ring: nodeRing && { ring: nodeRing, source: "the test's ring" },
      adminToken,
    });
    ports.set(name, instance.port);
    instances.set(name, instance);
    return instance;
  };
  const stop = async () => {
    await Promise.allSettled([...instances.values()].map((s) => s.stop()));
    instances.clear();
    rmSync(dir, { recursive: true, force: true });
  };

  const started = await Promise.allSettled([...ports.keys()].map((name) => startNode(name)));
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    // The caller gets no cluster to stop: stop what did start and remove the files here.
    await stop();
    throw failed.reason;
  }
  const nodes = given.map((n) => (typeof n === "string" ? { name: n, url: `http://127.0.0.1:${ports.get(n)}` } : { name: n.name, url: n.url }));
  return {
    instances,
    nodes,
    nodeList: nodes.map((n) => `${n.name}=${new URL(n.url).host}`).join(","),
    ring: ring instanceof Ring ? ring : undefined,
    dir,
    url: (name) => nodes.find((n) => n.name === name)!.url,
    db,
    async stopNode(name) {
      await instances.get(name)?.stop();
      instances.delete(name);
    },
    startNode,
    stop,
  };
}

/**
 * A fresh cluster for every test of the enclosing block (or file): started before the test
 * and stopped, its data removed, after it, so that no test sees another's records.
 */
export function useCluster(options?: ClusterOptions): () => Cluster {
  let cluster: Cluster | undefined;
  beforeEach(async () => {
    cluster = await startCluster(options);
  });
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  return () => {
    if (!cluster) throw new Error("useCluster: no cluster outside a test");
    return cluster;
  };
}

/** Starts a cluster that stops after the test that started it. */
export interface StartPerTest {
  (options: ClusterOptions & { readonly ring: Ring }): Promise<RingCluster>;
  (options?: ClusterOptions): Promise<Cluster>;
}

/**
 * For a test that starts its own cluster (its own ring, its own records): every cluster
 * started through the function returned is stopped after the test of the enclosing block
 * (or file), also when the test fails.
 */
export function clustersPerTest(): StartPerTest {
  const running: Cluster[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
  });
  return (async (options?: ClusterOptions) => {
    const cluster = await startCluster(options);
    running.push(cluster);
    return cluster;
  }) as StartPerTest;
}

/** `n` MariaDB servers for the file (started before its tests, stopped after), and fresh databases on them per cluster. */
export function useMariaDBServers(n: number, prefix: string) {
  let servers: MariaDB[] = [];
  beforeAll(async () => {
    servers = await startMariaDBs(n);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });
  return mariadbDatabases(() => servers, prefix);
}

/** Databases spread over the file's MariaDB servers: node i of a cluster on server i mod n. */
function mariadbDatabases(servers: () => readonly MariaDB[], prefix: string) {
  let n = 0;
  return () => {
    const cluster = n++;
    const index = new Map<string, number>();
    return (name: string) => {
      if (!index.has(name)) index.set(name, index.size);
      const list = servers();
      return list[index.get(name)! % list.length]!.url(`${prefix}_${cluster}_${name.replace(/\W/g, "_")}`);
    };
  };
}

/** Free ports for `names`, as `name=127.0.0.1:port` nodes. */
export async function localNodes(names: readonly string[]): Promise<string> {
  const ports = await Promise.all(names.map(() => freePort()));
  return names.map((name, i) => `${name}=127.0.0.1:${ports[i]}`).join(",");
}

export function ringOf(nodeList: string, { vnodes = 160, epoch = 0 } = {}): Ring {
  return new Ring(parseNodeList(nodeList), { vnodes, epoch });
}

/** The owner of each id under `ring`, by the reference implementation. */
export function referenceOwner(ring: Ring): (id: string) => string {
  return refOwnerOf(
    ring.nodes.map((n) => ({ name: n.name, weight: n.weight })),
    ring.vnodes,
  );
}
