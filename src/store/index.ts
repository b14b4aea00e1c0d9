export { openStore } from "./open.ts";
export { parseStoreUrl, redact, type StoreTarget } from "./url.ts";
export { StoreLoginRefused, StoreSchemaMissing, StoreUnavailable, StoreUrlError, type ExpenseStore } from "./types.ts";
export type { ExpenseChanges } from "../expenses/records.ts";
