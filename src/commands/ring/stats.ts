/** `shardctl ring stats`: how evenly the ring spreads the hash space and a sample of ids. */
import { defineCommand } from "citty";
import { fractionOf, percentOf, sampleShares, spaceShares } from "../../ring/index.ts";
import { ringInForce } from "../_ring.ts";
import { jsonArg, ringArgs } from "../_args.ts";
import { numeric, renderTable } from "../../cli-output/table.ts";
import { count, plural, vnodesEach } from "../../cli-output/words.ts";
import { maxOverFair, parseSample, percent, sampleArg, shareJson } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "stats",
    description:
      "Balance of the ring: each node's share of the hash space and of ids\n\n" +
      "Per node its points, its exact share of the 2^128 hash space (arc lengths) and of a sample of ids, and max/mean of both.",
  },
  args: { ...ringArgs, ...sampleArg, ...jsonArg },
  run({ args }) {
    const ring = ringInForce(args).ring.placement;
    const sample = parseSample(args.ids);
    const space = spaceShares(ring);
    const ids = sampleShares(ring, sample.ids);

    const points = new Map(ring.nodes.map((n) => [n.name, 0]));
    for (const p of ring.points) points.set(p.node, points.get(p.node)! + 1);
    const spaceFractions = new Map([...space].map(([name, arc]) => [name, fractionOf(arc)]));
    const idFractions = new Map([...ids].map(([name, n]) => [name, n / sample.ids.length]));
    const balance = { space: maxOverFair(spaceFractions, ring), sample: maxOverFair(idFractions, ring) };

    if (args.json) {
      const nodes = ring.nodes.map((n) => ({
        node: n.name,
        url: n.url,
        weight: n.weight,
        points: points.get(n.name)!,
        ...shareJson(space.get(n.name)!, ids.get(n.name)!, sample.ids.length),
      }));
      const summary = { vnodes: ring.vnodes, points: ring.points.length, sample: sample.ids.length, nodes };
      console.log(JSON.stringify({ ...summary, maxOverMean: balance }, null, 2));
      return;
    }
    const rows = ring.nodes.map((n) => [
      n.name,
      String(n.weight),
      count(points.get(n.name)!),
      percentOf(space.get(n.name)!),
      count(ids.get(n.name)!),
      percent(idFractions.get(n.name)!),
    ]);
    const foot = ["max/mean", "", "", balance.space.toFixed(4), "", balance.sample.toFixed(4)];
    console.log(
      `${plural(ring.nodes.length, "node")}, ${vnodesEach(ring)}, ${plural(ring.points.length, "point")}; ` +
        `sample: ${plural(sample.ids.length, "id")} (${sample.spec})\n`,
    );
    const columns = ["node", ...["weight", "points", "space", "ids", "ids %"].map(numeric)];
    console.log(renderTable(columns, rows, [foot]));
    console.log(
      "\nspace: exact share of the 2^128 hash circle (BigInt sum of the arcs each node's points own).\n" +
        "ids: how many of the sample ids the node owns.\n" +
        "max/mean: the largest share over its fair share (weight / total weight); 1 is perfect balance.",
    );
  },
});
