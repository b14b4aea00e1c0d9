/**
 * The expense feature: the routes of /v1/expenses as one Elysia instance. Handlers
 * only translate between HTTP and ExpenseService; the schemas in model.ts validate
 * the request and document the answers.
 */
import { Elysia } from "elysia";
import { ErrorBody, Expense, ExpenseCreate, ExpensePage, ExpenseUpdate, IdParams, NoQuery, PageQuery } from "./model.ts";
import type { ExpenseService } from "./service.ts";

export function expensesFeature(service: ExpenseService) {
  return new Elysia({ name: "expenses", prefix: "/v1/expenses" })
    .post(
      "",
      async ({ body, set, status }) => {
        const record = await service.create(body);
        set.headers.location = `/v1/expenses/${record.id}`;
        return status(201, record);
      },
      {
        body: ExpenseCreate,
        query: NoQuery,
        response: { 201: Expense, 400: ErrorBody, 409: ErrorBody, 413: ErrorBody, 422: ErrorBody },
        detail: { summary: "Store a new expense under the id it carries", tags: ["expenses"] },
      },
    )
    .get("", ({ query }) => service.page(query.after, query.limit), {
      query: PageQuery,
      response: { 200: ExpensePage, 422: ErrorBody },
      detail: { summary: "A page of expenses in numeric id order", tags: ["expenses"] },
    })
    .get("/:id", ({ params }) => service.get(params.id), {
      params: IdParams,
      query: NoQuery,
      response: { 200: Expense, 404: ErrorBody, 422: ErrorBody },
      detail: { summary: "One expense", tags: ["expenses"] },
    })
    .put("/:id", async ({ params, body, status }) => status(202, await service.update(params.id, body)), {
      params: IdParams,
      query: NoQuery,
      body: ExpenseUpdate,
      response: { 202: Expense, 400: ErrorBody, 404: ErrorBody, 413: ErrorBody, 422: ErrorBody },
      detail: { summary: "Change any of the fields of an expense (not its id)", tags: ["expenses"] },
    })
    .delete(
      "/:id",
      async ({ params, set }) => {
        await service.remove(params.id);
        set.status = 204;
      },
      {
        params: IdParams,
      query: NoQuery,
        detail: { summary: "Delete an expense (204, or 404)", tags: ["expenses"] },
      },
    );
}
