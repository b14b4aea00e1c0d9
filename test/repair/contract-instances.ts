/**
 * The RepairNode contract's cluster on real instances (repair-node.contract.ts): a (holding
 * the ring) and b (holding none) of test/support/cluster.ts, in this process, on free ports,
 * each on its own database, spoken to through NodeRepair; records seeded and read straight
 * in the databases, clients' requests sent as HTTP requests.
 */
import { hostname } from "node:os";
import type { Expense } from "../../src/expenses/model.ts";
import { NodeAdmin } from "../../src/rebalance/node-admin.ts";
import { NodeRepair } from "../../src/repair/node-http.ts";
import { parseNodeList } from "../../src/ring/node.ts";
import type { Ring } from "../../src/ring/ring.ts";
import { ringDocument } from "../../src/ring/ring-file.ts";
import { openStore } from "../../src/store/index.ts";
import { localNodes, startCluster } from "../support/cluster.ts";
import { call } from "../support/http.ts";
import { contractRing, type RepairContractCluster } from "./repair-node.contract.ts";

/** Starts a and b; `db(name)` names the database of each (default: a SQLite file each). */
export async function startRepairContractInstances(db?: (name: string) => string): Promise<RepairContractCluster> {
  const at = Object.fromEntries(parseNodeList(await localNodes(["a", "b"])).map((n) => [n.name, new URL(n.url).host]));
  const ring = contractRing({ a: at.a!, b: at.b! });
  const cluster = await startCluster({ nodes: ring.nodes, ring: (name) => (name === "a" ? ring : (undefined as unknown as Ring)), db });
  const withStore = async <T>(node: string, work: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>) => {
    const store = await openStore(cluster.db(node));
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  };
  return {
    ring,
    a: new NodeRepair(ring.node("a")!, { retries: 0 }),
    b: new NodeRepair(ring.node("b")!, { retries: 0 }),
    seed: (node, records) => withStore(node, (s) => s.putMany(records)),
    held: (node) => withStore(node, async (s) => new Map((await s.getMany(await s.listIds(undefined, 100_000))).map((r) => [r.id, r]))),
    async request(node, id, write?: Expense | null) {
      const url = cluster.url(node);
      if (write === undefined) return (await call(url, "GET", `/v1/expenses/${id}`)).status;
      if (write === null) return (await call(url, "DELETE", `/v1/expenses/${id}`)).status;
      const { status, decision_date, ...create } = write;
      const put = await call(url, "PUT", `/v1/expenses/${id}`, { ...create, status, decision_date });
      return put.status === 404 ? (await call(url, "POST", "/v1/expenses", create)).status : put.status;
    },
    async adopt(next) {
      const answer = await call(cluster.url("a"), "PUT", "/ring", ringDocument(next));
      if (answer.status !== 200) throw new Error(`PUT /ring answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    },
    async startRebalance(to) {
      const holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
      await new NodeAdmin(ring.node("a")!, { retries: 0 }).lease({
        from: ringDocument(ring),
        to: ringDocument(to),
        token: `repair-contract-${Math.random().toString(36).slice(2, 12)}`,
        expect: null,
        holder,
      });
    },
    stop: () => cluster.stop(),
  };
}
