import { Elysia, t } from "elysia";
import { NoQuery } from "../expenses/model.ts";
import type { ExpenseStore } from "../store/types.ts";

/** /healthz: the process answers. /readyz: it can also reach its database right now (503 otherwise). */
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
            message: `database: ${e instanceof Error ? e.message : String(e)}`,
          });
        }
      },
      {
        query: NoQuery,
        detail: { summary: "Readiness: 200 when the database answers, 503 when it does not", tags: ["health"] },
      },
    );
}
