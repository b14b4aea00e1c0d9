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
 * A record is listed from its owner only, under the ring in force (`ownerOf`): a copy on
 * any other node (left by a move, a `rebalance --keep-data` or an abort, or written with a
 * wrong node list) is never listed as live, just as GET /v1/expenses/<id> never reads it.
 * A node whose pages hold such copies is read on, page by page (each page larger, up to
 * the instances' limit), until it gives enough of its own.
 */
import { canonicalId, compareIds } from "../expenses/id.ts";
import { type Expense, type ExpensePage, MAX_PAGE } from "../expenses/model.ts";
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

  /** Records of its last page that were not its own (skipped). */
  #skipped = 0;
  /** The size of its last read. */
  #asked = 0;

  /** The next record, or undefined when none is buffered. */
  get head(): Expense | undefined {
    return this.#buffer[this.#at];
  }

  /** Passes over the buffered records this node does not own under `ownerOf`. */
  skipOthers(ownerOf: (id: string) => Node): void {
    while (this.head !== undefined && ownerOf(this.head.id).name !== this.node.name) {
      this.#at++;
      this.#skipped++;
    }
  }

  /** How many records to ask for when `wanted` are still missing: more after a page of others' copies. */
  readSize(wanted: number): number {
    return this.#skipped > 0 ? Math.min(MAX_PAGE, Math.max(wanted, 2 * this.#asked)) : wanted;
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
    this.#asked = limit;
    this.#skipped = 0;
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
 * The router's page: up to `limit` records after `after` from all `nodes`, in id order,
 * each from the node `ownerOf` names (the copies on other nodes are passed over).
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
    for (const c of cursors) c.skipOthers(ownerOf);
    const starved = cursors.filter((c) => c.needsPage);
    if (starved.length > 0) {
      await Promise.all(starved.map((c) => c.read(c.readSize(limit - items.length))));
      continue;
    }
    let first: NodeCursor | undefined;
    for (const c of cursors) {
      if (c.head !== undefined && (first === undefined || compareIds(c.head.id, first.head!.id) < 0)) first = c;
    }
    if (first === undefined) break;
    items.push(first.head!);
    first.take();
  }
  const more = cursors.some((c) => c.hasMore);
  return { items, next: more && items.length > 0 ? items[items.length - 1]!.id : null };
}
