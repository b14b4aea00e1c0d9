/**
 * The merge of the router's listing, over nodes played by in-memory listings (any
 * spread of ids, pages capped below what was asked, copies of one id on two nodes).
 * Expected pages come from a plain reference: every id its owner holds (the owner rule of
 * pageThrough: id mod the number of nodes), BigInt-sorted, cut after `after` and at `limit`;
 * a copy on any other node is never listed.
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
  test("random spreads over 1..5 nodes, some pages capped, copies on other nodes than the owner: every page as the reference says", async () => {
    const next = random(7);
    for (let trial = 0; trial < 40; trial++) {
      const k = 1 + Math.floor(next() * 5);
      const nodes = Array.from({ length: k }, (_, i) => node(`n${i}`));
      const held = new Map(nodes.map((n) => [n.name, [] as string[]]));
      const count = Math.floor(next() * 300);
      const ids = new Set<string>();
      for (let i = 0; i < count; i++) ids.add(String(Math.floor(next() * 10 ** (1 + Math.floor(next() * 15)))));
      const ownerOf = (id: string) => nodes[Number(BigInt(id) % BigInt(k))]!.name;
      const owned = new Set<string>();
      for (const id of ids) {
        // most on their owner; one in five only elsewhere (written with a wrong node list)
        if (next() < 0.8) {
          held.get(ownerOf(id))!.push(id);
          owned.add(id);
        } else held.get(nodes[Math.floor(next() * k)]!.name)!.push(id);
        // one in ten also on another node (a copy left by a move, --keep-data, an abort)
        if (next() < 0.1) held.get(nodes[Math.floor(next() * k)]!.name)!.push(id);
      }
      const pages = new Map(
        nodes.map((n) => [n.name, listingOf([...new Set(held.get(n.name))], n.name, next() < 0.3 ? 1 + Math.floor(next() * 5) : Infinity)]),
      );
      // an id its owner holds (also one that landed there at random)
      for (const [name, list] of held) for (const id of list) if (ownerOf(id) === name) owned.add(id);
      const reference = [...owned].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      for (const limit of [1, 3, 50, 1000]) {
        const { all } = await pageThrough(nodes, pages, limit);
        expect({ trial, limit, ids: all.map((r) => r.id) }).toEqual({ trial, limit, ids: reference });
      }
    }
  });

  test("each record is listed from its owner only: a copy on another node never, even where the owner has none", async () => {
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
    ]);
  });

  test("finding 6 of issue 18: deleted on its owner, a copy elsewhere is not listed; after=18&limit=1 gives the next id the owners hold", async () => {
    const nodes = [node("a"), node("b")];
    // 19 (odd: b's) was deleted on b; a --keep-data left a copy of it on a
    const pages = new Map([
      ["a", listingOf(["18", "19", "20"], "a")],
      ["b", listingOf(["21"], "b")],
    ]);
    const readPage: ReadPage = async (n, after, l) => pages.get(n.name)!(after, l);
    const page = await mergedPage(nodes, "18", 1, readPage, (id) => nodes[Number(BigInt(id) % 2n)]!);
    expect(page).toEqual({ items: [rec("20", "a")], next: "20" });
  });

  test("a node whose pages hold others' copies is read on with larger pages, up to the instances' limit", async () => {
    const nodes = [node("a"), node("b")];
    // a holds 3,000 copies of b's records (odd ids), then its own 6002
    const copies = Array.from({ length: 3000 }, (_, i) => String(2 * i + 1));
    const pages = new Map([
      ["a", listingOf([...copies, "6002"], "a")],
      ["b", listingOf([], "b")],
    ]);
    const sizes: number[] = [];
    const readPage: ReadPage = async (n, after, l) => {
      if (n.name === "a") sizes.push(l);
      return pages.get(n.name)!(after, l);
    };
    const page = await mergedPage(nodes, undefined, 1, readPage, (id) => nodes[Number(BigInt(id) % 2n)]!);
    expect(page).toEqual({ items: [rec("6002", "a")], next: null });
    expect(sizes).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 1000]);
  });

  test("nodes that answer full pages are read once per router page, all at once", async () => {
    const nodes = [node("a"), node("b"), node("c")];
    const ids = Array.from({ length: 90 }, (_, i) => String(i + 1));
    const pages = new Map(
      nodes.map((n, j) => [
        n.name,
        listingOf(
          ids.filter((id) => Number(id) % 3 === j),
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
