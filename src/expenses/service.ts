/**
 * The expense rules, free of HTTP: a request body that passed the schema becomes a
 * canonical record here, and store answers become errors with a status.
 */
import { TypeCompiler } from "elysia/type-system";
import { duplicateExpense, expenseNotFound, invalidField } from "./errors.ts";
import { canonicalId } from "./id.ts";
import { CanonicalExpense, DEFAULT_PAGE, type Expense, type ExpenseCreate, type ExpensePage, type ExpenseUpdate, MAX_PAGE } from "./model.ts";
import type { ExpenseChanges, ExpenseRecords, WriteOptions } from "./records.ts";
import { centsToCost, costToCents, MAX_COST } from "./values.ts";

function idOf(input: unknown, field = "id"): string {
  const r = canonicalId(input);
  if (!r.ok) throw invalidField(field, r.problem);
  return r.id;
}

/** "0700.50" or 700.5 -> "700.5"; the schema lets through JSON numbers finer than cents, this does not. */
function costOf(input: string | number): string {
  const cents = costToCents(input);
  if (cents === undefined) {
    throw invalidField("estimated_costs", `must be a non-negative amount up to ${MAX_COST} with at most 2 decimals, got ${JSON.stringify(input)}`);
  }
  return centsToCost(cents);
}

/**
 * The rules of a request beyond its schema, as pure functions: the service applies them
 * before it touches the store, and the router before it picks a node, so both reject a
 * request with the same answer.
 */

/** The record a create request stores: canonical id and cost, pending, no decision yet. */
export function newExpense(input: ExpenseCreate): Expense {
  return {
    id: idOf(input.id),
    name: input.name,
    email: input.email,
    category: input.category,
    description: input.description,
    link: input.link,
    estimated_costs: costOf(input.estimated_costs),
    submit_date: input.submit_date,
    status: "pending",
    decision_date: "",
  };
}

/** What an update of the path's `id` changes; the id itself cannot change (a body may repeat it). */
export function expenseChanges(id: string, input: ExpenseUpdate): { key: string; changes: ExpenseChanges } {
  const key = idOf(id);
  const { id: bodyId, estimated_costs, ...rest } = input;
  if (bodyId !== undefined && idOf(bodyId) !== key) {
    throw invalidField("id", `cannot be changed: the path names ${key}, the body ${JSON.stringify(bodyId)}`);
  }
  return { key, changes: estimated_costs === undefined ? rest : { ...rest, estimated_costs: costOf(estimated_costs) } };
}

/** A listing request: the id to start after (undefined: from the start) and the page size. */
export function pageRequest(after: string | undefined, limit: string | number | undefined): { after: string | undefined; size: number } {
  const from = after === undefined ? undefined : idOf(after, "after");
  const size = limit === undefined ? DEFAULT_PAGE : Number(limit);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) {
    throw invalidField("limit", `must be an integer from 1 to ${MAX_PAGE}, got ${JSON.stringify(limit)}`);
  }
  return { after: from, size };
}

const canonical = TypeCompiler.Compile(CanonicalExpense);

/** Where `record` breaks the rules of a stored record (CanonicalExpense): its first bad field, that field's rule and value; undefined when none. */
export function canonicalProblem(record: unknown): { field: string; rule: string; value: unknown } | undefined {
  if (canonical.Check(record)) return undefined;
  const issue = canonical.Errors(record).First()!;
  // the issue's path is a JSON pointer: /estimated_costs
  const field = issue.path.split("/")[1] || "record";
  return { field, rule: issue.schema.description ?? issue.message, value: issue.value };
}

export class ExpenseService {
  constructor(private readonly store: ExpenseRecords) {}

  /** Stores a new expense as pending; a 409 (and nothing overwritten) when the id exists. */
  async create(input: ExpenseCreate, write: WriteOptions = {}): Promise<Expense> {
    const record = newExpense(input);
    if (!(await this.store.insert(record, write))) throw duplicateExpense(record.id);
    return record;
  }

  async get(id: string): Promise<Expense> {
    const record = await this.store.get(idOf(id));
    if (!record) throw expenseNotFound(id);
    return record;
  }

  /** Changes the given fields; the id itself cannot change (a body may repeat it). */
  async update(id: string, input: ExpenseUpdate, write: WriteOptions = {}): Promise<Expense> {
    const { key, changes } = expenseChanges(id, input);
    const record = await this.store.update(key, changes, write);
    if (!record) throw expenseNotFound(key);
    return record;
  }

  async remove(id: string, write: WriteOptions = {}): Promise<void> {
    if (!(await this.store.delete(idOf(id), write))) throw expenseNotFound(id);
  }

  /** Up to `limit` records after the id `after`, in numeric id order, and the `after` of the next page. */
  async page(after: string | undefined, limit: string | number | undefined): Promise<ExpensePage> {
    const { after: from, size } = pageRequest(after, limit);
    const rows = await this.store.list(from, size + 1);
    const items = rows.slice(0, size);
    return { items, next: rows.length > size ? items[size - 1]!.id : null };
  }
}
