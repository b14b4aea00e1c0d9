/**
 * The expense id is the shard key, so it has exactly one spelling: canonical decimal
 * ("7", never "007", "7.0" or "+7"). A non-canonical id is rejected rather than
 * normalised, because a client that hashed "007" would look for it on another node.
 *
 * Ids are stored as BIGINT; the upper limit is 2^53 - 1 so that a JSON number id is
 * exact in every JavaScript client.
 */
export const MAX_ID = Number.MAX_SAFE_INTEGER; // 9007199254740991

export const CANONICAL_ID = /^(0|[1-9][0-9]{0,15})$/;

/** The canonical string form of an id given as a string or JSON number, or an explanation. */
export function canonicalId(input: unknown): { ok: true; id: string } | { ok: false; problem: string } {
  if (typeof input === "number") {
    if (!Number.isSafeInteger(input) || input < 0) {
      return { ok: false, problem: `must be an integer from 0 to ${MAX_ID}, got ${input}` };
    }
    return { ok: true, id: String(input) };
  }
  if (typeof input !== "string") {
    return { ok: false, problem: `must be a string or number, got ${input === null ? "null" : typeof input}` };
  }
  if (!CANONICAL_ID.test(input) || Number(input) > MAX_ID) {
    return {
      ok: false,
      problem: `must be a canonical decimal integer from 0 to ${MAX_ID} (no sign, leading zeros or decimals), got ${JSON.stringify(input)}`,
    };
  }
  return { ok: true, id: input };
}

/**
 * The numeric order of two canonical ids, for sort() and cursors: a shorter id is the
 * smaller (a canonical id has no leading zeros), ids of one length compare as strings.
 * Exact up to MAX_ID and beyond, with no Number or BigInt.
 */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** `canonicalId` for trusted callers: throws on a bad id. */
export function toCanonicalId(input: unknown): string {
  const r = canonicalId(input);
  if (!r.ok) throw new RangeError(`id ${r.problem}`);
  return r.id;
}
