import { describe, expect, test } from "bun:test";
import { compareRecord, describeDifferences } from "../../src/client/compare.ts";
import { DataFileError, parseRecords, recordsForIds } from "../../src/client/input.ts";
import { forEachLimit } from "../../src/client/pool.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";

describe("seed data", () => {
  test("ids 1..10 are the assignment's records: id 1 costs 700, the others 800", () => {
    expect(seedRecord("1")).toEqual({
      id: "1",
      name: "Foo 1",
      email: "foo1@bar.com",
      category: "office supplies",
      description: "iPad for office use",
      link: "http://www.apple.com/shop/buy-ipad/ipad-pro",
      estimated_costs: "700",
      submit_date: "12-10-2016",
    });
    expect(seedRecord("10")).toMatchObject({ id: "10", name: "Foo 10", email: "foo10@bar.com", estimated_costs: "800" });
    expect(recordsForIds(["2", "9"]).map((r) => r.estimated_costs)).toEqual(["800", "800"]);
  });

  test("any other id gets the same shape, the same bytes every time", () => {
    expect(JSON.stringify(seedRecord("12345"))).toBe(JSON.stringify(seedRecord("12345")));
    expect(seedRecord("12345").email).toBe("foo12345@bar.com");
  });
});

describe("compareRecord", () => {
  const sent = seedRecord("3");
  const stored = { ...sent, status: "pending", decision_date: "" };

  test("a stored record with status and decision_date matches what was sent", () => {
    expect(compareRecord(sent, stored)).toEqual([]);
  });

  test("numbers sent as JSON numbers match their canonical strings", () => {
    expect(compareRecord({ ...sent, id: 3, estimated_costs: 800 }, stored)).toEqual([]);
    expect(compareRecord({ ...sent, estimated_costs: 801 }, stored)).toEqual([{ field: "estimated_costs", expected: 801, actual: "800" }]);
  });

  test("a field the sent record leaves out is not compared (a partial --data record for verify)", () => {
    expect(compareRecord({ id: "3", name: "Foo 3" } as never, stored)).toEqual([]);
    expect(compareRecord({ id: "3", name: "Bar" } as never, stored)).toEqual([{ field: "name", expected: "Bar", actual: "Foo 3" }]);
  });

  test("names each differing field with both values", () => {
    const diffs = compareRecord(sent, { ...stored, name: "Bar", email: undefined });
    expect(diffs.map((d) => d.field)).toEqual(["name", "email"]);
    expect(describeDifferences(diffs)).toBe('name: expected "Foo 3", got "Bar"; email: expected "foo3@bar.com", got nothing');
  });
});

describe("parseRecords (--data)", () => {
  const a = seedRecord("1");
  const b = { ...seedRecord("2"), id: 2 };

  test("reads a JSON array and canonicalises numeric ids", () => {
    expect(parseRecords(JSON.stringify([a, b]), "f.json").map((r) => r.id)).toEqual(["1", "2"]);
  });

  test("reads NDJSON, skipping blank lines", () => {
    const text = `${JSON.stringify(a)}\n\n${JSON.stringify(b)}\n`;
    expect(parseRecords(text, "f.ndjson").map((r) => r.id)).toEqual(["1", "2"]);
  });

  test("points at the bad line, the bad id and repeated ids", () => {
    expect(() => parseRecords(`${JSON.stringify(a)}\n{oops`, "f.ndjson")).toThrow(/^f\.ndjson:2: not a JSON record/);
    expect(() => parseRecords(JSON.stringify([{ ...a, id: "007" }]), "f.json")).toThrow('f.json: record 1: "id" must be a canonical decimal integer');
    expect(() => parseRecords(JSON.stringify([a, a]), "f.json")).toThrow("f.json: record 2: id 1 repeats f.json: record 1");
    expect(() => parseRecords("  ", "f.json")).toThrow(DataFileError);
  });
});

describe("forEachLimit", () => {
  test("never has more than the limit in flight and visits every item once", async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachLimit([...Array(40).keys()], 5, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await Bun.sleep(1 + (n % 3));
      seen.push(n);
      inFlight--;
    });
    expect(peak).toBe(5);
    expect(seen.sort((x, y) => x - y)).toEqual([...Array(40).keys()]);
  });
});
