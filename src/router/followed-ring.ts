/**
 * The router's ring, which follows the cluster's as the client does
 * (client/ring-adoption.ts): every request carries the label of the ring it was placed
 * with; an answer that is a 421, or that carries a ring with a larger epoch, makes the
 * router read that node's GET /ring and adopt it when its epoch is larger. Requests that
 * meet the same answer at once share one read. Only a 421 is retried, once, under the
 * adopted ring; a 421 the router cannot resolve is passed on.
 */
import { answerSuggestsNewerRing, followRing, type RingAnswer, type RingFollow } from "../client/ring-adoption.ts";
import type { Node } from "../ring/node.ts";
import type { Ring } from "../ring/ring.ts";

export class FollowedRing {
  #ring: Ring;
  readonly #reads = new Map<string, Promise<RingFollow>>();

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
      read = followRing(node, this.#ring, answer, { timeoutMs: this.timeoutMs }).finally(() => this.#reads.delete(key));
      this.#reads.set(key, read);
    }
    const follow = await read;
    if (follow.kind === "adopt" && follow.ring.epoch > this.#ring.epoch) {
      this.note(`shardctl router: adopted ring ${follow.ring.label} from node ${node.name} (${node.url}); it replaces ring ${this.#ring.label}`);
      this.#ring = follow.ring;
    }
    return answer.status === 421 && this.#ring.epoch > placedWith.epoch ? this.#ring : undefined;
  }
}
