/**
 * The Participant contract's cluster on real instances (participant.contract.ts): a and c
 * of test/support/cluster.ts (in this process, on free ports, each on its own database),
 * spoken to through NodeAdmin (the HTTP participant), clients' requests sent as HTTP
 * requests.
 */
import type { Expense } from "../../src/expenses/model.ts";
import { NodeAdmin } from "../../src/rebalance/node-admin.ts";
import { parseNodeList } from "../../src/ring/node.ts";
import { localNodes, startCluster } from "../support/cluster.ts";
import { call } from "../support/http.ts";
import { type ContractCluster, contractRings } from "./participant.contract.ts";

/** Starts a and c; `db(name)` names the database of each (default: a SQLite file each). */
export async function startContractInstances(db?: (name: string) => string): Promise<ContractCluster> {
  const at = Object.fromEntries(parseNodeList(await localNodes(["a", "b", "c"])).map((n) => [n.name, new URL(n.url).host]));
  const { from, to } = contractRings({ a: at.a!, b: at.b!, c: at.c! });
  const cluster = await startCluster({ nodes: [from.node("a")!, to.node("c")!], ring: (name) => (name === "a" ? from : to), db });
  const admin = (name: "a" | "c") => new NodeAdmin(to.node(name)!, { retries: 0 });
  return {
    from,
    to,
    a: admin("a"),
    c: admin("c"),
    async request(node, id, write?: Expense | null) {
      const url = cluster.url(node);
      let status: number;
      if (write === undefined) status = (await call(url, "GET", `/v1/expenses/${id}`)).status;
      else if (write === null) status = (await call(url, "DELETE", `/v1/expenses/${id}`)).status;
      else {
        status = (await call(url, "PUT", `/v1/expenses/${id}`, write)).status;
        if (status === 404) {
          const { status: _, decision_date: __, ...create } = write;
          status = (await call(url, "POST", "/v1/expenses", create)).status;
        }
      }
      return status < 300 || status === 404 ? "served" : status;
    },
    stop: () => cluster.stop(),
  };
}
