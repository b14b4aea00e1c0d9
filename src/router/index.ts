export { createRouterApp, type RouterApp, type RouterAppOptions } from "./app.ts";
export { RouterError, type RouterErrorBody } from "./errors.ts";
export { mergedPage, InvalidListing, type NodePage, type ReadPage } from "./listing.ts";
export { readiness, type NodeReadiness, type ReadinessReport } from "./readiness.ts";
export { DEFAULT_ROUTER_PORT, DEFAULT_ROUTER_TIMEOUT_MS, startRouter, type Router, type RouterOptions } from "./server.ts";
export { Upstream, type UpstreamAnswer, type UpstreamFailure, type UpstreamOptions, type UpstreamRequest, type UpstreamResult } from "./upstream.ts";
export { FollowedRing } from "./followed-ring.ts";
