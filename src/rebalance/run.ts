/**
 * `shardctl rebalance` as a library: moves every record whose owner differs between two
 * rings, online, and answers a report (it prints nothing).
 *
 *   survey     every node up, its ring, the rebalance it takes part in (survey.ts)
 *   lease      this process holds the job on every node (lease.ts); the move starts:
 *              leaving ids stay served by their old owner, their writes logged
 *   plan       what moves from where to where, from the data (plan.ts)
 *   copy       one comparison pass, old owner -> new owner (sync.ts)
 *   catch-up   the change log replayed (change-log.ts)
 *   verify     a token rotation (no copy request of before runs after it), then a second
 *              full comparison, outside the fence: missing, extra, different, fixed
 *   fence      requests on leaving ids (reads and writes) wait (503); the change log since
 *              is replayed and those ids, and the ones the verification fixed, compared
 *              again (fence.ts); anything still different lifts the fence and fails: no switch
 *   switch     every node takes the new ring, targets first (switch-order.ts)
 *   cleanup    the moved records deleted from their old owners (unless keepData)
 *   finish     every node: done, lease released
 *
 * Every step can run again: a run killed at any point is resumed by the next one, from
 * where the records each node's database holds say (resume.ts), and a run after the end
 * does nothing.
 */
import { Interrupted } from "../errors.ts";
import type { Ring } from "../ring/ring.ts";
import { catchUp } from "./change-log.ts";
import { onNode, RebalanceFailed, RebalanceInterrupted } from "./errors.ts";
import { checkLogEmpty, notVerified, replayUnderFence } from "./fence.ts";
import { Lease } from "./lease.ts";
import type { Participant } from "./participant.ts";
import { planOf } from "./plan.ts";
import { progressStep, type RebalanceDetail, type RebalanceProgress, type RebalanceStep } from "./protocol.ts";
import { type ProgressEvent, type RebalanceEvent, type RebalanceReport, type StepTimes, tookOverMessage } from "./report.ts";
import { type Resume, resumeOf } from "./resume.ts";
import { nodeRecords, type Survey, type SurveyOptions, surveyCluster } from "./survey.ts";
import { switchOrder } from "./switch-order.ts";
import { type SyncContext, syncPass } from "./sync.ts";

export type { FenceReport, Plan, ProgressEvent, RebalanceEvent, RebalanceReport } from "./report.ts";

export interface RebalanceOptions extends SurveyOptions {
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
  /** What is worth telling a person as it happens (a step begun, a takeover). */
  readonly onEvent?: (event: RebalanceEvent) => void;
}

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_BATCH = 1000;
const CLEANUP_BATCH = 5000;

export async function rebalance(options: RebalanceOptions): Promise<RebalanceReport> {
  const started = performance.now();
  const clock = new StepClock(options.onEvent);
  clock.begin("survey");
  const survey = await surveyCluster(options.to, options.from, options);
  clock.end();
  const { move } = survey;
  const base = { job: move.job, from: move.from.label, to: move.to.label, found: survey.status, switched: [], steps: clock.times };
  const elapsedMs = () => Math.round(performance.now() - started);
  if (options.dryRun) return { ...base, outcome: "dry-run", plan: await planOf(survey), elapsedMs: elapsedMs() };
  if (survey.status === "done") return { ...base, outcome: "already-done", elapsedMs: elapsedMs() };

  clock.begin("lease");
  const { lease, records, takeover } = await Lease.acquire(move, survey.nodes);
  const tookOver = takeover && tookOverMessage(move.job, takeover);
  if (takeover) options.onEvent?.({ kind: "took-over", message: tookOver!, ...takeover });
  const job = new Job(survey, lease, records, options, clock);
  try {
    await job.run();
  } catch (e) {
    await lease.release();
    // Ctrl-C: what this run did until then goes with the error, for the command to print
    if (e instanceof Interrupted) {
      const stopped = { during: clock.current ?? "lease", progress: job.progress };
      const report = { ...base, outcome: "interrupted" as const, tookOver, ...job.report, switched: job.switched, stopped, elapsedMs: elapsedMs() };
      throw new RebalanceInterrupted(e.message, report);
    }
    throw e;
  } finally {
    job.close();
    lease.end();
  }
  return { ...base, outcome: "done", tookOver, ...job.report, switched: job.switched, elapsedMs: elapsedMs() };
}

/** The steps of a run as they begin (told to `onEvent`) and the time each took: a step ends when the next begins. */
class StepClock {
  readonly times: StepTimes = {};
  #current: RebalanceStep | undefined;
  #since = 0;

  constructor(private readonly onEvent?: (event: RebalanceEvent) => void) {}

  get current(): RebalanceStep | undefined {
    return this.#current;
  }

  begin(step: RebalanceStep): void {
    this.end();
    this.#current = step;
    this.#since = performance.now();
    this.onEvent?.({ kind: "step", step });
  }

  /** The step under way has ended. */
  end(): void {
    if (this.#current === undefined) return;
    this.times[this.#current] = Math.round(performance.now() - this.#since);
    if (this.#current === "finish") this.times.done = this.times.finish;
    this.#current = undefined;
  }
}

/** The steps of a leased job. */
type JobStep = Exclude<RebalanceStep, "survey" | "lease">;

/** One run of a leased rebalance, from wherever the nodes' records say it stands (resume.ts). */
class Job {
  readonly report: { -readonly [K in "plan" | "copy" | "catchUp" | "verify" | "fence" | "cleanup"]?: RebalanceReport[K] } = {};
  readonly switched: string[] = [];
  readonly #ctx: SyncContext;
  readonly #progress: RebalanceProgress = { step: "plan", copied: 0, toCopy: 0 };
  /** The job's stop: Ctrl-C (Interrupted) or a lease taken over (RebalanceFailed), as its reason. */
  readonly #stop = new AbortController();
  readonly #onInterrupt = () =>
    this.#stop.abort(new Interrupted(`interrupted during ${this.clock.current}; the rebalance stays where it is: run the same command again to go on`));
  /** Where the job goes on, from the records the lease answered. */
  readonly #resume: Resume;
  /** The nodes leased (those where the rebalance is not done yet). */
  readonly #leased: readonly Participant[];
  /** Ids the verification wrote, by their old owner: compared again under the fence. */
  readonly #fixed = new Map<string, Set<string>>();

  constructor(
    readonly survey: Survey,
    readonly lease: Lease,
    readonly records: ReadonlyMap<string, RebalanceDetail>,
    readonly options: RebalanceOptions,
    private readonly clock: StepClock,
  ) {
    if (options.signal?.aborted) this.#onInterrupt();
    options.signal?.addEventListener("abort", this.#onInterrupt, { once: true });
    this.#resume = resumeOf(
      survey.move,
      survey.nodes.map((n) => nodeRecords(n, records.get(n.admin.name) ?? n.rebalance)),
    );
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
    const { from, toCopy } = this.#resume;
    if (from !== "finish") {
      if (from === "copy") await this.#copyAndVerify();
      else this.#progress.copied = this.#progress.toCopy = toCopy;
      await this.#fenceAndSwitch();
      await this.#cleanup();
    }
    this.#step("finish");
    this.lease.stopHeartbeat();
    await Promise.all(this.#leased.map((n) => onNode("finish", n, () => n.finish(this.lease.token, { ...this.#progress }, this.report.fence))));
    this.clock.end();
  }

  /** The job's progress as it stands (the nodes' heartbeats carry it too). */
  get progress(): RebalanceProgress {
    return { ...this.#progress };
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
   * The fence, from the first node fenced to the last switched: requests on leaving ids
   * (reads and writes) wait. The change log since the verification is replayed and
   * compared; then every node switches, targets first. Resumed under the fence (from
   * "fence"), all is compared again first; resumed between switches (from "switch"), only
   * the switches remain.
   */
  async #fenceAndSwitch(): Promise<void> {
    const ctx = this.#ctx;
    const { from, unswitched: names, fencedSince } = this.#resume;
    this.#step("fence");
    await this.lease.rotate("fence");
    const unswitched = names.map((name) => ctx.nodes.get(name)!);
    const started = new Date();
    const clock = performance.now();
    let [drained, compared] = [0, 0];
    if (from === "switch") {
      // every node was fenced before the first switch: this only confirms it
      await this.lease.phaseAll(unswitched, "fenced");
      for (const n of this.#sources()) await checkLogEmpty(ctx, n);
    } else {
      try {
        await this.lease.phaseAll(unswitched, "fenced");
        if (from === "fence") {
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
    // a run stopped under the fence: the fence has been up since the earliest node was fenced
    const ms = fencedSince ? Date.now() - Date.parse(fencedSince) : performance.now() - clock;
    this.report.fence = { ms: Math.round(ms), drained, compared, started: fencedSince ?? started.toISOString(), ended: new Date().toISOString() };
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
  #sources(): Participant[] {
    return this.survey.move.from.nodes.map((n) => this.#ctx.nodes.get(n.name)!);
  }

  /** The job is at `step` now: the nodes' next heartbeat says so. */
  #step(step: JobStep): void {
    this.clock.begin(step);
    this.#progress.step = progressStep(step);
  }

  #tell(step: JobStep, done: number, total: number): void {
    this.options.onProgress?.({ step, done, total });
  }

  /** Throws the reason the job was stopped for, if it was. */
  #checkpoint(): void {
    if (this.#stop.signal.aborted) throw this.#stop.signal.reason;
  }
}
