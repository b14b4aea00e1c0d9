/**
 * Field-by-field comparison of a record as sent with the record as stored. The
 * service returns canonical strings (`"7"`, `"700"`), while a sender may use JSON
 * numbers, so numbers compare by value; every other field compares exactly.
 */
import { ExpenseCreate } from "../expenses/model.ts";

/** The fields a client sends, from the schema (the stored record adds status and decision_date). */
export const SENT_FIELDS = Object.keys(ExpenseCreate.properties) as readonly (keyof ExpenseCreate)[];

export interface FieldDifference {
  readonly field: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

const NUMERIC_FIELDS = new Set<string>(["id", "estimated_costs"]);

/**
 * The fields of `sent` that `stored` does not hold; empty when they agree. A field that
 * `sent` leaves out is not compared (a `--data` record for verify may give only some).
 */
export function compareRecord(sent: ExpenseCreate, stored: unknown): FieldDifference[] {
  const s = (stored && typeof stored === "object" ? stored : {}) as Record<string, unknown>;
  const out: FieldDifference[] = [];
  for (const field of SENT_FIELDS) {
    const expected = sent[field];
    if (expected === undefined) continue;
    const actual = s[field];
    if (!sameValue(field, expected, actual)) out.push({ field, expected, actual });
  }
  return out;
}

function sameValue(field: string, expected: unknown, actual: unknown): boolean {
  if (expected === actual) return true;
  if (NUMERIC_FIELDS.has(field) && isNumeric(expected) && isNumeric(actual)) {
    return Number(expected) === Number(actual);
  }
  return false;
}

function isNumeric(v: unknown): boolean {
  if (typeof v === "number") return Number.isFinite(v);
  return typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v));
}

/** `name: expected "Foo 1", got "Bar"; email: ...` for messages. */
export function describeDifferences(diffs: readonly FieldDifference[]): string {
  return diffs.map((d) => `${d.field}: expected ${JSON.stringify(d.expected)}, got ${JSON.stringify(d.actual) ?? "nothing"}`).join("; ");
}
