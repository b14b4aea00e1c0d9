import { describe, expect, test } from "bun:test";
import { formatNode, NodeListError, nodeAddress, parseNode, parseNodeList, parsePort } from "../../src/ring/index.ts";

describe("parseNode: [name=]host:port[:weight]", () => {
  test("the name defaults to host:port, the url is http://host:port, the weight to 1", () => {
    expect(parseNode("127.0.0.1:5001")).toEqual({ name: "127.0.0.1:5001", url: "http://127.0.0.1:5001", weight: 1 });
  });

  test("a name, a weight, an IPv6 host in brackets, spaces around", () => {
    const a = parseNode(" a = db.local:80:2.5 ");
    expect(a).toEqual({ name: "a", url: "http://db.local:80", weight: 2.5 });
    expect(nodeAddress(a)).toEqual({ host: "db.local", port: 80 });
    expect(parseNode("[::1]:5001")).toEqual({ name: "[::1]:5001", url: "http://[::1]:5001", weight: 1 });
    expect(nodeAddress(parseNode("[::1]:5001"))).toEqual({ host: "[::1]", port: 5001 });
  });

  test("formatNode writes back what parses to the same node", () => {
    for (const text of ["127.0.0.1:5001", "a=h:1", "b=h:2:2", "[::1]:9:0.5"]) {
      expect(formatNode(parseNode(text))).toBe(text);
    }
  });

  test.each([
    ["", /empty entry/],
    ["a=", /is not \[name=\]host:port/],
    ["=h:1", /the name before "=" is empty/],
    ["localhost", /is not \[name=\]host:port/],
    ["h:1:2:3", /is not \[name=\]host:port/],
    ["h:", /port "" is not a number from 1 to 65535/],
    ["h:http", /port "http" is not a number/],
    ["h:0", /port 0 is out of range 1\.\.65535/],
    ["h:65536", /port 65536 is out of range/],
    ["h:-1", /port "-1" is not a number/],
    ["h:1:0", /weight must be a number greater than 0, got 0/],
    ["h:1:-2", /weight "-2" is not a number greater than 0/],
    ["h:1:x", /weight "x" is not a number/],
    [":1", /host "" is not a host name/],
    ["a b:1", /host "a b" is not a host name/],
    ["http://h:1", /"http:\/\/h:1" is a URL; give host:port/],
  ])("%j is rejected", (text, message) => {
    expect(() => parseNode(text)).toThrow(message);
    expect(() => parseNode(text)).toThrow(NodeListError);
  });
});

describe("parseNodeList", () => {
  test("the contract's default list", () => {
    expect(parseNodeList("127.0.0.1:5001,127.0.0.1:5002,127.0.0.1:5003").map((n) => n.name)).toEqual(["127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"]);
  });

  test.each([
    ["", /the node list is empty/],
    [" , ,", /the node list is empty/],
    ["a=h:1,a=h:2", /duplicate node name "a"/],
    ["h:1,h:1", /duplicate node name "h:1"/],
    ["a=h:1,b=h:1", /nodes "a" and "b" have the same address h:1/],
    ["a=Host:1,b=host:1", /same address host:1/],
    ["a=h:1,b=h:99999", /port 99999 is out of range/],
  ])("%j is rejected", (text, message) => {
    expect(() => parseNodeList(text)).toThrow(message);
  });
});

test("parsePort names what it parsed", () => {
  expect(parsePort("8080")).toBe(8080);
  expect(() => parsePort("8o8o", "--port")).toThrow(`--port "8o8o" is not a number from 1 to 65535`);
});
