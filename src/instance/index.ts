export { createApp, type App, type AppOptions, type RequestLog } from "./app.ts";
export { defaultDbUrl, startInstance, type Instance, type InstanceOptions } from "./start.ts";
export { MAX_BODY_BYTES } from "../http/body.ts";
export { RingGuard, RingStartError, decide, type RingState, type Adoption } from "./ring-guard.ts";
export { authorizeAdmin, isLoopback, type AdminPolicy } from "./admin.ts";
