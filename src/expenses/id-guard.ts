/**
 * What the routes need from the instance's ring: run a request on one id only if this
 * node serves that id, and say how its write is made. src/instance/ring-guard.ts
 * implements it (421 for ids of other nodes; during a rebalance, 503 for the ids coming
 * to the node and, under the fence, for the ids leaving it, reads and writes alike; before
 * the fence, the change log for writes to the ids leaving).
 */
import type { WriteOptions } from "./records.ts";

/**
 * What a request does to its id. A rebalance logs the writes to ids leaving the node, not
 * the reads; its fence holds both (a target that switched first may hold a newer write).
 */
export type Access = "read" | "write";

/** The parts of an Elysia context a guard reads (the request's headers) and writes (the answer's). */
export interface RequestContext {
  readonly request: Request;
  readonly set: { headers: Record<string, string | number> };
}

export interface IdGuard {
  /** Runs `work` (with how to make its write) if this node serves `rawId`; else throws the ApiError to answer, running nothing. */
  serve<T>(context: RequestContext, rawId: unknown, access: Access, work: (write: WriteOptions) => Promise<T>): Promise<T>;
}
