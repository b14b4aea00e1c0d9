import { describe, expect, test } from "bun:test";
import { canonicalId, compareIds, MAX_ID, toCanonicalId } from "../../src/expenses/id.ts";

describe("canonical ids (the shard key has one spelling)", () => {
  test.each([
    ["0", "0"],
    ["7", "7"],
    ["10", "10"],
    [String(MAX_ID), "9007199254740991"],
    [7, "7"],
    [0, "0"],
    [MAX_ID, "9007199254740991"],
  ])("%p -> %p", (input, id) => {
    expect(canonicalId(input)).toEqual({ ok: true, id });
  });

  test.each([
    ["007"],
    ["7.0"],
    ["+7"],
    ["-1"],
    [" 7"],
    ["7 "],
    [""],
    ["1e3"],
    ["0x10"],
    ["9007199254740992"],
    [-1],
    [1.5],
    [MAX_ID + 1],
    [Number.NaN],
    [null],
    [true],
    [{}],
  ])("%p is rejected with a reason", (input) => {
    const r = canonicalId(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem.length).toBeGreaterThan(10);
  });

  test("toCanonicalId throws on a bad id", () => {
    expect(toCanonicalId(42)).toBe("42");
    expect(() => toCanonicalId("042")).toThrow(RangeError);
  });
});

describe("compareIds (the order of canonical ids)", () => {
  test("ids compare numerically without BigInt", () => {
    for (const [a, b] of [
      ["9", "10"],
      ["0", "1"],
      ["99", "100"],
      ["123", "124"],
      ["999999999999999", "1000000000000000"],
      ["9007199254740990", "9007199254740991"],
      ["0", String(MAX_ID)],
    ]) {
      expect({ a, b, order: compareIds(a!, b!) < 0, back: compareIds(b!, a!) > 0 }).toEqual({ a, b, order: true, back: true });
    }
    expect(compareIds("42", "42")).toBe(0);
    expect(compareIds(String(MAX_ID), String(MAX_ID))).toBe(0);
  });

  test("sorts ids of every length from 0 to MAX_ID as BigInt does", () => {
    // a fixed pseudo-random spread (xorshift): ids of 1 to 16 digits, near neighbours, both ends
    let x = 0x9e3779b9;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
    const ids = new Set(["0", "1", "9", "10", String(MAX_ID - 1), String(MAX_ID)]);
    while (ids.size < 2000) {
      const digits = 1 + Math.floor(next() * 16);
      const id = String(Math.floor(next() * Math.min(MAX_ID, 10 ** digits)));
      ids.add(id);
      ids.add(String(Math.min(MAX_ID, Number(id) + 1)));
    }
    for (const id of ids) expect(canonicalId(id)).toEqual({ ok: true, id });
    const byBigInt = [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
    expect([...ids].sort(compareIds)).toEqual(byBigInt);
  });
});
