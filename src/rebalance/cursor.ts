/**
 * The merge of a sync pass (sync.ts): each node's moving records of one side in id order,
 * page by page, and the cursor whose head comes first.
 */
import { compareIds } from "../expenses/id.ts";
import { onNode } from "./errors.ts";
import type { Participant } from "./participant.ts";
import type { MovingRecord, RebalanceStep, RecordsPage } from "./protocol.ts";

/** A node's moving records of one side in id order, the next page asked for while this one is read. */
export class Cursor {
  #items: MovingRecord[] = [];
  #at = 0;
  #next: Promise<RecordsPage> | undefined;

  private constructor(
    readonly node: Participant,
    private readonly side: "out" | "in",
    private readonly step: RebalanceStep,
    private readonly pageSize: number,
  ) {}

  static async open(node: Participant, side: "out" | "in", step: RebalanceStep, pageSize: number): Promise<Cursor> {
    const c = new Cursor(node, side, step, pageSize);
    c.#next = c.#fetch(undefined);
    await c.#load();
    return c;
  }

  get head(): MovingRecord | undefined {
    return this.#items[this.#at];
  }

  /** Moves past the head; loads the next page when this one is used up. */
  async advance(): Promise<void> {
    this.#at++;
    if (this.#at >= this.#items.length && this.#next) await this.#load();
  }

  #fetch(after: string | undefined): Promise<RecordsPage> {
    const p = onNode(this.step, this.node, () => this.node.records(this.side, after, this.pageSize));
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
export function lowest(cursors: readonly Cursor[]): Cursor | undefined {
  let best: Cursor | undefined;
  for (const c of cursors) if (c.head && (!best || compareIds(c.head.id, best.head!.id) < 0)) best = c;
  return best;
}
