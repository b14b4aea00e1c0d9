/**
 * Moving records, VDiff-style: one comparison of every moving record between its old
 * owner (the source, authoritative until the switch) and its new owner (the target),
 * fixing the target from the source. The first pass is the copy (the targets have
 * nothing yet); a later pass is the verification; a pass after a restart copies only what
 * is missing.
 *
 * Each node streams its moving records in id order (GET /rebalance/records: side "out"
 * on sources, "in" on targets). An id moves from exactly one node to exactly one other,
 * so one merge of all sources' streams against one merge of all targets' streams meets
 * each moving id once: at the source only (missing on the target: copy it), at the
 * target only (extra: delete it), at both (compare; copy when they differ).
 *
 * The change log (writes to leaving ids since the move began) is replayed by id: the
 * source's current record goes to the target, or, when the source has none, the target's
 * copy is deleted.
 */
import { compareIds as byId } from "../expenses/id.ts";
import { EXPENSE_FIELDS as FIELDS, type Expense } from "../expenses/model.ts";
import type { RingMove } from "../ring/move.ts";
import type { MovingRecord, RecordsPage } from "./protocol.ts";
import { RebalanceFailed, type RebalanceStepName } from "./errors.ts";
import type { NodeAdmin } from "./node-admin.ts";
import { failureReason } from "../client/errors.ts";

export interface SyncContext {
  readonly move: RingMove;
  /** The nodes by name. */
  readonly nodes: ReadonlyMap<string, NodeAdmin>;
  /** The token in force now (it rotates between passes). */
  readonly token: () => string;
  /** Records per import request and per page. */
  readonly batchSize: number;
  /** Import requests in flight at once. */
  readonly concurrency: number;
  /** Stops the pass between two batches. */
  readonly signal?: AbortSignal;
}

export interface PassCounts {
  /** Moving records found on their old owner. */
  examined: number;
  /** Of those, on the new owner already with the same content. */
  same: number;
  /** On the old owner only: copied. */
  missing: number;
  /** On both with different content: copied again. */
  different: number;
  /** On the new owner only: deleted there. */
  extra: number;
}

/** The ids a pass wrote, by their old owner (to check again under the fence). */
export type WrittenIds = Map<string, Set<string>>;

/** The names of the fields in which two stored records differ. */
export function differingFields(a: Expense, b: Expense): string[] {
  return FIELDS.filter((f) => a[f] !== b[f]);
}

const why = failureReason;

/** `call` as a RebalanceFailed of `step` naming the node and, when given, the record. */
export async function onNode<T>(step: RebalanceStepName, node: NodeAdmin, call: () => Promise<T>, record?: string): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof RebalanceFailed) throw e;
    const about = record === undefined ? "" : ` (records from ${record})`;
    throw new RebalanceFailed(step, `node ${node.name} (${node.node.url})${about}: ${why(e)}`, { node: node.name, record });
  }
}

/** A node's moving records of one side in id order, the next page asked for while this one is read. */
class Cursor {
  #items: MovingRecord[] = [];
  #at = 0;
  #next: Promise<RecordsPage> | undefined;

  private constructor(
    readonly node: NodeAdmin,
    private readonly side: "out" | "in",
    private readonly step: RebalanceStepName,
    private readonly pageSize: number,
  ) {}

  static async open(node: NodeAdmin, side: "out" | "in", step: RebalanceStepName, pageSize: number): Promise<Cursor> {
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
function lowest(cursors: readonly Cursor[]): Cursor | undefined {
  let best: Cursor | undefined;
  for (const c of cursors) if (c.head && (!best || byId(c.head.id, best.head!.id) < 0)) best = c;
  return best;
}

/** Puts and deletes for the targets, sent in batches, at most `concurrency` requests at once. */
class BatchWriter {
  readonly #pending = new Map<string, { put: Expense[]; delete: string[] }>();
  readonly #inFlight = new Set<Promise<void>>();
  #failure: unknown;
  /** Records written (put or deleted) so far, answered by the targets. */
  written = 0;

  constructor(
    private readonly ctx: SyncContext,
    private readonly step: RebalanceStepName,
    private readonly onWritten: (n: number) => void = () => {},
  ) {}

  async put(target: string, record: Expense): Promise<void> {
    const batch = this.#batch(target);
    batch.put.push(record);
    if (batch.put.length + batch.delete.length >= this.ctx.batchSize) await this.#send(target);
  }

  async delete(target: string, id: string): Promise<void> {
    const batch = this.#batch(target);
    batch.delete.push(id);
    if (batch.put.length + batch.delete.length >= this.ctx.batchSize) await this.#send(target);
  }

  /** Sends what is pending and waits for every request; throws the first failure. */
  async flush(): Promise<void> {
    for (const target of [...this.#pending.keys()]) await this.#send(target);
    await Promise.all(this.#inFlight);
    if (this.#failure) throw this.#failure;
  }

  #batch(target: string) {
    let batch = this.#pending.get(target);
    if (!batch) {
      batch = { put: [], delete: [] };
      this.#pending.set(target, batch);
    }
    return batch;
  }

  async #send(target: string): Promise<void> {
    const batch = this.#pending.get(target);
    this.#pending.delete(target);
    if (!batch || batch.put.length + batch.delete.length === 0) return;
    while (this.#inFlight.size >= this.ctx.concurrency) await Promise.race(this.#inFlight);
    if (this.#failure) throw this.#failure;
    if (this.ctx.signal?.aborted) throw this.ctx.signal.reason;
    const node = this.ctx.nodes.get(target)!;
    const first = batch.put[0]?.id ?? batch.delete[0]!;
    const request = onNode(this.step, node, () => node.import(this.ctx.token(), batch.put, batch.delete), first).then(
      () => {
        const n = batch.put.length + batch.delete.length;
        this.written += n;
        this.onWritten(n);
      },
      (e: unknown) => {
        this.#failure ??= e;
      },
    );
    const tracked = request.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }
}

/**
 * One comparison pass over every moving record (see the module comment). `onExamined`
 * is told as records of the sources are compared. Answers the counts and the ids written,
 * by their old owner.
 */
export async function syncPass(
  ctx: SyncContext,
  step: "copy" | "verify",
  onExamined: (counts: PassCounts) => void = () => {},
): Promise<{ counts: PassCounts; written: WrittenIds }> {
  const { move } = ctx;
  const sources = move.from.nodes.map((n) => ctx.nodes.get(n.name)!);
  const targets = move.to.nodes.map((n) => ctx.nodes.get(n.name)!);
  const [outs, ins] = await Promise.all([
    Promise.all(sources.map((n) => Cursor.open(n, "out", step, ctx.batchSize))),
    Promise.all(targets.map((n) => Cursor.open(n, "in", step, ctx.batchSize))),
  ]);
  const counts: PassCounts = { examined: 0, same: 0, missing: 0, different: 0, extra: 0 };
  const written: WrittenIds = new Map();
  const note = (source: string, id: string) => {
    let ids = written.get(source);
    if (!ids) {
      ids = new Set();
      written.set(source, ids);
    }
    ids.add(id);
  };
  const writer = new BatchWriter(ctx, step);
  let told = 0;
  for (;;) {
    const out = lowest(outs);
    const into = lowest(ins);
    if (!out && !into) break;
    const order = !out ? 1 : !into ? -1 : byId(out.head!.id, into.head!.id);
    if (order <= 0) {
      const { peer: target, ...record } = out!.head!;
      counts.examined++;
      if (order < 0) {
        counts.missing++;
        note(out!.node.name, record.id);
        await writer.put(target, record);
      } else {
        const { peer: source, ...copy } = into!.head!;
        if (source !== out!.node.name || into!.node.name !== target) {
          throw new RebalanceFailed(
            step,
            `record ${record.id}: node ${out!.node.name} gives it to ${target}, but node ${into!.node.name} expects it from ` +
              `${source}: the nodes disagree on the rings`,
            {
              record: record.id,
            },
          );
        }
        if (differingFields(record, copy).length === 0) counts.same++;
        else {
          counts.different++;
          note(out!.node.name, record.id);
          await writer.put(target, record);
        }
        await into!.advance();
      }
      await out!.advance();
    } else {
      const { peer: source, id } = into!.head!;
      counts.extra++;
      note(source, id);
      await writer.delete(into!.node.name, id);
      await into!.advance();
    }
    if (counts.examined - told >= 500) {
      told = counts.examined;
      onExamined(counts);
    }
    if (ctx.signal?.aborted) throw ctx.signal.reason;
  }
  await writer.flush();
  onExamined(counts);
  return { counts, written };
}

/**
 * Copies the source's current record of each of `ids` (its own, leaving ids) to its new
 * owner, or deletes the new owner's copy when the source has none. Answers how many
 * records were put and deleted.
 */
export async function copyIds(ctx: SyncContext, step: RebalanceStepName, source: NodeAdmin, ids: readonly string[]): Promise<{ put: number; deleted: number }> {
  const writer = new BatchWriter(ctx, step);
  let [put, deleted] = [0, 0];
  for (let i = 0; i < ids.length; i += ctx.batchSize) {
    const part = ids.slice(i, i + ctx.batchSize);
    const current = new Map((await onNode(step, source, () => source.fetch(part), part[0])).map((r) => [r.id, r]));
    for (const id of part) {
      const target = ctx.move.to.ownerOf(id).name;
      const record = current.get(id);
      if (record) {
        put++;
        await writer.put(target, record);
      } else {
        deleted++;
        await writer.delete(target, id);
      }
    }
  }
  await writer.flush();
  return { put, deleted };
}

/** What differs for one id between its source and its target. */
export interface Mismatch {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  /** "missing on the target", "extra on the target", or the fields that differ. */
  readonly problem: string;
}

/** Compares `ids` (leaving `source`) between the source and their new owners. */
export async function compareIds(ctx: SyncContext, step: RebalanceStepName, source: NodeAdmin, ids: readonly string[]): Promise<Mismatch[]> {
  const byTarget = new Map<string, string[]>();
  for (const id of ids) {
    const target = ctx.move.to.ownerOf(id).name;
    byTarget.set(target, [...(byTarget.get(target) ?? []), id]);
  }
  const mismatches: Mismatch[] = [];
  for (const [target, part] of byTarget) {
    const node = ctx.nodes.get(target)!;
    for (let i = 0; i < part.length; i += ctx.batchSize) {
      const chunk = part.slice(i, i + ctx.batchSize);
      const [there, here] = await Promise.all([
        onNode(step, source, () => source.fetch(chunk), chunk[0]),
        onNode(step, node, () => node.fetch(chunk), chunk[0]),
      ]);
      const at = new Map(here.map((r) => [r.id, r]));
      const from = new Map(there.map((r) => [r.id, r]));
      for (const id of chunk) {
        const [a, b] = [from.get(id), at.get(id)];
        const problem =
          a && !b
            ? "missing on the new owner"
            : !a && b
              ? "on the new owner but deleted on the old"
              : a && b && differingFields(a, b).length > 0
                ? `differs in ${differingFields(a, b).join(", ")}`
                : undefined;
        if (problem) mismatches.push({ id, source: source.name, target, problem });
      }
    }
  }
  return mismatches.sort((x, y) => byId(x.id, y.id));
}

/** Change log entries of `node`: all of them from `afterSeq` on (under the fence: nothing adds to them). */
export async function readWholeLog(ctx: SyncContext, step: RebalanceStepName, node: NodeAdmin): Promise<{ seqs: number[]; ids: string[] }> {
  const seqs: number[] = [];
  const ids = new Set<string>();
  let after: number | undefined;
  for (;;) {
    const entries = await onNode(step, node, () => node.changes(ctx.token(), 10_000, after));
    for (const e of entries) {
      seqs.push(e.seq);
      ids.add(e.id);
    }
    if (entries.length < 10_000) break;
    after = entries.at(-1)!.seq;
  }
  return { seqs, ids: [...ids].sort(byId) };
}

/**
 * Catch-up outside the fence: replays `node`'s change log (oldest entries first, each
 * batch dropped once copied) until a read finds fewer than a batch or `rounds` passed.
 * Writes go on meanwhile; whatever they log waits for the next catch-up or the fence.
 */
export async function catchUp(ctx: SyncContext, node: NodeAdmin, rounds = 20): Promise<{ ids: number; entries: number; copied: Set<string> }> {
  let [ids, entries] = [0, 0];
  const copied = new Set<string>();
  for (let round = 0; round < rounds; round++) {
    const taken = await onNode("catch-up", node, () => node.changes(ctx.token(), ctx.batchSize * 5));
    if (taken.length === 0) break;
    const unique = [...new Set(taken.map((e) => e.id))].sort(byId);
    await copyIds(ctx, "catch-up", node, unique);
    await dropLogged(
      ctx,
      "catch-up",
      node,
      taken.map((e) => e.seq),
    );
    for (const id of unique) copied.add(id);
    ids += unique.length;
    entries += taken.length;
    if (taken.length < ctx.batchSize * 5) break;
    if (ctx.signal?.aborted) throw ctx.signal.reason;
  }
  return { ids, entries, copied };
}

/** Log entries dropped, at most DROP_BATCH a request (an admin request takes at most 100,000). */
export async function dropLogged(ctx: SyncContext, step: RebalanceStepName, node: NodeAdmin, seqs: readonly number[]): Promise<void> {
  for (let i = 0; i < seqs.length; i += DROP_BATCH) {
    const part = seqs.slice(i, i + DROP_BATCH);
    await onNode(step, node, () => node.dropChanges(ctx.token(), part));
  }
}

const DROP_BATCH = 10_000;
