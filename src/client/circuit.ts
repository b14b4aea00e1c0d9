/**
 * One node's circuit breaker, kept by a ShardedExpenseClient for as long as it lives (a
 * command's run). Retries cure a node that blinks (a restart of a second or two); they
 * cannot cure a node that is down or hung, where every id it owns would pay
 * (retries + 1) x timeout. So when a node has failed without a break for `openAfterMs`
 * (and at least `minFailures` times), the circuit opens: requests waiting to retry and
 * new ones fail at once without being sent, and the attempts still in flight are
 * abandoned. A request that comes `probeAfterMs` or more after the circuit opened (or
 * last asked) makes it ask the node whether it is ready again (`probe`: the client asks
 * its GET /readyz), and it closes once the node is; that request still fails unsent. So a
 * circuit asks only while requests come, and no timer outlives a run. Without a `probe`,
 * one request goes through as the probe after `probeAfterMs`, and its answer closes the
 * circuit again.
 *
 * What counts as a failure: a refused or broken connection, a timeout, and a 5xx without
 * Retry-After. A 5xx with Retry-After is a node that is alive and says when to come back;
 * any other answer is a node that works, and ends the run of failures.
 */
import type { Node } from "../ring/node.ts";
import { nodeCondition, ShardRequestError, type FailureKind } from "./errors.ts";

export interface CircuitOptions {
  /** Open after failing without a break this long. Default 4000 ms: longer than a restart, far shorter than a timeout per id. */
  readonly openAfterMs?: number;
  /** ...and at least this many failures. Default 3. */
  readonly minFailures?: number;
  /** Once open, let one request through as a probe after this long. Default 3000 ms: a node back a moment later is used again. */
  readonly probeAfterMs?: number;
  /** The clock, in ms (tests). Default performance.now. */
  readonly now?: () => number;
  /**
   * Asked while the circuit is open, at most once every probeAfterMs and only when a request
   * comes: resolves true when the node can take requests again (then the circuit closes).
   * Without it, one request is let through as the probe.
   */
  readonly probe?: () => Promise<boolean>;
}

export const DEFAULT_OPEN_AFTER_MS = 4000;
export const DEFAULT_MIN_FAILURES = 3;
export const DEFAULT_PROBE_AFTER_MS = 3000;

/** What made a circuit open: the last failure, or a failed pre-flight check. */
export interface CircuitCause {
  readonly kind: FailureKind;
  readonly reason: string;
  readonly status?: number;
}

/** A circuit as the reports show it. */
export interface CircuitSnapshot {
  readonly node: string;
  readonly url: string;
  /** closed: requests go through; open: they fail unsent; probing: one probe is out. */
  readonly state: "closed" | "open" | "probing";
  /** Failures since the last answer. */
  readonly failures: number;
  /** Requests that failed without being sent because the circuit was open. */
  readonly unsent: number;
  /** Attempts after the first, over all requests to the node. */
  readonly retries: number;
  /** Why it is (or was last) open. */
  readonly openedBecause?: string;
  /** What that says of the node, as `status` says it: `down` (no answer), `not ready` (503). */
  readonly condition?: string;
}

export class Circuit {
  readonly #node: Pick<Node, "name" | "url">;
  readonly #openAfterMs: number;
  readonly #minFailures: number;
  readonly #probeAfterMs: number;
  readonly #now: () => number;
  readonly #probe: (() => Promise<boolean>) | undefined;
  /** When the circuit opened or `probe` was last asked (with `probe`). */
  #askedAt = 0;
  /** A `probe` is out. */
  #asking = false;
  #state: "closed" | "open" | "probing" = "closed";
  #failures = 0;
  /** When the first attempt of the current run of failures was sent. */
  #failingSince: number | undefined;
  #openedAt = 0;
  #cause: (CircuitCause & { why: string }) | undefined;
  #unsent = 0;
  #retries = 0;
  /** Aborted when the circuit opens, so that attempts in flight give up at once. */
  #abort = new AbortController();

  constructor(node: Pick<Node, "name" | "url">, options: CircuitOptions = {}) {
    this.#node = node;
    this.#openAfterMs = options.openAfterMs ?? DEFAULT_OPEN_AFTER_MS;
    this.#minFailures = options.minFailures ?? DEFAULT_MIN_FAILURES;
    this.#probeAfterMs = options.probeAfterMs ?? DEFAULT_PROBE_AFTER_MS;
    this.#now = options.now ?? (() => performance.now());
    this.#probe = options.probe;
  }

  /** Aborts (with the ShardRequestError to report) when the circuit opens. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get isOpen(): boolean {
    return this.#state !== "closed";
  }

  /**
   * Before each attempt: throws while the circuit is open; past the probe delay, lets
   * exactly one attempt through. The error is "not sent" (`unsent`) for a request that
   * has made no attempt yet; one that has (and now stops retrying) may have reached the node.
   */
  admit(attemptsMade = 0): void {
    if (this.#state === "closed") return;
    if (this.#state === "open" && this.#probe) {
      if (!this.#asking && this.#now() - this.#askedAt >= this.#probeAfterMs) this.#ask();
    } else if (this.#state === "open" && this.#now() - this.#openedAt >= this.#probeAfterMs) {
      this.#state = "probing";
      this.#abort = new AbortController();
      return;
    }
    if (attemptsMade > 0) throw this.#error(`gave up after ${plural(attemptsMade, "attempt")}`, attemptsMade);
    this.#unsent++;
    throw this.#error("not sent", 0, true);
  }

  /** The node answered (any status but a 5xx without Retry-After). */
  answered(): void {
    this.#state = "closed";
    this.#failures = 0;
    this.#failingSince = undefined;
    // the requests from now on get a signal that has not aborted
    if (this.#abort.signal.aborted) this.#abort = new AbortController();
  }

  /** An attempt sent at `sentAt` failed. */
  failed(cause: CircuitCause, sentAt: number): void {
    this.#failures++;
    this.#failingSince = Math.min(this.#failingSince ?? sentAt, sentAt);
    if (this.#state === "open") return;
    const failingFor = this.#now() - this.#failingSince;
    if (this.#state === "probing" || (this.#failures >= this.#minFailures && failingFor >= this.#openAfterMs)) {
      const why =
        this.#state === "probing"
          ? `still failing after ${seconds(this.#now() - this.#openedAt)} s`
          : `failing for ${seconds(failingFor)} s, ${this.#failures} attempts`;
      this.#open({ ...cause, why });
    }
  }

  /** Opens the circuit now: a failed pre-flight check. */
  trip(cause: CircuitCause): void {
    this.#open({ ...cause, why: "found by the pre-flight check" });
  }

  /** Counts an attempt after the first. */
  retried(): void {
    this.#retries++;
  }

  snapshot(): CircuitSnapshot {
    const c = this.#cause;
    return {
      node: this.#node.name,
      url: this.#node.url,
      state: this.#state,
      failures: this.#failures,
      unsent: this.#unsent,
      retries: this.#retries,
      ...(c && { openedBecause: `${c.reason}, ${c.why}`, condition: nodeCondition(c.kind, c.status) }),
    };
  }

  #open(cause: CircuitCause & { why: string }): void {
    this.#state = "open";
    this.#openedAt = this.#now();
    this.#cause = cause;
    this.#abort.abort(this.#error("gave up", 1));
    this.#askedAt = this.#openedAt;
  }

  /** Asks `probe` whether the node is ready, in the background: closes the circuit if so. */
  #ask(): void {
    this.#asking = true;
    this.#askedAt = this.#now();
    void this.#probe!()
      .catch(() => false)
      .then((ready) => {
        this.#asking = false;
        if (ready && this.#state === "open") this.answered();
      });
  }

  /** `not sent: node down: connection refused (...), found by the pre-flight check`. */
  #error(what: string, attempts: number, unsent = false): ShardRequestError {
    const c = this.#cause!;
    const reason = `${what}: node ${nodeCondition(c.kind, c.status)}: ${c.reason}, ${c.why}`;
    return new ShardRequestError(this.#node.name, this.#node.url, c.kind, reason, c.status, attempts, unsent);
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
