import { ApiError } from "../errors.ts";
import { RingError } from "../ring/hash-ring.ts";
import { NodeListError } from "../ring/node.ts";
import { ringOfDocument } from "../ring/ring-file.ts";
import type { Ring } from "../ring/ring.ts";

/**
 * The Ring of a ring document in an admin request (it must say its epoch: a ring replaces
 * another only with a larger one); ApiError 422 invalid_ring, its message under `label`,
 * when it is none. `what` names the document in the reason.
 */
export function requestRing(doc: unknown, label: string, what = label): Ring {
  try {
    return ringOfDocument(doc, { requireEpoch: true, what });
  } catch (e) {
    if (e instanceof NodeListError || e instanceof RingError) throw new ApiError(422, "invalid_ring", `${label}: ${e.message}; nothing changed`);
    throw e;
  }
}
