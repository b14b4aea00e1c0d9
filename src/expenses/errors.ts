/**
 * Errors of the expense rules. Each carries the HTTP status it stands for, so the
 * server's one onError can answer without knowing the rules; `kind` is the
 * machine-readable `error` of the JSON body.
 */
export class ExpenseError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A field that passed the schema but breaks a rule (422, like schema failures). */
export class InvalidField extends ExpenseError {
  constructor(field: string, problem: string) {
    super(422, "invalid_field", `${field}: ${problem}`, field);
  }
}

export class ExpenseNotFound extends ExpenseError {
  constructor(id: string) {
    super(404, "not_found", `expense ${id} not found`, "id");
  }
}

export class DuplicateExpense extends ExpenseError {
  constructor(id: string) {
    super(409, "conflict", `id: expense ${id} already exists; nothing was changed (use PUT /v1/expenses/${id} to update it)`, "id");
  }
}
