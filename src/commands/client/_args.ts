/**
 * Arguments shared by the `client` commands, and their one translation into a
 * ShardedExpenseClient and the records to send or check.
 */
import type { ArgsDef } from "citty";
import { UsageError } from "../../errors.ts";
import type { ExpenseCreate } from "../../expenses/model.ts";
import { DataFileError, readRecordsFile, recordsForIds } from "../../client/input.ts";
import { ShardedExpenseClient } from "../../client/sharded-client.ts";
import { DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS } from "../../client/transport.ts";
import { ringInForce } from "../_ring.ts";
import { intOption, parseIds } from "../_parse.ts";

export const dataArg = {
  data: {
    type: "string",
    valueHint: "FILE",
    description: "Your own records instead of the seed data: a JSON array or NDJSON file, - for stdin (not with --ids)",
  },
} as const satisfies ArgsDef;

export const requestArgs = {
  timeout: {
    type: "string",
    valueHint: "MS",
    description: `Per-request timeout in milliseconds (default: ${DEFAULT_TIMEOUT_MS})`,
  },
  retries: {
    type: "string",
    valueHint: "N",
    description: `Retries after a refused or broken connection, a timeout or a 5xx, with backoff (default: ${DEFAULT_RETRIES})`,
  },
} as const satisfies ArgsDef;

/** The client of `command` (`client run`): what it says while it works starts with `shardctl <command>:`, as every message does. */
export function clientFromArgs(
  args: { nodes?: string; vnodes?: string; ring?: string; timeout?: string; retries?: string },
  command: string,
): ShardedExpenseClient {
  return new ShardedExpenseClient({
    ring: ringInForce(args).ring,
    timeoutMs: intOption(args.timeout, "timeout", { min: 1, max: 600_000 }),
    retries: intOption(args.retries, "retries", { min: 0, max: 20 }),
    // On stderr, so that --json output stays one document.
    onRingAdopted: (ring, previous, from) =>
      console.error(`shardctl ${command}: node ${from.name} holds a newer ring: using ring ${ring.label} instead of ${previous.label}`),
  });
}

/** The seed records for --ids (default 1..10), or the records of --data. */
export async function recordsFromArgs(args: { ids?: string; data?: string }): Promise<ExpenseCreate[]> {
  if (args.data !== undefined && args.ids !== undefined) {
    throw new UsageError("give --ids (seed records) or --data FILE (your records), not both");
  }
  if (args.data === undefined) return recordsForIds(parseIds(args.ids));
  if (args.data === "") throw new UsageError("--data needs a file name (or - for stdin)");
  try {
    return await readRecordsFile(args.data);
  } catch (e) {
    if (e instanceof DataFileError) throw new UsageError(`--data: ${e.message}`);
    throw e;
  }
}
