/** `shardctl ring draw > ring.svg`: the whiteboard picture of the ring (src/cli-output/ring-svg.ts). */
import { defineCommand } from "citty";
import { renderRingSvg } from "../../cli-output/ring-svg.ts";
import { ringInForce } from "../../ring/in-force.ts";
import { idsArg, ringArgs } from "../_args.ts";
import { parseSample } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "draw",
    description:
      "Draw the ring as SVG on stdout (shardctl ring draw > ring.svg): each node's arcs in its color, the points, sample ids walking clockwise to their owner, a legend",
  },
  args: {
    ...ringArgs,
    ids: { ...idsArg.ids, description: "Sample ids to place on the ring: A..B, a comma list, or both (default: 1..10)" },
  },
  run({ args }) {
    const ring = ringInForce(args).ring.placement;
    // console.log, not process.stdout.write: a reader that stops early (`| head`) must not
    // turn into an EPIPE crash with exit status 1.
    console.log(renderRingSvg(ring, parseSample(args.ids, "1..10").ids).trimEnd());
  },
});
