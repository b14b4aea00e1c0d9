import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ringInForce } from "../../src/commands/_ring.ts";
import { UsageError } from "../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "shardctl-ring-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ringFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const file = ringFile("ring.json", { vnodes: 7, nodes: ["f1=127.0.0.1:6001", { name: "f2", host: "127.0.0.1", port: 6002, weight: 2 }] });
const names = (r: ReturnType<typeof ringInForce>) => r.ring.nodes.map((n) => n.name);

describe("ringInForce: flags > ring file > env > defaults, per setting", () => {
  test("defaults: the contract's three nodes and 160 vnodes", () => {
    const r = ringInForce({}, {});
    expect(names(r)).toEqual(["127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"]);
    expect(r.ring.vnodes).toBe(160);
  });

  test("env over defaults", () => {
    const r = ringInForce({}, { SHARDCTL_NODES: "e=h:1", SHARDCTL_VNODES: "5" });
    expect([names(r), r.ring.vnodes]).toEqual([["e"], 5]);
  });

  test("ring file (--ring) over env, with weights", () => {
    const r = ringInForce({ ring: file }, { SHARDCTL_NODES: "e=h:1", SHARDCTL_VNODES: "5" });
    expect([names(r), r.ring.vnodes]).toEqual([["f1", "f2"], 7]);
    expect(r.ring.placement.points.filter((p) => p.node === "f2").length).toBe(14);
    expect(r.ring.nodes[1]!.url).toBe("http://127.0.0.1:6002");
  });

  test("SHARDCTL_RING names the file when --ring is absent; --ring wins over it", () => {
    const other = ringFile("other.json", { nodes: ["o=h:9"] });
    expect(names(ringInForce({}, { SHARDCTL_RING: file }))).toEqual(["f1", "f2"]);
    expect(names(ringInForce({ ring: other }, { SHARDCTL_RING: file }))).toEqual(["o"]);
  });

  test("flags over the ring file, each setting on its own", () => {
    const nodesFlag = ringInForce({ ring: file, nodes: "x=h:1" }, {});
    expect([names(nodesFlag), nodesFlag.ring.vnodes]).toEqual([["x"], 7]);
    const vnodesFlag = ringInForce({ ring: file, vnodes: "3" }, {});
    expect([names(vnodesFlag), vnodesFlag.ring.vnodes]).toEqual([["f1", "f2"], 3]);
  });

  test("a ring file without vnodes leaves vnodes to the env, then the default", () => {
    const bare = ringFile("bare.json", { nodes: ["b=h:1"] });
    expect(ringInForce({ ring: bare }, { SHARDCTL_VNODES: "9" }).ring.vnodes).toBe(9);
    expect(ringInForce({ ring: bare }, {}).ring.vnodes).toBe(160);
  });
});

describe("ringInForce errors are usage errors that name their source", () => {
  test.each([
    ["--nodes empty", { nodes: "" }, {}, /^--nodes: the node list is empty/],
    ["--nodes bad port", { nodes: "h:0" }, {}, /^--nodes: "h:0": port 0 is out of range/],
    ["--nodes duplicate address", { nodes: "a=h:1,b=h:1" }, {}, /^--nodes: nodes "a" and "b" have the same address/],
    ["--vnodes zero", { vnodes: "0" }, {}, /--vnodes must be from 1 to 100000, got 0/],
    ["--vnodes not a number", { vnodes: "many" }, {}, /--vnodes must be an integer/],
    ["SHARDCTL_NODES", {}, { SHARDCTL_NODES: "a=h:1,a=h:2" }, /^SHARDCTL_NODES: duplicate node name "a"/],
    ["SHARDCTL_VNODES", {}, { SHARDCTL_VNODES: "-4" }, /^SHARDCTL_VNODES: must be from 1 to 100000, got -4/],
    ["colliding points", { nodes: "a=h:1:2,a:1=h:2", vnodes: "1" }, {}, /^--nodes: points collide: "a:1" and "a:1"/],
    ["a weight too small for the vnodes", { nodes: "a=h:1:0.001" }, {}, /^--nodes: node "a": weight 0.001 x 160 vnodes rounds to 0 points/],
    ["a missing ring file", { ring: join(dir, "nope.json") }, {}, /^--ring .*nope\.json: cannot read the ring file \(ENOENT\)/],
    ["an empty ring file path", { ring: "" }, {}, /^--ring : the ring file path is empty/],
    ["SHARDCTL_RING missing", {}, { SHARDCTL_RING: join(dir, "gone.json") }, /^SHARDCTL_RING=.*gone\.json: cannot read/],
  ])("%s", (_, args, env, message) => {
    expect(() => ringInForce(args, env)).toThrow(UsageError);
    expect(() => ringInForce(args, env)).toThrow(message);
  });

  test("a ring file with a bad entry, or whose nodes collide", () => {
    const bad = ringFile("bad.json", { nodes: ["a=h:1", { host: "h", port: 1 }] });
    expect(() => ringInForce({ ring: bad }, {})).toThrow(/^--ring .*bad\.json: nodes "a" and "h:1" have the same address h:1/);
    const colliding = ringFile("collide.json", { vnodes: 1, nodes: ["a=h:1:2", "a:1=h:2"] });
    expect(() => ringInForce({ ring: colliding }, {})).toThrow(/^--ring .*collide\.json: points collide/);
    const notJson = ringFile("bad-json.json", "{ nodes: [");
    expect(() => ringInForce({}, { SHARDCTL_RING: notJson })).toThrow(/^SHARDCTL_RING=.*: not valid JSON/);
  });
});

describe("the epoch in force", () => {
  const versioned = ringFile("versioned.json", { epoch: 5, vnodes: 7, nodes: ["v1=127.0.0.1:6001", "v2=127.0.0.1:6002"] });

  test("is the ring file's when the file decides the whole ring", () => {
    expect(ringInForce({ ring: versioned }, {}).ring.epoch).toBe(5);
    expect(ringInForce({}, { SHARDCTL_RING: versioned }).ring.label).toMatch(/^5:[0-9a-f]{16}$/);
  });

  test("is 0 for a ring of flags, environment or defaults, also when a flag overrides part of a ring file", () => {
    expect(ringInForce({ nodes: "a=h:1" }, {}).ring.epoch).toBe(0);
    expect(ringInForce({}, { SHARDCTL_NODES: "a=h:1" }).ring.epoch).toBe(0);
    expect(ringInForce({}, {}).ring.epoch).toBe(0);
    expect(ringInForce({ ring: versioned, vnodes: "3" }, {}).ring.epoch).toBe(0);
    expect(ringInForce({ ring: versioned, nodes: "v1=127.0.0.1:6001" }, {}).ring.epoch).toBe(0);
  });

  test("isDefault says whether anything named the ring", () => {
    expect(ringInForce({}, {}).isDefault).toBe(true);
    expect(ringInForce({ vnodes: "3" }, {}).isDefault).toBe(false);
    expect(ringInForce({}, { SHARDCTL_NODES: "a=h:1" }).isDefault).toBe(false);
    expect(ringInForce({ ring: versioned }, {}).isDefault).toBe(false);
  });
});
