/**
 * The merge of the router's listing, over nodes played by in-memory listings (any
 * spread of ids, pages capped below what was asked, copies of one id on two nodes).
 * Expected pages come from a plain reference: every id of every node, BigInt-sorted,
 * each once, cut after `after` and at `limit`.
 */
import { describe, expect, test } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import type { Expense } from "../../src/expenses/model.ts";
import type { Node } from "../../src/ring/node.ts";
import { InvalidListing, mergedPage, type NodePage, type ReadPage } from "../../src/router/listing.ts";

const rec = (id: string, holder = ""): Expense => ({ ...seedRecord(id), status: "pending", decision_date: "", description: holder }) as Expense;
const node = (name: string): Node => ({ name, url: `http://${name}:1`, weight: 1 });

/** A node holding `ids`, answering at most `cap` records a page (an instance answers up to the limit). */
function listingOf(ids: readonly string[], holder: string, cap = Infinity) {
  const sorted = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)).map((id) => rec(id, holder));
  return (after: string | undefined, limit: number): NodePage => {
    const rest = sorted.filter((r) => after === undefined || BigInt(r.id) > BigInt(after));
    const items = rest.slice(0, Math.min(limit, cap));
    return { items, next: rest.length > items.length ? items.at(-1)!.id : null };
  };
}

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pages through the whole merged listing; each page checked against the reference. */
async function pageThrough(nodes: Node[], pages: Map<string, (after: string | undefined, limit: number) => NodePage>, limit: number) {
  const reads: string[] = [];
  const readPage: ReadPage = async (n, after, l) => {
    reads.push(n.name);
    return pages.get(n.name)!(after, l);
  };
  const all: Expense[] = [];
  let after: string | undefined;
  let routerPages = 0;
  for (;;) {
    const page = await mergedPage(nodes, after, limit, readPage, (id) => nodes[Number(BigInt(id) % BigInt(nodes.length))]!);
    routerPages++;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    all.push(...page.items);
    if (page.next === null) break;
    expect(page.next).toBe(page.items.at(-1)!.id);
    after = page.next;
    if (routerPages > 100_000) throw new Error("paging does not end");
  }
  return { all, reads, routerPages };
}

describe("mergedPage", () => {
  test("random spreads over 1..5 nodes, some pages capped, some ids on two nodes: every page as the reference says", async () => {
    const next = random(7);
    for (let trial = 0; trial < 40; trial++) {
      const k = 1 + Math.floor(next() * 5);
      const nodes = Array.from({ length: k }, (_, i) => node(`n${i}`));
      const held = new Map(nodes.map((n) => [n.name, [] as string[]]));
      const count = Math.floor(next() * 300);
      const ids = new Set<string>();
      for (let i = 0; i < count; i++) ids.add(String(Math.floor(next() * 10 ** (1 + Math.floor(next() * 15)))));
      for (const id of ids) {
        held.get(nodes[Math.floor(next() * k)]!.name)!.push(id);
        // one id in ten is also on another node (a copy left by a move)
        if (next() < 0.1) held.get(nodes[Math.floor(next() * k)]!.name)!.push(id);
      }
      const pages = new Map(
        nodes.map((n) => [n.name, listingOf([...new Set(held.get(n.name))], n.name, next() < 0.3 ? 1 + Math.floor(next() * 5) : Infinity)]),
      );
      const reference = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      for (const limit of [1, 3, 50, 1000]) {
        const { all } = await pageThrough(nodes, pages, limit);
        expect({ trial, limit, ids: all.map((r) => r.id) }).toEqual({ trial, limit, ids: reference });
      }
    }
  });

  test("a copy on two nodes is listed once, from the node that owns it", async () => {
    const nodes = [node("a"), node("b")];
    // the owner rule of pageThrough: id mod 2 -> a (even) or b (odd)
    const pages = new Map([
      ["a", listingOf(["1", "2", "3"], "a")],
      ["b", listingOf(["1", "2", "4"], "b")],
    ]);
    const { all } = await pageThrough(nodes, pages, 10);
    expect(all.map((r) => [r.id, r.description])).toEqual([
      ["1", "b"],
      ["2", "a"],
      ["3", "a"],
      ["4", "b"],
    ]);
  });

  test("nodes that answer full pages are read once per router page, all at once", async () => {
    const nodes = [node("a"), node("b"), node("c")];
    const ids = Array.from({ length: 90 }, (_, i) => String(i + 1));
    const pages = new Map(
      nodes.map((n, j) => [
        n.name,
        listingOf(
          ids.filter((_, i) => i % 3 === j),
          n.name,
        ),
      ]),
    );
    const { reads, routerPages } = await pageThrough(nodes, pages, 10);
    expect(routerPages).toBe(9);
    expect(reads.length).toBe(27);
  });

  test("a listing that breaks its promises is an InvalidListing naming the node, not an endless loop", async () => {
    const nodes = [node("a")];
    const bad: [string, NodePage][] = [
      ["ids going back", { items: [rec("5"), rec("3")], next: null }],
      ["an id not canonical", { items: [rec("007")], next: null }],
      ["an id not a string", { items: [{ ...rec("5"), id: 5 } as unknown as Expense], next: null }],
      ["an empty page that says more follow", { items: [], next: "9" }],
    ];
    for (const [label, page] of bad) {
      const error = await mergedPage(
        nodes,
        undefined,
        10,
        async () => page,
        () => nodes[0]!,
      ).catch((e) => e);
      expect({ label, invalid: error instanceof InvalidListing, node: error.node?.name }).toEqual({ label, invalid: true, node: "a" });
    }
    // a page at or before `after`
    const error = await mergedPage(
      nodes,
      "10",
      10,
      async () => ({ items: [rec("10")], next: null }),
      () => nodes[0]!,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidListing);
    expect(error.message).toBe("its listing after 10 went back to 10");
  });
});
