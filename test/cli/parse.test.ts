import { describe, expect, test } from "bun:test";
import { intOption, MAX_IDS, parseIds } from "../../src/commands/_parse.ts";
import { UsageError } from "../../src/errors.ts";

describe("parseIds", () => {
  test("defaults to the seed's ids 1..10", () => {
    expect(parseIds(undefined)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
  });
  test("ranges are inclusive; lists keep order; repeats are dropped", () => {
    expect(parseIds("3..5")).toEqual(["3", "4", "5"]);
    expect(parseIds("9,2,7")).toEqual(["9", "2", "7"]);
    expect(parseIds("1..3,2,0")).toEqual(["1", "2", "3", "0"]);
    expect(parseIds("7..7")).toEqual(["7"]);
  });
  test.each([
    ["", "empty"],
    ["5..3", "3 is below 5"],
    ["007", '"007"'],
    ["1.0", '"1.0"'],
    ["-1", '"-1"'],
    ["a..b", '"a"'],
    ["1,x", '"x"'],
    ["1,,2", "empty item"],
    [`0..${MAX_IDS}`, "more than"],
  ])("%p is a usage error mentioning %p", (spec, fragment) => {
    expect(() => parseIds(spec)).toThrow(UsageError);
    expect(() => parseIds(spec)).toThrow(fragment);
  });
});

describe("intOption", () => {
  test("absent is undefined, in range is the number", () => {
    expect(intOption(undefined, "n", { min: 1, max: 9 })).toBeUndefined();
    expect(intOption("9", "n", { min: 1, max: 9 })).toBe(9);
  });
  test.each(["0", "10", "x", "1.5", ""])("%p is rejected with the flag name", (v) => {
    expect(() => intOption(v, "concurrency", { min: 1, max: 9 })).toThrow("--concurrency");
  });
});
