/**
 * The whiteboard picture of a ring as hand-written SVG (`shardctl ring draw`): each
 * node's arcs in its color, the points as ticks, sample ids walking clockwise to their
 * owner, and a legend that says what each mark means.
 *
 * Labels are placed so that they cover no tick, no dot and no other label: a point's
 * label outside the ring, an id's inside, each anchored away from the circle and pushed
 * further out (or in) while it would touch something already drawn.
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

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);

/** The ring's radius; the ring is drawn around (0, 0) and moved into place with one translate. */
const R = 240;
/** Where the sample ids sit, inside the ring. */
const INNER = R - 34;
/** Points get a text label when there are this few of them. */
const LABEL_POINTS = 24;
/** Ids get a text label when there are this few of them. */
const LABEL_IDS = 40;
/**
 * Generous average character widths, in em, of the sans-serif text (12px labels and legend
 * names, 11px legend facts): the picture is made wide enough for its longest legend line,
 * and labels are kept apart by boxes this wide.
 */
const LEGEND_NAME_EM = 0.62;
const LEGEND_FACTS_EM = 0.58;
const LABEL_PX = 12;

/** The point at turn t (0 at the top, clockwise) and radius r, around (0, 0). */
function at(t: number, r: number): [number, number] {
  const a = 2 * Math.PI * t;
  return [r * Math.sin(a), -r * Math.cos(a)];
}
const xy = ([x, y]: [number, number]) => `${x.toFixed(2)} ${y.toFixed(2)}`;

/** A radial line at turn t from radius r1 to r2. */
function radial(t: number, r1: number, r2: number, attrs = ""): string {
  const [x1, y1] = at(t, r1);
  const [x2, y2] = at(t, r2);
  return `<line x1="${x1.toFixed(2)}" y1="${y1.toFixed(2)}" x2="${x2.toFixed(2)}" y2="${y2.toFixed(2)}"${attrs}/>`;
}

/** An axis-aligned box: x1 < x2, y1 < y2. */
interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

const overlaps = (a: Box, b: Box) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;

interface Label {
  readonly box: Box;
  readonly svg: string;
}

/** Text whose anchor (start, end or middle) is at (x, y), vertically centred there. */
function textAt(x: number, y: number, anchor: "start" | "end" | "middle", content: string, cls: string): Label {
  const width = content.length * LEGEND_NAME_EM * LABEL_PX;
  const x1 = anchor === "middle" ? x - width / 2 : anchor === "start" ? x : x - width;
  return {
    box: { x1, y1: y - LABEL_PX / 2, x2: x1 + width, y2: y + LABEL_PX / 2 },
    svg: `<text class="${cls}" x="${x.toFixed(2)}" y="${y.toFixed(2)}" text-anchor="${anchor}" dominant-baseline="middle">${escapeXml(content)}</text>`,
  };
}

/**
 * The points' labels, outside the ring: those on the right half start just outside the
 * ticks and grow rightwards, those on the left end there and grow leftwards. On each half
 * they go down in the order of their points, at least a line apart, so close points get
 * stacked labels; a label moved off its point gets a thin leader line to it. A label that
 * would still touch something in `taken` moves outwards until it does not.
 */
function pointLabels(labels: readonly { t: number; text: string }[], taken: Box[]): string[] {
  const out: string[] = [];
  const gap = LABEL_PX + 2;
  const r = R + 20;
  for (const side of [1, -1]) {
    const mine = labels
      .map((l) => ({ ...l, want: at(l.t, r) }))
      .filter((l) => (l.want[0] >= 0 ? 1 : -1) === side)
      .sort((a, b) => a.want[1] - b.want[1]);
    let lastY = -Infinity;
    for (const l of mine) {
      const y = Math.max(l.want[1], lastY + gap);
      lastY = y;
      // On the circle of radius r at that height (past its top or bottom: beside the zero mark).
      let x = side * Math.max(8, Math.sqrt(Math.max(0, r * r - y * y)));
      let label = textAt(x, y, side > 0 ? "start" : "end", l.text, "point-label");
      for (let k = 0; k < 40 && taken.some((b) => overlaps(b, label.box)); k++) {
        x += side * 6;
        label = textAt(x, y, side > 0 ? "start" : "end", l.text, "point-label");
      }
      taken.push(label.box);
      const [tx, ty] = at(l.t, R + 12);
      if (Math.hypot(x - l.want[0], y - l.want[1]) > 3) {
        out.push(
          `<line class="leader" x1="${tx.toFixed(2)}" y1="${ty.toFixed(2)}" x2="${(x - side * 2).toFixed(2)}" ` +
            `y2="${y.toFixed(2)}" stroke="#999" stroke-width="0.6"/>`,
        );
      }
      out.push(label.svg);
    }
  }
  return out;
}

/**
 * The ids' labels, inside the ring beside their dots: anchored away from the circle, and
 * moved further in while they would touch something in `taken`.
 */
function idLabels(labels: readonly { t: number; text: string }[], taken: Box[]): string[] {
  const out: string[] = [];
  for (const { t, text } of [...labels].sort((a, b) => a.t - b.t)) {
    let label: Label | undefined;
    let r = INNER - 12;
    for (let k = 0; k < 40 && (!label || taken.some((b) => overlaps(b, label!.box))); k++) {
      r = INNER - 12 - 13 * k;
      const [x, y] = at(t, r);
      const sin = Math.sin(2 * Math.PI * t);
      // inside the ring text grows towards the centre: leftwards on the right half
      label = textAt(x, y, Math.abs(sin) < 0.25 ? "middle" : sin > 0 ? "end" : "start", text, "id-label");
    }
    taken.push(label!.box);
    if (r < INNER - 12) {
      const [x1, y1] = at(t, INNER - 5);
      const [x2, y2] = at(t, r + 7);
      out.push(
        `<line class="leader" x1="${x1.toFixed(2)}" y1="${y1.toFixed(2)}" x2="${x2.toFixed(2)}" y2="${y2.toFixed(2)}" stroke="#999" stroke-width="0.6"/>`,
      );
    }
    out.push(label!.svg);
  }
  return out;
}

/** The box around a radial line from r1 to r2 at turn t. */
function radialBox(t: number, r1: number, r2: number, pad = 1): Box {
  const [xa, ya] = at(t, r1);
  const [xb, yb] = at(t, r2);
  return { x1: Math.min(xa, xb) - pad, y1: Math.min(ya, yb) - pad, x2: Math.max(xa, xb) + pad, y2: Math.max(ya, yb) + pad };
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
  const drawing: string[] = []; // around (0, 0)

  // Arcs: each point owns the arc from the previous point up to itself; runs of one node's points merge.
  drawing.push(`<g fill="none" stroke-width="18">`);
  if (ring.nodes.length === 1) {
    drawing.push(`<circle cx="0" cy="0" r="${R}" stroke="${color.get(points[0]!.node)}"/>`);
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
      drawing.push(`<path d="${arcPath(from, turn(points[end]!.hash), R)}" stroke="${color.get(node)}"/>`);
    }
  }
  drawing.push(`</g>`);

  // What labels must not cover: the zero mark, the ticks, the dots.
  const taken: Box[] = [radialBox(0, R - 16, R + 22)];
  // The zero mark, then the points as ticks across the ring.
  drawing.push(radial(0, R - 16, R + 22, ` class="zero" stroke="#000" stroke-dasharray="3 2"`));
  drawing.push(`<g class="ticks" stroke="#222" stroke-width="${points.length > 200 ? 0.6 : 1.5}">`);
  for (const p of points) {
    drawing.push(radial(turn(p.hash), R - 11, R + 11));
    taken.push(radialBox(turn(p.hash), R - 11, R + 11));
  }
  drawing.push(`</g>`);

  // Sample ids: a dot at md5(id), a dashed walk clockwise to the owning point.
  for (const id of ids) {
    const placement = ring.locate(id);
    const t = turn(md5Words(id));
    const c = color.get(placement.node.name)!;
    const pt = turn(placement.point.hash);
    const [dx, dy] = at(t, INNER);
    taken.push({ x1: dx - 5, y1: dy - 5, x2: dx + 5, y2: dy + 5 });
    drawing.push(
      `<g><title>${escapeXml(`id ${id}: md5 ${placement.keyHash} -> ${placement.point.label} (${placement.node.name})`)}</title>`,
      `<path d="${arcPath(t, pt, INNER)} L ${xy(at(pt, R - 11))}" fill="none" stroke="${c}" stroke-width="1.2" stroke-dasharray="4 3"/>`,
      `<circle class="id" cx="${dx.toFixed(2)}" cy="${dy.toFixed(2)}" r="4" fill="${c}" stroke="#222" stroke-width="0.8"/>`,
      `</g>`,
    );
  }

  // Labels: the points' outside the ring, the ids' inside; none on a tick, a dot or another label.
  const labels: Box[] = [];
  if (points.length <= LABEL_POINTS)
    drawing.push(
      ...pointLabels(
        points.map((p) => ({ t: turn(p.hash), text: p.label })),
        taken,
      ),
    );
  if (ids.length <= LABEL_IDS)
    drawing.push(
      ...idLabels(
        ids.map((id) => ({ t: turn(md5Words(id)), text: id })),
        taken,
      ),
    );
  labels.push(...taken);

  // The picture around the drawing: the title above, the legend on the right.
  const minX = Math.min(-R - 22, ...labels.map((b) => b.x1));
  const maxX = Math.max(R + 22, ...labels.map((b) => b.x2));
  const minY = Math.min(-R - 22, ...labels.map((b) => b.y1));
  const maxY = Math.max(R + 22, ...labels.map((b) => b.y2));
  const ox = Math.ceil(16 - minX);
  const oy = Math.ceil(70 - minY);
  const lx = ox + Math.ceil(maxX) + 30;

  const shares = spaceShares(ring);
  const nodeLines = ring.nodes.map((n) => {
    const count = points.filter((p) => p.node === n.name).length;
    const facts = [n.url, plural(count, "point"), `${percentOf(shares.get(n.name)!, 2)} of the circle`];
    return { name: n.name, facts: facts.filter(Boolean).join(" · ") };
  });
  const keyTop = 104 + ring.nodes.length * 36 + 20;
  const key = howToRead(lx, keyTop, points.length <= LABEL_POINTS);
  // Wide enough for the longest legend line (a long name or url would be cut off at the right edge).
  const widest = Math.max(KEY_WIDEST, ...nodeLines.map((l) => Math.max(l.name.length * LEGEND_NAME_EM * 12, l.facts.length * LEGEND_FACTS_EM * 11)));
  const width = Math.ceil(lx + 22 + widest + 16);
  const height = Math.ceil(Math.max(oy + maxY + 20, key.bottom + 20));

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="16" y="26" font-size="16" font-weight="bold">${escapeXml(
      `Consistent hash ring: ${plural(ring.nodes.length, "node")}, ${vnodesEach(ring)}, ${plural(points.length, "point")}`,
    )}</text>`,
    `<text x="16" y="46" fill="#555">An id belongs to the first point clockwise from md5(id); 0 = 2^128 at the top.</text>`,
    `<g class="ring" transform="translate(${ox} ${oy})">`,
    ...drawing,
    `</g>`,
  ];

  // Legend: color and name, then url, points and exact share of the circle; then what the marks mean.
  out.push(`<text x="${lx}" y="80" font-weight="bold">Nodes</text>`);
  nodeLines.forEach((l, i) => {
    const y = 104 + i * 36;
    out.push(
      `<rect x="${lx}" y="${y - 10}" width="14" height="14" fill="${color.get(l.name)}"/>`,
      `<text x="${lx + 22}" y="${y + 2}">${escapeXml(l.name)}</text>`,
      `<text x="${lx + 22}" y="${y + 17}" fill="#555" font-size="11">${escapeXml(l.facts)}</text>`,
    );
  });
  out.push(...key.svg, `</svg>`);
  return `${out.join("\n")}\n`;
}

/** The key's lines: a sample of each mark and what it means. */
const KEY_LINES = [
  "thick arc: the part of the circle a node owns (its color)",
  'tick: a point, md5("name:i") of a node (labelled when 24 or fewer)',
  "dot: a sample id, at md5(id), in its owner's color",
  "dashes: the id's walk clockwise to the first point above it",
  "dashed mark at the top: 0 = 2^128, where the circle starts",
];
const KEY_WIDEST = Math.max(...KEY_LINES.map((l) => l.length * LEGEND_FACTS_EM * 11));

/** The "How to read it" block of the legend at (x, top): its SVG and where it ends. */
function howToRead(x: number, top: number, pointLabels: boolean): { svg: string[]; bottom: number } {
  const svg = [`<text x="${x}" y="${top}" font-weight="bold">How to read it</text>`];
  const row = (i: number) => top + 24 + i * 22;
  const lines = pointLabels ? KEY_LINES : KEY_LINES.map((l, i) => (i === 1 ? l.replace(" (labelled when 24 or fewer)", "") : l));
  const samples = [
    (y: number) => `<line x1="${x}" y1="${y}" x2="${x + 14}" y2="${y}" stroke="#4e79a7" stroke-width="8"/>`,
    (y: number) => `<line x1="${x + 7}" y1="${y - 7}" x2="${x + 7}" y2="${y + 7}" stroke="#222" stroke-width="1.5"/>`,
    (y: number) => `<circle cx="${x + 7}" cy="${y}" r="4" fill="#4e79a7" stroke="#222" stroke-width="0.8"/>`,
    (y: number) => `<line x1="${x}" y1="${y}" x2="${x + 14}" y2="${y}" stroke="#4e79a7" stroke-width="1.2" stroke-dasharray="4 3"/>`,
    (y: number) => `<line x1="${x + 7}" y1="${y - 8}" x2="${x + 7}" y2="${y + 8}" stroke="#000" stroke-dasharray="3 2"/>`,
  ];
  lines.forEach((line, i) => {
    const y = row(i);
    svg.push(samples[i]!(y - 4), `<text x="${x + 22}" y="${y}" fill="#555" font-size="11">${escapeXml(line)}</text>`);
  });
  return { svg, bottom: row(lines.length - 1) + 8 };
}
