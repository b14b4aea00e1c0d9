/** The Participant contract on the in-memory fake the orchestrator's tests run on. */
import { FakeParticipant } from "./fake-participant.ts";
import { contractRings, runParticipantContract } from "./participant.contract.ts";

runParticipantContract("the in-memory fake", async () => {
  const { from, to } = contractRings({ a: "127.0.0.1:1", b: "127.0.0.1:2", c: "127.0.0.1:3" });
  const a = new FakeParticipant("a", from);
  const c = new FakeParticipant("c", to);
  return { from, to, a, c, request: async (node, id, write) => (node === "a" ? a : c).request(id, write), stop: async () => {} };
});
