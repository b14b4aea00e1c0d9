/**
 * What the in-memory fakes of the admin ports share (test/rebalance/fake-participant.ts,
 * test/repair/fake-repair-node.ts): a call answered as an instance's admin endpoint answers
 * it, and the refusal a contract suite expects of one.
 */
import { expect } from "bun:test";
import { ApiError } from "../../src/errors.ts";
import { AdminAnswerError } from "../../src/rebalance/participant.ts";

/** `work` for node `node`: a refusal (ApiError) becomes the AdminAnswerError of `request`, as its answer over HTTP would; the answer goes through JSON. */
export async function answeredAs<T>(node: string, request: string, work: () => T | Promise<T>): Promise<T> {
  let answer: T;
  try {
    answer = await work();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const body = { error: e.kind, message: e.message, ...(e.field === undefined ? {} : { field: e.field }), ...e.more.body };
    throw new AdminAnswerError(node, e.status, e.kind, request, e.message, body);
  }
  return answer === undefined ? answer : JSON.parse(JSON.stringify(answer));
}

/** The refusal `work` ends in: its status and kind (the test fails when it answers). */
export async function refusal(work: Promise<unknown>): Promise<{ status: number; kind: string }> {
  const e = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(e).toBeInstanceOf(AdminAnswerError);
  const { status, kind } = e as AdminAnswerError;
  return { status, kind };
}
