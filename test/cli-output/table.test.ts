import { describe, expect, test } from "bun:test";
import { numeric, renderTable, shrinkable } from "../../src/cli-output/table.ts";

describe("renderTable", () => {
  test("pads columns to the widest cell", () => {
    expect(
      renderTable(
        ["id", "node"],
        [
          ["1", "2"],
          ["10", "node-3"],
        ],
      ),
    ).toBe(["id  node", "--  ------", "1   2", "10  node-3"].join("\n"));
  });

  test("numeric columns align right, header and rule included; footer rows follow a second rule", () => {
    expect(
      renderTable(
        ["node", numeric("ids"), numeric("share")],
        [
          ["a", "7", "7.0%"],
          ["bb", "93", "93.0%"],
        ],
        [["all", "100", "100.0%"]],
      ),
    ).toBe(["node  ids   share", "----  ---  ------", "a       7    7.0%", "bb     93   93.0%", "----  ---  ------", "all   100  100.0%"].join("\n"));
  });

  test("pads by display width: CJK and emoji take two columns, combining marks none", () => {
    const text = renderTable(
      ["node", "url"],
      [
        ["東京", "http://a"],
        ["🚀x", "http://b"],
        ["e\u0301e", "http://c"],
        ["abcd", "http://d"],
      ],
    );
    expect(text.split("\n")).toEqual(["node  url", "----  --------", "東京  http://a", "🚀x   http://b", "e\u0301e    http://c", "abcd  http://d"]);
  });

  test("a table wider than its limit cuts its shrinkable cells, at the end first, then in the middle; Infinity keeps them whole", () => {
    const columns = ["id", shrinkable("url", "middle"), shrinkable("detail")];
    const rows = [["1", "http://127.0.0.1:5001", "connection refused (is the instance running?)"]];
    // natural width: 2 + 2 + 21 + 2 + 45 = 72
    expect(renderTable(columns, rows, [], { maxWidth: 60 }).split("\n")[2]).toBe("1   http://127.0.0.1:5001  connection refused (is the insta…");
    expect(renderTable(columns, rows, [], { maxWidth: 30 }).split("\n")[2]).toBe("1   http://1…0.1:5001  connec…"); // detail down to 7 first, then the url
    expect(renderTable(columns, rows, [], { maxWidth: Infinity }).split("\n")[2]).toBe(
      "1   http://127.0.0.1:5001  connection refused (is the instance running?)",
    );
    // by display width: a CJK character is not split
    expect(renderTable([shrinkable("name")], [["東京東京東京"]], [], { maxWidth: 8 }).split("\n")[2]).toBe("東京東…");
  });

  test("the default limit is 80 columns", () => {
    const text = renderTable(["a", shrinkable("b")], [["x", "y".repeat(200)]]);
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBe(80);
  });
});
