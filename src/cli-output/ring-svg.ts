/**
 * The whiteboard picture of a ring as hand-written SVG (`shardctl ring draw`): each
 * node's arcs in its color, the points as ticks, sample ids walking clockwise to their
 * owner, and a legend.
 */
import { md5Words, percentOf, spaceShares, type HashRing, type RingMember, type Words } from "../ring/index.ts";
import { plural, vnodesEach } from "./words.ts";

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"];

/** Node i's color: a qualitative palette, then hues spaced by the golden angle. */
export function nodeColor(i: number): string {
  return PALETTE[i] ?? `hsl(${Math.round((i * 137.508) % 360)}, 55%, 48%)`;
}

/** Where a hash sits on the circle, from 0 (top) clockwise to 1; the top 64 bits are plenty. */
function turn(hash: Words): number {
  return (hash[0] + hash[1] / 2 ** 32) / 2 ** 32;
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);

const SIZE = 640;
const CX = SIZE / 2;
const CY = SIZE / 2 + 20;
const R = 240;
/** Points get a text label when there are this few of them. */
const LABEL_POINTS = 24;
/** Ids get a text label when there are this few of them. */
const LABEL_IDS = 40;
/**
 * Generous average character widths, in em, of the legend's sans-serif text (the name at
 * 12px, the facts at 11px): the picture is made wide enough for its longest legend line.
 */
const LEGEND_NAME_EM = 0.62;
const LEGEND_FACTS_EM = 0.58;

function at(t: number, r: number): [number, number] {
  const a = 2 * Math.PI * t;
  return [CX + r * Math.sin(a), CY - r * Math.cos(a)];
}
const xy = ([x, y]: [number, number]) => `${x.toFixed(2)} ${y.toFixed(2)}`;

/** A radial line at turn t from radius r1 to r2. */
function radial(t: number, r1: number, r2: number, attrs = ""): string {
  const [x1, y1] = at(t, r1);
  const [x2, y2] = at(t, r2);
  return `<line x1="${x1.toFixed(2)}" y1="${y1.toFixed(2)}" x2="${x2.toFixed(2)}" y2="${y2.toFixed(2)}"${attrs}/>`;
}

function text(t: number, r: number, content: string): string {
  const [x, y] = at(t, r);
  return `<text x="${x.toFixed(2)}" y="${y.toFixed(2)}" text-anchor="middle" dominant-baseline="middle">${escape(content)}</text>`;
}

/** An arc of radius r, clockwise from turn t0 to turn t1 (t1 may wrap past 1). */
function arcPath(t0: number, t1: number, r: number): string {
  const span = (((t1 - t0) % 1) + 1) % 1;
  return `M ${xy(at(t0, r))} A ${r} ${r} 0 ${span > 0.5 ? 1 : 0} 1 ${xy(at(t1, r))}`;
}

/** The SVG document: each node's arcs in its color, the points, the sample ids, a legend. */
export function renderRingSvg(ring: HashRing<RingMember & { url?: string }>, ids: readonly string[]): string {
  const color = new Map(ring.nodes.map((n, i) => [n.name, nodeColor(i)]));
  const points = ring.points;
  const out: string[] = [];
  // The legend's lines, so that the picture is wide enough for the longest (a long name or
  // url would otherwise be cut off at the right edge).
  const shares = spaceShares(ring);
  const legend = ring.nodes.map((n) => {
    const count = points.filter((p) => p.node === n.name).length;
    const facts = [n.url, plural(count, "point"), `${percentOf(shares.get(n.name)!, 2)} of the circle`];
    return { name: n.name, facts: facts.filter(Boolean).join(" · ") };
  });
  const lx = SIZE + 10;
  const widest = Math.max(0, ...legend.map((l) => Math.max(l.name.length * LEGEND_NAME_EM * 12, l.facts.length * LEGEND_FACTS_EM * 11)));
  const width = Math.max(SIZE + 320, Math.ceil(lx + 22 + widest + 16));
  const height = Math.max(SIZE + 20, 120 + ring.nodes.length * 36);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="16" y="26" font-size="16" font-weight="bold">${escape(
      `Consistent hash ring: ${plural(ring.nodes.length, "node")}, ${vnodesEach(ring)}, ${plural(points.length, "point")}`,
    )}</text>`,
    `<text x="16" y="46" fill="#555">An id belongs to the first point clockwise from md5(id); 0 = 2^128 at the top.</text>`,
  );

  // Arcs: each point owns the arc from the previous point up to itself; runs of one node's points merge.
  out.push(`<g fill="none" stroke-width="18">`);
  if (ring.nodes.length === 1) {
    out.push(`<circle cx="${CX}" cy="${CY}" r="${R}" stroke="${color.get(points[0]!.node)}"/>`);
  } else {
    const first = points.findIndex((p, i) => p.node !== points[(i - 1 + points.length) % points.length]!.node);
    for (let k = 0; k < points.length; ) {
      const start = (first + k) % points.length;
      const node = points[start]!.node;
      let end = start;
      while (k + 1 < points.length && points[(first + k + 1) % points.length]!.node === node) {
        k++;
        end = (first + k) % points.length;
      }
      k++;
      const from = turn(points[(start - 1 + points.length) % points.length]!.hash);
      out.push(`<path d="${arcPath(from, turn(points[end]!.hash), R)}" stroke="${color.get(node)}"/>`);
    }
  }
  out.push(`</g>`);

  // The zero mark, then the points as ticks across the ring.
  out.push(radial(0, R - 16, R + 22, ` stroke="#000" stroke-dasharray="3 2"`));
  out.push(`<g stroke="#222" stroke-width="${points.length > 200 ? 0.6 : 1.5}">`);
  for (const p of points) out.push(radial(turn(p.hash), R - 11, R + 11));
  out.push(`</g>`);
  if (points.length <= LABEL_POINTS) for (const p of points) out.push(text(turn(p.hash), R + 28, p.label));

  // Sample ids: a dot at md5(id), a dashed walk clockwise to the owning point.
  const inner = R - 34;
  for (const id of ids) {
    const placement = ring.locate(id);
    const t = turn(md5Words(id));
    const c = color.get(placement.node.name)!;
    const pt = turn(placement.point.hash);
    out.push(
      `<g><title>${escape(`id ${id}: md5 ${placement.keyHash} -> ${placement.point.label} (${placement.node.name})`)}</title>`,
      `<path d="${arcPath(t, pt, inner)} L ${xy(at(pt, R - 11))}" fill="none" stroke="${c}" stroke-width="1.2" stroke-dasharray="4 3"/>`,
      `<circle cx="${at(t, inner)[0].toFixed(2)}" cy="${at(t, inner)[1].toFixed(2)}" r="4" fill="${c}" stroke="#222" stroke-width="0.8"/>`,
    );
    if (ids.length <= LABEL_IDS) out.push(text(t, inner - 16, id));
    out.push(`</g>`);
  }

  // Legend: color and name, then url, points and exact share of the circle.
  out.push(`<text x="${lx}" y="80" font-weight="bold">Nodes</text>`);
  legend.forEach((l, i) => {
    const y = 104 + i * 36;
    out.push(
      `<rect x="${lx}" y="${y - 10}" width="14" height="14" fill="${color.get(l.name)}"/>`,
      `<text x="${lx + 22}" y="${y + 2}">${escape(l.name)}</text>`,
      `<text x="${lx + 22}" y="${y + 17}" fill="#555" font-size="11">${escape(l.facts)}</text>`,
    );
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
