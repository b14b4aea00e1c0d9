/**
 * How a rebalance fails: bad usage is the program's UsageError (exit 2: nothing was
 * changed); anything found while it runs is a RebalanceFailed (exit 1) naming the step,
 * and the node and record when there are ones. Running the same command again resumes.
 */
import { JobFailed } from "../errors.ts";

export type RebalanceStepName = "survey" | "plan" | "lease" | "copy" | "catch-up" | "verify" | "fence" | "switch" | "cleanup" | "finish";

export class RebalanceFailed extends JobFailed {
  constructor(
    readonly step: RebalanceStepName,
    message: string,
    readonly where: { readonly node?: string; readonly record?: string } = {},
  ) {
    super(`${step}: ${message}`);
  }
}
