/** Real expense instances in this process (embedded SQLite in a temp dir) for the client tests. */
import { afterEach, beforeEach } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startInstance, type Instance } from "../../src/instance/index.ts";

export interface LocalCluster {
  readonly instances: Instance[];
  /** `name=host:port,...` for --nodes and ShardedExpenseClient. */
  readonly nodeList: string;
  readonly nodes: { name: string; url: string }[];
  /** Stops one instance (its data stays) and starts it again on the same port and file. */
  stopNode(name: string): Promise<void>;
  startNode(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalCluster(names = ["a", "b", "c"]): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), "shardctl-client-test-"));
  const db = (name: string) => `sqlite:${join(dir, `${name}.sqlite`)}`;
  const started = await Promise.allSettled(names.map((name) => startInstance({ port: 0, db: db(name), name, log: false })));
  const instances = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    // The caller gets no cluster to stop: stop what did start and remove the files here.
    await Promise.allSettled(instances.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw failed.reason;
  }
  const byName = new Map(instances.map((s) => [s.name, s]));
  const ports = new Map(instances.map((s) => [s.name, s.port]));
  return {
    instances,
    nodeList: instances.map((s) => `${s.name}=127.0.0.1:${s.port}`).join(","),
    nodes: instances.map((s) => ({ name: s.name, url: s.url })),
    async stopNode(name) {
      await byName.get(name)!.stop();
    },
    async startNode(name) {
      byName.set(name, await startInstance({ port: ports.get(name)!, db: db(name), name, log: false }));
    },
    async stop() {
      await Promise.allSettled([...byName.values()].map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh cluster for every test of the enclosing block (or file): started before the test
 * and stopped, its data removed, after it, so that no test sees another's records.
 */
export function useLocalCluster(names?: string[]): () => LocalCluster {
  let cluster: LocalCluster | undefined;
  beforeEach(async () => {
    cluster = await startLocalCluster(names);
  });
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  return () => {
    if (!cluster) throw new Error("useLocalCluster: no cluster outside a test");
    return cluster;
  };
}
