/**
 * Errors that decide the process exit status (see the contract):
 *   UsageError -> exit 2 (the user asked for something malformed)
 *   JobFailed  -> exit 1 (the job ran and found a problem)
 * Anything else is a bug and also exits 1, with its stack.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly exitCode = 2;
}

export class JobFailed extends Error {
  override readonly name = "JobFailed";
  readonly exitCode = 1;
}
