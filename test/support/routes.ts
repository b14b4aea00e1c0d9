/** A server's route table (src/http/routes.ts) held to its app. */
import { expect } from "bun:test";
import type { RouteTable } from "../../src/http/routes.ts";

/**
 * Every route `app` serves is in `table` under its own template, with exactly its methods
 * (HEAD goes with GET), and the table has nothing the app does not serve. The number of
 * paths served.
 */
export function expectTableOfApp(app: { readonly routes: readonly { readonly method: string; readonly path: string }[] }, table: RouteTable): number {
  const served = new Map<string, Set<string>>();
  for (const r of app.routes.filter((r) => r.method !== "ALL")) {
    const methods = served.get(r.path) ?? new Set<string>();
    methods.add(r.method);
    if (r.method === "GET") methods.add("HEAD");
    served.set(r.path, methods);
  }
  for (const [path, methods] of served) {
    const known = table.routeOf(path.replace(/:id/, "12"));
    expect({ path, template: known?.template, methods: [...(known?.methods ?? [])].sort() }).toEqual({ path, template: path, methods: [...methods].sort() });
  }
  expect(table.routes.map((r) => r.template).sort()).toEqual([...served.keys()].sort());
  return served.size;
}
