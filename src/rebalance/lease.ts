/**
 * The rebalance belongs to one process at a time: it holds a lease on every node, a
 * fencing token in each node's rebalance record. Taken node by node in name order, so
 * of two processes racing for it the first node decides and the loser holds nothing.
 *
 * A holder is gone when its process no longer exists on this host, or when no node has
 * heard from it for LEASE_MS (it sends a heartbeat every HEARTBEAT_MS); then a new run
 * takes the lease over with the token it found. The token also rotates at every barrier
 * of the job (`rotate`): no request sent under the old token runs on a node after that.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { errorMessage } from "../errors.ts";
import type { RingMove } from "../ring/move.ts";
import { ringDocument } from "../ring/ring-file.ts";
import { onNode, RebalanceFailed } from "./errors.ts";
import { AdminAnswerError, type Participant } from "./participant.ts";
import { type FenceFigures, type FencePhase, REBALANCE_ERRORS, type RebalanceDetail, type RebalanceHolder, type RebalanceProgress } from "./protocol.ts";
import type { NodeState } from "./survey.ts";

export const LEASE_MS = 15_000;
export const HEARTBEAT_MS = 2_000;

export const newToken = () => randomBytes(16).toString("base64url");

/** The tokens of the leases this process holds now (a library may run several jobs, one after the other). */
const heldHere = new Set<string>();

/** Whether process `pid` exists on this host. */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A takeover: the holder found, and why it was found gone. */
export interface Takeover {
  readonly from: RebalanceHolder;
  readonly why: string;
}

/** Why the process holding `records` (this job's, on the nodes) is gone, or undefined while it may still run. */
export function holderGone(records: readonly RebalanceDetail[], here = hostname()): string | undefined {
  const held = records.filter((r) => r.token !== null && r.holder !== null);
  if (held.length === 0) return "no process holds it";
  const { holder } = held[0]!;
  if (holder!.host === here && holder!.pid === process.pid) {
    if (!held.some((r) => heldHere.has(r.token!))) return "this process holds it no longer (a run of it failed and could not release it)";
  } else if (holder!.host === here && !processExists(holder!.pid)) {
    return `its process ${holder!.pid} on this host is gone`;
  }
  // a process that lives but no longer sends heartbeats (stuck, or another program under a reused pid)
  const heard = Math.min(...held.map((r) => r.heartbeatAgeMs ?? Infinity));
  if (heard > LEASE_MS) return `no node has heard from pid ${holder!.pid} on ${holder!.host} for ${Math.round(heard / 1000)} s`;
  return undefined;
}

export class Lease {
  #token: string;
  /** The token of a rotation under way (some nodes may hold it already): a refused heartbeat says nothing then. */
  #next: string | undefined;
  #timer: Timer | undefined;
  #lost: string | undefined;
  readonly holder: RebalanceHolder;

  private constructor(
    readonly move: RingMove,
    readonly nodes: readonly Participant[],
    token: string,
    holder: RebalanceHolder,
  ) {
    this.#token = token;
    this.holder = holder;
  }

  get token(): string {
    return this.#token;
  }

  /** Why the lease was lost (another process took it over), or undefined. */
  get lost(): string | undefined {
    return this.#lost;
  }

  /**
   * Takes the lease on every node where the rebalance is not done, in name order: a new
   * rebalance, or one whose holder is gone (taken over with the token each node holds).
   * Answers each leased node's record, and the takeover when there was one.
   */
  static async acquire(move: RingMove, all: readonly NodeState[]): Promise<{ lease: Lease; records: Map<string, RebalanceDetail>; takeover?: Takeover }> {
    // a node where this rebalance is done already (a run stopped while finishing) needs no lease
    const states = all.filter((s) => !(s.rebalance?.job === move.job && s.rebalance.phase === "done"));
    const mine = states.map((s) => (s.rebalance?.job === move.job ? s.rebalance : undefined)).filter((r) => r !== undefined);
    let takeover: Takeover | undefined;
    if (mine.some((r) => r.token !== null)) {
      const gone = holderGone(mine);
      const held = mine.find((r) => r.holder !== null);
      if (gone === undefined) {
        const h = held!.holder!;
        throw new RebalanceFailed(
          "lease",
          `rebalance ${move.job} is running: held by pid ${h.pid} on ${h.host} since ${h.since}, heard of ` +
            `${Math.round(Math.min(...mine.map((r) => r.heartbeatAgeMs ?? Infinity)) / 1000)} s ago; ` +
            `wait for it to end, or stop that process and run this command again`,
        );
      }
      if (held) takeover = { from: held.holder!, why: gone };
    }
    const holder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    const lease = new Lease(
      move,
      states.map((s) => s.admin),
      newToken(),
      holder,
    );
    heldHere.add(lease.#token);
    const records = new Map<string, RebalanceDetail>();
    // where this run starts the job: given up again if the lease fails on a later node (a race lost to another rebalance)
    const startedHere = states.filter((s) => s.rebalance?.job !== move.job).map((s) => s.admin);
    for (const state of states) {
      try {
        records.set(state.admin.name, await state.admin.lease(lease.#request(lease.#token, state.rebalance?.token ?? null)));
      } catch (e) {
        const leased = startedHere.filter((a) => records.has(a.name));
        await Promise.allSettled(leased.map((a) => a.abandon(lease.#token)));
        await lease.release();
        throw new RebalanceFailed("lease", `node ${state.admin.name}: ${errorMessage(e)}`, { node: state.admin.name });
      }
    }
    return { lease, records, takeover };
  }

  #request(token: string, expect: string | null) {
    return { from: ringDocument(this.move.from), to: ringDocument(this.move.to), token, expect, holder: this.holder };
  }

  /**
   * A barrier: a new token on every node. Each node answers only after the requests it
   * runs under the old token end, and refuses the old token from then on.
   */
  async rotate(step: "verify" | "fence"): Promise<void> {
    const [old, next] = [this.#token, newToken()];
    this.#next = next;
    heldHere.add(next);
    await Promise.all(this.nodes.map((n) => onNode(step, n, () => n.lease(this.#request(next, old)))));
    this.#token = next;
    this.#next = undefined;
    heldHere.delete(old);
  }

  /** Raises (fenced) or lifts (copying) the fence on `nodes`, all at once; each answers once its requests in flight ended. */
  async phaseAll(nodes: readonly Participant[], phase: FencePhase): Promise<void> {
    await Promise.all(nodes.map((n) => onNode("fence", n, () => n.phase(this.#token, phase))));
  }

  /** Sends a heartbeat with the job's progress to every node every HEARTBEAT_MS; `onLost` when a node says another process holds it now. */
  startHeartbeat(progress: () => { progress?: RebalanceProgress; fence?: FenceFigures }, onLost: (why: string) => void): void {
    const beat = async () => {
      const token = this.#token;
      const { progress: p, fence } = progress();
      await Promise.all(
        this.nodes.map(async (n) => {
          try {
            await n.heartbeat(token, p, fence);
          } catch (e) {
            // a node restarting misses a beat; a node whose token changed under us is lost (unless this process rotated it meanwhile)
            if (
              e instanceof AdminAnswerError &&
              e.kind === REBALANCE_ERRORS.held &&
              token === this.#token &&
              this.#next === undefined &&
              this.#lost === undefined
            ) {
              this.#lost = `node ${n.name}: ${e.message}`;
              onLost(this.#lost);
            }
          }
        }),
      );
    };
    this.#timer = setInterval(() => void beat(), HEARTBEAT_MS);
  }

  stopHeartbeat(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Gives the lease up on every node that answers (the job stays where it is, for the next run). */
  async release(): Promise<void> {
    this.stopHeartbeat();
    // after a rotation that failed half way, some nodes hold the new token and some the old
    const tokens = [this.#token, ...(this.#next ? [this.#next] : [])];
    await Promise.allSettled(this.nodes.flatMap((n) => tokens.map((t) => n.release(t))));
    this.end();
  }

  /** This process holds the lease no longer (released, or finished: the nodes dropped its token). */
  end(): void {
    this.stopHeartbeat();
    heldHere.delete(this.#token);
    if (this.#next) heldHere.delete(this.#next);
  }
}
