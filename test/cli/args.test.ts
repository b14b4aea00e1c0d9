import { describe, expect, test } from "bun:test";
import { intOption, parseIds, resolveRing, MAX_IDS } from "../../src/commands/_args.ts";
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

describe("resolveRing", () => {
  test("flags win over the environment, which wins over the defaults", () => {
    const env = { SHARDCTL_NODES: "a=127.0.0.1:1,b=127.0.0.1:2", SHARDCTL_VNODES: "7" };
    expect(resolveRing({}, {}).nodes.map((n) => n.name)).toEqual([
      "127.0.0.1:5001",
      "127.0.0.1:5002",
      "127.0.0.1:5003",
    ]);
    expect(resolveRing({}, {}).ring.vnodes).toBe(160);
    const fromEnv = resolveRing({}, env);
    expect(fromEnv.nodes.map((n) => n.name)).toEqual(["a", "b"]);
    expect(fromEnv.ring.points).toHaveLength(14);
    const fromFlags = resolveRing({ nodes: "c=127.0.0.1:3", vnodes: "2" }, env);
    expect(fromFlags.nodes.map((n) => n.name)).toEqual(["c"]);
    expect(fromFlags.ring.points).toHaveLength(2);
  });
  test("a bad node list is a usage error naming --nodes", () => {
    expect(() => resolveRing({ nodes: "127.0.0.1:5001,127.0.0.1:5001" }, {})).toThrow(UsageError);
    expect(() => resolveRing({ nodes: "127.0.0.1:99999" }, {})).toThrow("--nodes");
    expect(() => resolveRing({ vnodes: "0" }, {})).toThrow("--vnodes");
  });
});
