import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../src/store/index.ts";
import { runStoreContract, stored } from "./store.contract.ts";

runStoreContract("sqlite (in memory)", () => openStore("sqlite::memory:"));

const dir = mkdtempSync(join(tmpdir(), "shardctl-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
runStoreContract("sqlite (file)", () => openStore(`sqlite:${join(dir, `contract-${n++}.sqlite`)}`));

describe("sqlite file store", () => {
  test("creates missing parent folders, and records survive a reopen (migrations run once)", async () => {
    const path = join(dir, "nested", "deeper", "db.sqlite");
    const first = await openStore(`sqlite:${path}`);
    await first.insert(stored("1"));
    await first.close();
    expect(existsSync(path)).toBe(true);
    const second = await openStore(`sqlite:${path}`);
    expect(await second.get("1")).toEqual(stored("1"));
    await second.close();
  });
});
