/**
 * The routes an instance serves, by template: what a request counts under in /metrics and
 * the logs (a template, never the raw path: ids would make one series per record), and the
 * methods answered on a path (405 with Allow for the others). test/server/routes.test.ts
 * checks that every route of the app is here.
 */

export interface KnownRoute {
  /** As Elysia writes it: `/v1/expenses/:id`. */
  readonly template: string;
  /** The methods served; HEAD goes with GET. */
  readonly methods: readonly string[];
}

const READ = ["GET", "HEAD"] as const;

const STATIC: readonly KnownRoute[] = [
  { template: "/v1/expenses", methods: ["GET", "HEAD", "POST"] },
  { template: "/healthz", methods: READ },
  { template: "/readyz", methods: READ },
  { template: "/status", methods: READ },
  { template: "/metrics", methods: READ },
  { template: "/ring", methods: ["GET", "HEAD", "PUT"] },
  { template: "/openapi", methods: READ },
  { template: "/openapi/", methods: READ },
  { template: "/openapi/json", methods: READ },
  // the rebalance's admin endpoints (rebalance-routes.ts)
  { template: "/rebalance", methods: READ },
  ...["lease", "heartbeat", "phase", "switch", "finish", "release", "abandon", "plan", "import", "changes", "changes/drop", "cleanup"].map((name) => ({
    template: `/rebalance/${name}`,
    methods: ["POST"],
  })),
  { template: "/rebalance/records", methods: ["GET", "HEAD", "POST"] },
];
const BY_PATH = new Map(STATIC.map((r) => [r.template, r]));
const ONE_EXPENSE: KnownRoute = { template: "/v1/expenses/:id", methods: ["GET", "HEAD", "PUT", "DELETE"] };
const EXPENSE_PREFIX = "/v1/expenses/";

/** Every route, for tests and documentation. */
export const KNOWN_ROUTES: readonly KnownRoute[] = [...STATIC, ONE_EXPENSE];

/**
 * The route whose template matches `path` (no query), or undefined for a path no route
 * serves. One trailing slash is the same route (`/v1/expenses/7/`, `/healthz/`), as Elysia
 * serves it.
 */
export function routeOf(path: string): KnownRoute | undefined {
  return routeOfExact(path) ?? (path.length > 1 && path.endsWith("/") ? routeOfExact(path.slice(0, -1)) : undefined);
}

function routeOfExact(path: string): KnownRoute | undefined {
  const known = BY_PATH.get(path);
  if (known) return known;
  if (path.startsWith(EXPENSE_PREFIX) && path.length > EXPENSE_PREFIX.length && path.indexOf("/", EXPENSE_PREFIX.length) === -1) {
    return ONE_EXPENSE;
  }
  return undefined;
}

/** The label of a path no route serves: one series for all of them. */
export const UNMATCHED = "unmatched";
