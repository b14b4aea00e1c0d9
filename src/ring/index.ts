export * from "./hash.ts";
export * from "./hash-ring.ts";
export * from "./node.ts";
export * from "./ring.ts";
export * from "./ring-file.ts";
export * from "./analysis.ts";
