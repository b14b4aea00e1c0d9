/**
 * What `shardctl rebalance` as a library tells its caller: events while it runs (a step
 * begun, records done, a takeover), and the report at the end (cli-output/rebalance-report.ts
 * renders it; --json prints it as it is).
 */
import type { Takeover } from "./lease.ts";
import type { FenceFigures, PlanAnswer, RebalanceProgress, RebalanceStep } from "./protocol.ts";
import type { Survey } from "./survey.ts";
import type { PassCounts } from "./sync.ts";

/** Records done of a step's total, as they are done (copy, verify, cleanup). */
export interface ProgressEvent {
  readonly step: RebalanceStep;
  readonly done: number;
  readonly total: number;
}

/** What happens as the job runs, worth telling a person. */
export type RebalanceEvent =
  /** A step begins. */
  | { readonly kind: "step"; readonly step: RebalanceStep }
  /** This run took the rebalance over from a process found gone; `message` says so in words (as the report's `tookOver`). */
  | ({ readonly kind: "took-over"; readonly message: string } & Takeover);

/** The words of a takeover, in the event and the report. */
export function tookOverMessage(job: string, { from, why }: Takeover): string {
  return `took over rebalance ${job} from pid ${from.pid} on ${from.host}: ${why}`;
}

/** The plan, from the data: records per old owner -> new owner. */
export interface Plan {
  readonly pairs: readonly { readonly from: string; readonly to: string; readonly records: number }[];
  /** Records that move. */
  readonly moving: number;
  /** What each node holds: its records, those that stay, those already on their new owner (copies of an earlier run), strays. */
  readonly nodes: readonly ({ readonly node: string } & Omit<PlanAnswer, "moves">)[];
}

export interface FenceReport extends FenceFigures {
  /** Ids compared again under the fence. */
  readonly compared: number;
}

/** Milliseconds each step of a run took, in order. */
export type StepTimes = Partial<Record<RebalanceStep, number>> & {
  /** @deprecated the finish's time under the name earlier releases gave it: read `finish`. */
  done?: number;
};

/** Where a run stopped by Ctrl-C was: the step under way, and the job's progress then. */
export interface Stopped {
  readonly during: RebalanceStep;
  readonly progress: RebalanceProgress;
}

export interface RebalanceReport {
  /** interrupted: stopped by Ctrl-C (the report of RebalanceInterrupted: what was done until then). */
  readonly outcome: "done" | "already-done" | "dry-run" | "interrupted";
  readonly job: string;
  readonly from: string;
  readonly to: string;
  /** What this run found: a new rebalance, an unfinished one it took up, or one already done. */
  readonly found: Survey["status"];
  /** Who held the unfinished rebalance before, when this run took it over. */
  readonly tookOver?: string;
  readonly plan?: Plan;
  readonly copy?: PassCounts & { readonly ms: number; readonly perSecond: number };
  readonly catchUp?: { readonly ids: number; readonly entries: number };
  readonly verify?: PassCounts & { readonly ms: number };
  readonly fence?: FenceReport;
  /** The nodes this run switched to the new ring, in order. */
  readonly switched: readonly string[];
  readonly cleanup?: { readonly deleted: number } | { readonly kept: true };
  /** Milliseconds each step of this run took, in order (survey and lease included). */
  readonly steps: Readonly<StepTimes>;
  /** An interrupted run: where it stopped. */
  readonly stopped?: Stopped;
  readonly elapsedMs: number;
}
