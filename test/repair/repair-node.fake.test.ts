/** The RepairNode contract on the in-memory fake the orchestrator's tests run on. */
import { RingMove } from "../../src/ring/move.ts";
import { FakeRepairNode } from "./fake-repair-node.ts";
import { contractRing, runRepairNodeContract } from "./repair-node.contract.ts";

runRepairNodeContract("the in-memory fake", async () => {
  const ring = contractRing({ a: "127.0.0.1:1", b: "127.0.0.1:2" });
  const nodes = { a: new FakeRepairNode("a", ring), b: new FakeRepairNode("b", undefined) };
  return {
    ring,
    ...nodes,
    seed: async (node, records) => {
      for (const r of records) nodes[node].put(r);
    },
    held: async (node) => new Map(nodes[node].stored),
    request: (node, id, write) => nodes[node].request(id, write),
    adopt: async (next) => {
      await nodes.a.guard.adopt(next);
    },
    startRebalance: async (to) => {
      const move = new RingMove(ring, to);
      nodes.a.rebalance = { job: move.job, phase: "copying", move };
    },
    stop: async () => {},
  };
});
