/**
 * Under the fence, requests on the leaving ids wait (503): what was written since the
 * verification is replayed from each old owner's change log and compared, with the ids the
 * verification fixed, between the old and the new owner. Only if all agree does any node
 * switch.
 */
import { compareIds } from "../expenses/id.ts";
import { readWholeLog, dropLogged } from "./change-log.ts";
import { RebalanceFailed } from "./errors.ts";
import type { Participant } from "./participant.ts";
import { compareRecords, copyIds, type Mismatch, type SyncContext } from "./sync.ts";

/**
 * For one old owner: every logged write copied to the new owner, then those ids and
 * `fixed` compared between the two (a second copy for any that differ); the log entries
 * dropped once all agree.
 */
export async function replayUnderFence(ctx: SyncContext, node: Participant, fixed: ReadonlySet<string> = new Set()) {
  const log = await readWholeLog(ctx, "fence", node);
  if (log.ids.length > 0) await copyIds(ctx, "fence", node, log.ids);
  const ids = [...new Set([...log.ids, ...fixed])].sort(compareIds);
  let mismatches: Mismatch[] = ids.length === 0 ? [] : await compareRecords(ctx, "fence", node, ids);
  if (mismatches.length > 0) {
    const again = mismatches.map((m) => m.id);
    await copyIds(ctx, "fence", node, again);
    mismatches = await compareRecords(ctx, "fence", node, again);
  }
  if (mismatches.length === 0 && log.seqs.length > 0) await dropLogged(ctx, "fence", node, log.seqs);
  return { drained: log.ids.length, compared: ids.length, mismatches };
}

/** The failure of a fence whose records still differ after a second copy: no node switched, the fence is lifted. */
export function notVerified(mismatches: readonly Mismatch[]): RebalanceFailed {
  const shown = mismatches.slice(0, 5).map((m) => `record ${m.id} (${m.source} -> ${m.target}): ${m.problem}`);
  const more = mismatches.length > shown.length ? `; and ${mismatches.length - shown.length} more` : "";
  return new RebalanceFailed(
    "fence",
    `${mismatches.length} record(s) still differ after copying them again, so no node switched and the fence is lifted: ${shown.join("; ")}${more}`,
    {
      node: mismatches[0]!.target,
      record: mismatches[0]!.id,
    },
  );
}

/** Under the fence after a switch: nothing may be left in a change log (the first switch came after it was replayed and dropped). */
export async function checkLogEmpty(ctx: SyncContext, node: Participant): Promise<void> {
  const log = await readWholeLog(ctx, "fence", node);
  if (log.ids.length > 0) {
    throw new RebalanceFailed(
      "fence",
      `node ${node.name} holds ${log.ids.length} logged write(s) not copied (first: record ${log.ids[0]}), but a node ` +
        `switched already: copy them by hand from ${node.name}`,
      {
        node: node.name,
        record: log.ids[0],
      },
    );
  }
}
