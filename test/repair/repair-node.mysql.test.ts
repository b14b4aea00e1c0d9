/** The RepairNode contract on real instances over HTTP, each on its own database of a MariaDB server the file starts. */
import { describe } from "bun:test";
import { useMariaDBServers } from "../support/cluster.ts";
import { mysqlUnavailable } from "../support/mariadb.ts";
import { startRepairContractInstances } from "./contract-instances.ts";
import { runRepairNodeContract } from "./repair-node.contract.ts";

describe.skipIf(!!mysqlUnavailable)("on MariaDB", () => {
  const databases = useMariaDBServers(1, "repair_node");
  runRepairNodeContract("instances on MariaDB", () => startRepairContractInstances(databases()));
});
