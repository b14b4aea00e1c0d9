export { openStore } from "./open.ts";
export { parseStoreUrl, redact, type StoreTarget } from "./url.ts";
export { StoreLoginRefused, StoreUnavailable, StoreUrlError, type ExpenseStore } from "./types.ts";
export type { ExpenseChanges } from "../expenses/records.ts";
