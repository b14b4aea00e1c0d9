/**
 * The routes an instance serves (see http/routes.ts for what the table is for).
 * test/instance/request-log.test.ts checks that every route of the app is here.
 */
import { type KnownRoute, routeTable } from "../http/routes.ts";

const READ = ["GET", "HEAD"] as const;

/** The instance's table. */
export const INSTANCE_ROUTES = routeTable([
  { template: "/v1/expenses", methods: ["GET", "HEAD", "POST"] },
  { template: "/healthz", methods: READ },
  { template: "/readyz", methods: READ },
  { template: "/status", methods: READ },
  { template: "/metrics", methods: READ },
  { template: "/ring", methods: ["GET", "HEAD", "PUT"] },
  { template: "/openapi", methods: READ },
  { template: "/openapi/", methods: READ },
  { template: "/openapi/json", methods: READ },
  // the rebalance's admin endpoints (rebalance/routes.ts)
  { template: "/rebalance", methods: READ },
  ...["lease", "heartbeat", "phase", "switch", "finish", "release", "abandon", "plan", "import", "changes", "changes/drop", "cleanup"].map((name) => ({
    template: `/rebalance/${name}`,
    methods: ["POST"],
  })),
  { template: "/rebalance/records", methods: ["GET", "HEAD", "POST"] },
  // the repair's admin endpoints (repair/routes.ts)
  ...["strays", "look", "begin", "place", "replace", "remove", "touch", "end"].map((name) => ({ template: `/repair/${name}`, methods: ["POST"] })),
  { template: "/v1/expenses/:id", methods: ["GET", "HEAD", "PUT", "DELETE"] },
]);

/** Every route of an instance. */
export const KNOWN_ROUTES: readonly KnownRoute[] = INSTANCE_ROUTES.routes;

/** The instance route of `path` (see RouteTable.routeOf). */
export const routeOf = INSTANCE_ROUTES.routeOf;

export { UNMATCHED } from "../http/routes.ts";
