/**
 * The rebalance's reads of the whole table, in id order and in bounded steps: the moving
 * records of one side (a page for the orchestrator's merge), the plan's counts, and the
 * leftovers the cleanup deletes. Each id is placed by the move (ring/move.ts).
 */
import type { PlanAnswer, RecordsPage } from "../../rebalance/protocol.ts";
import type { RebalanceRecords } from "../../rebalance/records.ts";
import type { RingMove } from "../../ring/move.ts";

/** Ids read per step of a scan of the whole table. */
const SCAN_IDS = 5000;
/** A scan answers after looking at this many ids, matches or not (a bounded request). */
const SCAN_BUDGET = 50_000;

/**
 * Calls `visit` with each stored id above `after` in order until it answers false or
 * SCAN_BUDGET ids were seen; answers the last id seen, or null when the table ended.
 */
export async function scanIds(records: Pick<RebalanceRecords, "listIds">, after: string | undefined, visit: (id: string) => boolean): Promise<string | null> {
  let seen = 0;
  let last = after;
  for (;;) {
    const ids = await records.listIds(last, SCAN_IDS);
    for (const id of ids) {
      seen++;
      last = id;
      if (!visit(id)) return id;
    }
    if (ids.length < SCAN_IDS) return null;
    if (seen >= SCAN_BUDGET) return last!;
  }
}

/** The records leaving (side "out") or coming to (side "in") node `self`, from the id after `after`, at most `limit`, each with the other node. */
export async function movingPage(
  records: Pick<RebalanceRecords, "listIds" | "getMany">,
  self: string,
  move: RingMove,
  side: "out" | "in",
  after: string | undefined,
  limit: number,
): Promise<RecordsPage> {
  const matched: string[] = [];
  const peers = new Map<string, string>();
  const next = await scanIds(records, after, (id) => {
    if (move.side(self, id) !== side) return true;
    matched.push(id);
    const { from, to } = move.owners(id);
    peers.set(id, side === "out" ? to.name : from.name);
    return matched.length < limit;
  });
  const found = matched.length === 0 ? [] : await records.getMany(matched);
  return { items: found.map((record) => ({ ...record, peer: peers.get(record.id)! })), next };
}

/** What node `self`'s records would do in `move`: the whole table counted (changes nothing). */
export async function planOf(records: Pick<RebalanceRecords, "listIds">, self: string, move: RingMove): Promise<PlanAnswer> {
  const moves = new Map<string, number>();
  const counts = { records: 0, stays: 0, incoming: 0, strays: 0 };
  let after: string | null = null;
  do {
    after = await scanIds(records, after ?? undefined, (id) => {
      counts.records++;
      const side = move.side(self, id);
      if (side === "stay") counts.stays++;
      else if (side === "in") counts.incoming++;
      else if (side === "other") counts.strays++;
      else {
        const to = move.to.ownerOf(id).name;
        moves.set(to, (moves.get(to) ?? 0) + 1);
      }
      return true;
    });
  } while (after !== null);
  return { ...counts, moves: [...moves].map(([to, records]) => ({ to, records })) };
}

/** Up to `limit` ids that left node `self` in `move` (its leftovers after the switch), from the id after `after`; `next` as scanIds answers it. */
export async function leftovers(
  records: Pick<RebalanceRecords, "listIds">,
  self: string,
  move: RingMove,
  after: string | undefined,
  limit: number,
): Promise<{ ids: string[]; next: string | null }> {
  const ids: string[] = [];
  const next = await scanIds(records, after, (id) => {
    if (move.side(self, id) === "out") ids.push(id);
    return ids.length < limit;
  });
  return { ids, next };
}
