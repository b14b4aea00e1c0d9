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

export function expensesFeature(service: ExpenseService, guard: IdGuard) {
  return new Elysia({ name: "expenses", prefix: "/v1/expenses" })
    // named models: the OpenAPI document lists them under components.schemas and refers to them
    .model({ Expense, ExpenseCreate, ExpenseUpdate, ExpensePage, ErrorBody, MisdirectedBody })
    .post(
      "",
      async (context) => {
        const { body, set, status } = context;
        const record = await guard.serve(context, body.id, "write", () => service.create(body));
        set.headers.location = `/v1/expenses/${record.id}`;
        return status(201, record);
      },
      {
        body: "ExpenseCreate",
        // our reader (server/body.ts) still parses; the name tells the OpenAPI document the body is JSON
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
        detail: { summary: "Store a new expense under the id it carries", tags: ["expenses"] },
      },
    )
    .get("", ({ query }) => service.page(query.after, query.limit), {
      query: PageQuery,
      response: { 200: "ExpensePage", 422: "ErrorBody", 503: "ErrorBody" },
      detail: { summary: "A page of expenses in numeric id order", tags: ["expenses"] },
    })
    .get("/:id", (context) => guard.serve(context, context.params.id, "read", () => service.get(context.params.id)), {
      params: IdParams,
      query: NoQuery,
      response: { 200: "Expense", 404: "ErrorBody", 421: "MisdirectedBody", 422: "ErrorBody", 503: "ErrorBody" },
      detail: { summary: "One expense", tags: ["expenses"] },
    })
    .put(
      "/:id",
      async (context) => {
        const { params, body, status } = context;
        return status(202, await guard.serve(context, params.id, "write", () => service.update(params.id, body)));
      },
      {
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
        detail: { summary: "Change any of the fields of an expense (not its id)", tags: ["expenses"] },
      },
    )
    .delete(
      "/:id",
      async (context) => {
        await guard.serve(context, context.params.id, "write", () => service.remove(context.params.id));
        context.set.status = 204;
      },
      {
        params: IdParams,
        query: NoQuery,
        response: { 204: t.Void({ description: "deleted" }), 404: "ErrorBody", 421: "MisdirectedBody", 422: "ErrorBody", 503: "ErrorBody" },
        detail: { summary: "Delete an expense (204, or 404)", tags: ["expenses"] },
      },
    );
}
