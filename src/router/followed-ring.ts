/**
 * The router's ring, which follows the cluster's as the client does
 * (client/ring-adoption.ts): every request carries the label of the ring it was placed
 * with; an answer that is a 421, or that carries a ring with a larger epoch, makes the
 * router read that node's GET /ring and adopt it when its epoch is larger. Requests that
 * meet the same answer at once share one read. Only a 421 waits for that read and is
 * retried, once, under the adopted ring; a 421 the router cannot resolve is passed on.
 * Any other answer is passed on at once, the read going on in the background. A read
 * that found nothing to adopt (the node's /ring failed, timed out, or is not newer) is
 * not made again for the same node and label for a few seconds, so a node whose /ring
 * hangs does not cost every request a timeout.
 */
import { answerSuggestsNewerRing, followRing, type RingAnswer, type RingFollow } from "../client/ring-adoption.ts";
import { errorMessage } from "../errors.ts";
import type { Node } from "../ring/node.ts";
import type { Ring } from "../ring/ring.ts";

/** How long a read that found nothing to adopt is not made again for the same node and label. */
export const FRUITLESS_READ_MEMORY_MS = 5000;

export class FollowedRing {
  #ring: Ring;
  readonly #reads = new Map<string, Promise<RingFollow>>();
  /** Until when (performance.now()) a read that found nothing is not made again, by read key. */
  readonly #fruitless = new Map<string, number>();

  constructor(
    ring: Ring,
    /** Timeout of a GET /ring. */
    private readonly timeoutMs: number,
    /** Where adoptions are told, for the operator. */
    private readonly note: (line: string) => void,
  ) {
    this.#ring = ring;
  }

  /** The ring in force now. */
  get ring(): Ring {
    return this.#ring;
  }

  /**
   * After `answer` came from `node` to a request placed with `placedWith`: adopts the
   * node's ring when the answer calls for it and that ring is newer. For a 421, the ring
   * to send the request again under (once), or undefined when the router has none newer
   * than `placedWith` (the 421 stands).
   */
  async after(node: Node, placedWith: Ring, answer: RingAnswer): Promise<Ring | undefined> {
    // Another request may have adopted a newer ring meanwhile: a 421 is then resolved by it.
    if (answer.status === 421 && this.#ring.epoch > placedWith.epoch) return this.#ring;
    if (!answerSuggestsNewerRing(this.#ring, answer)) return undefined;
    const key = `${node.url} ${answer.status === 421 ? "421" : ""} ${answer.ring ?? ""}`;
    let read = this.#reads.get(key);
    if (read === undefined) {
      const until = this.#fruitless.get(key);
      if (until !== undefined && performance.now() < until) return undefined;
      this.#fruitless.delete(key);
      read = followRing(node, this.#ring, answer, { timeoutMs: this.timeoutMs }).then(
        (follow) => {
          if (follow.kind !== "adopt") this.#remember(key);
          return follow;
        },
        (e: unknown): RingFollow => {
          this.#remember(key);
          return { kind: "disagree", reason: `its ring could not be read (GET /ring): ${errorMessage(e)}` };
        },
      );
      read.finally(() => this.#reads.delete(key));
      this.#reads.set(key, read);
    }
    const follow = await read;
    if (follow.kind === "adopt" && follow.ring.epoch > this.#ring.epoch) {
      this.note(`adopted ring ${follow.ring.label} from node ${node.name} (${node.url}); it replaces ring ${this.#ring.label}`);
      this.#ring = follow.ring;
    }
    return answer.status === 421 && this.#ring.epoch > placedWith.epoch ? this.#ring : undefined;
  }

  /** Remembers a read that found nothing; forgets those whose time is up (labels come from nodes: the map stays small). */
  #remember(key: string): void {
    const now = performance.now();
    for (const [k, until] of this.#fruitless) if (until <= now) this.#fruitless.delete(k);
    this.#fruitless.set(key, now + FRUITLESS_READ_MEMORY_MS);
  }

  /**
   * After an answer other than a 421 came from `node`: when it points to a newer ring,
   * starts reading that ring in the background (adopting it if it is newer) and returns
   * at once; the answer never waits for the read, and a failed read is only remembered.
   */
  notice(node: Node, answer: RingAnswer): void {
    if (answer.status === 421 || !answerSuggestsNewerRing(this.#ring, answer)) return;
    this.after(node, this.#ring, answer).catch(() => {});
  }
}
