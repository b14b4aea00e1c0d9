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
 * The pieces: the merge cursor (cursor.ts), the batched writes to the targets
 * (batch-writer.ts), and the change log's replay (change-log.ts), which copies by id
 * (copyIds) and compares by id (compareRecords) here.
 */
import { compareIds } from "../expenses/id.ts";
import { EXPENSE_FIELDS, type Expense } from "../expenses/model.ts";
import type { RingMove } from "../ring/move.ts";
import { BatchWriter } from "./batch-writer.ts";
import { Cursor, lowest } from "./cursor.ts";
import { onNode, RebalanceFailed } from "./errors.ts";
import type { Participant } from "./participant.ts";
import type { RebalanceStep } from "./protocol.ts";

export interface SyncContext {
  readonly move: RingMove;
  /** The nodes by name. */
  readonly nodes: ReadonlyMap<string, Participant>;
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
  return EXPENSE_FIELDS.filter((f) => a[f] !== b[f]);
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
    const order = !out ? 1 : !into ? -1 : compareIds(out.head!.id, into.head!.id);
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
export async function copyIds(ctx: SyncContext, step: RebalanceStep, source: Participant, ids: readonly string[]): Promise<{ put: number; deleted: number }> {
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

/** Compares the records of `ids` (leaving `source`) between the source and their new owners. */
export async function compareRecords(ctx: SyncContext, step: RebalanceStep, source: Participant, ids: readonly string[]): Promise<Mismatch[]> {
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
  return mismatches.sort((x, y) => compareIds(x.id, y.id));
}
