/**
 * What the routes need from the instance's ring: run a request on one id only if this
 * node serves that id, and say how its write is made. src/instance/ring-guard.ts
 * implements it (421 for ids of other nodes; during a rebalance, 503 for moving ids
 * under the fence, and the change log for writes to ids leaving the node).
 */
import type { WriteOptions } from "./records.ts";

/** What a request does to its id: a rebalance's fence holds writes only. */
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
