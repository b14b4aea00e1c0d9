/**
 * The whiteboard picture of a ring as hand-written SVG (`shardctl ring draw`, and the
 * cluster page): who owns which part of the circle, at a glance, for 3 nodes of one point
 * as for 30 nodes of 160.
 *
 * - The circle is a band of coloured arcs: each point owns the arc from the point before
 *   it up to itself, drawn in its node's colour; a node's neighbouring arcs merge into one.
 * - The points themselves are ticks across the band only where they help: when there are
 *   few of them (then labelled too, outside the band), or when asked for.
 * - Sample ids sit on the inside as dots at md5(id), in their owner's colour, with a dashed
 *   walk clockwise to the point that owns them; each id's label is a chip further in, tied
 *   to its dot by a leader line of the same colour, so an id never reads as a node.
 * - In the middle, each node's share of the circle as one arc (a donut, in the legend's
 *   order): how much each owns, readable at a glance however finely the band interleaves.
 * - The legend lists each node with its colour and its exact share of the circle, as a
 *   figure and a bar; a key says what each mark means.
 *
 * Labels are placed so that they cover no tick, no dot and no other label.
 */
import { md5Words, percentOf, spaceShares, type HashRing, type RingMember, type Words } from "../ring/index.ts";
import { listIds, plural, vnodesEach } from "./words.ts";

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"];

/** Node i's color: a qualitative palette, then hues spaced by the golden angle. */
export function nodeColor(i: number): string {
  return PALETTE[i] ?? `hsl(${Math.round((i * 137.508) % 360)}, 55%, 48%)`;
}

/** An arc length of the 2^128 circle as a fraction of it (to a millionth: for drawing). */
function fractionOfCircle(arc: bigint): number {
  return Number((arc * 1_000_000n) / 2n ** 128n) / 1_000_000;
}

/** Where a hash sits on the circle, from 0 (top) clockwise to 1; the top 64 bits are plenty. */
function turn(hash: Words): number {
  return (hash[0] + hash[1] / 2 ** 32) / 2 ** 32;
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);

/** The band's middle radius and half its width; the ring is drawn around (0, 0) and moved into place with one translate. */
export const R = 200;
const HALF_BAND = 13;
/** Where the sample ids' dots sit, just inside the band. */
const INNER = R - HALF_BAND - 11;
/** The donut of shares in the middle: its radius and half its width. */
const SHARE_R = 62;
const SHARE_HALF = 9;
/** Ticks are drawn by default up to this many points... */
export const TICK_POINTS = 48;
/** ...and labelled up to this many. */
const LABEL_POINTS = 24;
/** Ids get a labelled chip when there are this few of them. */
const LABEL_IDS = 40;
/** Text sizes, in px: nothing is smaller than 12 (the page shows the picture at its own size). */
const LABEL_PX = 13;
const NAME_PX = 14;
const SMALL_PX = 12;
/** A generous average width of a sans-serif character, in em, to keep labels apart and size the picture. */
const CHAR_EM = 0.62;
const textWidth = (text: string, px: number) => text.length * CHAR_EM * px;

/** The point at turn t (0 at the top, clockwise) and radius r, around (0, 0). */
function at(t: number, r: number): [number, number] {
  const a = 2 * Math.PI * t;
  return [r * Math.sin(a), -r * Math.cos(a)];
}
const xy = ([x, y]: [number, number]) => `${x.toFixed(2)} ${y.toFixed(2)}`;
const f2 = (n: number) => n.toFixed(2);

/** A radial line at turn t from radius r1 to r2. */
function radial(t: number, r1: number, r2: number, attrs = ""): string {
  const [x1, y1] = at(t, r1);
  const [x2, y2] = at(t, r2);
  return `<line x1="${f2(x1)}" y1="${f2(y1)}" x2="${f2(x2)}" y2="${f2(y2)}"${attrs}/>`;
}

/** An axis-aligned box: x1 < x2, y1 < y2. */
interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

const overlaps = (a: Box, b: Box) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;

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

/**
 * The points' labels, outside the band: those on the right half start just outside it and
 * grow rightwards, those on the left end there and grow leftwards. On each half they go
 * down in the order of their points, at least a line apart, so close points get stacked
 * labels; a label moved off its point gets a thin leader line to it. A label that would
 * still touch something in `taken` moves outwards until it does not.
 */
function pointLabels(labels: readonly { t: number; text: string; color: string }[], taken: Box[]): string[] {
  const out: string[] = [];
  const gap = LABEL_PX + 3;
  const r = R + HALF_BAND + 14;
  for (const side of [1, -1]) {
    const mine = labels
      .map((l) => ({ ...l, want: at(l.t, r) }))
      .filter((l) => (l.want[0] >= 0 ? 1 : -1) === side)
      .sort((a, b) => a.want[1] - b.want[1]);
    let lastY = -Infinity;
    for (const l of mine) {
      const y = Math.max(l.want[1], lastY + gap);
      lastY = y;
      const width = textWidth(l.text, LABEL_PX);
      const boxAt = (x: number): Box => ({ x1: side > 0 ? x : x - width, y1: y - LABEL_PX / 2, x2: side > 0 ? x + width : x, y2: y + LABEL_PX / 2 });
      // On the circle of radius r at that height (past its top or bottom: beside the zero mark).
      let x = side * Math.max(10, Math.sqrt(Math.max(0, r * r - y * y)));
      for (let k = 0; k < 40 && taken.some((b) => overlaps(b, boxAt(x))); k++) x += side * 6;
      taken.push(boxAt(x));
      const [tx, ty] = at(l.t, R + HALF_BAND + 2);
      if (Math.hypot(x - l.want[0], y - l.want[1]) > 3) {
        out.push(`<line class="leader" x1="${f2(tx)}" y1="${f2(ty)}" x2="${f2(x - side * 2)}" y2="${f2(y)}" stroke="#999" stroke-width="0.8"/>`);
      }
      out.push(
        `<text class="point-label" x="${f2(x)}" y="${f2(y)}" text-anchor="${side > 0 ? "start" : "end"}" dominant-baseline="central" ` +
          `font-size="${LABEL_PX}" fill="${l.color}" font-weight="bold">${escapeXml(l.text)}</text>`,
      );
    }
  }
  return out;
}

/**
 * The ids' chips, inside the ring between the dots and the donut: each at the free place
 * nearest its dot (further in along its radius, or a little to either side), tied to the
 * dot by a leader line in its owner's colour. An id with no free place left keeps its dot
 * (and its tooltip) without a chip. The ids that got none.
 */
function idChips(ids: readonly { t: number; text: string; color: string }[], taken: Box[], out: string[], innermost: number): string[] {
  const h = LABEL_PX + 6;
  const unlabelled: string[] = [];
  for (const { t, text, color } of [...ids].sort((a, b) => a.t - b.t)) {
    const w = textWidth(text, LABEL_PX) + 10;
    const [dx, dy] = at(t, INNER);
    const candidates: { box: Box; centre: [number, number]; distance: number }[] = [];
    for (let r = INNER - 22; r - w / 2 >= innermost; r -= 5) {
      for (const dt of [0, 0.006, -0.006, 0.012, -0.012, 0.02, -0.02, 0.03, -0.03]) {
        const centre = at(t + dt, r);
        candidates.push({
          box: { x1: centre[0] - w / 2, y1: centre[1] - h / 2, x2: centre[0] + w / 2, y2: centre[1] + h / 2 },
          centre,
          distance: Math.hypot(centre[0] - dx, centre[1] - dy),
        });
      }
    }
    candidates.sort((a, b) => a.distance - b.distance);
    const free = candidates.find((c) => Math.hypot(c.centre[0], c.centre[1]) - Math.hypot(w, h) / 2 >= innermost && !taken.some((b) => overlaps(b, c.box)));
    if (!free) {
      unlabelled.push(text);
      continue;
    }
    taken.push(free.box);
    const [lx, ly] = at(t, INNER - 5);
    out.push(
      `<line class="leader" x1="${f2(lx)}" y1="${f2(ly)}" x2="${f2(free.centre[0])}" y2="${f2(free.centre[1])}" stroke="${color}" stroke-width="1.2"/>`,
      `<rect class="id-chip" x="${f2(free.box.x1)}" y="${f2(free.box.y1)}" width="${f2(w)}" height="${h}" rx="4" ` +
        `fill="white" stroke="${color}" stroke-width="1.5"/>`,
      `<text class="id-label" x="${f2(free.centre[0])}" y="${f2(free.centre[1])}" text-anchor="middle" dominant-baseline="central" ` +
        `font-size="${LABEL_PX}" fill="#222">${escapeXml(text)}</text>`,
    );
  }
  return unlabelled;
}

export interface RingPictureOptions {
  /** Draw every point as a tick across the band. Default: when there are at most TICK_POINTS. */
  readonly ticks?: boolean;
}

/** The SVG document: the band of coloured arcs, the points where they help, the sample ids, the legend and the key. */
export function renderRingSvg(ring: HashRing<RingMember & { url?: string }>, ids: readonly string[], options: RingPictureOptions = {}): string {
  const color = new Map(ring.nodes.map((n, i) => [n.name, nodeColor(i)]));
  const points = ring.points;
  const ticks = options.ticks ?? points.length <= TICK_POINTS;
  const drawing: string[] = []; // around (0, 0)

  // The band: each point owns the arc from the previous point up to itself; runs of one node's points merge.
  drawing.push(`<g class="arcs" fill="none" stroke-width="${2 * HALF_BAND}">`);
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

  // What labels must not cover: the zero mark, the ticks, the dots, the caption in the middle.
  const taken: Box[] = [radialBox(0, R - HALF_BAND - 6, R + HALF_BAND + 8)];
  drawing.push(radial(0, R - HALF_BAND - 6, R + HALF_BAND + 8, ` class="zero" stroke="#000" stroke-width="1.5" stroke-dasharray="4 3"`));
  if (ticks) {
    drawing.push(`<g class="ticks" stroke="#222" stroke-width="${points.length > 100 ? 0.7 : 1.5}">`);
    for (const p of points) {
      drawing.push(radial(turn(p.hash), R - HALF_BAND, R + HALF_BAND));
      taken.push(radialBox(turn(p.hash), R - HALF_BAND, R + HALF_BAND));
    }
    drawing.push(`</g>`);
  }
  // The shares in the middle: one arc per node, as long as its share, and the counts inside it.
  const shares = spaceShares(ring);
  drawing.push(`<g class="shares" fill="none" stroke-width="${2 * SHARE_HALF}">`);
  let from = 0;
  for (const n of ring.nodes) {
    const share = fractionOfCircle(shares.get(n.name)!);
    if (ring.nodes.length === 1) drawing.push(`<circle cx="0" cy="0" r="${SHARE_R}" stroke="${color.get(n.name)}"/>`);
    else if (share > 0)
      drawing.push(
        `<path d="${arcPath(from, from + share, SHARE_R)}" stroke="${color.get(n.name)}">` +
          `<title>${escapeXml(`${n.name}: ${percentOf(shares.get(n.name)!, 2)} of the circle`)}</title></path>`,
      );
    from += share;
  }
  drawing.push(`</g>`);
  const caption = [plural(ring.nodes.length, "node"), plural(points.length, "point"), "shares"];
  drawing.push(
    `<text class="caption" x="0" y="-8" text-anchor="middle" font-size="${NAME_PX + 2}" font-weight="bold" fill="#333">${caption[0]}</text>`,
    `<text class="caption" x="0" y="12" text-anchor="middle" font-size="${SMALL_PX}" fill="#555">${caption[1]}</text>`,
    `<text class="caption" x="0" y="${SHARE_R + SHARE_HALF + 16}" text-anchor="middle" font-size="${SMALL_PX}" fill="#555">${caption[2]}</text>`,
  );
  // the chips keep clear of the donut's circle, and of its caption below it
  taken.push({ x1: -30, y1: SHARE_R + SHARE_HALF + 4, x2: 30, y2: SHARE_R + SHARE_HALF + 22 });

  // Sample ids: a dot at md5(id), a dashed walk clockwise to the owning point, in the owner's colour.
  for (const id of ids) {
    const placement = ring.locate(id);
    const t = turn(md5Words(id));
    const c = color.get(placement.node.name)!;
    const pt = turn(placement.point.hash);
    const [dx, dy] = at(t, INNER);
    taken.push({ x1: dx - 6, y1: dy - 6, x2: dx + 6, y2: dy + 6 });
    drawing.push(
      `<g><title>${escapeXml(`id ${id}: md5 ${placement.keyHash} -> ${placement.point.label} (${placement.node.name})`)}</title>`,
      `<path d="${arcPath(t, pt, INNER)} L ${xy(at(pt, R - HALF_BAND))}" fill="none" stroke="${c}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
      `<circle class="id" cx="${f2(dx)}" cy="${f2(dy)}" r="4.5" fill="${c}" stroke="#222" stroke-width="0.8"/>`,
      `</g>`,
    );
  }

  // Labels: the points' outside the band (few points only), the ids' chips inside; none on a tick, a dot or another label.
  if (ticks && points.length <= LABEL_POINTS) {
    drawing.push(
      ...pointLabels(
        points.map((p) => ({ t: turn(p.hash), text: p.label, color: color.get(p.node)! })),
        taken,
      ),
    );
  }
  const unlabelled =
    ids.length <= LABEL_IDS
      ? idChips(
          ids.map((id) => ({ t: turn(md5Words(id)), text: id, color: color.get(ring.locate(id).node.name)! })),
          taken,
          drawing,
          SHARE_R + SHARE_HALF + 6,
        )
      : ids;

  // The picture around the drawing: the title above, the legend and the key on the right.
  const outer = R + HALF_BAND + 10;
  const minX = Math.min(-outer, ...taken.map((b) => b.x1));
  const maxX = Math.max(outer, ...taken.map((b) => b.x2));
  const minY = Math.min(-outer, ...taken.map((b) => b.y1));
  const maxY = Math.max(outer, ...taken.map((b) => b.y2));
  const ox = Math.ceil(20 - minX);
  const oy = Math.ceil(84 - minY);
  const legend = renderLegend(ring, color, { x: ox + Math.ceil(maxX) + 40, top: 84, ticks, ids: ids.length, unlabelled });
  const title = `Consistent hash ring: ${plural(ring.nodes.length, "node")}, ${vnodesEach(ring)}, ${plural(points.length, "point")}`;
  const subtitle = "Who owns what: each id belongs to the first point clockwise from md5(id); 0 = 2^128 at the top.";
  const width = Math.ceil(Math.max(legend.right, 20 + textWidth(title, 18) * 0.95, 20 + textWidth(subtitle, SMALL_PX + 1)) + 20);
  const height = Math.ceil(Math.max(oy + maxY + 20, legend.bottom + 20));

  return `${[
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="${LABEL_PX}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="32" font-size="18" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="20" y="54" font-size="${SMALL_PX + 1}" fill="#555">${escapeXml(subtitle)}</text>`,
    `<g class="ring" transform="translate(${ox} ${oy})">`,
    ...drawing,
    `</g>`,
    ...legend.svg,
    `</svg>`,
  ].join("\n")}\n`;
}

/** Rows of nodes above which each row is one line (share and bar), without the url and points line. */
const DETAILED_ROWS = 12;
const BAR_PX = 140;
/** Nodes above which the legend has two columns. */
const TWO_COLUMNS = 15;

/**
 * The legend at (x, top): "Who owns what", a row per node (its colour, name, exact share of
 * the circle as a figure and a bar, and, for a dozen nodes or fewer, its url and points),
 * then the key. Its SVG, its right edge and its bottom.
 */
function renderLegend(
  ring: HashRing<RingMember & { url?: string }>,
  color: ReadonlyMap<string, string>,
  { x, top, ticks, ids, unlabelled }: { x: number; top: number; ticks: boolean; ids: number; unlabelled: readonly string[] },
): { svg: string[]; right: number; bottom: number } {
  const shares = spaceShares(ring);
  const fraction = (name: string) => fractionOfCircle(shares.get(name)!);
  const largest = Math.max(...ring.nodes.map((n) => fraction(n.name)));
  const detailed = ring.nodes.length <= DETAILED_ROWS;
  const rowHeight = detailed ? 40 : 22;
  // many nodes: two columns of shorter bars, so that the legend stays about as tall as the ring
  const columns = ring.nodes.length > TWO_COLUMNS ? 2 : 1;
  const perColumn = Math.ceil(ring.nodes.length / columns);
  const bar = columns === 1 ? BAR_PX : BAR_PX / 2;
  const nameWidth = Math.max(...ring.nodes.map((n) => textWidth(n.name, NAME_PX)));
  const columnWidth = Math.ceil(22 + nameWidth + 12 + textWidth("00.00%", NAME_PX) + 10 + bar + 30);
  const svg: string[] = [`<text x="${x}" y="${top}" font-size="${NAME_PX + 1}" font-weight="bold">Who owns what (share of the circle)</text>`];
  let right = x + textWidth("Who owns what (share of the circle)", NAME_PX + 1);
  ring.nodes.forEach((n, i) => {
    const cx = x + Math.floor(i / perColumn) * columnWidth;
    const y = top + 28 + (i % perColumn) * rowHeight;
    const shareX = cx + 22 + nameWidth + 12 + textWidth("00.00%", NAME_PX); // right edge of the share figures
    const barX = shareX + 10;
    const share = percentOf(shares.get(n.name)!, 2);
    const count = ring.points.filter((p) => p.node === n.name).length;
    svg.push(
      `<g class="legend-node"><title>${escapeXml(`${n.name}${n.url ? ` ${n.url}` : ""}: ${plural(count, "point")}, ${share} of the circle`)}</title>`,
      `<rect x="${cx}" y="${y - 11}" width="14" height="14" rx="2" fill="${color.get(n.name)}"/>`,
      `<text x="${cx + 22}" y="${y}" font-size="${NAME_PX}">${escapeXml(n.name)}</text>`,
      `<text class="share" x="${f2(shareX)}" y="${y}" font-size="${NAME_PX}" text-anchor="end" font-weight="bold">${share}</text>`,
      `<rect class="bar" x="${f2(barX)}" y="${y - 10}" width="${f2(Math.max(1, (bar * fraction(n.name)) / largest))}" height="11" ` +
        `fill="${color.get(n.name)}"/>`,
      `</g>`,
    );
    right = Math.max(right, barX + bar);
    if (detailed) {
      const facts = [n.url, plural(count, "point")].filter(Boolean).join(" · ");
      svg.push(`<text x="${cx + 22}" y="${y + 17}" font-size="${SMALL_PX}" fill="#555">${escapeXml(facts)}</text>`);
      right = Math.max(right, cx + 22 + textWidth(facts, SMALL_PX));
    }
  });
  const key = renderKey(x, top + 28 + perColumn * rowHeight + 16, { ticks, points: ring.points.length, ids, unlabelled });
  return { svg: [...svg, ...key.svg], right: Math.max(right, key.right), bottom: key.bottom };
}

/** The "How to read it" block at (x, top): a sample of each mark and what it means. */
function renderKey(x: number, top: number, { ticks, points, ids, unlabelled }: { ticks: boolean; points: number; ids: number; unlabelled: readonly string[] }) {
  const lines: [string, (y: number) => string][] = [
    ["band: the circle, each part in the colour of its owner", (y) => `<line x1="${x}" y1="${y}" x2="${x + 16}" y2="${y}" stroke="#4e79a7" stroke-width="9"/>`],
    ticks
      ? [
          'tick: a point, md5("name:i"); it owns the arc up to it',
          (y) => `<line x1="${x + 8}" y1="${y - 8}" x2="${x + 8}" y2="${y + 8}" stroke="#222" stroke-width="1.5"/>`,
        ]
      : [`the ${plural(points, "point")} are not drawn (ring draw --ticks)`, () => ""],
    ...(ids > 0
      ? ([
          [
            "dot and chip: a sample id at md5(id), in its owner's colour",
            (y) =>
              `<circle cx="${x + 4}" cy="${y}" r="4.5" fill="#4e79a7" stroke="#222" stroke-width="0.8"/>` +
              `<rect x="${x + 9}" y="${y - 6}" width="10" height="12" rx="3" fill="white" stroke="#4e79a7" stroke-width="1.5"/>`,
          ],
          [
            "dashes: the id's walk clockwise to its point",
            (y) => `<line x1="${x}" y1="${y}" x2="${x + 16}" y2="${y}" stroke="#4e79a7" stroke-width="1.5" stroke-dasharray="4 3"/>`,
          ],
        ] as [string, (y: number) => string][])
      : []),
    ...(unlabelled.length > 0
      ? ([[`no room for a chip: ${unlabelled.length === ids ? "every id" : `ids ${listIds(unlabelled, 8)}`} (the dots have tooltips)`, () => ""]] as [
          string,
          (y: number) => string,
        ][])
      : []),
    [
      "dashed mark at the top: 0 = 2^128",
      (y) => `<line x1="${x + 8}" y1="${y - 8}" x2="${x + 8}" y2="${y + 8}" stroke="#000" stroke-width="1.5" stroke-dasharray="4 3"/>`,
    ],
  ];
  const svg = [`<text x="${x}" y="${top}" font-size="${NAME_PX + 1}" font-weight="bold">How to read it</text>`];
  const row = (i: number) => top + 26 + i * 22;
  lines.forEach(([text, sample], i) => {
    svg.push(sample(row(i) - 4), `<text x="${x + 26}" y="${row(i)}" font-size="${SMALL_PX}" fill="#444">${escapeXml(text)}</text>`);
  });
  return { svg, right: x + 26 + Math.max(...lines.map(([text]) => textWidth(text, SMALL_PX))), bottom: row(lines.length - 1) + 8 };
}
