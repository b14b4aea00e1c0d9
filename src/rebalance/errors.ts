/**
 * How a rebalance fails: bad usage is the program's UsageError (exit 2: nothing was
 * changed); anything found while it runs is a RebalanceFailed (exit 1) naming the step,
 * and the node and record when there are ones. Running the same command again resumes.
 */
import { failureReason } from "../client/errors.ts";
import { Interrupted, JobFailed } from "../errors.ts";
import type { Participant } from "./participant.ts";
import type { RebalanceStep } from "./protocol.ts";
import type { RebalanceReport } from "./report.ts";

/** Stopped by Ctrl-C at a safe point: exit 130, with the report of what this run did until then. */
export class RebalanceInterrupted extends Interrupted {
  constructor(
    message: string,
    readonly report: RebalanceReport & { readonly outcome: "interrupted"; readonly stopped: NonNullable<RebalanceReport["stopped"]> },
  ) {
    super(message);
  }
}

export class RebalanceFailed extends JobFailed {
  constructor(
    readonly step: RebalanceStep,
    message: string,
    readonly where: { readonly node?: string; readonly record?: string } = {},
  ) {
    super(`${step}: ${message}`);
  }
}

/**
 * Every call of the job to a node goes through here: `call` as a RebalanceFailed of `step`
 * naming the node and, when given, the first record of the call (a RebalanceFailed from
 * inside is passed on as it is).
 */
export async function onNode<T>(step: RebalanceStep, node: Participant, call: () => Promise<T>, record?: string): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof RebalanceFailed) throw e;
    const about = record === undefined ? "" : ` (records from ${record})`;
    throw new RebalanceFailed(step, `node ${node.name} (${node.url})${about}: ${failureReason(e)}`, { node: node.name, record });
  }
}
