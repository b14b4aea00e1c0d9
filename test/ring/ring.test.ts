/**
 * A ring's identity: `<epoch>:<fingerprint>`. The fixed vectors below were computed
 * with Python, independently of this code:
 *
 *   t = json.dumps(["shardctl-md5-v1", vnodes, sorted([[name, weight], ...])], separators=(",", ":"))
 *   hashlib.sha256(t.encode()).hexdigest()[:16]
 */
import { describe, expect, test } from "bun:test";
import { parseNodeList, parseRingFile, parseRingLabel, Ring } from "../../src/ring/index.ts";
import { hasPython } from "./reference.ts";

const ring = (nodes: string, vnodes = 160, epoch = 0) => new Ring(parseNodeList(nodes), { vnodes, epoch });

describe("fingerprint", () => {
  test.each([
    ["a=h:1,b=h:2:2,c=h:3", 160, "0f192d018d4f56ef"],
    ["1=h:1,2=h:2,3=h:3", 1, "213422739a09c16e"],
    ["127.0.0.1:5001,127.0.0.1:5002,127.0.0.1:5003", 160, "cc98dd4e515fa111"],
  ])("%s with %d vnodes is %s (computed with Python's hashlib)", (nodes, vnodes, expected) => {
    expect(ring(nodes, vnodes).fingerprint).toBe(expected);
  });

  test("and agrees with Python's hashlib on a live computation", () => {
    if (!hasPython) throw new Error("python3 is not installed: it is the independent reference for this test");
    const cases = [
      {
        vnodes: 7,
        nodes: [
          ["z", 1],
          ["é", 0.5],
          ["a:1", 3],
        ] as [string, number][],
      },
      { vnodes: 160, nodes: [["only", 1]] as [string, number][] },
    ];
    const script = `
import hashlib, json, sys
for c in json.load(sys.stdin):
    t = json.dumps(["shardctl-md5-v1", c["vnodes"], sorted(c["nodes"])], separators=(",", ":"), ensure_ascii=False)
    print(hashlib.sha256(t.encode()).hexdigest()[:16])`;
    const r = Bun.spawnSync(["python3", "-c", script], { stdin: Buffer.from(JSON.stringify(cases)) });
    expect(r.exitCode).toBe(0);
    const ours = cases.map(
      (c) =>
        new Ring(
          c.nodes.map(([name, weight]) => ({ name, url: `http://${name}:1`, weight })),
          { vnodes: c.vnodes },
        ).fingerprint,
    );
    expect(ours).toEqual(r.stdout.toString().trim().split("\n"));
  });

  test("the same for reordered nodes and moved addresses", () => {
    const base = ring("a=10.0.0.1:1,b=10.0.0.2:1:2,c=10.0.0.3:1").fingerprint;
    expect(ring("c=10.0.0.3:1,a=10.0.0.1:1,b=10.0.0.2:1:2").fingerprint).toBe(base);
    expect(ring("a=db-a:7000,b=db-b:7000:2,c=db-c:7000").fingerprint).toBe(base);
  });

  test("different for another vnodes, weight or name", () => {
    const base = ring("a=h:1,b=h:2,c=h:3").fingerprint;
    const others = [
      ring("a=h:1,b=h:2,c=h:3", 159).fingerprint,
      ring("a=h:1,b=h:2:2,c=h:3").fingerprint,
      ring("a=h:1,b=h:2,d=h:3").fingerprint,
      ring("a=h:1,b=h:2").fingerprint,
    ];
    expect(new Set([base, ...others]).size).toBe(5);
  });
});

describe("label", () => {
  test("is <epoch>:<fingerprint>, and parses back", () => {
    const r = ring("a=h:1,b=h:2:2,c=h:3", 160, 7);
    expect(r.label).toBe("7:0f192d018d4f56ef");
    expect(parseRingLabel(r.label)).toEqual({ epoch: 7, fingerprint: "0f192d018d4f56ef" });
  });

  test.each(["", "7", "7:", ":0f192d018d4f56ef", "-1:0f192d018d4f56ef", "07:0f192d018d4f56ef", "7:0F192D018D4F56EF", "7:0f19"])("%j is not a label", (text) => {
    expect(parseRingLabel(text)).toBeUndefined();
  });

  test("a negative or fractional epoch is refused", () => {
    expect(() => ring("a=h:1", 1, -1)).toThrow(/epoch must be a non-negative integer/);
    expect(() => ring("a=h:1", 1, 1.5)).toThrow(/epoch must be a non-negative integer/);
  });
});

describe("the ring file carries the identity", () => {
  test("epoch is optional (0), and GET /ring's body is a ring file of the same ring", () => {
    expect(parseRingFile(`{"nodes": ["a=h:1"]}`).epoch).toBeUndefined();
    const r = ring("a=h:1,b=h:2:2,c=h:3", 64, 3);
    const back = parseRingFile(JSON.stringify(r.toJSON()));
    expect(back.epoch).toBe(3);
    expect(new Ring(back.nodes, { vnodes: back.vnodes!, epoch: back.epoch }).label).toBe(r.label);
  });

  test.each([
    ["a negative epoch", `{"epoch": -1, "nodes": ["h:1"]}`, /"epoch" must be a non-negative integer, got -1/],
    ["a fractional epoch", `{"epoch": 1.5, "nodes": ["h:1"]}`, /"epoch" must be a non-negative integer, got 1.5/],
    ["an epoch as a string", `{"epoch": "2", "nodes": ["h:1"]}`, /"epoch" must be a non-negative integer, got "2"/],
    [
      "a fingerprint that does not match",
      `{"vnodes": 160, "fingerprint": "0000000000000000", "nodes": ["a=h:1"]}`,
      /does not match the file's nodes and vnodes/,
    ],
    ["a fingerprint without vnodes", `{"fingerprint": "0000000000000000", "nodes": ["a=h:1"]}`, /must give "vnodes" too/],
    ["a url that is not http://host:port", `{"nodes": [{"name": "a", "url": "https://h:1"}]}`, /"url" must be http:\/\/host:port/],
    ["url and host both", `{"nodes": [{"url": "http://h:1", "host": "h", "port": 1}]}`, /give "url" or "host" and "port", not both/],
  ])("%s is rejected", (_, text, message) => {
    expect(() => parseRingFile(text)).toThrow(message);
  });

  test("an edited file whose label no longer matches is rejected", () => {
    const json = { ...ring("a=h:1,b=h:2", 160, 4).toJSON(), label: "4:0000000000000000" };
    const { fingerprint: _, ...withoutFingerprint } = json;
    expect(() => parseRingFile(JSON.stringify(withoutFingerprint))).toThrow(/"label" "4:0000000000000000" does not match the file's ring/);
  });
});
