/**
 * Independent references for the placement rule of the contract, written the plain way:
 * every point as a BigInt in a sorted array, a linear scan for the first point strictly
 * greater than the key's hash. MD5 comes from node:crypto here (the ring uses Bun.MD5),
 * and a second oracle runs Python's hashlib when python3 is installed.
 */
import { createHash } from "node:crypto";

export interface RefNode {
  readonly name: string;
  readonly weight?: number;
}

export function md5Ref(text: string): bigint {
  return BigInt(`0x${createHash("md5").update(text, "utf8").digest("hex")}`);
}

/** The points of the contract: name alone when a node has one point, else name:0 .. name:n-1. */
export function refPoints(nodes: readonly RefNode[], vnodes: number): { at: bigint; node: string }[] {
  const points: { at: bigint; node: string }[] = [];
  for (const n of nodes) {
    // round half up, as documented (the contract says "round").
    const count = Math.floor(vnodes * (n.weight ?? 1) + 0.5);
    for (let i = 0; i < count; i++) points.push({ at: md5Ref(count === 1 ? n.name : `${n.name}:${i}`), node: n.name });
  }
  return points.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

export function refOwner(points: readonly { at: bigint; node: string }[], key: string): string {
  const h = md5Ref(key);
  return (points.find((p) => p.at > h) ?? points[0]!).node;
}

/** The owner rule over `nodes` as one function, for tests that need owners of a cluster's ids. */
export function refOwnerOf(nodes: readonly RefNode[], vnodes = 160): (key: string) => string {
  const points = refPoints(nodes, vnodes);
  return (key) => refOwner(points, key);
}

/** Exact arc per node: each point owns [previous point, itself), the first also the wrap. */
export function refArcs(points: readonly { at: bigint; node: string }[]): Map<string, bigint> {
  const arcs = new Map<string, bigint>();
  points.forEach((p, i) => {
    const prev = i === 0 ? points[points.length - 1]!.at - (1n << 128n) : points[i - 1]!.at;
    arcs.set(p.node, (arcs.get(p.node) ?? 0n) + p.at - prev);
  });
  return arcs;
}

export const hasPython = Bun.which("python3") !== null;

const PYTHON = `
import bisect, hashlib, json, math, sys
req = json.load(sys.stdin)
def h(s): return int.from_bytes(hashlib.md5(s.encode("utf-8")).digest(), "big")
points = []
for n in req["nodes"]:
    count = math.floor(req["vnodes"] * n.get("weight", 1) + 0.5)
    labels = [n["name"]] if count == 1 else ["%s:%d" % (n["name"], i) for i in range(count)]
    points += [(h(l), n["name"]) for l in labels]
points.sort()
values = [p[0] for p in points]
out = []
for key in req["keys"]:
    i = bisect.bisect_right(values, h(key))
    out.append(points[i % len(points)][1])
json.dump(out, sys.stdout)
`;

/** Owners of `keys` computed by Python's hashlib and bisect. */
export function pythonOwners(nodes: readonly RefNode[], vnodes: number, keys: readonly string[]): string[] {
  const r = Bun.spawnSync(["python3", "-c", PYTHON], { stdin: Buffer.from(JSON.stringify({ nodes, vnodes, keys })) });
  if (r.exitCode !== 0) throw new Error(`python3 failed: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString());
}
