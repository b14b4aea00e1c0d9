/**
 * Reading a source's change log (the writes to its leaving ids since the move began) and
 * replaying it: the source's current record of each id goes to the target, or the target's
 * copy is deleted when the source has none; the entries are dropped once copied. The log is
 * a queue, not a cursor (see RebalanceRecords): entries are taken oldest first and dropped
 * by their sequence numbers.
 */
import { compareIds } from "../expenses/id.ts";
import { onNode } from "./errors.ts";
import type { Participant } from "./participant.ts";
import type { RebalanceStep } from "./protocol.ts";
import { copyIds, type SyncContext } from "./sync.ts";

/** Entries read per request of readWholeLog (an admin request answers at most 100,000). */
const READ_BATCH = 10_000;
/** Entries dropped per request (an admin request takes at most 100,000). */
const DROP_BATCH = 10_000;

/** Every change log entry of `node`, paged by sequence number: under the fence only, where nothing adds to them. */
export async function readWholeLog(ctx: SyncContext, step: RebalanceStep, node: Participant): Promise<{ seqs: number[]; ids: string[] }> {
  const seqs: number[] = [];
  const ids = new Set<string>();
  let after: number | undefined;
  for (;;) {
    const entries = await onNode(step, node, () => node.changes(ctx.token(), READ_BATCH, after));
    for (const e of entries) {
      seqs.push(e.seq);
      ids.add(e.id);
    }
    if (entries.length < READ_BATCH) break;
    after = entries.at(-1)!.seq;
  }
  return { seqs, ids: [...ids].sort(compareIds) };
}

/**
 * Catch-up outside the fence: replays `node`'s change log (oldest entries first, each
 * batch dropped once copied) until a read finds fewer than a batch or `rounds` passed.
 * Writes go on meanwhile; whatever they log waits for the next catch-up or the fence.
 */
export async function catchUp(ctx: SyncContext, node: Participant, rounds = 20): Promise<{ ids: number; entries: number; copied: Set<string> }> {
  let [ids, entries] = [0, 0];
  const copied = new Set<string>();
  for (let round = 0; round < rounds; round++) {
    const taken = await onNode("catch-up", node, () => node.changes(ctx.token(), ctx.batchSize * 5));
    if (taken.length === 0) break;
    const unique = [...new Set(taken.map((e) => e.id))].sort(compareIds);
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

/** Log entries dropped, at most DROP_BATCH a request. */
export async function dropLogged(ctx: SyncContext, step: RebalanceStep, node: Participant, seqs: readonly number[]): Promise<void> {
  for (let i = 0; i < seqs.length; i += DROP_BATCH) {
    const part = seqs.slice(i, i + DROP_BATCH);
    await onNode(step, node, () => node.dropChanges(ctx.token(), part));
  }
}
