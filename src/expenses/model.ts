/**
 * The expense record, as `t` schemas: the single source of truth for validation,
 * handler types and the OpenAPI document. Each field's `description` says what is
 * accepted; the error handler quotes it, so a rejected request reads
 * `email: must be an email address like foo@bar.com, got "foo"`.
 *
 * Unknown fields are rejected (a typo like "estimated_cost" must not be dropped silently).
 */
import { t } from "elysia";
import { FormatRegistry } from "elysia/type-system";
import { canonicalId, MAX_ID } from "./id.ts";
import { centsToCost, costToCents, dmyToIso, isEmail, isHttpUrl, isText, MAX_COST } from "./values.ts";

export const STATUSES = ["pending", "approved", "rejected", "overbudget"] as const;

FormatRegistry.Set("expense-id", (v) => canonicalId(v).ok);
FormatRegistry.Set("expense-cost", (v) => costToCents(v) !== undefined);
FormatRegistry.Set("canonical-cost", (v) => {
  const cents = costToCents(v);
  return cents !== undefined && centsToCost(cents) === v;
});
FormatRegistry.Set("dd-mm-yyyy", (v) => dmyToIso(v) !== undefined);
FormatRegistry.Set("dd-mm-yyyy-or-empty", (v) => v === "" || dmyToIso(v) !== undefined);
// Text lengths are counted in characters (code points), as MySQL utf8mb4 VARCHAR counts them,
// so no t.String maxLength (TypeBox counts UTF-16 units: 128 emoji would be "256"); every text
// must also be well-formed Unicode (a lone surrogate would be stored as U+FFFD).
export const MAX_NAME = 255;
export const MAX_EMAIL = 254;
export const MAX_DESCRIPTION = 4000;
export const MAX_LINK = 2048;
FormatRegistry.Set("expense-email", (v) => isText(v, 1, MAX_EMAIL) && isEmail(v));
FormatRegistry.Set("http-url", (v) => isText(v, 1, MAX_LINK) && isHttpUrl(v));

const ID_RULE = `must be a canonical decimal integer from 0 to ${MAX_ID} (string or JSON number; no sign, leading zeros or decimals)`;
const COST_RULE = `must be a non-negative amount up to ${MAX_COST} with at most 2 decimals (string or JSON number)`;
const DATE_RULE = "must be a date that exists, as dd-mm-yyyy (years 1000..9999)";

export const ExpenseId = t.Union(
  // t.Number with multipleOf, not t.Integer: Elysia's t.Integer also accepts numeric strings
  // and converts "007" to 7, which would smuggle a non-canonical id past the rule.
  [t.String({ format: "expense-id" }), t.Number({ minimum: 0, maximum: MAX_ID, multipleOf: 1 })],
  { description: ID_RULE, examples: ["1"] },
);

/** A text field of `minLength` to `maxLength` characters (code points), well-formed Unicode. */
function text(maxLength: number, what: string, example: string, minLength = 1) {
  const format = `text-${minLength}-${maxLength}`;
  FormatRegistry.Set(format, (v) => isText(v, minLength, maxLength));
  return t.String({
    format,
    minLength,
    description: `must be ${what} of ${minLength} to ${maxLength} characters`,
    examples: [example],
  });
}

const fields = {
  name: text(MAX_NAME, "a name", "Foo 1"),
  email: t.String({
    format: "expense-email",
    description: `must be an email address like foo@bar.com (at most ${MAX_EMAIL} characters)`,
    examples: ["foo1@bar.com"],
  }),
  category: text(MAX_NAME, "a category", "office supplies"),
  description: text(MAX_DESCRIPTION, "a text", "iPad for office use", 0),
  link: t.String({
    format: "http-url",
    description: `must be an absolute http(s) URL of at most ${MAX_LINK} characters`,
    examples: ["http://www.apple.com/shop/buy-ipad/ipad-pro"],
  }),
  estimated_costs: t.Union([t.String({ format: "expense-cost" }), t.Number({ minimum: 0, maximum: MAX_COST })], { description: COST_RULE, examples: ["700"] }),
  submit_date: t.String({ format: "dd-mm-yyyy", description: DATE_RULE, examples: ["12-10-2016"] }),
};

const Status = t.UnionEnum(STATUSES, { description: `must be one of ${STATUSES.join(", ")}` });
const DecisionDate = t.String({
  format: "dd-mm-yyyy-or-empty",
  description: `must be "" or ${DATE_RULE.replace("must be ", "")}`,
  examples: ["13-10-2016"],
});

/** What a client sends to POST /v1/expenses (id and estimated_costs may be JSON numbers). */
export const ExpenseCreate = t.Object({ id: ExpenseId, ...fields }, { additionalProperties: false });

/**
 * What a client sends to PUT /v1/expenses/:id: any of the fields. `id` may be present
 * (a client sending back a whole record) but must equal the id in the path.
 */
export const ExpenseUpdate = t.Partial(
  t.Object(
    {
      id: ExpenseId,
      ...fields,
      status: Status,
      decision_date: DecisionDate,
    },
    { additionalProperties: false },
  ),
);

/** A stored record as the service returns it: every value a string in canonical form. */
export const Expense = t.Object({
  id: t.String({ examples: ["1"] }),
  name: t.String(),
  email: t.String(),
  category: t.String(),
  description: t.String(),
  link: t.String(),
  estimated_costs: t.String({ description: 'canonical decimal: "700", "700.5"', examples: ["700"] }),
  submit_date: t.String({ description: "dd-mm-yyyy", examples: ["12-10-2016"] }),
  status: t.UnionEnum(STATUSES),
  decision_date: t.String({ description: '"" until a decision, then dd-mm-yyyy', examples: [""] }),
});

/** The fields of a stored record, in the schema's order: the one list of them (comparing two records, mapping one to its columns). */
export const EXPENSE_FIELDS = Object.keys(Expense.properties) as readonly (keyof Expense)[];

/**
 * A stored record with every field by the rules of a request, in canonical form (as
 * newExpense and expenseChanges in service.ts make it): what an instance takes from
 * another, a rebalance's copies (checked with canonicalProblem, service.ts).
 */
export const CanonicalExpense = t.Object({
  id: t.String({ format: "expense-id", description: "must be a canonical id" }),
  ...fields,
  estimated_costs: t.String({ format: "canonical-cost", description: `must be a canonical amount ("700", "700.5", "0.07") up to ${MAX_COST}` }),
  status: Status,
  decision_date: DecisionDate,
});

/** GET /v1/expenses: a page in numeric id order; `next` is the `after` of the next page, null on the last. */
export const ExpensePage = t.Object({
  items: t.Array(Expense),
  next: t.Union([t.String(), t.Null()], { description: "pass as ?after= for the next page; null when done" }),
});

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export const PageQuery = t.Object({
  after: t.Optional(t.String({ format: "expense-id", description: ID_RULE })),
  // 1..999 or 1000 (MAX_PAGE): the pattern alone says what the service takes
  limit: t.Optional(t.String({ pattern: "^(?:[1-9][0-9]{0,2}|1000)$", description: `must be an integer from 1 to ${MAX_PAGE} (default ${DEFAULT_PAGE})` })),
});

/** Routes other than the list take no query parameters: any is rejected (422) like an unknown field. */
export const NoQuery = t.Object({}, { additionalProperties: false });
export const IdParams = t.Object({ id: t.String({ format: "expense-id", description: ID_RULE }) });

/** Every error answer: `message` names the field and the problem. */
export const ErrorBody = t.Object({
  error: t.String({ description: "a short machine-readable kind, e.g. invalid_field, not_found, conflict" }),
  message: t.String(),
  field: t.Optional(t.String()),
  errors: t.Optional(t.Array(t.Object({ field: t.String(), message: t.String() }), { description: "every invalid field" })),
});

/** 421 Misdirected Request: the id belongs to another node under the instance's ring; nothing was executed. */
export const MisdirectedBody = t.Object({
  error: t.Literal("misdirected"),
  message: t.String(),
  field: t.Optional(t.String()),
  errors: t.Optional(t.Array(t.Object({ field: t.String(), message: t.String() }))),
  id: t.String({ description: "the id, canonical" }),
  owner: t.Object({ name: t.String(), url: t.String() }, { description: "the node that owns the id under `ring`" }),
  ring: t.String({ description: "the instance's ring label, <epoch>:<fingerprint>" }),
});

export type ExpenseCreate = typeof ExpenseCreate.static;
export type ExpenseUpdate = typeof ExpenseUpdate.static;
export type Expense = typeof Expense.static;
export type ExpensePage = typeof ExpensePage.static;
export type ExpenseStatus = (typeof STATUSES)[number];
export type ErrorBody = typeof ErrorBody.static;
