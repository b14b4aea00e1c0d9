/**
 * The routes a router serves (see http/routes.ts for what the table is for): the expense
 * API, health, its ring (read only), metrics and docs; none of an instance's admin routes
 * (PUT /ring, /rebalance/*) nor /status. A path not here is a 404, a method a route does
 * not take a 405 naming the ones it does. test/router/routes.test.ts checks it against the app.
 */
import { routeTable } from "../http/routes.ts";

const READ = ["GET", "HEAD"] as const;

export const ROUTER_ROUTES = routeTable([
  { template: "/v1/expenses", methods: ["GET", "HEAD", "POST"] },
  { template: "/healthz", methods: READ },
  { template: "/readyz", methods: READ },
  { template: "/ring", methods: READ },
  { template: "/metrics", methods: READ },
  { template: "/openapi", methods: READ },
  { template: "/openapi/", methods: READ },
  { template: "/openapi/json", methods: READ },
  { template: "/v1/expenses/:id", methods: ["GET", "HEAD", "PUT", "DELETE"] },
]);
