/** The library: the ring, node lists, the id rule and the record schema. */
export * from "./ring/index.ts";
export { canonicalId, MAX_ID } from "./expenses/id.ts";
export type { Expense, ExpenseCreate, ExpenseUpdate, ExpenseStatus } from "./expenses/model.ts";
export { createApp, startInstance, type Instance, type InstanceOptions } from "./instance/index.ts";
export { openStore, type ExpenseStore } from "./store/index.ts";
export { seedRecord } from "./expenses/seed-data.ts";
export {
  ShardedExpenseClient,
  ConflictError,
  ShardRequestError,
  runRecords,
  verifyRecords,
  followRing,
  checkRings,
  type RingFollow,
  type RingCheckReport,
  type ShardedClientOptions,
  type EnsureResult,
  type FailureKind,
  type RunReport,
  type RunRow,
  type VerifyReport,
  type CircuitOptions,
  type CircuitSnapshot,
  type PreflightReport,
  type LikelyCause,
} from "./client/index.ts";
