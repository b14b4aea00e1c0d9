import { describe, expect, test } from "bun:test";
import { numeric, renderTable } from "../../src/cli-output/table.ts";

describe("renderTable", () => {
  test("pads columns to the widest cell", () => {
    expect(renderTable(["id", "node"], [["1", "2"], ["10", "node-3"]])).toBe(
      ["id  node", "--  ------", "1   2", "10  node-3"].join("\n"),
    );
  });

  test("numeric columns align right, header and rule included; footer rows follow a second rule", () => {
    expect(renderTable(["node", numeric("ids"), numeric("share")], [["a", "7", "7.0%"], ["bb", "93", "93.0%"]], [["all", "100", "100.0%"]])).toBe(
      [
        "node  ids   share",
        "----  ---  ------",
        "a       7    7.0%",
        "bb     93   93.0%",
        "----  ---  ------",
        "all   100  100.0%",
      ].join("\n"),
    );
  });

  test("pads by display width: CJK and emoji take two columns, combining marks none", () => {
    const text = renderTable(["node", "url"], [["東京", "http://a"], ["🚀x", "http://b"], ["e\u0301e", "http://c"], ["abcd", "http://d"]]);
    expect(text.split("\n")).toEqual([
      "node  url",
      "----  --------",
      "東京  http://a",
      "🚀x   http://b",
      "e\u0301e    http://c",
      "abcd  http://d",
    ]);
  });
});
