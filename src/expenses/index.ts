/**
 * The expense feature: the routes of /v1/expenses as one Elysia instance. Handlers
 * only translate between HTTP and ExpenseService; the schemas in model.ts validate
 * the request and document the answers. Each request on one id runs through the
 * ring guard, which refuses (421) the ids this node does not own; the listing does not.
 */
import { Elysia, t } from "elysia";
import type { IdGuard } from "./id-guard.ts";
import { ErrorBody, Expense, ExpenseCreate, ExpensePage, ExpenseUpdate, IdParams, MisdirectedBody, NoQuery, PageQuery } from "./model.ts";
import type { ExpenseService } from "./service.ts";

// mutable, as Elysia's DocumentDecoration types it (the routes below are `as const` for their model names)
const EXPENSES_TAGS: string[] = ["expenses"];

/** The named schemas the routes refer to: the OpenAPI document lists them under components.schemas. */
export const expenseModels = { Expense, ExpenseCreate, ExpenseUpdate, ExpensePage, ErrorBody, MisdirectedBody };

/**
 * What each route of /v1/expenses takes and answers: the instance's routes and the
 * router's are declared with these (on an app that has `expenseModels`), so both
 * validate a request the same way.
 */
export const expenseRoutes = {
  create: {
    body: "ExpenseCreate",
    // our reader (http/body.ts) still parses; the name tells the OpenAPI document the body is JSON
    parse: "application/json",
    query: NoQuery,
    response: {
      201: "Expense",
      400: "ErrorBody",
      409: "ErrorBody",
      413: "ErrorBody",
      415: "ErrorBody",
      421: "MisdirectedBody",
      422: "ErrorBody",
      503: "ErrorBody",
    },
    detail: { summary: "Store a new expense under the id it carries", tags: EXPENSES_TAGS },
  },
  list: {
    query: PageQuery,
    response: { 200: "ExpensePage", 422: "ErrorBody", 503: "ErrorBody" },
    detail: { summary: "A page of expenses in numeric id order", tags: EXPENSES_TAGS },
  },
  get: {
    params: IdParams,
    query: NoQuery,
    response: { 200: "Expense", 404: "ErrorBody", 421: "MisdirectedBody", 422: "ErrorBody", 503: "ErrorBody" },
    detail: { summary: "One expense", tags: EXPENSES_TAGS },
  },
  update: {
    params: IdParams,
    query: NoQuery,
    body: "ExpenseUpdate",
    parse: "application/json",
    response: {
      202: "Expense",
      400: "ErrorBody",
      404: "ErrorBody",
      413: "ErrorBody",
      415: "ErrorBody",
      421: "MisdirectedBody",
      422: "ErrorBody",
      503: "ErrorBody",
    },
    detail: { summary: "Change any of the fields of an expense (not its id)", tags: EXPENSES_TAGS },
  },
  remove: {
    params: IdParams,
    query: NoQuery,
    response: { 204: t.Void({ description: "deleted" }), 404: "ErrorBody", 421: "MisdirectedBody", 422: "ErrorBody", 503: "ErrorBody" },
    detail: { summary: "Delete an expense (204, or 404)", tags: EXPENSES_TAGS },
  },
} as const;

export function expensesFeature(service: ExpenseService, guard: IdGuard) {
  return new Elysia({ name: "expenses", prefix: "/v1/expenses" })
    .model(expenseModels)
    .post(
      "",
      async ({ body, set, status, request }) => {
        const record = await guard.serve({ request, set }, body.id, "write", (write) => service.create(body, write));
        set.headers.location = `/v1/expenses/${record.id}`;
        return status(201, record);
      },
      expenseRoutes.create,
    )
    .get("", ({ query }) => service.page(query.after, query.limit), expenseRoutes.list)
    .get("/:id", ({ params, request, set }) => guard.serve({ request, set }, params.id, "read", () => service.get(params.id)), expenseRoutes.get)
    .put(
      "/:id",
      async ({ params, body, status, request, set }) => {
        return status(202, await guard.serve({ request, set }, params.id, "write", (write) => service.update(params.id, body, write)));
      },
      expenseRoutes.update,
    )
    .delete(
      "/:id",
      async ({ params, request, set }) => {
        await guard.serve({ request, set }, params.id, "write", (write) => service.remove(params.id, write));
        set.status = 204;
      },
      expenseRoutes.remove,
    );
}
