/** The RepairNode contract on real instances over HTTP, each on a SQLite file of its own. */
import { startRepairContractInstances } from "./contract-instances.ts";
import { runRepairNodeContract } from "./repair-node.contract.ts";

runRepairNodeContract("instances on SQLite", () => startRepairContractInstances());
