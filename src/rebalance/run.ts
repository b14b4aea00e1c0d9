/**
 * `shardctl rebalance` as a library: moves every record whose owner differs between two
 * rings, online, and answers a report (it prints nothing).
 *
 *   survey     every node up, its ring, the rebalance it takes part in (survey.ts)
 *   lease      this process holds the job on every node (lease.ts); the move starts:
 *              leaving ids stay served by their old owner, their writes logged
 *   copy       one comparison pass, old owner -> new owner (sync.ts)
 *   catch-up   the change log replayed
 *   verify     a token rotation (no copy request of before runs after it), then a second
 *              full comparison, outside the fence: missing, extra, different, fixed
 *   fence      writes to leaving ids wait (503); the change log since is replayed and
 *              those ids, and the ones the verification fixed, compared again; anything
 *              still different lifts the fence and fails: no switch
 *   switch     every node takes the new ring, targets first
 *   cleanup    the moved records deleted from their old owners (unless keepData)
 *   finish     every node: done, lease released
 *
 * Every step can run again: a run killed at any point is resumed by the next one (the
 * phase each node's database holds says where), and a run after the end does nothing.
 */
import { Interrupted } from "../errors.ts";
import { compareIds as byId } from "../expenses/id.ts";
import { transfers } from "../ring/analysis.ts";
import type { Ring } from "../ring/ring.ts";
import type { FenceFigures, PlanAnswer, RebalanceDetail, RebalanceProgress, RebalanceStep } from "./protocol.ts";
import { RebalanceFailed } from "./errors.ts";
import { Lease } from "./lease.ts";
import type { AdminOptions, NodeAdmin } from "./node-admin.ts";
import { surveyCluster, type Survey } from "./survey.ts";
import { catchUp, compareIds, copyIds, dropLogged, onNode, readWholeLog, syncPass, type Mismatch, type PassCounts, type SyncContext } from "./sync.ts";

export interface RebalanceOptions extends AdminOptions {
  /** The new ring: a larger epoch than the old one. */
  readonly to: Ring;
  /** The old ring; undefined: the ring the instances hold (or the one their unfinished rebalance left). */
  readonly from?: Ring;
  /** Only the plan, from the data: nothing changes. */
  readonly dryRun?: boolean;
  /** Leave the moved records on their old owners. */
  readonly keepData?: boolean;
  /** Import requests in flight at once (default 4). */
  readonly concurrency?: number;
  /** Records per request (default 1000). */
  readonly batchSize?: number;
  /** Ctrl-C: stop at the next safe point, give the lease up, throw Interrupted. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ProgressEvent) => void;
  /** Lines worth telling a person as they happen (a takeover, a step begun). */
  readonly onNote?: (line: string) => void;
}

export interface ProgressEvent {
  readonly step: RebalanceStep;
  readonly done: number;
  readonly total: number;
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

export interface RebalanceReport {
  readonly outcome: "done" | "already-done" | "dry-run";
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
  readonly steps: Readonly<Partial<Record<RebalanceStep | "survey" | "lease", number>>>;
  readonly elapsedMs: number;
}

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_BATCH = 1000;
const CLEANUP_BATCH = 5000;

export async function rebalance(options: RebalanceOptions): Promise<RebalanceReport> {
  const started = performance.now();
  const steps: Partial<Record<RebalanceStep | "survey" | "lease", number>> = {};
  const survey = await surveyCluster(options.to, options.from, options);
  steps.survey = Math.round(performance.now() - started);
  const { move } = survey;
  const base = { job: move.job, from: move.from.label, to: move.to.label, found: survey.status, switched: [], steps };
  const elapsedMs = () => Math.round(performance.now() - started);
  if (options.dryRun) return { ...base, outcome: "dry-run", plan: await planOf(survey), elapsedMs: elapsedMs() };
  if (survey.status === "done") return { ...base, outcome: "already-done", elapsedMs: elapsedMs() };

  const leasing = performance.now();
  const { lease, records, tookOver } = await Lease.acquire(move, survey.nodes);
  steps.lease = Math.round(performance.now() - leasing);
  if (tookOver) options.onNote?.(tookOver);
  const job = new Job(survey, lease, records, options, steps);
  try {
    await job.run();
  } catch (e) {
    await lease.release();
    throw e;
  } finally {
    job.close();
    lease.end();
  }
  return { ...base, outcome: "done", tookOver, ...job.report, switched: job.switched, elapsedMs: elapsedMs() };
}

/** One run of a leased rebalance, from wherever the nodes say it stands. */
class Job {
  readonly report: { -readonly [K in "plan" | "copy" | "catchUp" | "verify" | "fence" | "cleanup"]?: RebalanceReport[K] } = {};
  readonly switched: string[] = [];
  readonly #ctx: SyncContext;
  readonly #progress: RebalanceProgress = { step: "plan", copied: 0, toCopy: 0 };
  /** The job's stop: Ctrl-C (Interrupted) or a lease taken over (RebalanceFailed), as its reason. */
  readonly #stop = new AbortController();
  readonly #onInterrupt = () =>
    this.#stop.abort(new Interrupted(`interrupted during ${this.#progress.step}; the rebalance stays where it is: run the same command again to go on`));
  /** The nodes leased (those where the rebalance is not done yet), by name. */
  readonly #leased: readonly NodeAdmin[];
  #stepStarted: number | undefined;
  /** Ids the verification wrote, by their old owner: compared again under the fence. */
  readonly #fixed = new Map<string, Set<string>>();

  constructor(
    readonly survey: Survey,
    readonly lease: Lease,
    readonly records: ReadonlyMap<string, RebalanceDetail>,
    readonly options: RebalanceOptions,
    private readonly steps: Partial<Record<RebalanceStep, number>>,
  ) {
    if (options.signal?.aborted) this.#onInterrupt();
    options.signal?.addEventListener("abort", this.#onInterrupt, { once: true });
    this.#leased = survey.nodes.filter((n) => records.has(n.admin.name)).map((n) => n.admin);
    this.#ctx = {
      move: survey.move,
      nodes: new Map(survey.nodes.map((n) => [n.admin.name, n.admin])),
      token: () => lease.token,
      batchSize: options.batchSize ?? DEFAULT_BATCH,
      concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
      signal: this.#stop.signal,
    };
    lease.startHeartbeat(
      () => ({ progress: { ...this.#progress }, fence: this.report.fence }),
      (why) => this.#stop.abort(new RebalanceFailed("lease", `another process took the rebalance over (${why}); this one stops`)),
    );
  }

  async run(): Promise<void> {
    const phases = [...this.records.values()].map((r) => r.phase);
    // A node already done means every node switched and was cleaned up: only the finish is left.
    const finishing = this.#leased.length < this.survey.nodes.length;
    if (!finishing) {
      const moving = !phases.includes("fenced") && !phases.includes("switched");
      if (moving) await this.#copyAndVerify();
      else this.#progress.copied = this.#progress.toCopy = Math.max(0, ...[...this.records.values()].map((r) => r.progress?.toCopy ?? 0));
      await this.#fenceAndSwitch(phases.includes("fenced"), phases.includes("switched"));
      await this.#cleanup();
    }
    this.#step("done");
    this.lease.stopHeartbeat();
    await Promise.all(this.#leased.map((n) => onNode("finish", n, () => n.finish(this.lease.token, { ...this.#progress }, this.report.fence))));
    this.#step("done");
  }

  close(): void {
    this.lease.stopHeartbeat();
    this.options.signal?.removeEventListener("abort", this.#onInterrupt);
  }

  /** Plan, copy, catch-up and verification: all outside the fence, clients served as usual. */
  async #copyAndVerify(): Promise<void> {
    const progress = this.#progress;
    this.#step("plan");
    this.report.plan = await planOf(this.survey);
    progress.toCopy = this.report.plan.moving;
    this.#checkpoint();

    this.#step("copy");
    const copyStarted = performance.now();
    const copy = await syncPass(this.#ctx, "copy", (c) => {
      progress.copied = c.examined;
      progress.ratePerS = Math.round(c.examined / ((performance.now() - copyStarted) / 1000));
      this.#tell("copy", c.examined, progress.toCopy);
    });
    const copyMs = performance.now() - copyStarted;
    this.report.copy = { ...copy.counts, ms: Math.round(copyMs), perSecond: Math.round(copy.counts.examined / (copyMs / 1000)) };

    this.#step("catch-up");
    await this.#catchUp();
    this.#checkpoint();

    // no copy request of before the rotation runs after it: what the verification sees stays
    this.#step("verify");
    await this.lease.rotate("verify");
    const verifyStarted = performance.now();
    const verify = await syncPass(this.#ctx, "verify", (c) => {
      progress.verified = c.examined;
      this.#tell("verify", c.examined, progress.toCopy);
    });
    progress.fixed = verify.counts.missing + verify.counts.different + verify.counts.extra;
    this.report.verify = { ...verify.counts, ms: Math.round(performance.now() - verifyStarted) };
    for (const [source, ids] of verify.written) this.#fixed.set(source, ids);
    this.#checkpoint();
    // The writes logged while the verification read everything once more: copied now, so that
    // the fence replays only what comes after (the fence does not grow with the verify time).
    // Copied after the verification, they are compared under the fence, as the fixed ones are.
    for (const [node, copied] of await this.#catchUp()) {
      const compare = this.#fixed.get(node) ?? new Set<string>();
      for (const id of copied) compare.add(id);
      this.#fixed.set(node, compare);
    }
    this.#checkpoint();
  }

  /** The change log of every source replayed (catchUp), counted into the report; the ids copied, by source. */
  async #catchUp(): Promise<Map<string, Set<string>>> {
    const caught = await Promise.all(this.#sources().map(async (n) => [n.name, await catchUp(this.#ctx, n)] as const));
    const before = this.report.catchUp ?? { ids: 0, entries: 0 };
    this.report.catchUp = {
      ids: before.ids + caught.reduce((s, [, c]) => s + c.ids, 0),
      entries: before.entries + caught.reduce((s, [, c]) => s + c.entries, 0),
    };
    return new Map(caught.map(([name, c]) => [name, c.copied]));
  }

  /**
   * The fence, from the first node fenced to the last switched: writes to leaving ids
   * wait. The change log since the verification is replayed and compared; then every
   * node switches, targets first. `wasFenced`: a run stopped under the fence, so all is
   * compared again; `switchedAny`: a run stopped between switches, so only switches remain.
   */
  async #fenceAndSwitch(wasFenced: boolean, switchedAny: boolean): Promise<void> {
    const ctx = this.#ctx;
    this.#step("fence");
    await this.lease.rotate("fence");
    const unswitched = this.#leased.filter((n) => this.records.get(n.name)!.phase !== "switched");
    // a run stopped under the fence: it has been up since the earliest node was fenced
    const earliest = [...this.records.values()]
      .map((r) => r.fencedAt)
      .filter((t) => t !== null)
      .sort()[0];
    const started = new Date();
    const clock = performance.now();
    let [drained, compared] = [0, 0];
    if (switchedAny) {
      // every node was fenced before the first switch: this only confirms it
      await this.lease.phaseAll(unswitched, "fenced");
      // the first switch came after the log was replayed and dropped: nothing may be left in it
      for (const n of this.#sources()) {
        const log = await readWholeLog(ctx, "fence", n);
        if (log.ids.length > 0) {
          throw new RebalanceFailed(
            "fence",
            `node ${n.name} holds ${log.ids.length} logged write(s) not copied (first: record ${log.ids[0]}), but a node ` +
              `switched already: copy them by hand from ${n.name}`,
            {
              node: n.name,
              record: log.ids[0],
            },
          );
        }
      }
    } else {
      try {
        await this.lease.phaseAll(unswitched, "fenced");
        if (wasFenced) {
          const again = await syncPass(ctx, "verify", (c) => this.#tell("verify", c.examined, this.#progress.toCopy));
          this.report.verify = { ...again.counts, ms: Math.round(performance.now() - clock) };
          for (const [source, ids] of again.written) this.#fixed.set(source, ids);
        }
        const checked = await Promise.all(this.#sources().map((n) => replayUnderFence(ctx, n, this.#fixed.get(n.name))));
        drained = checked.reduce((s, c) => s + c.drained, 0);
        compared = checked.reduce((s, c) => s + c.compared, 0);
        const mismatches = checked.flatMap((c) => c.mismatches);
        if (mismatches.length > 0) throw notVerified(mismatches);
        this.#checkpoint();
      } catch (e) {
        // before any switch the fence can come down; a node that cannot be reached keeps it until the next run
        await this.lease.phaseAll(unswitched, "copying").catch(() => {});
        throw e;
      }
    }
    // From the first switch on there is no way back: Ctrl-C waits until every node switched.
    this.#step("switch");
    for (const node of switchOrder(ctx.move.from, ctx.move.to, unswitched)) {
      await onNode("switch", node, () => node.switchRing(this.lease.token));
      this.switched.push(node.name);
    }
    const ms = earliest ? Date.now() - Date.parse(earliest) : performance.now() - clock;
    this.report.fence = { ms: Math.round(ms), drained, compared, started: earliest ?? started.toISOString(), ended: new Date().toISOString() };
    this.#checkpoint();
  }

  /** Deletes the moved records from their old owners (unless keepData). */
  async #cleanup(): Promise<void> {
    if (this.options.keepData) {
      this.report.cleanup = { kept: true };
      return;
    }
    this.#step("cleanup");
    let deleted = 0;
    await Promise.all(
      this.#sources().map(async (node) => {
        let after: string | undefined;
        do {
          const part = await onNode("cleanup", node, () => node.cleanup(this.lease.token, after, CLEANUP_BATCH));
          deleted += part.deleted;
          this.#progress.cleaned = deleted;
          this.#tell("cleanup", deleted, this.#progress.toCopy);
          after = part.next ?? undefined;
          this.#checkpoint();
        } while (after !== undefined);
      }),
    );
    this.report.cleanup = { deleted };
  }

  /** The nodes of the old ring: where records leave from, and changes are logged. */
  #sources(): NodeAdmin[] {
    return this.survey.move.from.nodes.map((n) => this.#ctx.nodes.get(n.name)!);
  }

  /** The job is at `step` now: the time since the previous step began goes to that one. */
  #step(step: RebalanceStep): void {
    const now = performance.now();
    if (this.#stepStarted !== undefined) this.steps[this.#progress.step] = Math.round(now - this.#stepStarted);
    this.#stepStarted = now;
    this.#progress.step = step;
    this.options.onNote?.(step);
  }

  #tell(step: RebalanceStep, done: number, total: number): void {
    this.options.onProgress?.({ step, done, total });
  }

  /** Throws the reason the job was stopped for, if it was. */
  #checkpoint(): void {
    if (this.#stop.signal.aborted) throw this.#stop.signal.reason;
  }
}

/** The plan from every node's data. */
async function planOf(survey: Survey): Promise<Plan> {
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

/**
 * Under the fence, for one old owner: every logged write copied to the new owner, then
 * those ids and `fixed` compared between the two (a second copy for any that differ);
 * the log entries dropped once all agree.
 */
async function replayUnderFence(ctx: SyncContext, node: NodeAdmin, fixed: ReadonlySet<string> = new Set()) {
  const log = await readWholeLog(ctx, "fence", node);
  if (log.ids.length > 0) await copyIds(ctx, "fence", node, log.ids);
  const ids = [...new Set([...log.ids, ...fixed])].sort(byId);
  let mismatches: Mismatch[] = ids.length === 0 ? [] : await compareIds(ctx, "fence", node, ids);
  if (mismatches.length > 0) {
    await copyIds(
      ctx,
      "fence",
      node,
      mismatches.map((m) => m.id),
    );
    mismatches = await compareIds(
      ctx,
      "fence",
      node,
      mismatches.map((m) => m.id),
    );
  }
  if (mismatches.length === 0 && log.seqs.length > 0) await dropLogged(ctx, "fence", node, log.seqs);
  return { drained: log.ids.length, compared: ids.length, mismatches };
}

function notVerified(mismatches: readonly Mismatch[]): RebalanceFailed {
  const shown = mismatches.slice(0, 5).map((m) => `record ${m.id} (${m.source} -> ${m.target}): ${m.problem}`);
  const more = mismatches.length > shown.length ? `; and ${mismatches.length - shown.length} more` : "";
  return new RebalanceFailed(
    "fence",
    `${mismatches.length} record(s) still differ after copying them again, so no node switched and the fence is lifted: ${shown.join("; ")}${more}`,
    {
      node: mismatches[0]!.target,
      record: mismatches[0]!.id,
    },
  );
}

/**
 * Targets first (their copies are final under the fence), then nodes that give and take,
 * then those that only give: a client sent on by a switched source finds the new owner
 * switched already, or at worst answering 503 for a moment.
 */
export function switchOrder(from: Ring, to: Ring, nodes: readonly NodeAdmin[]): NodeAdmin[] {
  const moves = transfers(from.placement, to.placement, []).filter((t) => t.from !== t.to && t.space > 0n);
  const gives = new Set(moves.map((t) => t.from));
  const takes = new Set(moves.map((t) => t.to));
  const rank = (name: string) => (gives.has(name) ? (takes.has(name) ? 1 : 2) : 0);
  return [...nodes].sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export type { RebalanceDetail };
