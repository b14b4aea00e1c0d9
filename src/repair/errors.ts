/**
 * How a repair fails: bad usage is the program's UsageError (exit 2: nothing was changed);
 * anything found while it runs is a RepairFailed (exit 1) naming the step, and the node when
 * there is one. Running the same command again goes on where the records say.
 */
import { failureReason } from "../client/errors.ts";
import { JobFailed, UsageError } from "../errors.ts";
import { AdminAnswerError } from "../rebalance/participant.ts";

/** The steps of a repair, in order (src/repair/run.ts). */
export const REPAIR_STEPS = ["survey", "begin", "scan", "place", "remove", "check", "end"] as const;
export type RepairStep = (typeof REPAIR_STEPS)[number];

export class RepairFailed extends JobFailed {
  constructor(
    readonly step: RepairStep,
    message: string,
    readonly where: { readonly node?: string } = {},
  ) {
    super(`${step}: ${message}`);
  }
}

/**
 * `call` to `node`, its failure a RepairFailed of `step` naming the node (a RepairFailed from
 * inside passes as it is); a refused admin request is bad usage (exit 2), with the fix.
 */
export async function atNode<T>(step: RepairStep, node: { readonly name: string; readonly url: string }, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof RepairFailed) throw e;
    if (e instanceof AdminAnswerError && e.status === 403) {
      throw new UsageError(`node ${node.name} (${node.url}) refuses admin requests: ${e.answer} (give the cluster's token in SHARDCTL_ADMIN_TOKEN)`);
    }
    throw new RepairFailed(step, `node ${node.name} (${node.url}): ${failureReason(e)}`, { node: node.name });
  }
}
