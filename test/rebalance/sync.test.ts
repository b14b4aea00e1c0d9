/**
 * Pieces of the rebalance's sync on their own, with a node that only records what it is
 * asked: the change log is dropped in requests an instance takes (at most 100,000 entries
 * each, DropRequest), however long the log grew under load.
 */
import { describe, expect, test } from "bun:test";
import { dropLogged } from "../../src/rebalance/change-log.ts";
import type { Participant } from "../../src/rebalance/participant.ts";
import type { SyncContext } from "../../src/rebalance/sync.ts";
import { DropRequest } from "../../src/rebalance/protocol.ts";

describe("dropLogged", () => {
  test("drops every entry once, in requests within an instance's limit", async () => {
    const asked: { token: string; seqs: number[] }[] = [];
    const node = {
      name: "a",
      url: "http://127.0.0.1:1",
      dropChanges: async (token: string, seqs: readonly number[]) => void asked.push({ token, seqs: [...seqs] }),
    } as unknown as Participant;
    const ctx = { token: () => "t1" } as unknown as SyncContext;
    const seqs = Array.from({ length: 250_001 }, (_, i) => i + 1);
    await dropLogged(ctx, "fence", node, seqs);
    const limit = DropRequest.properties.seqs.maxItems!;
    expect(asked.every((a) => a.token === "t1" && a.seqs.length > 0 && a.seqs.length <= limit)).toBe(true);
    expect(asked.flatMap((a) => a.seqs)).toEqual(seqs);
    await dropLogged(ctx, "fence", node, []);
    expect(asked.length).toBe(Math.ceil(250_001 / 10_000));
  });
});
