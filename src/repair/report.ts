/**
 * What `shardctl repair` as a library tells its caller: progress while it runs, and the
 * report at the end (cli-output/repair-report.ts renders it; --json prints it as it is).
 */
import type { Expense } from "../expenses/model.ts";
import type { RepairStep } from "./errors.ts";

/** Which copy wins where a stray copy differs from its owner's: the owner's (default), the stray's, or neither (both left, reported). */
export const PREFERENCES = ["owner", "stray", "none"] as const;
export type Prefer = (typeof PREFERENCES)[number];

/** Ids looked at of all the nodes hold (the scan), as they are. */
export interface RepairProgress {
  readonly step: RepairStep;
  readonly done: number;
  readonly total: number;
}

/** A stray copy that differs from its owner's copy: both records, the fields, and the one kept. */
export interface Difference {
  readonly id: string;
  readonly owner: string;
  /** The node the stray copy was on. */
  readonly node: string;
  readonly fields: readonly string[];
  readonly ownerCopy: Expense;
  readonly strayCopy: Expense;
  /** owner: the stray copy was removed; stray: it replaced the owner's; both: left where they are (--prefer none, or no single stray to prefer). */
  readonly kept: "owner" | "stray" | "both";
}

/** A record the repair left off its owner, and why. */
export interface Unresolved {
  readonly id: string;
  readonly owner: string;
  /** The nodes holding the copies left. */
  readonly nodes: readonly string[];
  readonly problem: string;
}

export interface RepairNodeReport {
  readonly node: string;
  readonly url: string;
  /** The ring it holds (null: none). */
  readonly ring: string | null;
  /** Records it held at the start (its own count). */
  readonly records: number;
  /** Of those, copies whose owner is another node. */
  readonly strays: number;
}

export interface RepairReport {
  /**
   * repaired: the records agree with the ring now; nothing-to-do: they did already; dry-run:
   * the counts, nothing changed; unresolved: some are still off their owner (`unresolved`).
   */
  readonly outcome: "repaired" | "nothing-to-do" | "dry-run" | "unresolved";
  /** The ring the records were placed by, and where it came from: the ring the instances hold, or the options (instances that hold none). */
  readonly ring: string;
  readonly ringFrom: "cluster" | "options";
  readonly prefer: Prefer;
  readonly nodes: readonly RepairNodeReport[];
  /** Stray copies found, by the node they were on and the id's owner. */
  readonly pairs: readonly { readonly from: string; readonly to: string; readonly copies: number }[];
  /** Ids found off their owner, and the copies of them (an id may be on two nodes besides its owner). */
  readonly found: { readonly ids: number; readonly copies: number };
  /** Records stored on their owner, which had none (in a dry run: would be). */
  readonly placed: number;
  /** Stray copies equal to the owner's. */
  readonly same: number;
  /** Stray copies that differ from the owner's. */
  readonly differing: readonly Difference[];
  /** Ids deleted on their owner while the repair ran (or after an earlier run placed them): their stray copies go, the record stays deleted. */
  readonly deletedOnOwner: number;
  /** Stray copies deleted (in a dry run: would be). */
  readonly removed: number;
  readonly unresolved: readonly Unresolved[];
  /** Stray copies the check after the repair still found (undefined in a dry run). */
  readonly remaining?: number;
  /** Ids looked at, on all nodes. */
  readonly scanned: number;
  readonly elapsedMs: number;
}
