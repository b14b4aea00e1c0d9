/**
 * The expense record, as `t` schemas: the single source of truth for validation,
 * handler types and the OpenAPI document. PROVISIONAL: the server work refines the
 * validation rules; the shapes below are the contract's.
 */
import { t } from "elysia";

export const STATUSES = ["pending", "approved", "rejected", "overbudget"] as const;

/** What a client sends to POST /v1/expenses (id and estimated_costs may be JSON numbers). */
export const ExpenseCreate = t.Object({
  id: t.Union([t.String(), t.Integer()]),
  name: t.String(),
  email: t.String(),
  category: t.String(),
  description: t.String(),
  link: t.String(),
  estimated_costs: t.Union([t.String(), t.Number()]),
  submit_date: t.String(),
});

/** What a client sends to PUT /v1/expenses/:id: any of the fields. */
export const ExpenseUpdate = t.Partial(
  t.Object({
    name: t.String(),
    email: t.String(),
    category: t.String(),
    description: t.String(),
    link: t.String(),
    estimated_costs: t.Union([t.String(), t.Number()]),
    submit_date: t.String(),
    status: t.Union(STATUSES.map((s) => t.Literal(s))),
    decision_date: t.String(),
  }),
);

/** A stored record as the service returns it: every value a string in canonical form. */
export const Expense = t.Object({
  id: t.String(),
  name: t.String(),
  email: t.String(),
  category: t.String(),
  description: t.String(),
  link: t.String(),
  estimated_costs: t.String(),
  submit_date: t.String(),
  status: t.Union(STATUSES.map((s) => t.Literal(s))),
  decision_date: t.String(),
});

export type ExpenseCreate = typeof ExpenseCreate.static;
export type ExpenseUpdate = typeof ExpenseUpdate.static;
export type Expense = typeof Expense.static;
export type ExpenseStatus = (typeof STATUSES)[number];
