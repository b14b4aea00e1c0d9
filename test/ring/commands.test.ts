import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli as shardctl } from "../support/cli.ts";
import { renderRingSvg } from "../../src/cli-output/ring-svg.ts";
import { HashRing } from "../../src/ring/hash-ring.ts";
import { refArcs, refOwner, refPoints, type RefNode } from "./reference.ts";

const ENV = ["SHARDCTL_NODES", "SHARDCTL_VNODES", "SHARDCTL_RING"] as const;
let saved: Record<string, string | undefined>;

beforeEach(() => {
  saved = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
  for (const k of ENV) delete process.env[k];
});
afterEach(() => {
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});
const json = async (...argv: string[]) => {
  const r = await shardctl(...argv, "--json");
  expect(r).toMatchObject({ code: 0, stderr: "" });
  return JSON.parse(r.stdout);
};

const DEFAULT: RefNode[] = [{ name: "127.0.0.1:5001" }, { name: "127.0.0.1:5002" }, { name: "127.0.0.1:5003" }];
const SEED = ["--vnodes", "1", "--nodes", "1=127.0.0.1:5001,2=127.0.0.1:5002,3=127.0.0.1:5003"];
const SEED_NODES: RefNode[] = [{ name: "1" }, { name: "2" }, { name: "3" }];
const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => String(a + i));

describe("ring show", () => {
  test("the seed table, with urls, hashes and the owning point's label", async () => {
    const rows = await json("ring", "show", ...SEED, ...range(1, 10));
    expect(rows.map((r: any) => r.node)).toEqual(["2", "3", "1", "1", "3", "1", "1", "3", "1", "3"]);
    for (const r of rows) {
      expect(r.url).toBe(`http://127.0.0.1:500${r.node}`);
      expect(r.hash).toBe(md5(r.id));
      // One point per node: the point's label is the node's name, and its hash md5(name).
      expect([r.vnode, r.point]).toEqual([r.node, md5(r.node)]);
    }
    expect(rows.find((r: any) => r.id === "3").wrapped).toBe(true);
  });

  test("the default ring agrees with the reference", async () => {
    const ref = refPoints(DEFAULT, 160);
    const rows = await json("ring", "show", ...range(1, 40));
    expect(rows.map((r: any) => [r.id, r.node])).toEqual(range(1, 40).map((id) => [id, refOwner(ref, id)]));
    for (const r of rows) expect(r.vnode).toStartWith(`${r.node}:`);
  });

  test("the table names the columns and marks a wrap; --wide shows the urls too", async () => {
    const r = await shardctl("ring", "show", ...SEED, "3", "--wide");
    expect(r.code).toBe(0);
    // one point per node: no vnode numbers, the point is md5("1")
    expect(r.stdout).toMatch(/^id\s+node\s+md5\(id\)\s+point\s+url$/m);
    expect(r.stdout).toMatch(/^\s*3\s+1\s+eccbc87e4b5ce2fe28308fd9f2a7baf3\s+c4ca4238a0b923820dcc509a6f75849b \(wrapped\)\s+http:\/\/127\.0\.0\.1:5001$/m);
    expect(r.stdout).toContain('The point of a node with one point is md5("<node>").');
  });

  test("without --wide the hashes stay whole (they are what the command shows); the url gives way to fit 80 columns", async () => {
    const r = await shardctl("ring", "show", "1", "2", "3");
    expect(r.code).toBe(0);
    const ref = refPoints(DEFAULT, 160);
    expect(r.stdout).toMatch(/^id\s+node\s+md5\(id\)\s+point\s+vnode$/m);
    const row = r.stdout.split("\n").find((l) => /^ *2 /.test(l))!;
    const [, node, hash, point, vnode] = row.trim().split(/\s+/);
    expect(node).toBe(refOwner(ref, "2"));
    expect(hash).toBe(md5("2"));
    expect(point).toBe(md5(`${node}:${vnode}`));
    expect(r.stdout).toContain('The point of vnode i is md5("<node>:<i>").');
  });

  test.each([["007"], ["7.0"], ["+7"], ["x"], ["9007199254740992"]])("a non-canonical id %j is a usage error", async (id) => {
    const r = await shardctl("ring", "show", "1", id);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("canonical");
    expect(r.stderr).toContain(JSON.stringify(id));
    expect(r.stdout).toBe("");
  });

  test("no id is a usage error that says an id is missing", async () => {
    const r = await shardctl("ring", "show");
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("shardctl ring show: missing ids: one or more expense ids in canonical form");
  });

  test.each([[["-1"]], [["1", "-1"]], [["--json", "1", "-1"]]])("a negative id %p is a usage error about that id", async (argv) => {
    // citty reads -1 as an option: it said "Missing required positional argument: IDS", and `1 -1` showed id 1 alone
    const r = await shardctl("ring", "show", ...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith(
      'shardctl ring show: id must be a canonical decimal integer from 0 to 9007199254740991 (no sign, leading zeros or decimals), got "-1"',
    );
    expect(r.stdout).toBe("");
  });
});

describe("ring stats", () => {
  test("the heading says 'vnodes each' only when every weight is 1", async () => {
    const even = await shardctl("ring", "stats", "--nodes", "a=h:1,b=h:2", "--vnodes", "10", "--ids", "1..5");
    expect(even.stdout).toStartWith("2 nodes, 10 vnodes each, 20 points;");
    const weighted = await shardctl("ring", "stats", "--nodes", "a=h:1:2,b=h:2", "--vnodes", "10", "--ids", "1..5");
    expect(weighted.stdout).toStartWith("2 nodes, 10 vnodes per unit of weight, 30 points;");
    const diff = await shardctl("ring", "diff", "--nodes", "a=h:1,b=h:2", "--vnodes", "10", "--ids", "1..5", "--add", "c=h:3:3");
    expect(diff.stdout).toStartWith("add c (http://h:3, weight 3): 2 -> 3 nodes, 10 vnodes per unit of weight;");
  });

  test("--json: points, exact arcs and sample counts per node, and max/mean", async () => {
    const s = await json("ring", "stats", "--ids", "1..3000");
    expect([s.vnodes, s.points, s.sample]).toEqual([160, 480, 3000]);
    const arcs = refArcs(refPoints(DEFAULT, 160));
    const ref = refPoints(DEFAULT, 160);
    // "node" names the node, as in every other JSON output
    expect(s.nodes.map((n: any) => n.node)).toEqual(DEFAULT.map((n) => n.name));
    for (const n of s.nodes) {
      expect(n).not.toHaveProperty("name");
      expect(n.points).toBe(160);
      expect(BigInt(n.space.arc)).toBe(arcs.get(n.node)!);
      expect(n.sample.ids).toBe(range(1, 3000).filter((id) => refOwner(ref, id) === n.node).length);
    }
    expect(s.nodes.reduce((sum: bigint, n: any) => sum + BigInt(n.space.arc), 0n)).toBe(1n << 128n);
    expect(s.maxOverMean.space).toBeCloseTo(Math.max(...s.nodes.map((n: any) => n.space.share)) * 3, 12);
    expect(s.maxOverMean.sample).toBeCloseTo(Math.max(...s.nodes.map((n: any) => n.sample.ids)) / 1000, 12);
  });

  test("max/mean is against each node's fair share when weights differ", async () => {
    const s = await json("ring", "stats", "--nodes", "a=h:1,b=h:2:3", "--vnodes", "50", "--ids", "1..100");
    const [a, b] = s.nodes;
    expect([a.points, b.points]).toEqual([50, 150]);
    expect(s.maxOverMean.space).toBeCloseTo(Math.max(a.space.share / 0.25, b.space.share / 0.75), 12);
  });

  test("the table shows every node and the balance", async () => {
    const r = await shardctl("ring", "stats", "--ids", "1..500");
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("3 nodes, 160 vnodes each, 480 points; sample: 500 ids (1..500)");
    // the CLI's one table style: lowercase header, a rule of dashes, numbers aligned right
    expect(r.stdout).toMatch(/^node {12}weight {2}points {5}space {2}ids {5}ids %\n-{14}( {2}-+){5}$/m);
    for (const n of DEFAULT) expect(r.stdout).toMatch(new RegExp(`^${n.name}\\s+1\\s+160\\s+\\d+\\.\\d{4}%`, "m"));
    expect(r.stdout).toMatch(/^max\/mean\s+1\.\d{4}\s+1\.\d{4}$/m);
  });

  test("counts have thousands separators, as in every other table", async () => {
    const s = await json("ring", "stats");
    const r = await shardctl("ring", "stats");
    for (const n of s.nodes) {
      const shown = n.sample.ids.toLocaleString("en-US");
      expect(shown).toContain(",");
      expect(r.stdout).toMatch(new RegExp(`^${n.node}\\s+1\\s+160\\s+\\d+\\.\\d{4}%\\s+${shown}\\s`, "m"));
    }
    const diff = await shardctl("ring", "diff", "--add", "d=127.0.0.1:5004");
    expect(diff.stdout).toMatch(/^moves\s+\d+\.\d{4}%\s+\d{1,3},\d{3}\s/m);
    expect(diff.stdout).toContain("all 100,000 sample ids");
  });
});

describe("ring diff", () => {
  test("--add: only moves onto the new node, as much space as it owns afterwards", async () => {
    const d = await json("ring", "diff", "--add", "d=127.0.0.1:5004", "--ids", "1..2000");
    expect(d.moves.map((m: any) => [m.from, m.to])).toEqual(DEFAULT.map((n) => [n.name, "d"]));
    const after = [...DEFAULT, { name: "d" }];
    expect(BigInt(d.moved.space.arc)).toBe(refArcs(refPoints(after, 160)).get("d")!);
    expect(BigInt(d.moved.space.arc) + BigInt(d.stays.space.arc)).toBe(1n << 128n);
    const [before, next] = [refPoints(DEFAULT, 160), refPoints(after, 160)];
    expect(d.moved.sample.ids).toBe(range(1, 2000).filter((id) => refOwner(before, id) !== refOwner(next, id)).length);
    expect(d.onlyChangedNodesMove).toBe(true);
    expect(d.add).toMatchObject({ name: "d", url: "http://127.0.0.1:5004", points: 160 });
  });

  test("--remove: only the removed node's keys move", async () => {
    const d = await json("ring", "diff", "--remove", "127.0.0.1:5002", "--ids", "1..2000");
    expect(new Set(d.moves.map((m: any) => m.from))).toEqual(new Set(["127.0.0.1:5002"]));
    expect(BigInt(d.moved.space.arc)).toBe(refArcs(refPoints(DEFAULT, 160)).get("127.0.0.1:5002")!);
    const ref = refPoints(DEFAULT, 160);
    expect(d.moved.sample.ids).toBe(range(1, 2000).filter((id) => refOwner(ref, id) === "127.0.0.1:5002").length);
  });

  test("a node moved to a new address under its name moves nothing", async () => {
    const d = await json("ring", "diff", "--remove", "127.0.0.1:5003", "--add", "127.0.0.1:5003=10.0.0.3:5003", "--ids", "1..500");
    expect(d.moves).toEqual([]);
    expect(d.stays.space.share).toBe(1);
  });

  test("the text says nothing else moves", async () => {
    const r = await shardctl("ring", "diff", "--add", "d=127.0.0.1:5004", "--ids", "1..100");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^127\.0\.0\.1:5001\s+d\s+\d+\.\d{4}%/m);
    expect(r.stdout).toContain("Nothing else moves");
  });

  test.each([
    ["neither --add nor --remove", [], /give --add NAME=HOST:PORT\[:WEIGHT\] or --remove NAME/],
    ["an unknown node", ["--remove", "zz"], /--remove zz: no such node; the nodes are 127\.0\.0\.1:5001/],
    ["the only node", ["--nodes", "a=h:1", "--remove", "a"], /--remove a: it is the only node/],
    ["a taken name", ["--add", "127.0.0.1:5001=h:9"], /--add .*: duplicate node name "127\.0\.0\.1:5001"/],
    ["a taken address", ["--add", "d=127.0.0.1:5002"], /--add .*: nodes "127\.0\.0\.1:5002" and "d" have the same address/],
    ["a bad port", ["--add", "d=h:0"], /--add d=h:0: "d=h:0": port 0 is out of range/],
    ["a zero weight", ["--add", "d=h:9:0"], /weight must be a number greater than 0/],
    ["colliding points", ["--nodes", "a=h:1:2", "--vnodes", "1", "--add", "a:1=h:2"], /--add a:1=h:2: points collide/],
    // citty would keep the last one only and describe the removal of b alone
    ["--remove twice", ["--nodes", "a=h:1,b=h:2,c=h:3", "--remove", "a", "--remove", "b"], /--remove is given more than once; give it once/],
  ])("%s is a usage error", async (_, argv, message) => {
    const r = await shardctl("ring", "diff", ...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe("ring draw", () => {
  /** The picture's parts, read back from the SVG. */
  const num = (a: string, name: string) => Number(new RegExp(`\\b${name}="([-\\d.]+)"`).exec(a)![1]);
  const group = (svg: string, cls: string) => new RegExp(`<g class="${cls}"[^>]*>([\\s\\S]*?)</g>`).exec(svg)?.[1];
  const colorsOf = (svg: string, cls: string) => [...group(svg, cls)!.matchAll(/stroke="(#[0-9a-f]{6}|hsl\([^)]*\))"/g)].map((m) => m[1]!);
  /** The legend's rows: name and share as printed. */
  const legendRows = (svg: string) =>
    [...svg.matchAll(/<g class="legend-node">[\s\S]*?font-size="14">([^<]*)<\/text>\s*<text class="share"[^>]*>([^<]*)<\/text>/g)].map((m) => [m[1], m[2]]);
  const share = (arc: bigint) => `${(Number((arc * 10n ** 8n) / (1n << 128n)) / 10 ** 6).toFixed(2)}%`;

  test("the seed ring: three coloured arcs, a tick and a label per point, each id a dot and a chip in its owner's colour", async () => {
    const r = await shardctl("ring", "draw", ...SEED, "--ids", "1..10");
    expect(r.code).toBe(0);
    const svg = r.stdout;
    expect(svg).toStartWith('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(svg.trimEnd()).toEndWith("</svg>");
    // one point per node: each owns one arc of the band, three arcs, three colours
    const band = colorsOf(svg, "arcs");
    expect(band.length).toBe(3);
    expect(new Set(band).size).toBe(3);
    // the points: a tick each (few of them), labelled with the node's name in its colour; the dashed zero mark
    expect(group(svg, "ticks")!.match(/<line /g)?.length).toBe(3);
    expect(svg.match(/<line [^>]*class="zero"/g)?.length).toBe(1);
    for (const name of ["1", "2", "3"]) expect(svg).toMatch(new RegExp(`<text class="point-label" [^>]*fill="#[0-9a-f]{6}" font-weight="bold">${name}</text>`));
    // every id: a dot titled with its hash and owner, and a chip (not a bare number like a node's label) tied to it
    expect(svg.match(/<circle class="id" /g)?.length).toBe(10);
    expect(svg).toContain(`<title>id 1: md5 ${md5("1")} -&gt; 2 (2)</title>`);
    expect(svg.match(/<rect class="id-chip" /g)?.length).toBe(10);
    const colorOf = new Map(legendRows(svg).map(([name], i) => [name, band[["1", "2", "3"].indexOf(name!)] ?? String(i)]));
    const ref = refPoints(SEED_NODES, 1);
    for (let id = 1; id <= 10; id++) {
      const owner = refOwner(ref, String(id));
      const chip = new RegExp(
        `<line class="leader" [^>]*stroke="([^"]+)" stroke-width="1.2"/>\\s*<rect class="id-chip" [^>]*stroke="([^"]+)"[^>]*/>\\s*<text class="id-label" [^>]*>${id}</text>`,
      ).exec(svg)!;
      expect({ id, leader: chip[1], chip: chip[2] }).toEqual({ id, leader: colorOf.get(owner), chip: colorOf.get(owner) });
    }
    // the legend: each node's exact share of the circle, as the reference computes it
    const arcs = refArcs(ref);
    expect(legendRows(svg)).toEqual(["1", "2", "3"].map((name) => [name, share(arcs.get(name)!)]));
    // and the shares again as one arc per node in the middle
    expect(colorsOf(svg, "shares")).toEqual(["1", "2", "3"].map((n) => colorOf.get(n)!));
    for (const mark of [
      "band: the circle, each part in the colour of its owner",
      "tick: a point",
      "dot and chip: a sample id",
      "dashes: the id&apos;s walk clockwise",
    ]) {
      expect(svg).toContain(mark);
    }
  });

  test("160 vnodes: the band of merged arcs shows ownership, no barcode of 480 ticks unless asked for (--ticks)", async () => {
    const r = await shardctl("ring", "draw");
    expect(r.code).toBe(0);
    expect(group(r.stdout, "ticks")).toBeUndefined();
    expect(r.stdout).toContain("the 480 points are not drawn (ring draw --ticks)");
    const asked = await shardctl("ring", "draw", "--ticks");
    expect(group(asked.stdout, "ticks")!.match(/<line /g)?.length).toBe(480);
    const arcs = refArcs(refPoints(DEFAULT, 160));
    expect(legendRows(r.stdout)).toEqual(DEFAULT.map((n) => [n.name, share(arcs.get(n.name)!)]));
  });

  test("30 nodes of 160 vnodes: a legend row (colour, share, bar) per node in two columns, one share arc each, no text under 12 px", async () => {
    const nodes: RefNode[] = Array.from({ length: 30 }, (_, i) => ({ name: `n${i + 1}` }));
    const r = await shardctl("ring", "draw", "--nodes", nodes.map((n, i) => `${n.name}=10.0.0.${i + 1}:5001`).join(","));
    expect(r.code).toBe(0);
    const arcs = refArcs(refPoints(nodes, 160));
    expect(legendRows(r.stdout)).toEqual(nodes.map((n) => [n.name, share(arcs.get(n.name)!)]));
    const colors = colorsOf(r.stdout, "shares");
    expect(colors).toHaveLength(30);
    expect(new Set(colors).size).toBe(30);
    expect(r.stdout.match(/<rect class="bar" /g)?.length).toBe(30);
    // two columns: the 16th row starts a second column, level with the first
    const rows = [...r.stdout.matchAll(/<g class="legend-node">[\s\S]*?<rect x="(\d+)" y="(\d+)"/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
    expect(rows[15]!.y).toBe(rows[0]!.y);
    expect(rows[15]!.x).toBeGreaterThan(rows[0]!.x);
    for (const m of r.stdout.matchAll(/font-size="(\d+)"/g)) expect(Number(m[1])).toBeGreaterThanOrEqual(12);
    // the picture fits a 1280 px window's width
    expect(num(r.stdout.match(/^<svg [^>]*>/)![0], "width")).toBeLessThanOrEqual(1240);
  });

  test.each([
    ["the seed ring, 40 ids", [...SEED, "--ids", "1..40"]],
    ["24 points with long labels, ids 1..40", ["--vnodes", "8", "--ids", "1..40"]],
    ["8 nodes, 3 points each, crowded labels", ["--vnodes", "3", "--nodes", "a=h:1,b=h:2,c=h:3,d=h:4,e=h:5,f=h:6,g=h:7,h=h:8", "--ids", "100..139"]],
  ])("labels and chips cover no tick, no dot and no other label: %s", async (_, argv) => {
    const r = await shardctl("ring", "draw", ...argv);
    expect(r.code).toBe(0);
    // point labels as boxes, 8.1 px a character (0.62 em of 13 px sans-serif, wider than its digits and most letters); chips as drawn
    const points = [...r.stdout.matchAll(/<text class="point-label" ([^>]*)>([^<]*)<\/text>/g)].map((m) => {
      const [x, y, w] = [num(m[1]!, "x"), num(m[1]!, "y"), m[2]!.replace(/&[a-z]+;/g, "&").length * 8.1];
      const x1 = /text-anchor="start"/.test(m[1]!) ? x : x - w;
      return { text: m[2]!, x1, x2: x1 + w, y1: y - 6.5, y2: y + 6.5 };
    });
    const chips = [...r.stdout.matchAll(/<rect class="id-chip" ([^>]*)\/>\s*<text class="id-label" [^>]*>([^<]*)<\/text>/g)].map((m) => {
      const [x, y] = [num(m[1]!, "x"), num(m[1]!, "y")];
      return { text: `id ${m[2]}`, x1: x, x2: x + num(m[1]!, "width"), y1: y, y2: y + num(m[1]!, "height") };
    });
    const labels = [...points, ...chips];
    expect(chips.length).toBeGreaterThan(30);
    const ticks = [...(group(r.stdout, "ticks") ?? "").matchAll(/<line ([^>]*)\/>/g)].map((m) => ["x1", "y1", "x2", "y2"].map((k) => num(m[1]!, k)));
    const dots = [...r.stdout.matchAll(/<circle class="id" ([^>]*)\/>/g)].map((m) => [num(m[1]!, "cx"), num(m[1]!, "cy")]);
    const inBox = (b: (typeof labels)[number], x: number, y: number, pad = 0) => x > b.x1 - pad && x < b.x2 + pad && y > b.y1 - pad && y < b.y2 + pad;
    for (const b of labels) {
      for (const [x1, y1, x2, y2] of ticks) {
        for (let k = 0; k <= 20; k++)
          expect({ label: b.text, onTick: inBox(b, x1! + ((x2! - x1!) * k) / 20, y1! + ((y2! - y1!) * k) / 20) }).toEqual({ label: b.text, onTick: false });
      }
      for (const [cx, cy] of dots) expect({ label: b.text, onDot: inBox(b, cx!, cy!, 4) }).toEqual({ label: b.text, onDot: false });
    }
    for (const [i, a] of labels.entries()) {
      for (const b of labels.slice(i + 1)) {
        const touch = a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
        expect({ pair: [a.text, b.text], touch }).toEqual({ pair: [a.text, b.text], touch: false });
      }
    }
  });

  test("--out writes the file and says so; without it, a terminal on stdout is refused", async () => {
    const out = join(tmpdir(), `shardctl-ring-${process.pid}.svg`);
    try {
      const r = await shardctl("ring", "draw", ...SEED, "--out", out);
      expect([r.code, r.stdout]).toEqual([0, `wrote ${out}: 3 nodes, 3 points, 10 sample ids`]);
      expect(readFileSync(out, "utf8")).toStartWith("<svg ");
      const tty = Object.getOwnPropertyDescriptor(process.stdout, "isTTY");
      Object.defineProperty(process.stdout, "isTTY", { value: true, configurable: true });
      try {
        const refused = await shardctl("ring", "draw");
        expect([refused.code, refused.stdout]).toEqual([2, ""]);
        expect(refused.stderr).toContain("shardctl ring draw: this writes SVG, not text for a terminal: give --out ring.svg, or redirect (> ring.svg)");
        expect((await shardctl("ring", "draw", "--out", out)).code).toBe(0);
      } finally {
        if (tty) Object.defineProperty(process.stdout, "isTTY", tty);
        else delete (process.stdout as { isTTY?: boolean }).isTTY;
      }
    } finally {
      rmSync(out, { force: true });
    }
  });

  test("runs of one node's points make one arc; a lone node is a full circle", async () => {
    const nodes: RefNode[] = [{ name: "a" }, { name: "b" }, { name: "c" }];
    const r = await shardctl("ring", "draw", "--nodes", "a=h:1,b=h:2,c=h:3", "--vnodes", "20", "--ids", "1");
    const owners = refPoints(nodes, 20).map((p) => p.node);
    const runs = owners.filter((o, i) => o !== owners[(i + owners.length - 1) % owners.length]).length;
    expect(runs).toBeLessThan(60);
    const band = /<g class="arcs"[^>]*>([\s\S]*?)<\/g>/.exec(r.stdout)![1]!;
    expect(band.match(/<path d="M [^"]*" stroke="#/g)?.length).toBe(runs);
    const solo = await shardctl("ring", "draw", "--nodes", "solo=h:1", "--vnodes", "5", "--ids", "1");
    const soloBand = /<g class="arcs"[^>]*>([\s\S]*?)<\/g>/.exec(solo.stdout)![1]!;
    expect(soloBand.match(/<circle cx="0" cy="0" r="200"/g)?.length).toBe(1);
    expect(soloBand.match(/<path /g)).toBeNull();
  });

  test("the picture is wide enough for every text in it (default nodes, long names and urls)", async () => {
    for (const argv of [[], ["--nodes", "a-very-long-node-name-for-production=somehost.example.internal:5001,b=h:2"]]) {
      const r = await shardctl("ring", "draw", ...argv);
      expect(r.code).toBe(0);
      const width = Number(r.stdout.match(/^<svg [^>]*width="(\d+)"/)![1]);
      // text outside the ring's group (title, legend, key), at 0.5 em a character, ends inside the picture
      const outside = r.stdout.replace(/<g class="ring"[\s\S]*?\n<\/g>/, "");
      const texts = [...outside.matchAll(/<text x="([\d.]+)" [^>]*font-size="(\d+)"[^>]*>([^<]*)<\/text>/g)];
      expect(texts.length).toBeGreaterThanOrEqual(8);
      for (const [, x, size, text] of texts) {
        expect({ text, fits: Number(x) + text!.replace(/&[a-z]+;/g, "&").length * 0.5 * Number(size) < width }).toEqual({ text, fits: true });
      }
    }
  });

  test("a reader that stops early (| head) ends it quietly with status 0, not an EPIPE crash", async () => {
    const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/cli.ts"), "ring", "draw", "--ids", "1..5000"], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = proc.stdout.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toStartWith("<svg");
    await reader.cancel();
    expect(await proc.exited).toBe(0);
    expect(await new Response(proc.stderr).text()).toBe("");
  }, 20_000);

  test("names are escaped (the renderer takes any ring member; the CLI admits no such names)", async () => {
    const svg = renderRingSvg(new HashRing([{ name: "a&b" }, { name: "<c>" }], { vnodes: 5 }), ["1"]);
    expect(svg).toContain(">a&amp;b</text>");
    expect(svg).toContain(">&lt;c&gt;</text>");
    expect(svg).not.toMatch(/a&b|<c>/);
    const r = await shardctl("ring", "draw", "--nodes", "a&b=h:1,<c>=h:2", "--vnodes", "5", "--ids", "1");
    expect([r.code, r.stdout]).toEqual([2, ""]);
    expect(r.stderr).toContain('holds the character "&" (U+0026)');
  });

  test("a bad ring is a usage error, with nothing on stdout", async () => {
    const r = await shardctl("ring", "draw", "--vnodes", "0");
    expect([r.code, r.stdout]).toEqual([2, ""]);
  });
});

describe("shared options and errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "shardctl-cmd-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("--ring and SHARDCTL_RING feed every ring command", async () => {
    const path = join(dir, "ring.json");
    writeFileSync(path, JSON.stringify({ vnodes: 1, nodes: ["1=127.0.0.1:5001", { name: "2", host: "127.0.0.1", port: 5002 }, "3=127.0.0.1:5003"] }));
    const viaFlag = await json("ring", "show", "--ring", path, "1", "2", "3");
    expect(viaFlag.map((r: any) => r.node)).toEqual(["2", "3", "1"]);
    process.env.SHARDCTL_RING = path;
    const stats = await json("ring", "stats", "--ids", "1..10");
    expect(stats.nodes.map((n: any) => n.sample.ids)).toEqual([5, 1, 4]);
  });

  test.each([
    ["an empty node list", ["--nodes", ""], /--nodes: the node list is empty/],
    ["duplicate names", ["--nodes", "a=h:1,a=h:2"], /duplicate node name "a"/],
    ["duplicate addresses", ["--nodes", "h:1,a=h:1"], /have the same address h:1/],
    ["a bad port", ["--nodes", "h:65536"], /port 65536 is out of range 1\.\.65535/],
    ["a zero weight", ["--nodes", "h:1:0"], /weight must be a number greater than 0, got 0/],
    ["a negative weight", ["--nodes", "h:1:-1"], /weight "-1" is not a number greater than 0/],
    ["zero vnodes", ["--vnodes", "0"], /--vnodes must be from 1 to 100000, got 0/],
    ["colliding points", ["--nodes", "a=h:1:2,a:1=h:2", "--vnodes", "1"], /points collide: "a:1" and "a:1"/],
    ["a missing ring file", ["--ring", "/nonexistent/ring.json"], /--ring \/nonexistent\/ring\.json: cannot read the ring file/],
    ["an unknown option", ["--node", "h:1"], /unknown option --node/],
    ["a bad sample", ["--ids", "5..1"], /--ids range "5\.\.1" is empty/],
  ])("%s: exit 2 with the reason", async (_, argv, message) => {
    const r = await shardctl("ring", "stats", ...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });

  test("SHARDCTL_NODES is used, and named when wrong", async () => {
    process.env.SHARDCTL_NODES = "x=h:1,y=h:2";
    expect((await json("ring", "show", "1"))[0].node).toBe(refOwner(refPoints([{ name: "x" }, { name: "y" }], 160), "1"));
    process.env.SHARDCTL_NODES = "x=h:1,x=h:2";
    const r = await shardctl("ring", "show", "1");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SHARDCTL_NODES: duplicate node name "x"');
  });

  test("--help describes each command and exits 0", async () => {
    for (const cmd of ["show", "stats", "diff", "draw"]) {
      const help = await shardctl("ring", cmd, "--help");
      expect(help.code).toBe(0);
      expect(help.stdout).toContain("--nodes");
      expect(help.stdout).toContain("--ring");
    }
    const group = await shardctl("ring", "--help");
    expect(group.code).toBe(0);
    for (const cmd of ["show", "stats", "diff", "draw"]) expect(group.stdout).toContain(cmd);
  });
});
