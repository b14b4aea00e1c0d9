/**
 * The merge of a sync pass (sync.ts), and of a repair's scan (src/repair/): each node's
 * records of one kind in id order, page by page, and the cursor whose head comes first.
 */
import { compareIds } from "../expenses/id.ts";
import { onNode } from "./errors.ts";
import type { Participant } from "./participant.ts";
import type { MovingRecord, RebalanceStep, RecordsPage } from "./protocol.ts";

/** A page of records in id order, and the `after` of the next page (null: none). */
export interface IdPage<T> {
  readonly items: readonly T[];
  readonly next: string | null;
}

/** A node's records in id order, the next page asked for while this one is read. */
export class Cursor<T extends { readonly id: string } = MovingRecord, N extends Pick<Participant, "name" | "url"> = Participant> {
  #items: readonly T[] = [];
  #at = 0;
  #next: Promise<IdPage<T>> | undefined;

  private constructor(
    readonly node: N,
    private readonly read: (after: string | undefined) => Promise<IdPage<T>>,
  ) {}

  /** The records leaving (out) or coming to (in) `node` in a rebalance, `pageSize` a page; a failure is a RebalanceFailed of `step`. */
  static open(node: Participant, side: "out" | "in", step: RebalanceStep, pageSize: number): Promise<Cursor> {
    return Cursor.over(node, (after): Promise<RecordsPage> => onNode(step, node, () => node.records(side, after, pageSize)));
  }

  /** The pages `read` answers for `node`, from the start. */
  static async over<T extends { readonly id: string }, N extends Pick<Participant, "name" | "url">>(
    node: N,
    read: (after: string | undefined) => Promise<IdPage<T>>,
  ): Promise<Cursor<T, N>> {
    const c = new Cursor(node, read);
    c.#next = c.#fetch(undefined);
    await c.#load();
    return c;
  }

  get head(): T | undefined {
    return this.#items[this.#at];
  }

  /** Moves past the head; loads the next page when this one is used up. */
  async advance(): Promise<void> {
    this.#at++;
    if (this.#at >= this.#items.length && this.#next) await this.#load();
  }

  #fetch(after: string | undefined): Promise<IdPage<T>> {
    const p = this.read(after);
    p.catch(() => {}); // read (and thrown) by #load; never an unhandled rejection meanwhile
    return p;
  }

  async #load(): Promise<void> {
    // a page may hold no match (the scan has a budget): go on until records or the end
    while (this.#next) {
      const page = await this.#next;
      this.#next = page.next === null ? undefined : this.#fetch(page.next);
      this.#items = page.items;
      this.#at = 0;
      if (page.items.length > 0) return;
    }
  }
}

/** The cursor whose head has the smallest id, or undefined when all are done. */
export function lowest<C extends { readonly head: { readonly id: string } | undefined }>(cursors: readonly C[]): C | undefined {
  let best: C | undefined;
  for (const c of cursors) if (c.head && (!best || compareIds(c.head.id, best.head!.id) < 0)) best = c;
  return best;
}
