export { createApp, type App, type AppOptions, type RequestLog } from "./app.ts";
export { defaultDbUrl, hostPort, startInstance, type Instance, type InstanceOptions } from "./instance.ts";
export { MAX_BODY_BYTES } from "./body.ts";
