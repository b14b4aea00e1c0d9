import { defineCommand } from "citty";
import { numeric, optional, renderTable } from "../../cli-output/table.ts";
import { count } from "../../cli-output/words.ts";
import { ringInForce } from "../_ring.ts";
import { idsArg, jsonArg, ringArgs } from "../_args.ts";
import { parseIds } from "../_parse.ts";

export default defineCommand({
  meta: {
    name: "ring",
    description: "Print which node owns each id (no HTTP)\n\nThe mapping `client run` uses, and how many ids each node owns.",
  },
  args: { ...ringArgs, ...idsArg, ...jsonArg },
  run({ args }) {
    const { ring } = ringInForce(args);
    const rows = parseIds(args.ids).map((id) => {
      const node = ring.ownerOf(id);
      return { id, node: node.name, url: node.url };
    });
    if (args.json) {
      console.log(JSON.stringify(rows, null, 2));
      return;
    }
    console.log(
      renderTable(
        [numeric("id"), "node", optional("url")],
        rows.map((r) => [r.id, r.node, r.url]),
      ),
    );
    const counts = new Map(ring.nodes.map((n) => [n.name, 0]));
    for (const r of rows) counts.set(r.node, counts.get(r.node)! + 1);
    console.log();
    console.log(
      renderTable(
        ["node", optional("url"), numeric("ids")],
        ring.nodes.map((n) => [n.name, n.url, count(counts.get(n.name)!)]),
      ),
    );
  },
});
