import { Elysia, t } from "elysia";
import { errorMessage } from "../errors.ts";
import { NoQuery } from "../expenses/model.ts";
import { StoreUnavailable, type ExpenseStore } from "../store/types.ts";

/**
 * Why the database cannot serve, as /readyz and /status say it: a store's own message says
 * it is the database ("the database cannot be reached: ..."); anything else is named so.
 */
export function databaseProblem(e: unknown): string {
  return e instanceof StoreUnavailable ? e.message : `database: ${errorMessage(e)}`;
}

/** /healthz: the process answers. /readyz: it can also read every table it uses right now (503 otherwise). */
export function healthFeature(store: ExpenseStore, node: string) {
  return new Elysia({ name: "health", seed: node })
    .get("/healthz", () => ({ status: "ok" as const, node }), {
      query: NoQuery,
      response: t.Object({ status: t.Literal("ok"), node: t.String() }),
      detail: { summary: "Liveness", tags: ["health"] },
    })
    .get(
      "/readyz",
      async ({ status }) => {
        try {
          await store.ping();
          return { ready: true, node, database: store.dialect };
        } catch (e) {
          return status(503, {
            ready: false,
            node,
            database: store.dialect,
            message: databaseProblem(e),
          });
        }
      },
      {
        query: NoQuery,
        response: {
          200: t.Object({ ready: t.Literal(true), node: t.String(), database: t.UnionEnum(["mysql", "sqlite"]) }),
          503: t.Object({
            ready: t.Literal(false),
            node: t.String(),
            database: t.UnionEnum(["mysql", "sqlite"]),
            message: t.String({ description: "why the database cannot serve: unreachable, locked, full, cannot write, a table missing" }),
          }),
        },
        detail: { summary: "Readiness: 200 when every table of the database can be read (and it can write), 503 naming why not", tags: ["health"] },
      },
    );
}
