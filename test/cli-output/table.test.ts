import { describe, expect, test } from "bun:test";
import { numeric, optional, renderTable, renderTableOrBlocks, shrinkable, terminalWidth } from "../../src/cli-output/table.ts";

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

  test("a table wider than its limit cuts its messages at the end; Infinity keeps them whole", () => {
    const columns = ["id", "url", shrinkable("detail")];
    const rows = [["1", "http://127.0.0.1:5001", "connection refused (is the instance running?)"]];
    // natural width: 2 + 2 + 21 + 2 + 45 = 72
    expect(renderTable(columns, rows, [], { maxWidth: 60 }).split("\n")[2]).toBe("1   http://127.0.0.1:5001  connection refused (is the insta…");
    expect(renderTable(columns, rows, [], { maxWidth: Infinity }).split("\n")[2]).toBe(
      "1   http://127.0.0.1:5001  connection refused (is the instance running?)",
    );
    // by display width: a CJK character is not split
    expect(renderTable([shrinkable("name")], [["東京東京東京東京"]], [], { maxWidth: 10 }).split("\n")[2]).toBe("東京東京…");
    // text whose both ends count may be cut in the middle
    expect(renderTable([shrinkable("text", "middle")], [["abcdefghijklmnopqrstuvwxyz"]], [], { maxWidth: 11 }).split("\n")[2]).toBe("abcde…vwxyz");
  });

  test("names, addresses and hashes never give way: a table of those alone is as wide as it must be", () => {
    const hash = "c4ca4238a0b923820dcc509a6f75849b";
    const rows = [["127.0.0.1:5001", "http://127.0.0.1:5001", hash, hash, "a message that may be cut"]];
    const lines = renderTable(["node", "url", "md5(id)", "point", shrinkable("note")], rows, [], { maxWidth: 40 }).split("\n");
    // the message goes down to its floor (10 columns), nothing else is touched
    expect(lines[2]).toBe(`127.0.0.1:5001  http://127.0.0.1:5001  ${hash}  ${hash}  a message…`);
  });

  test("the least useful columns give way first, in rank order: optional ones are left out, then messages cut", () => {
    const columns = ["node", optional("url", 0), optional(numeric("ms"), 1), shrinkable("problem", "end", 2)];
    const rows = [["a", "http://127.0.0.1:5001", "12", "refused: connection refused"]];
    const at = (maxWidth: number) => renderTable(columns, rows, [], { maxWidth }).split("\n");
    // all of it: 4 + 2 + 21 + 2 + 2 + 2 + 27 = 60
    expect(at(60)[0]).toBe("node  url                    ms  problem");
    expect(at(59)[0]).toBe("node  ms  problem"); // the url goes first
    expect(at(59)[2]).toBe("a     12  refused: connection refused");
    expect(at(30)[2]).toBe("a     refused: connection ref…"); // then ms, then the problem is cut
    expect(at(Infinity)[0]).toBe("node  url                    ms  problem");
  });

  test("the default width is the terminal's, 80 off one", () => {
    expect(terminalWidth({ isTTY: true, columns: 132 })).toBe(132);
    expect(terminalWidth({ isTTY: false, columns: 132 })).toBe(80);
    expect(terminalWidth({ isTTY: true, columns: 0 })).toBe(80);
    // bun test's stdout is no terminal
    const text = renderTable(["a", shrinkable("b")], [["x", "y".repeat(200)]]);
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBe(process.stdout.isTTY ? process.stdout.columns : 80);
  });

  test("a table too wide for a terminal becomes one block per row; off a terminal it stays a table", () => {
    const hash = "c4ca4238a0b923820dcc509a6f75849b";
    const columns = [numeric("id"), "node", "md5(id)", optional("url")];
    const rows = [
      ["1", "127.0.0.1:5001", hash, "http://127.0.0.1:5001"],
      ["22", "127.0.0.1:5002", hash, "http://127.0.0.1:5002"],
    ];
    expect(renderTableOrBlocks(columns, rows, { maxWidth: 40, terminal: true })).toBe(
      [
        `id 1`,
        `  node     127.0.0.1:5001`,
        `  md5(id)  ${hash}`,
        `  url      http://127.0.0.1:5001`,
        ``,
        `id 22`,
        `  node     127.0.0.1:5002`,
        `  md5(id)  ${hash}`,
        `  url      http://127.0.0.1:5002`,
      ].join("\n"),
    );
    expect(renderTableOrBlocks(columns, rows, { maxWidth: 40, terminal: false }).split("\n")[2]).toBe(` 1  127.0.0.1:5001  ${hash}`);
    expect(renderTableOrBlocks(columns, rows, { maxWidth: 60, terminal: true }).split("\n")[2]).toBe(` 1  127.0.0.1:5001  ${hash}`);
  });
});
