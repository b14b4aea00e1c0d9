export { createApp, type App, type AppOptions, type RequestLog } from "./app.ts";
export { defaultDbUrl, hostPort, startInstance, type Instance, type InstanceOptions } from "./instance.ts";
export { MAX_BODY_BYTES } from "./body.ts";
export { RingGuard, RingStartError, decide, ringDocument, type RingState, type Adoption } from "./ring-guard.ts";
export { authorizeAdmin, isLoopback, type AdminPolicy } from "./admin.ts";
