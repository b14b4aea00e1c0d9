import { describe, expect, test } from "bun:test";
import { canonicalId, MAX_ID, toCanonicalId } from "../../src/expenses/id.ts";

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
