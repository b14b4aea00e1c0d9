export { openStore } from "./open.ts";
export { parseStoreUrl, redact, type StoreTarget } from "./url.ts";
export { StoreLoginRefused, StoreUnavailable, StoreUrlError, type ExpenseChanges, type ExpenseStore } from "./types.ts";
