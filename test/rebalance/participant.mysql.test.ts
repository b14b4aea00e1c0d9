/** The Participant contract on real instances over HTTP, each on its own database of a MariaDB server the file starts. */
import { describe } from "bun:test";
import { mysqlUnavailable } from "../support/mariadb.ts";
import { useMariaDBServers } from "../support/cluster.ts";
import { startContractInstances } from "./contract-instances.ts";
import { runParticipantContract } from "./participant.contract.ts";

describe.skipIf(!!mysqlUnavailable)("on MariaDB", () => {
  const databases = useMariaDBServers(1, "participant");
  runParticipantContract("instances on MariaDB", () => startContractInstances(databases()));
});
