/** `shardctl ring diff --add NAME=HOST:PORT | --remove NAME`: what a change of membership would move. */
import { defineCommand } from "citty";
import { JobFailed, UsageError } from "../../errors.ts";
import { assertDistinct, HashRing, NodeListError, parseNode, percentOf, RingError, transfers, type Node, type Transfer } from "../../ring/index.ts";
import { ringInForce } from "../_ring.ts";
import { jsonArg, ringArgs } from "../_args.ts";
import { numeric, renderTable } from "../../cli-output/table.ts";
import { count, plural, vnodesEach } from "../../cli-output/words.ts";
import { parseSample, percent, sampleArg, shareJson } from "./_shared.ts";

interface Change {
  readonly added?: Node;
  readonly removed?: string;
  readonly nodes: Node[];
}

/** The node list after removing `remove` and then adding `add`, each checked against the ring. */
function applyChange(nodes: readonly Node[], add: string | undefined, remove: string | undefined): Change {
  if (add === undefined && remove === undefined) {
    throw new UsageError("give --add NAME=HOST:PORT[:WEIGHT] or --remove NAME (or both, to replace a node)");
  }
  let after = [...nodes];
  if (remove !== undefined) {
    if (!after.some((n) => n.name === remove)) {
      throw new UsageError(`--remove ${remove}: no such node; the nodes are ${nodes.map((n) => n.name).join(", ")}`);
    }
    after = after.filter((n) => n.name !== remove);
    if (after.length === 0 && add === undefined) throw new UsageError(`--remove ${remove}: it is the only node`);
  }
  if (add === undefined) return { removed: remove, nodes: after };
  try {
    const added = parseNode(add);
    assertDistinct([...after, added]);
    return { added, removed: remove, nodes: [...after, added] };
  } catch (e) {
    if (e instanceof NodeListError) throw new UsageError(`--add ${add}: ${e.message}`);
    throw e;
  }
}

export default defineCommand({
  meta: {
    name: "diff",
    description:
      "What adding or removing a node would move\n\n" +
      "The share of the hash space and of a sample of ids going from which node to which, and proof that nothing else moves.",
  },
  args: {
    add: { type: "string", valueHint: "NAME=HOST:PORT[:WEIGHT]", description: "A node to add (with --remove as well: a replacement)" },
    remove: { type: "string", valueHint: "NAME", description: "The name of a node to remove" },
    ...ringArgs,
    ...sampleArg,
    ...jsonArg,
  },
  run({ args }) {
    const before = ringInForce(args).ring.placement;
    const change = applyChange(before.nodes, args.add, args.remove);
    let after: HashRing;
    try {
      after = new HashRing(change.nodes, { vnodes: before.vnodes });
    } catch (e) {
      if (e instanceof RingError) throw new UsageError(`--add ${args.add}: ${e.message}`);
      throw e;
    }
    const sample = parseSample(args.ids);

    const all = transfers(before, after, sample.ids);
    const moves = all.filter((t) => t.from !== t.to);
    const sum = (ts: Transfer[]) => ({
      space: ts.reduce((a, t) => a + t.space, 0n),
      keys: ts.reduce((a, t) => a + t.keys, 0),
    });
    const moved = sum(moves);
    const stays = sum(all.filter((t) => t.from === t.to));
    // Consistent hashing promises that keys only leave the removed node or join the added one.
    const stray = moves.filter((t) => t.from !== change.removed && t.to !== change.added?.name);
    const n = sample.ids.length;

    if (args.json) {
      const added = change.added && {
        ...change.added,
        points: after.points.filter((p) => p.node === change.added!.name).length,
      };
      const out = {
        add: added ?? null,
        remove: change.removed ?? null,
        vnodes: before.vnodes,
        sample: n,
        moves: moves.map((t) => ({ from: t.from, to: t.to, ...shareJson(t.space, t.keys, n) })),
        moved: shareJson(moved.space, moved.keys, n),
        stays: shareJson(stays.space, stays.keys, n),
        onlyChangedNodesMove: stray.length === 0,
      };
      console.log(JSON.stringify(out, null, 2));
    } else {
      const what = [
        change.removed !== undefined && `remove ${change.removed}`,
        change.added && `add ${change.added.name} (${change.added.url}, weight ${change.added.weight})`,
      ].filter(Boolean);
      console.log(
        `${what.join(", ")}: ${before.nodes.length} -> ${plural(after.nodes.length, "node")}, ` +
          `${vnodesEach({ vnodes: before.vnodes, nodes: [...before.nodes, ...after.nodes] })}; sample: ${plural(n, "id")} (${sample.spec})\n`,
      );
      const row = (from: string, to: string, s: { space: bigint; keys: number }) => [
        from,
        to,
        percentOf(s.space),
        count(s.keys),
        percent(n === 0 ? 0 : s.keys / n),
      ];
      const rows = moves.map((t) => row(t.from, t.to, t));
      const columns = ["from", "to", ...["space", "ids", "ids %"].map(numeric)];
      console.log(renderTable(columns, rows, [row("moves", "", moved), row("stays", "", stays)]));
      const onto = [change.removed !== undefined && `leaves ${change.removed}`, change.added && `moves onto ${change.added.name}`].filter(Boolean);
      console.log(
        stray.length === 0
          ? `\nNothing else moves: over the whole 2^128 circle and all ${plural(n, "sample id")}, ` + `every key keeps its node or ${onto.join(" or ")}.`
          : `\nUNEXPECTED: ${plural(stray.length, "transfer")} between nodes the change does not touch.`,
      );
    }
    if (stray.length > 0) {
      throw new JobFailed(`keys move between untouched nodes: ${stray.map((t) => `${t.from} -> ${t.to}`).join(", ")}`);
    }
  },
});
