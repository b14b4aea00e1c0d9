/** The answers of the expense rules that are not a stored record. */
import { ApiError } from "../errors.ts";

/** A field that passed the schema but breaks a rule (422, like schema failures). */
export function invalidField(field: string, problem: string): ApiError {
  return new ApiError(422, "invalid_field", `${field}: ${problem}`, field);
}

export function expenseNotFound(id: string): ApiError {
  return new ApiError(404, "not_found", `expense ${id} not found`, "id");
}

export function duplicateExpense(id: string): ApiError {
  return new ApiError(409, "conflict", `id: expense ${id} already exists; nothing was changed (use PUT /v1/expenses/${id} to update it)`, "id");
}
