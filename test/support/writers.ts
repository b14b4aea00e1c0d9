/**
 * Clients that keep writing to an instance while a test breaks its database: each writer
 * POSTs new ids of its own, PUTs some and DELETEs others, one request at a time, and settles
 * every 503 the way a client does, by sending the same request again until the answer says
 * what happened (a POST: 201, or 409 when the first did land; a PUT: 202; a DELETE: 204, or
 * 404 when the first did land). So what each id must hold at the end is known exactly: the
 * model, checked against the database by SQL afterwards (expectModel).
 *
 * Every acknowledgement (2xx) of a write is timed, for how long writes were unavailable.
 */
import { expect } from "bun:test";
import { seedRecord } from "../../src/expenses/seed-data.ts";

export interface WriteStats {
  /** Acknowledged writes (2xx), settled ones included. */
  readonly acknowledged: number;
  /** 503 answers, each followed by the same request again. */
  readonly unavailable: number;
}

export class Writers {
  /** id -> its name as the last settled write left it; null: deleted. */
  readonly model = new Map<string, string | null>();
  /** Answers no client should ever see (a 500, a 404 for a PUT of a stored id, a 409 for a new id, ...). */
  readonly unexpected: string[] = [];
  /** Every acknowledged write: when it was sent and when its answer came (performance.now()). */
  readonly acks: { sent: number; at: number }[] = [];
  /** Every write sent, with when it was sent and its answer's status (for "none acknowledged after ..."). */
  readonly sent: { at: number; status: number; what: string }[] = [];
  private unavailable = 0;
  private stopped = false;
  private abandoned = false;
  private readonly loops: Promise<void>[];

  /** `count` writers on the instance at `base`; writer w uses ids w * 1,000,000 + 1, + 2, ... */
  constructor(
    private readonly base: string,
    count: number,
    private readonly pauseMs = 5,
  ) {
    this.loops = Array.from({ length: count }, (_, w) => this.loop(w + 1));
  }

  get stats(): WriteStats {
    return { acknowledged: this.acks.length, unavailable: this.unavailable };
  }

  /** Resolves once `n` more writes than now are acknowledged. */
  async acknowledged(n: number, timeoutMs = 60_000): Promise<void> {
    const target = this.acks.length + n;
    const deadline = performance.now() + timeoutMs;
    while (this.acks.length < target) {
      if (performance.now() > deadline) throw new Error(`fewer than ${n} writes acknowledged within ${timeoutMs} ms (${this.stats.unavailable} answered 503)`);
      await Bun.sleep(20);
    }
  }

  /** When the first write sent after `t` (performance.now()) was acknowledged, if one was. */
  firstAckAfter(t: number): number | undefined {
    return this.acks.find((a) => a.sent > t)?.at;
  }

  /** The longest time between two acknowledgements after `t` (or from `t` to the first). */
  longestGapAfter(t: number): number {
    let previous = t;
    let longest = 0;
    for (const { at } of this.acks) {
      if (at <= t) continue;
      longest = Math.max(longest, at - previous);
      previous = at;
    }
    return longest;
  }

  /** Stops at the next 503 without settling it: after a failed test only (the model is not known then). */
  abandon(): void {
    this.abandoned = true;
    this.stopped = true;
  }

  /** Stops after every write in flight is settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async loop(w: number) {
    for (let k = 1; !this.stopped; k++) {
      const id = String(w * 1_000_000 + k);
      const name = `writer ${w} record ${k}`;
      const posted = await this.settle("POST", "/v1/expenses", { ...seedRecord(id), name }, [201], [409]);
      if (posted === undefined) return;
      this.model.set(id, name);
      if (k % 3 === 0) {
        const renamed = `renamed ${w}/${k}`;
        if ((await this.settle("PUT", `/v1/expenses/${id}`, { name: renamed }, [202], [])) === undefined) return;
        this.model.set(id, renamed);
      }
      if (k % 4 === 1) {
        if ((await this.settle("DELETE", `/v1/expenses/${id}`, undefined, [204], [404])) === undefined) return;
        this.model.set(id, null);
      }
      await Bun.sleep(this.pauseMs);
    }
  }

  /**
   * Sends a write until it is settled: an answer in `done`, or (after a 503, whose write may
   * or may not have landed) one in `doneAfterUnknown`. Anything else is recorded as unexpected,
   * and the writer stops (undefined).
   */
  private async settle(method: string, path: string, body: unknown, done: number[], doneAfterUnknown: number[]): Promise<number | undefined> {
    let unknown = false;
    const giveUp = performance.now() + 120_000;
    for (;;) {
      const at = performance.now();
      let status: number;
      let text = "";
      try {
        const res = await fetch(this.base + path, {
          method,
          body: body === undefined ? undefined : JSON.stringify(body),
          headers: { "content-type": "application/json" },
          signal: AbortSignal.timeout(15_000),
        });
        status = res.status;
        text = await res.text();
      } catch (e) {
        // no answer at all: as unknown as a 503
        status = 0;
        text = String(e);
      }
      this.sent.push({ at, status, what: `${method} ${path}` });
      if (status >= 200 && status < 300) this.acks.push({ sent: at, at: performance.now() });
      if (done.includes(status) || (unknown && doneAfterUnknown.includes(status))) return status;
      if (status === 503 || status === 0) {
        unknown = true;
        this.unavailable++;
        if (this.abandoned) return undefined;
        if (performance.now() > giveUp) {
          this.unexpected.push(`${method} ${path}: still unavailable after 120 s: ${text.slice(0, 200)}`);
          return undefined;
        }
        await Bun.sleep(100);
        continue;
      }
      this.unexpected.push(`${method} ${path}: HTTP ${status}${unknown ? " (after a 503)" : ""}: ${text.slice(0, 300)}`);
      return undefined;
    }
  }
}

/**
 * The rows `read` returns (id and name of every record, by SQL) are exactly the model: every
 * id the model holds with its name, no id it deleted, nothing else.
 */
export function expectModel(where: string, rows: readonly { id: string; name: string }[], model: ReadonlyMap<string, string | null>) {
  const held = new Map(rows.map((r) => [r.id, r.name]));
  const missing: string[] = [];
  const wrong: string[] = [];
  const resurrected: string[] = [];
  for (const [id, name] of model) {
    if (name === null) {
      if (held.has(id)) resurrected.push(id);
    } else if (!held.has(id)) missing.push(id);
    else if (held.get(id) !== name) wrong.push(`${id}: ${held.get(id)} instead of ${name}`);
  }
  const extra = [...held.keys()].filter((id) => !model.has(id));
  expect({ where, missing: missing.slice(0, 5), wrong: wrong.slice(0, 5), resurrected: resurrected.slice(0, 5), extra: extra.slice(0, 5) }).toEqual({
    where,
    missing: [],
    wrong: [],
    resurrected: [],
    extra: [],
  });
}
