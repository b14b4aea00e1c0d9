/**
 * A server's routes by template: what a request counts under in /metrics and the logs (a
 * template, never the raw path: ids would make one series per record), and the methods
 * answered on a path (405 with Allow for the others). Each server declares its own table
 * (instance/routes.ts, router/routes.ts).
 */

export interface KnownRoute {
  /** As Elysia writes it: `/v1/expenses/:id`. */
  readonly template: string;
  /** The methods served; HEAD goes with GET. */
  readonly methods: readonly string[];
}

/** The label of a path no route serves: one series for all of them. */
export const UNMATCHED = "unmatched";

export interface RouteTable {
  /** Every route, for tests and documentation. */
  readonly routes: readonly KnownRoute[];
  /**
   * The route whose template matches `path` (no query), or undefined for a path no route
   * serves. One trailing slash is the same route (`/v1/expenses/7/`, `/healthz/`), as Elysia
   * serves it.
   */
  routeOf(path: string): KnownRoute | undefined;
  /** The template of `path`'s route, or UNMATCHED. */
  templateOf(path: string): string;
}

/**
 * The table of `routes`. A template is a literal path, or a literal prefix and one last
 * `:param` segment (`/v1/expenses/:id`), which matches one non-empty segment.
 */
export function routeTable(routes: readonly KnownRoute[]): RouteTable {
  const byPath = new Map<string, KnownRoute>();
  const byPrefix: { prefix: string; route: KnownRoute }[] = [];
  for (const route of routes) {
    const param = route.template.lastIndexOf("/:");
    if (param === -1) byPath.set(route.template, route);
    else byPrefix.push({ prefix: route.template.slice(0, param + 1), route });
  }
  const exact = (path: string): KnownRoute | undefined => {
    const known = byPath.get(path);
    if (known) return known;
    for (const { prefix, route } of byPrefix) {
      if (path.startsWith(prefix) && path.length > prefix.length && path.indexOf("/", prefix.length) === -1) return route;
    }
    return undefined;
  };
  const routeOf = (path: string) => exact(path) ?? (path.length > 1 && path.endsWith("/") ? exact(path.slice(0, -1)) : undefined);
  return { routes, routeOf, templateOf: (path) => routeOf(path)?.template ?? UNMATCHED };
}
