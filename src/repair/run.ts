/**
 * `shardctl repair` as a library: every record onto its owner under the ring in force, and
 * off the nodes that do not own it, while clients keep writing; answers a report (it prints
 * nothing).
 *
 *   survey   every node up, under its name; the ring in force (survey.ts)
 *   begin    a session on every node: from now on writes take turns with the repair id by
 *            id, and the ids clients delete are noted (src/instance/repair/)
 *   scan     every node's stray copies (records whose owner is another node), merged in id
 *            order (the rebalance's cursor), a batch of ids at a time:
 *   place      on each owner, the copy the strays agree on, where the owner has none (and
 *              its clients did not delete it); where it has one, its copy stays (or, with
 *              --prefer stray, is replaced by the stray's, if unchanged since read)
 *   remove     the stray copies, each only if unchanged since read
 *   check    every node scanned again: no stray copy is left (else the run says how many)
 *   end      the sessions end
 *
 * Nothing is decided from an old read: the owner places only into an absent id, and a copy
 * goes only if it is still the one read. So a run killed at any point leaves every record on
 * its owner or where it was, and a run again does the rest; once more, it finds nothing to do.
 */
import { compareIds } from "../expenses/id.ts";
import type { Expense } from "../expenses/model.ts";
import { Interrupted } from "../errors.ts";
import { Cursor, lowest } from "../rebalance/cursor.ts";
import type { AdminOptions } from "../rebalance/admin-client.ts";
import { differingFields } from "../rebalance/sync.ts";
import type { Node } from "../ring/node.ts";
import { ringDocument } from "../ring/ring-file.ts";
import type { Ring } from "../ring/ring.ts";
import { atNode, type RepairStep } from "./errors.ts";
import type { RepairNode } from "./node.ts";
import { NodeRepair } from "./node-http.ts";
import type { Difference, Prefer, RepairProgress, RepairReport, Unresolved } from "./report.ts";
import { type SurveyedNode, surveyForRepair } from "./survey.ts";

export type { Prefer, RepairReport } from "./report.ts";

export interface RepairOptions extends AdminOptions {
  /** The ring of the options: the nodes to ask, and the ring in force when none of them holds one. */
  readonly ring: Ring;
  /** Where that ring came from, for messages (`--nodes`, `--ring r.json`). */
  readonly source?: string;
  /** Count, change nothing. */
  readonly dryRun?: boolean;
  /** Where a stray copy differs from the owner's: which wins (default owner). */
  readonly prefer?: Prefer;
  /** Ids per batch, records per request (default 1000). */
  readonly batchSize?: number;
  /** Batches handled at once (default 2). */
  readonly concurrency?: number;
  /** How the repair speaks to a node (default: its endpoints over HTTP, NodeRepair). */
  readonly node?: (node: Node) => RepairNode;
  /** Ctrl-C: stop after the batches under way, end the sessions, throw Interrupted. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RepairProgress) => void;
}

const DEFAULT_BATCH = 1000;
const DEFAULT_CONCURRENCY = 2;

/** One stray copy: the node it is on, and the record. */
interface Copy {
  readonly node: string;
  readonly record: Expense;
}

/** An id found off its owner: the owner, and every stray copy. */
interface Item {
  readonly id: string;
  readonly owner: string;
  readonly copies: readonly Copy[];
}

/** --prefer stray: the owner's copy `expect` to replace with `record`, the stray copies that differ, and their differences. */
interface Replacement {
  readonly copies: readonly Copy[];
  readonly record: Expense;
  readonly expect: Expense;
  readonly diffs: readonly Omit<Difference, "kept">[];
}

const nodesOf = (copies: readonly Copy[]) => copies.map((c) => c.node).join(", ");

/** What the owner holds of an id, as the repair found (or made) it. */
type OwnerState =
  | { readonly kind: "placed" }
  | { readonly kind: "present"; readonly record: Expense }
  | { readonly kind: "gone" }
  /** absent, by a look (a dry run, or copies that disagree: nothing was placed) */
  | { readonly kind: "absent" };

const same = (a: Expense, b: Expense) => differingFields(a, b).length === 0;

/** The distinct records among `copies`. */
function distinct(copies: readonly Copy[]): Expense[] {
  const out: Expense[] = [];
  for (const c of copies) if (!out.some((r) => same(r, c.record))) out.push(c.record);
  return out;
}

export async function repair(options: RepairOptions): Promise<RepairReport> {
  const started = performance.now();
  const nodeOf = options.node ?? ((node: Node) => new NodeRepair(node, options));
  const survey = await surveyForRepair(options.ring, options.source ?? "the ring options", nodeOf);
  const job = new RepairJob(survey.ring, survey.nodes, options);
  const outcome = await job.run();
  const r = job.result;
  return {
    outcome,
    ring: survey.ring.label,
    ringFrom: survey.ringFrom,
    prefer: job.prefer,
    nodes: survey.nodes.map((n) => ({ node: n.node.name, url: n.node.url, ring: n.held, records: n.records, strays: r.strays.get(n.node.name) ?? 0 })),
    pairs: [...r.pairs]
      .map(([key, copies]) => {
        const [from, to] = key.split("\u0000") as [string, string];
        return { from, to, copies };
      })
      .sort((a, b) => (a.from === b.from ? (a.to < b.to ? -1 : 1) : a.from < b.from ? -1 : 1)),
    found: { ids: r.ids, copies: r.copies },
    placed: r.placed,
    same: r.same,
    differing: r.differing,
    deletedOnOwner: r.deletedOnOwner,
    removed: r.removed,
    unresolved: r.unresolved.sort((a, b) => compareIds(a.id, b.id)),
    ...(r.remaining === undefined ? {} : { remaining: r.remaining }),
    scanned: r.scanned,
    elapsedMs: Math.round(performance.now() - started),
  };
}

class RepairJob {
  readonly prefer: Prefer;
  readonly result = {
    ids: 0,
    copies: 0,
    placed: 0,
    same: 0,
    removed: 0,
    deletedOnOwner: 0,
    scanned: 0,
    differing: [] as Difference[],
    unresolved: [] as Unresolved[],
    remaining: undefined as number | undefined,
    strays: new Map<string, number>(),
    pairs: new Map<string, number>(),
  };
  readonly #nodes: Map<string, RepairNode>;
  readonly #doc: ReturnType<typeof ringDocument>;
  readonly #batch: number;
  readonly #concurrency: number;
  readonly #dryRun: boolean;
  readonly #sessions = new Map<string, string>();
  readonly #total: number;

  constructor(
    private readonly ring: Ring,
    private readonly surveyed: readonly SurveyedNode[],
    private readonly options: RepairOptions,
  ) {
    this.prefer = options.prefer ?? "owner";
    this.#nodes = new Map(surveyed.map((n) => [n.node.name, n.node]));
    this.#doc = ringDocument(ring);
    this.#batch = options.batchSize ?? DEFAULT_BATCH;
    this.#concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.#dryRun = options.dryRun ?? false;
    this.#total = surveyed.reduce((s, n) => s + n.records, 0);
  }

  async run(): Promise<RepairReport["outcome"]> {
    if (!this.#dryRun) await this.#begin();
    const keepAlive = this.#dryRun ? undefined : setInterval(() => this.#touch(), 15_000);
    let complete = false;
    try {
      await this.#scan("scan", (batch) => this.#process(batch));
      if (this.#dryRun) return this.result.copies === 0 ? "nothing-to-do" : "dry-run";
      this.result.remaining = await this.#check();
      complete = this.result.unresolved.length === 0 && this.result.remaining === 0;
      if (complete) return this.result.copies === 0 ? "nothing-to-do" : "repaired";
      return "unresolved";
    } finally {
      clearInterval(keepAlive);
      if (!this.#dryRun) await this.#end(complete);
    }
  }

  async #begin(): Promise<void> {
    const begun = await Promise.allSettled(
      this.surveyed.map(async ({ node, held }) => {
        const answer = await atNode("begin", node, () => node.begin(this.#doc, held));
        this.#sessions.set(node.name, answer.session);
      }),
    );
    const failed = begun.find((b) => b.status === "rejected");
    if (failed) {
      await this.#end(false);
      throw failed.reason;
    }
  }

  #touch(): void {
    for (const [name, session] of this.#sessions)
      this.#nodes
        .get(name)!
        .touch(session)
        .catch(() => {});
  }

  /** Ends every session begun (a node that cannot be told forgets it a minute later). */
  async #end(complete: boolean): Promise<void> {
    await Promise.allSettled([...this.#sessions].map(([name, session]) => this.#nodes.get(name)!.end(session, complete)));
    this.#sessions.clear();
  }

  /** Every node's stray copies, merged by id, `handle`d a batch at a time. */
  async #scan(step: RepairStep, handle: (batch: Item[]) => Promise<void>): Promise<void> {
    let scanned = 0;
    const cursors = await Promise.all(
      this.surveyed.map(({ node }) =>
        Cursor.over(node, async (after) => {
          const page = await atNode(step, node, () => node.strays(this.#doc, after, this.#batch));
          scanned += page.scanned;
          if (step === "scan") this.result.scanned = scanned;
          this.options.onProgress?.({ step, done: Math.min(scanned, this.#total), total: this.#total });
          return page;
        }),
      ),
    );
    // batches hold different ids: a few are handled at once, while the scan goes on
    const inFlight = new Set<Promise<void>>();
    let failure: { readonly error: unknown } | undefined;
    const launch = (batch: Item[]) => {
      const done: Promise<void> = handle(batch)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => inFlight.delete(done));
      inFlight.add(done);
    };
    const settle = async (room: number) => {
      while (inFlight.size > room) await Promise.race(inFlight);
      if (failure) {
        await Promise.all(inFlight);
        throw failure.error;
      }
    };
    let batch: Item[] = [];
    for (;;) {
      const first = lowest(cursors);
      if (!first) break;
      const id = first.head!.id;
      const copies: Copy[] = [];
      for (const c of cursors) {
        if (c.head?.id !== id) continue;
        copies.push({ node: c.node.name, record: c.head });
        await c.advance();
      }
      batch.push({ id, owner: this.ring.ownerOf(id).name, copies });
      if (batch.length >= this.#batch) {
        await settle(this.#concurrency - 1);
        launch(batch);
        batch = [];
        if (this.options.signal?.aborted) await settle(0);
        this.#checkpoint();
      }
    }
    if (batch.length > 0) launch(batch);
    await settle(0);
  }

  /** The final check: stray copies left on every node. */
  async #check(): Promise<number> {
    let left = 0;
    await this.#scan("check", async (batch) => {
      for (const item of batch) left += item.copies.length;
    });
    return left;
  }

  /** One batch: the owners first (placed, or what they hold), then the stray copies removed. */
  async #process(batch: Item[]): Promise<void> {
    const r = this.result;
    for (const item of batch) {
      r.ids++;
      for (const c of item.copies) {
        r.copies++;
        r.strays.set(c.node, (r.strays.get(c.node) ?? 0) + 1);
        const pair = `${c.node}\u0000${item.owner}`;
        r.pairs.set(pair, (r.pairs.get(pair) ?? 0) + 1);
      }
    }
    const owners = await this.#owners(batch);
    const removals = new Map<string, Copy[]>();
    const replacements = new Map<string, Replacement[]>();
    const remove = (copies: readonly Copy[]) => {
      for (const c of copies) removals.set(c.node, [...(removals.get(c.node) ?? []), c]);
    };
    for (const item of batch) {
      const state = owners.get(item.id)!;
      const kinds = distinct(item.copies);
      if (state.kind === "placed" || (state.kind === "absent" && kinds.length === 1)) {
        r.placed++;
        remove(item.copies);
      } else if (state.kind === "gone") {
        r.deletedOnOwner++;
        remove(item.copies);
      } else if (state.kind === "absent") {
        const fields = differingFields(kinds[0]!, kinds[1]!).join(", ");
        this.#unresolved(item, `its copies on ${nodesOf(item.copies)} differ (${fields}) and its owner has none: left where they are`);
      } else {
        const equal = item.copies.filter((c) => same(c.record, state.record));
        const differ = item.copies.filter((c) => !same(c.record, state.record));
        r.same += equal.length;
        remove(equal);
        if (differ.length === 0) continue;
        const strays = distinct(differ);
        const diffs = differ.map((c) => ({
          id: item.id,
          owner: item.owner,
          node: c.node,
          fields: differingFields(state.record, c.record),
          ownerCopy: state.record,
          strayCopy: c.record,
        }));
        if (this.prefer === "owner") {
          r.differing.push(...diffs.map((d) => ({ ...d, kept: "owner" as const })));
          remove(differ);
        } else if (this.prefer === "stray" && strays.length === 1) {
          const list = replacements.get(item.owner) ?? [];
          list.push({ copies: differ, record: strays[0]!, expect: state.record, diffs });
          replacements.set(item.owner, list);
        } else {
          r.differing.push(...diffs.map((d) => ({ ...d, kept: "both" as const })));
          const why = this.prefer === "none" ? "--prefer none" : "the stray copies differ from each other too: no one stray copy to prefer";
          this.#unresolved(item, `its copies on ${nodesOf(differ)} differ from its owner's: both left (${why})`, differ);
        }
      }
    }
    if (this.#dryRun) {
      for (const list of replacements.values()) for (const w of list) r.differing.push(...w.diffs.map((d) => ({ ...d, kept: "stray" as const })));
      for (const list of [...removals.values(), ...[...replacements.values()].flat().map((w) => w.copies)]) r.removed += list.length;
      return;
    }
    remove(await this.#replace(replacements));
    await this.#remove(removals);
  }

  /** What each owner holds of the batch's ids: placed now where the stray copies agree; else (a dry run, disagreeing copies) looked at. */
  async #owners(batch: readonly Item[]): Promise<Map<string, OwnerState>> {
    const states = new Map<string, OwnerState>();
    const byOwner = new Map<string, Item[]>();
    for (const item of batch) byOwner.set(item.owner, [...(byOwner.get(item.owner) ?? []), item]);
    await Promise.all(
      [...byOwner].map(async ([name, items]) => {
        const node = this.#nodes.get(name)!;
        const toPlace = this.#dryRun ? [] : items.filter((i) => distinct(i.copies).length === 1);
        const toRead = items.filter((i) => !toPlace.includes(i));
        if (toPlace.length > 0) {
          const placed = await atNode("place", node, () =>
            node.place(
              this.#session(name),
              toPlace.map((i) => i.copies[0]!.record),
            ),
          );
          for (const o of placed) states.set(o.id, o.outcome === "present" ? { kind: "present", record: o.record! } : { kind: o.outcome });
        }
        if (toRead.length > 0) {
          const looked = await atNode("place", node, () => node.look(toRead.map((i) => i.id)));
          for (const o of looked) states.set(o.id, o.state === "present" ? { kind: "present", record: o.record! } : { kind: o.state });
        }
      }),
    );
    return states;
  }

  /**
   * --prefer stray: each owner's copy replaced by the stray one where it is still the copy
   * read; where a client wrote it since, that write stands. Either way the stray copies go
   * (the owner's copy is theirs now, or newer): answered to remove.
   */
  async #replace(wanted: ReadonlyMap<string, readonly Replacement[]>): Promise<Copy[]> {
    const out: Copy[] = [];
    await Promise.all(
      [...wanted].map(async ([name, list]) => {
        const node = this.#nodes.get(name)!;
        const answers = await atNode("place", node, () =>
          node.replace(
            this.#session(name),
            list.map(({ record, expect }) => ({ record, expect })),
          ),
        );
        const changed = new Set(answers.filter((a) => a.outcome === "changed").map((a) => a.id));
        for (const w of list) {
          const kept = changed.has(w.record.id) ? "owner" : "stray";
          this.result.differing.push(...w.diffs.map((d) => ({ ...d, kept }) as const));
          out.push(...w.copies);
        }
      }),
    );
    return out;
  }

  /** Removes the stray copies, each only if unchanged since read (a node's copies of one batch: at most a batch). */
  async #remove(removals: ReadonlyMap<string, readonly Copy[]>): Promise<void> {
    await Promise.all(
      [...removals].map(async ([name, copies]) => {
        const node = this.#nodes.get(name)!;
        const answers = await atNode("remove", node, () =>
          node.remove(
            this.#session(name),
            copies.map((c) => c.record),
          ),
        );
        for (const a of answers) {
          if (a.outcome === "removed") this.result.removed++;
          else if (a.outcome === "changed") {
            const item = { id: a.id, owner: this.ring.ownerOf(a.id).name, copies: [{ node: name, record: a.record! }] };
            this.#unresolved(item, `its copy on ${name} changed during the repair (a client wrote it there): left; run the repair again`);
          }
        }
      }),
    );
  }

  #unresolved(item: Item, problem: string, copies: readonly Copy[] = item.copies): void {
    this.result.unresolved.push({ id: item.id, owner: item.owner, nodes: copies.map((c) => c.node), problem });
  }

  #session(name: string): string {
    return this.#sessions.get(name)!;
  }

  #checkpoint(): void {
    if (this.options.signal?.aborted) {
      throw new Interrupted("interrupted during the scan: every record is on its owner or where it was; run the same command again to go on");
    }
  }
}
