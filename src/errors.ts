/**
 * The errors that decide how the program answers.
 *
 * Exit status of a command (scripts rely on these; --help and the README say them too):
 *   UsageError -> exit 2 (the user asked for something malformed)
 *   JobFailed  -> exit 1 (the job ran and found a problem)
 *   Interrupted -> exit 130 (Ctrl-C: the command printed what it had done, as a shell's 128 + SIGINT)
 *   anything else is a bug and also exits 1, with its stack.
 *
 * HTTP answer of the service: ApiError, whatever raises it (the body reader, the
 * expense rules, the ring check), becomes `{ error: kind, message, field? }` with its
 * status in the server's one error handler (src/http/errors.ts).
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly exitCode = 2;
}

export class JobFailed extends Error {
  override readonly name = "JobFailed";
  readonly exitCode = 1;
  /** The command printed the message itself (where it belongs among its output). */
  readonly reported: boolean;

  constructor(message: string, { reported = false }: { reported?: boolean } = {}) {
    super(message);
    this.reported = reported;
  }
}

export class Interrupted extends Error {
  override readonly name = "Interrupted";
  readonly exitCode = 130;
}

export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly status: number,
    /** Machine-readable, the `error` of the body: invalid_field, not_found, conflict, ... */
    readonly kind: string,
    /** For people: names the field (or the part of the request) and the problem. */
    message: string,
    /** The field the message is about, when there is one. */
    readonly field?: string,
    /** More of the answer: keys of the body beside error and message (421's owner), and headers (Retry-After). */
    readonly more: { readonly body?: Readonly<Record<string, unknown>>; readonly headers?: Readonly<Record<string, string>> } = {},
  ) {
    super(message);
  }
}

/** The message of anything thrown: an Error's message, else the value as text. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
