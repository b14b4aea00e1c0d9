/** The plan of a rebalance, from every node's data (POST /rebalance/plan): what moves from where to where. */
import { onNode } from "./errors.ts";
import type { Plan } from "./report.ts";
import type { Survey } from "./survey.ts";

export async function planOf(survey: Survey): Promise<Plan> {
  const { move } = survey;
  const [from, to] = [move.from.toJSON(), move.to.toJSON()];
  const answers = await Promise.all(
    survey.nodes.map(async (n) => ({
      node: n.admin.name,
      ...(await onNode("plan", n.admin, () => n.admin.plan({ ...from, label: move.from.label }, { ...to, label: move.to.label }))),
    })),
  );
  const pairs = answers
    .flatMap((a) => a.moves.map((m) => ({ from: a.node, to: m.to, records: m.records })))
    .sort((x, y) => (`${x.from}\0${x.to}` < `${y.from}\0${y.to}` ? -1 : 1));
  return {
    pairs,
    moving: pairs.reduce((s, p) => s + p.records, 0),
    nodes: answers.map(({ moves: _, ...rest }) => rest),
  };
}
