/** `shardctl ring show <id>...`: where each id goes, and why. */
import { defineCommand } from "citty";
import { UsageError } from "../../errors.ts";
import { canonicalId } from "../../expenses/id.ts";
import { ringInForce } from "../_ring.ts";
import { jsonArg, ringArgs, wideArg } from "../_args.ts";
import { numeric, optional, renderTableOrBlocks, tableWidth } from "../../cli-output/table.ts";
import { plural, vnodesEach } from "../../cli-output/words.ts";

export default defineCommand({
  meta: {
    name: "show",
    description:
      "Where each id goes, and why\n\n" +
      "For each id: md5(id), the first point strictly above it (wrapping past the largest), that point's node and vnode, " +
      "and the node's url. The hashes are never cut: a terminal too narrow for the table gets one block per id.",
  },
  args: {
    ids: {
      type: "positional",
      description: "One or more expense ids in canonical form (7, not 007 or 7.0)",
      required: true,
    },
    ...ringArgs,
    ...wideArg,
    ...jsonArg,
  },
  run({ args }) {
    const ids = args._.map(String);
    for (const id of ids) {
      const r = canonicalId(id);
      if (!r.ok) throw new UsageError(`id ${r.problem}`);
    }
    const ring = ringInForce(args).ring.placement;

    const placements = ids.map((id) => ring.locate(id));
    if (args.json) {
      const out = placements.map((p) => ({
        id: p.key,
        node: p.node.name,
        url: p.node.url,
        hash: p.keyHash,
        point: p.point.hex,
        vnode: p.point.label,
        pointIndex: p.pointIndex,
        wrapped: p.wrapped,
      }));
      console.log(JSON.stringify(out, null, 2));
      return;
    }
    // The hashes are what this command shows: never cut. The url (the node's name says where) gives way first,
    // and a terminal too narrow for the rest gets one block per id.
    // vnode numbers only where a node has several points (one point is md5 of the name alone)
    const perNode = ring.nodes.map((n) => ring.points.filter((p) => p.node === n.name).length);
    const numbered = perNode.some((k) => k > 1);
    const rows = placements.map((p) => [
      p.key,
      p.node.name,
      p.keyHash,
      p.point.hex + (p.wrapped ? " (wrapped)" : ""),
      ...(numbered ? [p.point.label === p.node.name ? "-" : p.point.label.slice(p.node.name.length + 1)] : []),
      p.node.url,
    ]);
    const columns = [numeric("id"), "node", "md5(id)", "point", ...(numbered ? ["vnode"] : []), optional("url")];
    console.log(renderTableOrBlocks(columns, rows, { maxWidth: tableWidth(args.wide) }));
    const hashed = [
      ...(numbered ? ['The point of vnode i is md5("<node>:<i>")'] : []),
      ...(perNode.some((k) => k === 1) ? ['the point of a node with one point is md5("<node>")'] : []),
    ].join("; ");
    console.log(
      `\nAn id belongs to the node of the first of the ring's ${plural(ring.points.length, "point")}\n` +
        `(${plural(ring.nodes.length, "node")}, ${vnodesEach(ring)}) strictly greater than md5(id);\n` +
        `past the largest point it wraps to the smallest.\n${hashed.charAt(0).toUpperCase()}${hashed.slice(1)}.`,
    );
  },
});
