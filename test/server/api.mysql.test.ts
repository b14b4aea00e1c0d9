import { afterAll, beforeAll, describe } from "bun:test";
import { openStore } from "../../src/store/index.ts";
import { mysqlUnavailable, startMariaDB, type MariaDB } from "../support/mariadb.ts";
import { runApiContract } from "./api.contract.ts";

describe.skipIf(!!mysqlUnavailable)("on a real MariaDB", () => {
  let server: MariaDB;
  let n = 0;
  beforeAll(async () => {
    server = await startMariaDB();
  });
  afterAll(async () => {
    await server?.stop();
  });
  runApiContract("mysql", () => openStore(server.url(`api_${n++}`)));
});
