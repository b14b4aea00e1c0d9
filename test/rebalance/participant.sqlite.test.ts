/** The Participant contract on real instances over HTTP, each on its own SQLite file. */
import { startContractInstances } from "./contract-instances.ts";
import { runParticipantContract } from "./participant.contract.ts";

runParticipantContract("instances on SQLite", () => startContractInstances());
