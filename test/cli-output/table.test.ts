import { describe, expect, test } from "bun:test";
import { displayWidth, numeric, renderTable } from "../../src/cli-output/table.ts";

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

describe("displayWidth", () => {
  test.each([
    ["abc", 3],
    ["", 0],
    ["東京", 4],
    ["한국", 4],
    ["ｆｕｌｌ", 8],
    ["🚀", 2],
    ["👩‍💻", 2], // a ZWJ sequence is one picture
    ["🇯🇵", 2], // a flag: two regional indicators
    ["❤️", 2], // a text symbol with VS16
    ["e\u0301", 1], // e + combining acute
    ["\u0301", 0],
    ["naïve", 5],
  ])("%p is %p columns", (text, width) => {
    expect(displayWidth(text)).toBe(width);
  });
});
