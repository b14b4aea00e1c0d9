/**
 * Starting an instance from a command (`serve`, `demo`): the one place where what goes
 * wrong at start becomes an exit status and a one-line message. A malformed database URL
 * or a ring the instance's name is not in (or that clashes with the database's) is bad
 * usage (2); a database that cannot be reached or refuses the login, or a port
 * that is taken, is a job failure (1).
 */
import { errorMessage, JobFailed, UsageError } from "../errors.ts";
import { startInstance, type Instance, type InstanceOptions } from "../instance/start.ts";
import { RingStartError } from "../instance/ring-guard.ts";
import { StoreLoginRefused, StoreUnavailable, StoreUrlError } from "../store/types.ts";
import { parseStoreUrl } from "../store/url.ts";

/** Checks a database URL before anything starts; `source` (--db, SHARDCTL_DB) is named in the message. */
export function checkDbUrl(url: string, source?: string): void {
  try {
    parseStoreUrl(url, source);
  } catch (e) {
    if (e instanceof StoreUrlError) throw new UsageError(e.message);
    throw e;
  }
}

export interface StartContext {
  /** The database in messages, e.g. `the database mysql://root:***@db:3306/x`. */
  readonly what: string;
  /** The address in messages: `127.0.0.1:5001`, or `a free port of 127.0.0.1`. */
  readonly address: string;
  /** The node's name when the command starts several (the demo): it leads every message. */
  readonly node?: string;
  /** Where the bind address came from (`--host`, `SHARDCTL_HOST`), named when it is not this machine's. */
  readonly hostSource?: string;
}

/** startInstance, with every start-up failure turned into UsageError or JobFailed. */
export async function startForCommand(options: InstanceOptions, context: StartContext): Promise<Instance> {
  try {
    return await startInstance(options);
  } catch (e) {
    throw startFailure(e, context);
  }
}

function startFailure(e: unknown, context: StartContext): Error {
  const { what, address, node } = context;
  if (e instanceof StoreUrlError || e instanceof RingStartError) return new UsageError(e.message);
  const where = node === undefined ? undefined : `cannot start node ${node} on ${address}`;
  const lead = where === undefined ? "" : `${where}: `;
  if (e instanceof StoreLoginRefused) {
    return new JobFailed(`${lead}cannot log in to ${what} (check the user and password): ${e.message}`);
  }
  // the store's message says what is wrong with the database (the database cannot be reached: ...)
  if (e instanceof StoreUnavailable) return new JobFailed(`${lead}cannot use ${what}: ${e.message}`);
  if (e instanceof Error && "code" in e && e.code === "EADDRNOTAVAIL") {
    return new UsageError(
      `${where ?? `cannot listen on ${address}`}: ${context.hostSource ?? "--host"} is no address of this machine (or does not resolve to one)`,
    );
  }
  if (e instanceof Error && "code" in e && e.code === "EADDRINUSE") {
    return new JobFailed(`${where ?? `cannot listen on ${address}`}: the address is in use`);
  }
  return new JobFailed(`${where ?? `cannot start on ${address}`} with ${what}: ${errorMessage(e)}`);
}
