import { describe, expect, test } from "bun:test";
import { fractionOf, HASH_SPACE, HashRing, percentOf, sampleShares, spaceShares, transfers, type RingMember } from "../../src/ring/index.ts";
import { refArcs, refOwner, refPoints } from "./reference.ts";

const keys = Array.from({ length: 5000 }, (_, i) => String(i));
const base: RingMember[] = [{ name: "a" }, { name: "b", weight: 1.5 }, { name: "c" }];
const before = new HashRing(base, { vnodes: 30 });

describe("spaceShares", () => {
  test("equals the reference's arcs and adds up to exactly 2^128", () => {
    const shares = spaceShares(before);
    expect(shares).toEqual(refArcs(refPoints(base, 30)));
    expect([...shares.values()].reduce((x, y) => x + y, 0n)).toBe(HASH_SPACE);
  });

  test("a single point owns the whole circle", () => {
    expect(spaceShares(new HashRing([{ name: "solo" }], { vnodes: 1 }))).toEqual(new Map([["solo", HASH_SPACE]]));
  });
});

test("sampleShares counts each key once, on its owner", () => {
  const counts = sampleShares(before, keys);
  const ref = refPoints(base, 30);
  for (const n of base) expect(counts.get(n.name)).toBe(keys.filter((k) => refOwner(ref, k) === n.name).length);
});

/**
 * The reference: cut the circle at every point of both rings, and ask each ring who
 * owns the start of each piece (the first point strictly greater than it).
 */
function refTransfers(a: RingMember[], b: RingMember[], vnodes: number): Map<string, bigint> {
  const pa = refPoints(a, vnodes);
  const pb = refPoints(b, vnodes);
  const cuts = [...new Set([...pa, ...pb].map((p) => p.at))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const owner = (ps: typeof pa, h: bigint) => (ps.find((p) => p.at > h) ?? ps[0]!).node;
  const out = new Map<string, bigint>();
  cuts.forEach((start, i) => {
    const end = i + 1 < cuts.length ? cuts[i + 1]! : cuts[0]! + HASH_SPACE;
    const id = `${owner(pa, start)}->${owner(pb, start)}`;
    out.set(id, (out.get(id) ?? 0n) + (end - start));
  });
  return out;
}

describe("transfers", () => {
  const cases: [string, RingMember[]][] = [
    ["add d", [...base, { name: "d" }]],
    ["remove b", base.filter((n) => n.name !== "b")],
    ["replace c by d", [...base.filter((n) => n.name !== "c"), { name: "d", weight: 2 }]],
  ];
  for (const [what, nodes] of cases) {
    test(`${what}: spaces match the reference, keys match a lookup in both rings`, () => {
      const after = new HashRing(nodes, { vnodes: 30 });
      const ts = transfers(before, after, keys);
      expect(new Map(ts.map((t) => [`${t.from}->${t.to}`, t.space]))).toEqual(refTransfers(base, nodes, 30));
      expect(ts.reduce((s, t) => s + t.space, 0n)).toBe(HASH_SPACE);
      for (const t of ts) {
        expect(t.keys).toBe(keys.filter((k) => before.get(k) === t.from && after.get(k) === t.to).length);
      }
      expect(ts.reduce((s, t) => s + t.keys, 0)).toBe(keys.length);
    });
  }

  test("adding a node: every moving piece of the circle goes onto it", () => {
    const after = new HashRing([...base, { name: "d" }], { vnodes: 30 });
    const moves = transfers(before, after, keys).filter((t) => t.from !== t.to);
    expect(moves.map((t) => t.to)).toEqual(["d", "d", "d"]);
    expect(moves.reduce((s, t) => s + t.space, 0n)).toBe(spaceShares(after).get("d")!);
  });

  test("the same ring twice: nothing moves, and the diagonal is spaceShares", () => {
    const ts = transfers(before, before, keys);
    expect(ts.every((t) => t.from === t.to)).toBe(true);
    expect(new Map(ts.map((t) => [t.from, t.space]))).toEqual(spaceShares(before));
  });
});

describe("shares as numbers", () => {
  test("percentOf rounds the exact value half up", () => {
    expect(percentOf(HASH_SPACE)).toBe("100.0000%");
    expect(percentOf(0n)).toBe("0.0000%");
    expect(percentOf(HASH_SPACE / 3n)).toBe("33.3333%");
    expect(percentOf((HASH_SPACE * 2n) / 3n)).toBe("66.6667%");
    expect(percentOf(HASH_SPACE / 8n, 0)).toBe("13%");
    expect(percentOf(HASH_SPACE / 8n, 2)).toBe("12.50%");
  });

  test("fractionOf", () => {
    expect(fractionOf(HASH_SPACE / 4n)).toBe(0.25);
    expect(fractionOf(HASH_SPACE)).toBe(1);
  });
});
