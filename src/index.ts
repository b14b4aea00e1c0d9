/** The library: the ring, node lists, the id rule and the record schema. */
export * from "./ring/index.ts";
export { canonicalId, MAX_ID } from "./expenses/id.ts";
export type { Expense, ExpenseCreate, ExpenseUpdate, ExpenseStatus } from "./expenses/model.ts";
