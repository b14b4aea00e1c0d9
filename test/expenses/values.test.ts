import { describe, expect, test } from "bun:test";
import { centsToCost, costToCents, dmyToIso, isEmail, isHttpUrl, isoToDmy, MAX_COST_CENTS } from "../../src/expenses/values.ts";

describe("costs: integer cents in, canonical text out", () => {
  test.each([
    ["700", 70000, "700"],
    [700, 70000, "700"],
    ["700.5", 70050, "700.5"],
    ["0700.50", 70050, "700.5"],
    [700.5, 70050, "700.5"],
    ["0.07", 7, "0.07"],
    [0.1, 10, "0.1"],
    ["0", 0, "0"],
    ["999999999999.99", MAX_COST_CENTS, "999999999999.99"],
  ] as const)("%p -> %p cents -> %p", (input, cents, text) => {
    expect(costToCents(input)).toBe(cents);
    expect(centsToCost(cents)).toBe(text);
  });

  test.each(["-1", "1.234", "1e3", "", " 1", "1,5", "abc", "1000000000000", "1.", ".5"])("rejects %p", (input) => {
    expect(costToCents(input)).toBeUndefined();
  });

  test.each([-1, 1.234, 1e13, Number.NaN, Number.POSITIVE_INFINITY, 1e-7])("rejects the number %p", (input) => {
    expect(costToCents(input)).toBeUndefined();
  });
});

describe("dd-mm-yyyy dates that exist", () => {
  test.each([
    ["12-10-2016", "2016-10-12"],
    ["29-02-2016", "2016-02-29"],
    ["29-02-2000", "2000-02-29"],
    ["31-12-9999", "9999-12-31"],
    ["01-01-1000", "1000-01-01"],
  ])("%s is %s", (dmy, iso) => {
    expect(dmyToIso(dmy)).toBe(iso);
    expect(isoToDmy(iso)).toBe(dmy);
  });

  test.each([
    "29-02-2015",
    "29-02-1900",
    "31-04-2016",
    "00-01-2016",
    "01-00-2016",
    "01-13-2016",
    "32-01-2016",
    "1-1-2016",
    "2016-10-12",
    "01-01-0999",
    "12/10/2016",
    "",
  ])("rejects %p", (dmy) => {
    expect(dmyToIso(dmy)).toBeUndefined();
  });
});

describe("email and link", () => {
  test("emails", () => {
    expect(["foo1@bar.com", "a.b+c@sub.example.org"].every(isEmail)).toBe(true);
    expect(["foo", "foo@bar", "a b@c.de", "@bar.com", "foo@.com", "foo@bar..com", ""].some(isEmail)).toBe(false);
  });
  test("links are absolute http(s) URLs", () => {
    expect(["http://www.apple.com/shop/buy-ipad/ipad-pro", "https://x.io/?q=1"].every(isHttpUrl)).toBe(true);
    expect(["www.apple.com", "ftp://x.com/a", "javascript:alert(1)", "http://", "/relative", ""].some(isHttpUrl)).toBe(false);
  });
});
