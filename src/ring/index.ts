export * from "./hash.ts";
export * from "./hash-ring.ts";
export * from "./nodes.ts";
export * from "./ring-file.ts";
export * from "./analysis.ts";
