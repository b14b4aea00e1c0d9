/**
 * The router's exchanges with the instances: kept-alive connections (one pool per
 * router), a timeout on every attempt, and retries only where a retry cannot do a
 * second time what the first attempt did:
 *
 *   - a request that never reached the instance (connection refused, name not
 *     resolved) is sent again, a few times, after a short pause, whatever its method;
 *   - once a request may have reached the instance (a timeout, a connection closed
 *     before the answer), a GET, PUT or DELETE is sent at most once more, and a POST
 *     never: its outcome is unknown, and that is what the caller is told.
 *
 * An answer, whatever its status, is the instance's and is never retried. Its body is
 * the bytes the instance sent, never decoded here: an encoded one keeps its
 * Content-Encoding, so what is passed on is what the header says.
 */
import { errorMessage } from "../errors.ts";
import type { Node } from "../ring/node.ts";

export type UpstreamMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface UpstreamOptions {
  /** Per-attempt timeout in milliseconds, answer body included. */
  readonly timeoutMs: number;
  /** Attempts after a refused connection (the request never left). Default 2. */
  readonly refusedRetries?: number;
  /** Pause before the first such retry; doubles for each further one. Default 25 ms. */
  readonly refusedBackoffMs?: number;
}

export interface UpstreamRequest {
  readonly method: UpstreamMethod;
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly headers?: Headers;
  readonly body?: string;
  /** The largest answer read; a larger one fails as "too-large". */
  readonly maxAnswerBytes: number;
  /** Overrides the router's timeout (readiness probes are shorter). */
  readonly timeoutMs?: number;
  /** Overrides refusedRetries (readiness probes do not wait). */
  readonly refusedRetries?: number;
  /** The request's overall deadline: no attempt, pause or retry goes past it. */
  readonly deadline?: Deadline;
}

/** When a request through the router must be answered, whatever it takes. */
export interface Deadline {
  /** performance.now() at which it runs out. */
  readonly at: number;
  /** Its length in all, for messages. */
  readonly ms: number;
}

/** What is left of `deadline` now, in milliseconds (Infinity without one). */
export const leftOf = (deadline: Deadline | undefined): number => (deadline === undefined ? Infinity : deadline.at - performance.now());

/** Why a request stopped at its deadline. */
export const deadlineReason = (deadline: Deadline): string => `the router's deadline for the request (${deadline.ms} ms in all) ran out`;

export interface UpstreamAnswer {
  readonly ok: true;
  readonly node: Node;
  readonly status: number;
  readonly headers: Headers;
  readonly body: ArrayBuffer;
  readonly attempts: number;
  /** An earlier attempt got no answer but may have reached the instance (and done what was asked). */
  readonly reachedBefore: boolean;
}

/** Why there is no answer. */
export type UpstreamCause =
  /** Nothing listens at the address: the request never reached the instance. */
  | "refused"
  /** The address cannot be resolved: the request never left. */
  | "unresolved"
  /** No complete answer within the timeout. */
  | "timeout"
  /** The connection broke before the answer was complete. */
  | "reset"
  /** Any other transport failure. */
  | "network"
  /** An answer larger than any an instance gives. */
  | "too-large";

export interface UpstreamFailure {
  readonly ok: false;
  readonly node: Node;
  readonly cause: UpstreamCause;
  /** For people: what happened, e.g. `connection refused after 3 attempts`. */
  readonly reason: string;
  readonly attempts: number;
  /** Some attempt may have reached the instance: it may have done what was asked. */
  readonly mayHaveReached: boolean;
}

export type UpstreamResult = UpstreamAnswer | UpstreamFailure;

export const DEFAULT_REFUSED_RETRIES = 2;
const DEFAULT_REFUSED_BACKOFF_MS = 25;

/** What went wrong in one attempt, and whether the request can have left this process. */
function failureOf(e: unknown, timeoutMs: number): { cause: UpstreamCause; reason: string; hint?: string; left: boolean } {
  const err = e as { name?: string; code?: string; message?: string };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") {
    return { cause: "timeout", reason: `no answer within ${timeoutMs} ms`, left: true };
  }
  switch (err?.code) {
    case "ECONNREFUSED":
    case "ConnectionRefused":
      return { cause: "refused", reason: "connection refused", hint: "is the instance running?", left: false };
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return { cause: "unresolved", reason: `the host name does not resolve (${err.code})`, left: false };
    case "ECONNRESET":
    case "ConnectionClosed":
    case "EPIPE":
      return { cause: "reset", reason: "the connection closed before the answer was complete", left: true };
  }
  return { cause: "network", reason: `network error: ${errorMessage(e)}`, left: true };
}

class TooLarge extends Error {}

/** The body, or TooLarge past `maxBytes` (then it is not read further). */
async function readAnswer(res: Response, maxBytes: number): Promise<ArrayBuffer> {
  const declared = res.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > maxBytes) {
      await res.body?.cancel();
      throw new TooLarge();
    }
    return res.arrayBuffer(); // the declared length frames the body: no more than that is read
  }
  if (!res.body) return new ArrayBuffer(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new TooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).buffer as ArrayBuffer;
}

export class Upstream {
  readonly timeoutMs: number;
  readonly #refusedRetries: number;
  readonly #refusedBackoffMs: number;
  // Its own keep-alive pool, and never a proxy from the environment: the instances are
  // addressed directly, as the ring names them.
  readonly #session = new Bun.FetchSession({ proxy: false, keepAlive: true });

  constructor(options: UpstreamOptions) {
    this.timeoutMs = options.timeoutMs;
    this.#refusedRetries = options.refusedRetries ?? DEFAULT_REFUSED_RETRIES;
    this.#refusedBackoffMs = options.refusedBackoffMs ?? DEFAULT_REFUSED_BACKOFF_MS;
  }

  /** Sends `request` to `node` under the retry rules above; never throws for a transport failure. */
  async send(node: Node, request: UpstreamRequest): Promise<UpstreamResult> {
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const refusedRetries = request.refusedRetries ?? this.#refusedRetries;
    const url = node.url + request.path;
    let refusals = 0;
    let replays = 0;
    let reached = false;
    /** The first failure of an attempt that may have reached the instance: what the answer's cause says, whatever later attempts met. */
    let reaching: { cause: UpstreamCause; reason: string } | undefined;
    if (leftOf(request.deadline) <= 0) {
      return { ok: false, node, cause: "timeout", reason: `${deadlineReason(request.deadline!)} before it was sent here`, attempts: 0, mayHaveReached: false };
    }
    for (let attempt = 1; ; attempt++) {
      const left = leftOf(request.deadline);
      // an attempt cut short by the deadline says so
      const attemptMs = Math.min(timeoutMs, Math.ceil(left));
      let failure: { cause: UpstreamCause; reason: string; hint?: string; left: boolean };
      try {
        const res = await this.#session.fetch(url, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          redirect: "manual",
          // Bun would decode a gzip body yet keep its Content-Encoding (and ask for gzip itself)
          decompress: false,
          signal: AbortSignal.timeout(attemptMs),
        });
        const body = await readAnswer(res, request.maxAnswerBytes);
        return { ok: true, node, status: res.status, headers: res.headers, body, attempts: attempt, reachedBefore: reached };
      } catch (e) {
        failure =
          e instanceof TooLarge
            ? { cause: "too-large", reason: `an answer over ${request.maxAnswerBytes} bytes, far more than an instance gives`, left: true }
            : failureOf(e, timeoutMs);
        if (failure.cause === "timeout" && attemptMs < timeoutMs) failure.reason = `no answer before ${deadlineReason(request.deadline!)}`;
      }
      reached ||= failure.left;
      if (failure.left) reaching ??= { cause: failure.cause, reason: failure.reason };
      const again =
        leftOf(request.deadline) > 0 &&
        (failure.left ? failure.cause !== "too-large" && request.method !== "POST" && replays++ < 1 : refusals++ < refusedRetries);
      const fail = (): UpstreamFailure => {
        const tries = attempt === 1 ? "" : ` after ${attempt} attempts`;
        const hint = failure.hint === undefined ? "" : ` (${failure.hint})`;
        // A last attempt that never left (refused) says nothing of an earlier one that may have
        // reached the instance: the cause is that earlier one's, and the reason tells both.
        const earlier = !failure.left && reaching !== undefined ? reaching : undefined;
        const reason = earlier ? `${earlier.reason}, then ${failure.reason}` : failure.reason;
        return { ok: false, node, cause: earlier?.cause ?? failure.cause, reason: reason + tries + hint, attempts: attempt, mayHaveReached: reached };
      };
      if (!again) return fail();
      if (!failure.left) {
        await Bun.sleep(Math.min(this.#refusedBackoffMs * 2 ** (refusals - 1), leftOf(request.deadline)));
        if (leftOf(request.deadline) <= 0) return fail();
      }
    }
  }

  /** Closes the idle connections; requests in flight finish. */
  close(): void {
    this.#session.close();
  }
}
