/**
 * The cluster's listing: every node's records merged in id order, one page of the
 * router's at a time.
 *
 * A page of `limit` records after `after` needs at most `limit` records after `after`
 * from each node: the first `limit` ids of the union are each among the first `limit`
 * of the node that holds them. So each node is asked for one page of `limit`, all at
 * once, and the smallest heads are taken in turn (a k-way merge). A node that answers
 * fewer records than asked while saying more follow is read on, page by page, from the
 * last id it gave, for as many as are still missing. `next` is the last id returned when
 * any node holds more, so the next page starts exactly after it: nothing twice, nothing
 * skipped.
 *
 * The same id on two nodes (a copy left by a move) is listed once: the copy of the node
 * that owns it, else the first.
 */
import { canonicalId, compareIds } from "../expenses/id.ts";
import type { Expense, ExpensePage } from "../expenses/model.ts";
import type { Node } from "../ring/node.ts";

/** One page of one node's listing, as the instance answered it. */
export interface NodePage {
  readonly items: readonly Expense[];
  readonly next: string | null;
}

/** Reads a page of `node`'s listing: up to `limit` records with ids above `after` (undefined: from the start). */
export type ReadPage = (node: Node, after: string | undefined, limit: number) => Promise<NodePage>;

/** A node's listing broke its promises (ids out of order, an empty page that says more follow). */
export class InvalidListing extends Error {
  constructor(
    readonly node: Node,
    reason: string,
  ) {
    super(reason);
  }
}

/** One node's records in id order, a page at a time. */
class NodeCursor {
  #buffer: readonly Expense[] = [];
  #at = 0;
  /** The last id this node gave: the `after` of its next page. */
  #last: string | undefined;
  #more = true;

  constructor(
    readonly node: Node,
    after: string | undefined,
    private readonly readPage: ReadPage,
  ) {
    this.#last = after;
  }

  /** The next record, or undefined when none is buffered. */
  get head(): Expense | undefined {
    return this.#buffer[this.#at];
  }

  /** True when the buffer is used up but the node holds more. */
  get needsPage(): boolean {
    return this.head === undefined && this.#more;
  }

  /** True when the node holds records not yet taken. */
  get hasMore(): boolean {
    return this.head !== undefined || this.#more;
  }

  take(): void {
    this.#at++;
  }

  async read(limit: number): Promise<void> {
    const page = await this.readPage(this.node, this.#last, limit);
    for (const record of page.items) {
      const given = (record as { id?: unknown } | null)?.id;
      const id = typeof given === "string" ? canonicalId(given) : { ok: false as const, problem: `is not a string: ${JSON.stringify(given)}` };
      if (!id.ok) throw new InvalidListing(this.node, `its listing holds a record whose id ${id.problem}`);
      if (this.#last !== undefined && compareIds(id.id, this.#last) <= 0) {
        throw new InvalidListing(this.node, `its listing after ${this.#last} went back to ${id.id}`);
      }
      this.#last = id.id;
    }
    if (page.items.length === 0 && page.next !== null) {
      throw new InvalidListing(this.node, `an empty page after ${this.#last ?? "the start"} says more records follow`);
    }
    this.#buffer = page.items;
    this.#at = 0;
    this.#more = page.next !== null;
  }
}

/**
 * The router's page: up to `limit` records after `after` from all `nodes`, in id order.
 * `ownerOf` decides which copy of an id held twice is listed.
 */
export async function mergedPage(
  nodes: readonly Node[],
  after: string | undefined,
  limit: number,
  readPage: ReadPage,
  ownerOf: (id: string) => Node,
): Promise<ExpensePage> {
  const cursors = nodes.map((node) => new NodeCursor(node, after, readPage));
  const items: Expense[] = [];
  while (items.length < limit) {
    const starved = cursors.filter((c) => c.needsPage);
    if (starved.length > 0) await Promise.all(starved.map((c) => c.read(limit - items.length)));
    let first: NodeCursor | undefined;
    for (const c of cursors) {
      if (c.head !== undefined && (first === undefined || compareIds(c.head.id, first.head!.id) < 0)) first = c;
    }
    if (first === undefined) break;
    const id = first.head!.id;
    const holders = cursors.filter((c) => c.head?.id === id);
    const chosen = holders.length === 1 ? first : (holders.find((c) => c.node.name === ownerOf(id).name) ?? first);
    items.push(chosen.head!);
    for (const c of holders) c.take();
  }
  const more = cursors.some((c) => c.hasMore);
  return { items, next: more && items.length > 0 ? items[items.length - 1]!.id : null };
}
