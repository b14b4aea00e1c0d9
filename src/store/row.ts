/**
 * The mapping between the ports' values and the rows of the tables, shared by both dialects.
 * An expense record: the id as an integer (numeric order for paging), the cost as integer
 * cents (exact in every database), dates as ISO `yyyy-mm-dd` (SQL DATE order), no decision
 * as NULL. A rebalance: its phase read through the protocol's vocabulary.
 */
import { EXPENSE_FIELDS, type Expense } from "../expenses/model.ts";
import type { ExpenseChanges } from "../expenses/records.ts";
import { centsToCost, costToCents, dmyToIso, isoToDmy } from "../expenses/values.ts";
import { isRebalancePhase, REBALANCE_PHASES } from "../rebalance/protocol.ts";
import type { StoredRebalance } from "../rebalance/records.ts";
import type { expenses as mysqlExpenses } from "./mysql/schema.ts";
import type { expenses as sqliteExpenses } from "./sqlite/schema.ts";

/** A row of the expenses table, as drizzle types it; both dialects' schemas give this same type. */
export type ExpenseRow = typeof sqliteExpenses.$inferSelect;
// Fails to compile if the two schemas ever give rows of different types.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type RowTypesAgree = Assert<Same<ExpenseRow, typeof mysqlExpenses.$inferSelect>>;

function iso(dmy: string): string {
  const out = dmyToIso(dmy);
  if (out === undefined) throw new RangeError(`not a dd-mm-yyyy date: ${JSON.stringify(dmy)}`);
  return out;
}

function cents(cost: string): number {
  const out = costToCents(cost);
  if (out === undefined) throw new RangeError(`not a cost: ${JSON.stringify(cost)}`);
  return out;
}

/** A change's columns: each present field, as toRow writes it. */
export type RowChanges = Partial<Omit<ExpenseRow, "id">>;

const same = <T>(value: T) => value;
const decision = (date: string) => (date === "" ? null : iso(date));

/**
 * Each field but the id: its column, and its value there. The one mapping toRow and toChanges
 * share; its type lists every field of the schema, so a field added there fails to compile until it is mapped here.
 */
const COLUMNS: { readonly [F in keyof ExpenseChanges]-?: readonly [keyof RowChanges, (value: Expense[F]) => RowChanges[keyof RowChanges]] } = {
  name: ["name", same],
  email: ["email", same],
  category: ["category", same],
  description: ["description", same],
  link: ["link", same],
  estimated_costs: ["costCents", cents],
  submit_date: ["submitDate", iso],
  status: ["status", same],
  decision_date: ["decisionDate", decision],
};

export function toRow(e: Expense): ExpenseRow {
  // every field is given, so every column is set
  return columns(e, { id: Number(e.id) }) as ExpenseRow;
}

export function toChanges(c: ExpenseChanges): RowChanges {
  return columns(c, {});
}

/** Into `out`: the columns of each field `c` gives. */
function columns(c: ExpenseChanges, out: Record<string, unknown>): RowChanges {
  for (const field of EXPENSE_FIELDS) {
    if (field === "id") continue;
    const value = c[field];
    if (value === undefined) continue;
    // (TypeScript cannot pair COLUMNS[field] with c[field] for a union of fields: the schema's types meet here)
    const [column, convert] = COLUMNS[field] as readonly [string, (v: typeof value) => unknown];
    out[column] = convert(value);
  }
  return out;
}

/** MySQL DATE may come back as a Date or `yyyy-mm-dd` depending on the driver mode; accept both. */
function isoText(v: string | Date): string {
  return typeof v === "string" ? v.slice(0, 10) : v.toISOString().slice(0, 10);
}

export function fromRow(r: ExpenseRow): Expense {
  return {
    id: String(r.id),
    name: r.name,
    email: r.email,
    category: r.category,
    description: r.description,
    link: r.link,
    estimated_costs: centsToCost(Number(r.costCents)),
    submit_date: isoToDmy(isoText(r.submitDate)),
    status: r.status,
    decision_date: r.decisionDate === null ? "" : isoToDmy(isoText(r.decisionDate)),
  };
}

/** The columns of the rebalance table that StoredRebalance holds. */
export interface RebalanceRow {
  readonly job: string;
  readonly phase: string;
  readonly token: string | null;
  readonly record: string;
}

/** A row of the rebalance table as the port gives it; a phase the protocol does not know is an error naming it (the table was written by other hands). */
export function rebalanceFromRow(row: RebalanceRow): StoredRebalance {
  if (!isRebalancePhase(row.phase)) {
    throw new Error(`the rebalance table holds phase ${JSON.stringify(row.phase)}, which is not a rebalance phase (${REBALANCE_PHASES.join(", ")})`);
  }
  return { job: row.job, phase: row.phase, token: row.token, text: row.record };
}
