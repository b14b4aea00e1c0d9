/**
 * The mapping between a record's API form and its columns, shared by both dialects:
 * the id as an integer (numeric order for paging), the cost as integer cents (exact
 * in every database), dates as ISO `yyyy-mm-dd` (SQL DATE order), no decision as NULL.
 */
import type { Expense } from "../expenses/model.ts";
import type { ExpenseChanges } from "../expenses/records.ts";
import { centsToCost, costToCents, dmyToIso, isoToDmy } from "../expenses/values.ts";
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

export function toRow(e: Expense): ExpenseRow {
  return {
    id: Number(e.id),
    name: e.name,
    email: e.email,
    category: e.category,
    description: e.description,
    link: e.link,
    costCents: cents(e.estimated_costs),
    submitDate: iso(e.submit_date),
    status: e.status,
    decisionDate: e.decision_date === "" ? null : iso(e.decision_date),
  };
}

export function toChanges(c: ExpenseChanges): Partial<Omit<ExpenseRow, "id">> {
  const out: Partial<Omit<ExpenseRow, "id">> = {};
  if (c.name !== undefined) out.name = c.name;
  if (c.email !== undefined) out.email = c.email;
  if (c.category !== undefined) out.category = c.category;
  if (c.description !== undefined) out.description = c.description;
  if (c.link !== undefined) out.link = c.link;
  if (c.estimated_costs !== undefined) out.costCents = cents(c.estimated_costs);
  if (c.submit_date !== undefined) out.submitDate = iso(c.submit_date);
  if (c.status !== undefined) out.status = c.status;
  if (c.decision_date !== undefined) out.decisionDate = c.decision_date === "" ? null : iso(c.decision_date);
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
