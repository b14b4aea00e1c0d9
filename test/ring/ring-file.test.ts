import { describe, expect, test } from "bun:test";
import { parseRingDocument, parseRingFile } from "../../src/ring/index.ts";

describe("parseRingFile", () => {
  test("strings as in --nodes and objects with host and port; vnodes optional", () => {
    const file = parseRingFile(
      JSON.stringify({
        vnodes: 64,
        nodes: ["a=127.0.0.1:5001", { name: "b", host: "127.0.0.1", port: 5002, weight: 2 }, { host: "10.0.0.3", port: "5003" }],
      }),
    );
    expect(file.vnodes).toBe(64);
    expect(file.nodes).toEqual([
      { name: "a", url: "http://127.0.0.1:5001", weight: 1 },
      { name: "b", url: "http://127.0.0.1:5002", weight: 2 },
      { name: "10.0.0.3:5003", url: "http://10.0.0.3:5003", weight: 1 },
    ]);
    expect(parseRingFile(`{"nodes": ["h:1"]}`).vnodes).toBeUndefined();
  });

  test.each([
    ["not JSON", "{nodes:", /not valid JSON/],
    ["an array", `["h:1"]`, /the file must be a JSON object/],
    ["an unknown key", `{"nodes": ["h:1"], "vnode": 3}`, /unknown key "vnode"; expected "epoch", "vnodes", "nodes", "fingerprint", "label"/],
    ["no nodes", `{"vnodes": 3}`, /"nodes" must be a non-empty array/],
    ["an empty node list", `{"nodes": []}`, /"nodes" must be a non-empty array/],
    ["nodes as a string", `{"nodes": "h:1,h:2"}`, /"nodes" must be a non-empty array/],
    ["zero vnodes", `{"vnodes": 0, "nodes": ["h:1"]}`, /"vnodes" must be an integer from 1 to 100000, got 0/],
    ["fractional vnodes", `{"vnodes": 2.5, "nodes": ["h:1"]}`, /"vnodes" must be an integer/],
    ["vnodes as a string", `{"vnodes": "160", "nodes": ["h:1"]}`, /"vnodes" must be an integer .* got "160"/],
    ["a bad string entry", `{"nodes": ["h:1", "h:0"]}`, /nodes\[1\]: "h:0": port 0 is out of range/],
    ["a node without host", `{"nodes": [{"port": 1}]}`, /nodes\[0\]: "host" is required/],
    ["a node without port", `{"nodes": [{"host": "h"}]}`, /nodes\[0\]: "port" is required/],
    ["a port out of range", `{"nodes": [{"host": "h", "port": 70000}]}`, /nodes\[0\]: port 70000 is out of range/],
    ["a fractional port", `{"nodes": [{"host": "h", "port": 50.5}]}`, /nodes\[0\]: port "50.5" is not a number/],
    ["a misspelt key", `{"nodes": [{"host": "h", "port": 1, "wieght": 2}]}`, /nodes\[0\]: unknown key "wieght"/],
    ["a zero weight", `{"nodes": [{"host": "h", "port": 1, "weight": 0}]}`, /nodes\[0\]: weight must be a number greater than 0, got 0/],
    ["a negative weight", `{"nodes": [{"host": "h", "port": 1, "weight": -1}]}`, /weight must be a number greater than 0, got -1/],
    ["a weight as a string", `{"nodes": [{"host": "h", "port": 1, "weight": "2"}]}`, /"weight" must be a number/],
    ["an empty name", `{"nodes": [{"name": " ", "host": "h", "port": 1}]}`, /nodes\[0\]: the node name is empty/],
    ["a bad host", `{"nodes": [{"host": "h:1", "port": 1}]}`, /nodes\[0\]: host "h:1" is not a host name/],
    ["a null entry", `{"nodes": [null]}`, /nodes\[0\] must be a JSON object/],
    ["duplicate names", `{"nodes": ["a=h:1", {"name": "a", "host": "h", "port": 2}]}`, /duplicate node name "a"/],
    ["duplicate addresses", `{"nodes": ["a=h:1", {"name": "b", "host": "h", "port": 1}]}`, /same address h:1/],
  ])("%s is rejected", (_, text, message) => {
    expect(() => parseRingFile(text)).toThrow(message);
  });

  test.each([
    ["a negative epoch", `{"epoch": -1, "nodes": ["h:1"]}`, /"epoch" must be a non-negative integer, got -1/],
    ["a fractional epoch", `{"epoch": 1.5, "nodes": ["h:1"]}`, /"epoch" must be a non-negative integer, got 1.5/],
    ["an epoch as a string", `{"epoch": "2", "nodes": ["h:1"]}`, /"epoch" must be a non-negative integer, got "2"/],
    ["an epoch past 2^53", `{"epoch": 9007199254740992, "nodes": ["h:1"]}`, /"epoch" must be a non-negative integer/],
  ])("%s is rejected", (_, text, message) => {
    expect(() => parseRingFile(text)).toThrow(message);
  });

  test("the epoch is optional (0) unless required, as for a ring that replaces another", () => {
    expect(parseRingFile(`{"nodes": ["h:1"]}`).epoch).toBeUndefined();
    expect(parseRingFile(`{"epoch": 0, "nodes": ["h:1"]}`, { requireEpoch: true }).epoch).toBe(0);
    expect(() => parseRingFile(`{"nodes": ["h:1"]}`, { requireEpoch: true })).toThrow(/"epoch" is required: a ring replaces another only with a larger epoch/);
  });

  test("GET /ring's account of a rebalance is ignored; anything but an object there is an error", () => {
    const rebalance = { job: "1:0123456789abcdef -> 2:fedcba9876543210", phase: "copying", progress: { copied: 3, toCopy: 9 } };
    expect(parseRingFile(JSON.stringify({ epoch: 1, nodes: ["a=h:1"], rebalance }))).toEqual(parseRingFile(`{"epoch": 1, "nodes": ["a=h:1"]}`));
    expect(parseRingFile(`{"nodes": ["a=h:1"], "rebalance": null}`).nodes.length).toBe(1);
    expect(() => parseRingFile(`{"nodes": ["a=h:1"], "rebalance": "copying"}`)).toThrow(/"rebalance" must be an object .* got "copying"/);
  });

  test("a parsed document (a request body) is checked the same way, named as asked", () => {
    expect(parseRingDocument({ epoch: 2, nodes: ["a=h:1"] }).epoch).toBe(2);
    expect(() => parseRingDocument([1], { what: "the body" })).toThrow(/^the body must be a JSON object/);
  });
});
