import { openStore } from "../../src/store/index.ts";
import { runApiContract } from "./api.contract.ts";

runApiContract("sqlite", () => openStore("sqlite::memory:"));
