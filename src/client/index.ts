export * from "./errors.ts";
export * from "./transport.ts";
export * from "./compare.ts";
export * from "./sharded-client.ts";
export * from "./pool.ts";
export * from "./run.ts";
export * from "./verify.ts";
export * from "./records.ts";
