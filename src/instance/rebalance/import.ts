/**
 * What an import may hold: records in canonical form, each by the rules the service
 * stores a record by (canonicalProblem, expenses/service.ts), and only ids coming to this
 * node. A batch with one bad record is refused whole (422 naming the id and the field),
 * nothing written.
 */
import { ApiError } from "../../errors.ts";
import type { Expense } from "../../expenses/model.ts";
import { canonicalProblem } from "../../expenses/service.ts";
import { REBALANCE_ERRORS } from "../../rebalance/protocol.ts";
import type { RingMove } from "../../ring/move.ts";

/** Throws the 422 naming the first record of `records` that is not a stored record in canonical form (canonicalProblem), and its field. */
export function checkCanonical(records: readonly Expense[]): void {
  for (const record of records) {
    const problem = canonicalProblem(record);
    if (problem) {
      const got = JSON.stringify(problem.value)?.slice(0, 80);
      throw new ApiError(422, "invalid_field", `records: expense ${record.id}: ${problem.field} ${problem.rule}, got ${got}`, problem.field);
    }
  }
}

/** Throws the ApiError for the first record of `put`, or id of `put` and `deleted`, that node `self` may not take in `move`. */
export function checkImport(self: string, move: RingMove, put: readonly Expense[], deleted: readonly string[]): void {
  checkCanonical(put);
  for (const id of [...put.map((r) => r.id), ...deleted]) {
    const side = move.side(self, id);
    if (side !== "in") {
      throw new ApiError(
        422,
        REBALANCE_ERRORS.notMovingHere,
        `expense ${id} is not moving to node ${self} in rebalance ${move.job} (it is ${side} here); nothing written`,
        "id",
        { body: { id } },
      );
    }
  }
}
