import { describe } from "bun:test";
import { openStore } from "../../src/store/index.ts";
import { mysqlUnavailable } from "../support/mariadb.ts";
import { useMariaDB } from "../store/fixtures.ts";
import { runApiContract } from "./api.contract.ts";

describe.skipIf(!!mysqlUnavailable)("on a real MariaDB", () => {
  const mariadb = useMariaDB("api");
  runApiContract("mysql", () => openStore(mariadb.db()));
});
