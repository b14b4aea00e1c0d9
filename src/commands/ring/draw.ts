/** `shardctl ring draw --out ring.svg`: the whiteboard picture of the ring (src/cli-output/ring-svg.ts). */
import { writeFileSync } from "node:fs";
import { defineCommand } from "citty";
import { renderRingSvg, TICK_POINTS } from "../../cli-output/ring-svg.ts";
import { plural } from "../../cli-output/words.ts";
import { errorMessage, JobFailed, UsageError } from "../../errors.ts";
import { ringInForce } from "../_ring.ts";
import { idsArg, ringArgs } from "../_args.ts";
import { parseSample } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "draw",
    description:
      "Draw the ring as SVG: who owns which part of it, where sample ids go\n\n" +
      "shardctl ring draw --out ring.svg (or > ring.svg): each node's share of the circle as arcs in its color, sample ids " +
      "walking clockwise to their owner, a legend with each node's share; the points as ticks when there are few of them (or with --ticks).",
  },
  args: {
    ...ringArgs,
    ids: { ...idsArg.ids, description: "Sample ids to place on the ring: A..B, a comma list, or both (default: 1..10)" },
    out: { type: "string", valueHint: "FILE", description: "Write the SVG to FILE (else to stdout, which must not be a terminal)" },
    ticks: { type: "boolean", description: `Draw every point as a tick (default: only when there are at most ${TICK_POINTS})` },
  },
  run({ args }) {
    if (args.out === undefined && process.stdout.isTTY) {
      throw new UsageError("this writes SVG, not text for a terminal: give --out ring.svg, or redirect (> ring.svg)");
    }
    if (args.out === "") throw new UsageError("--out needs a file name, e.g. --out ring.svg");
    const ring = ringInForce(args).ring.placement;
    const ids = parseSample(args.ids, "1..10").ids;
    const svg = renderRingSvg(ring, ids, { ticks: args.ticks });
    if (args.out === undefined) {
      // console.log, not process.stdout.write: a reader that stops early (`| head`) must not
      // turn into an EPIPE crash with exit status 1.
      console.log(svg.trimEnd());
      return;
    }
    try {
      writeFileSync(args.out, svg);
    } catch (e) {
      throw new JobFailed(`cannot write ${args.out}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`);
    }
    console.log(`wrote ${args.out}: ${plural(ring.nodes.length, "node")}, ${plural(ring.points.length, "point")}, ${plural(ids.length, "sample id")}`);
  },
});
