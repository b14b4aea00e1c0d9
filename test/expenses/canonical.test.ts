/**
 * canonicalProblem: a stored record checked against CanonicalExpense, as an instance
 * checks the copies a rebalance imports. What the service stores passes; each rule of a
 * request, and the canonical form of the id and the cost, fails naming its field.
 */
import { describe, expect, test } from "bun:test";
import type { Expense } from "../../src/expenses/model.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { canonicalProblem, expenseChanges, newExpense } from "../../src/expenses/service.ts";

const good = newExpense({ ...seedRecord("41"), id: "41", estimated_costs: "0700.50" });

describe("canonicalProblem", () => {
  test("what the service makes of a create and an update passes", () => {
    expect(good.estimated_costs).toBe("700.5");
    expect(canonicalProblem(good)).toBeUndefined();
    const { changes } = expenseChanges("41", { status: "approved", decision_date: "01-02-2020", estimated_costs: 0.07 });
    expect(canonicalProblem({ ...good, ...changes })).toBeUndefined();
    expect(canonicalProblem({ ...good, name: "😀".repeat(255), description: "" })).toBeUndefined();
  });

  test.each([
    ["id", "007"],
    ["id", "-1"],
    ["id", "9007199254740992"],
    ["name", ""],
    ["name", "x".repeat(256)],
    ["name", "\ud800"],
    ["category", ""],
    ["description", "d".repeat(4001)],
    ["email", "foo"],
    ["link", "ftp://example.com"],
    ["estimated_costs", "0700"],
    ["estimated_costs", "700.50"],
    ["estimated_costs", "1e3"],
    ["estimated_costs", "1000000000000"],
    ["submit_date", "31-02-2016"],
    ["status", "maybe"],
    ["decision_date", "2020-02-01"],
  ] as const)("%s %p is refused naming the field and its rule", (field, value) => {
    const problem = canonicalProblem({ ...good, [field]: value } as Expense);
    expect(problem).toMatchObject({ field, value });
    expect(problem!.rule).toStartWith("must be ");
  });

  test("a missing field is named", () => {
    const { email: _, ...rest } = good;
    expect(canonicalProblem(rest)).toMatchObject({ field: "email", value: undefined });
  });
});
