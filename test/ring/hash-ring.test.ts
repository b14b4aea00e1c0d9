import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { HashRing, RingError, type RingMember } from "../../src/ring/index.ts";
import { skipBecause } from "../support/skip.ts";
import { hasPython, md5Ref, pythonOwners, refOwner, refOwnerOf, refPoints, type RefNode } from "./reference.ts";

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

describe("the seed table", () => {
  // Seed README 000_61ad1e2809ec1723.txt: nodes 1, 2, 3 with one point each
  // (md5("1") = c4ca..., md5("2") = c81e..., md5("3") = eccb...).
  //   id:    1  2  3  4  5  6  7  8  9  10
  //   node:  2  3  1  1  3  1  1  3  1  3      (node 1: 5 ids, node 2: 1, node 3: 4)
  // Id 1 hashes exactly onto point "1", so "strictly greater" sends it to point "2";
  // id 3 hashes onto the largest point, "3", so it wraps to the smallest, node 1.
  const ring = new HashRing([{ name: "1" }, { name: "2" }, { name: "3" }], { vnodes: 1 });

  test("ids 1..10 land as in the seed", () => {
    expect(ids(1, 10).map((id) => ring.get(id))).toEqual(["2", "3", "1", "1", "3", "1", "1", "3", "1", "3"]);
  });

  test("locate explains it: the key's hash, the point above it, the wrap", () => {
    const one = ring.locate("1");
    expect(one.keyHash).toBe(createHash("md5").update("1").digest("hex"));
    expect(one.point.label).toBe("2");
    expect(one.point.hex).toBe(createHash("md5").update("2").digest("hex"));
    expect(one.wrapped).toBe(false);
    const three = ring.locate("3");
    expect(three.point.label).toBe("1");
    expect(three.pointIndex).toBe(0);
    expect(three.wrapped).toBe(true);
  });
});

describe("agrees with an independent sorted-array BigInt reference", () => {
  const keys = [...ids(0, 3000), "", "é", "日本", "🙂", "a:b"];
  const cases: { what: string; nodes: RefNode[]; vnodes: number }[] = [
    { what: "one node, one point", nodes: [{ name: "solo" }], vnodes: 1 },
    { what: "two nodes, one point each", nodes: [{ name: "a" }, { name: "b" }], vnodes: 1 },
    { what: "3 nodes x 2", nodes: [{ name: "x" }, { name: "y" }, { name: "z" }], vnodes: 2 },
    { what: "3 nodes x 7", nodes: [{ name: "127.0.0.1:5001" }, { name: "127.0.0.1:5002" }, { name: "127.0.0.1:5003" }], vnodes: 7 },
    { what: "default 3 nodes x 160", nodes: [{ name: "127.0.0.1:5001" }, { name: "127.0.0.1:5002" }, { name: "127.0.0.1:5003" }], vnodes: 160 },
    { what: "weights 1, 2, 0.25 x 40", nodes: [{ name: "s" }, { name: "m", weight: 2 }, { name: "l", weight: 0.25 }], vnodes: 40 },
    {
      what: "weights 0.3 and 1.7 x 10",
      nodes: [
        { name: "p", weight: 0.3 },
        { name: "q", weight: 1.7 },
      ],
      vnodes: 10,
    },
    { what: "30 nodes x 160", nodes: Array.from({ length: 30 }, (_, i) => ({ name: `n${i}` })), vnodes: 160 },
  ];

  for (const c of cases) {
    test(c.what, () => {
      const ring = new HashRing(c.nodes, { vnodes: c.vnodes });
      const ref = refPoints(c.nodes, c.vnodes);
      expect(ring.points.map((p) => p.label).length).toBe(ref.length);
      expect(ring.points.map((p) => md5Ref(p.label))).toEqual(ref.map((p) => p.at));
      const mismatches = keys.filter((k) => ring.get(k) !== refOwner(ref, k));
      expect(mismatches).toEqual([]);
      // With several nodes, every node should own some of 3000 keys, or the test proves little.
      if (c.nodes.length > 1 && c.vnodes > 1) {
        expect(new Set(keys.map((k) => ring.get(k))).size).toBe(c.nodes.length);
      }
    });
  }

  const noPython = skipBecause(
    "the python3 placement oracle",
    hasPython ? undefined : "python3 is not on PATH; install it to check placements against Python's hashlib and bisect",
  );
  test.skipIf(!!noPython)(
    "and with python3 hashlib + bisect",
    () => {
      for (const c of cases) {
        const ring = new HashRing(c.nodes, { vnodes: c.vnodes });
        expect({ what: c.what, owners: keys.map((k) => ring.get(k)) }).toEqual({
          what: c.what,
          owners: pythonOwners(c.nodes, c.vnodes, keys),
        });
      }
    },
    30_000,
  ); // eight python3 processes: over bun's default 5 s on a loaded machine

  test("a key whose hash equals a point belongs to the next point (every point of every case above)", () => {
    // The key *is* a vnode label, so md5(key) is exactly that point; "strictly greater"
    // sends it on to the following point, across bucket boundaries and past the end.
    for (const c of cases) {
      const ring = new HashRing(c.nodes, { vnodes: c.vnodes });
      const ref = refPoints(c.nodes, c.vnodes);
      const labels = c.nodes.flatMap((n) => {
        const count = Math.floor(c.vnodes * (n.weight ?? 1) + 0.5);
        return count === 1 ? [n.name] : Array.from({ length: count }, (_, i) => `${n.name}:${i}`);
      });
      expect(labels.length).toBe(ref.length);
      const index = new Map(ref.map((p, i) => [p.at, i]));
      const wrong = labels.filter((label) => ring.get(label) !== ref[(index.get(md5Ref(label))! + 1) % ref.length]!.node);
      expect({ what: c.what, wrong }).toEqual({ what: c.what, wrong: [] });
    }
  });

  test("a weight rounds half up: 3 vnodes x 0.5 = 1.5 -> 2 points", () => {
    const ring = new HashRing([{ name: "half", weight: 0.5 }, { name: "full" }], { vnodes: 3 });
    expect(
      ring.points
        .filter((p) => p.node === "half")
        .map((p) => p.label)
        .sort(),
    ).toEqual(["half:0", "half:1"]);
  });

  test("hashes that share their top 32 bits are still ordered by all 128", () => {
    // Find two labels whose MD5 agree on the first 32 bits (a birthday search), then
    // make one a node and look up the other: the lookup must compare the lower words.
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const label = `t${i}`;
      const top = createHash("md5").update(label).digest("hex").slice(0, 8);
      const other = seen.get(top);
      if (other) pair = [other, label];
      else seen.set(top, label);
    }
    const [u, v] = pair;
    expect(md5Ref(u) >> 96n).toBe(md5Ref(v) >> 96n);
    expect(md5Ref(u)).not.toBe(md5Ref(v));
    for (const nodes of [
      [{ name: u }, { name: "other" }],
      [{ name: u }, { name: v }, { name: "other" }],
    ]) {
      const ring = new HashRing(nodes, { vnodes: 1 });
      const ref = refPoints(nodes, 1);
      expect(ring.points.map((p) => p.node)).toEqual(ref.map((p) => p.node));
      for (const key of [u, v, "other"]) expect(ring.get(key)).toBe(refOwner(ref, key));
    }
  });
});

describe("membership changes move only what they must", () => {
  const base: RingMember[] = [{ name: "a" }, { name: "b" }, { name: "c", weight: 2 }];
  const keys = ids(1, 20000);
  const before = new HashRing(base, { vnodes: 50 });

  test("adding a node moves keys only onto it", () => {
    const after = new HashRing([...base, { name: "d" }], { vnodes: 50 });
    const moved = keys.filter((k) => before.get(k) !== after.get(k));
    expect(moved.filter((k) => after.get(k) !== "d")).toEqual([]);
    const refAfter = refOwnerOf([...base, { name: "d" }], 50);
    expect(moved).toEqual(keys.filter((k) => refAfter(k) === "d"));
  });

  test("removing a node moves only its keys", () => {
    const after = new HashRing(
      base.filter((n) => n.name !== "b"),
      { vnodes: 50 },
    );
    const moved = keys.filter((k) => before.get(k) !== after.get(k));
    const refBefore = refOwnerOf(base, 50);
    expect(moved).toEqual(keys.filter((k) => refBefore(k) === "b"));
  });

  test("moving a node to a new address moves nothing (only names are hashed)", () => {
    const moved = new HashRing<RingMember & { url?: string }>(
      base.map((n) => (n.name === "a" ? { ...n, url: "http://10.0.0.9:7000" } : n)),
      { vnodes: 50 },
    );
    expect(keys.filter((k) => moved.get(k) !== before.get(k))).toEqual([]);
    const ofA = keys.find((k) => moved.get(k) === "a")!;
    expect(moved.ownerOf(ofA).url).toBe("http://10.0.0.9:7000");
  });

  test("the order of the nodes does not matter", () => {
    for (const order of [
      [2, 0, 1],
      [1, 2, 0],
      [2, 1, 0],
    ]) {
      const shuffled = new HashRing(
        order.map((i) => base[i]!),
        { vnodes: 50 },
      );
      expect(shuffled.points.map((p) => p.label)).toEqual(before.points.map((p) => p.label));
      expect(keys.filter((k) => shuffled.get(k) !== before.get(k))).toEqual([]);
    }
  });
});

describe("the lookups agree with each other", () => {
  test("get, ownerOf and locate name the same node; locate's point is the first above the hash", () => {
    const ring = new HashRing(
      [
        { name: "a", url: "http://a" },
        { name: "b", url: "http://b" },
      ],
      { vnodes: 20 },
    );
    for (const key of ids(0, 500)) {
      const p = ring.locate(key);
      expect(ring.get(key)).toBe(p.node.name);
      expect(ring.ownerOf(key)).toBe(p.node);
      const h = md5Ref(key);
      const at = BigInt(`0x${p.point.hex}`);
      const prev = md5Ref(ring.points[(p.pointIndex - 1 + ring.points.length) % ring.points.length]!.label);
      if (p.wrapped) expect(h >= prev && at < h).toBe(true);
      else expect(h < at && (p.pointIndex === 0 || prev <= h)).toBe(true);
    }
  });
});

describe("construction errors", () => {
  test.each([
    ["no nodes", [], 160, /at least one node/],
    ["an empty name", [{ name: "" }], 160, /name must not be empty/],
    ["duplicate names", [{ name: "a" }, { name: "a" }], 160, /duplicate node name "a"/],
    ["a zero weight", [{ name: "a", weight: 0 }], 160, /weight must be a positive number, got 0/],
    ["a negative weight", [{ name: "a", weight: -1 }], 160, /weight must be a positive number, got -1/],
    ["a weight that rounds to no points", [{ name: "a", weight: 0.001 }], 160, /rounds to 0 points/],
    ["zero vnodes", [{ name: "a" }], 0, /vnodes must be a positive integer, got 0/],
    ["fractional vnodes", [{ name: "a" }], 1.5, /vnodes must be a positive integer/],
    ["too many points", [{ name: "a", weight: 1e6 }], 160, /more than \d+ points/],
  ] as const)("%s", (_, nodes, vnodes, message) => {
    expect(() => new HashRing(nodes as readonly RingMember[], { vnodes })).toThrow(message);
  });

  test("colliding points: node a:1 and the second vnode of node a both hash the label a:1", () => {
    expect(() => new HashRing([{ name: "a", weight: 2 }, { name: "a:1" }], { vnodes: 1 })).toThrow(
      new RingError(`points collide: "a:1" and "a:1" both hash to ${md5Ref("a:1").toString(16).padStart(32, "0")}`),
    );
  });
});
