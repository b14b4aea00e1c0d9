/**
 * How a store operation runs on the one bun:sqlite connection. bun:sqlite runs on the event
 * loop: a statement that waits for another process's lock would stall every request,
 * /healthz included. So a locked file fails at once (busy_timeout 0, connection.ts) and the
 * operation is tried again after a pause that lets the loop run, until BUSY_WAIT_MS have
 * passed; then it is a 503, as is a full disk, an I/O error or a table dropped under it.
 */
import type { Database } from "bun:sqlite";
import type { Availability } from "../availability.ts";
import { StoreUnavailable } from "../types.ts";
import { isBusy, missingTable, unavailableCode, unavailableMessage } from "./errors.ts";

/** How long an operation waits for another process's lock on the file before it is a 503. */
const BUSY_WAIT_MS = 1000;

/** Runs `work` (a `write` when it changes the database); a locked file is tried again, any database fault is StoreUnavailable. */
export type Run = <T>(work: () => T, write?: boolean) => Promise<T>;

/** Runs `work` as one write transaction (BEGIN IMMEDIATE: the file's write lock from its first statement on), as `run` runs a write. */
export type Write = <T>(work: () => T) => Promise<T>;

export interface Runner {
  readonly run: Run;
  readonly write: Write;
  /** A write that failed for want of space or I/O, and no write has succeeded since: readiness is 503 until one does. */
  writeFault(): StoreUnavailable | undefined;
}

export function runner(client: Database, availability: Availability): Runner {
  let writeFault: StoreUnavailable | undefined;
  async function run<T>(work: () => T, write = false): Promise<T> {
    let deadline: number | undefined;
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      try {
        const value = work();
        if (write) writeFault = undefined;
        // a read that works says nothing about a database that cannot write
        if (!writeFault) availability.ok();
        return value;
      } catch (e) {
        const code = unavailableCode(e);
        if (code === undefined) {
          const missing = missingTable(e);
          if (missing) availability.failed(missing);
          throw missing ?? e;
        }
        deadline ??= performance.now() + BUSY_WAIT_MS;
        if (isBusy(code) && performance.now() + pause < deadline) {
          await Bun.sleep(pause);
          continue;
        }
        const failure = new StoreUnavailable(unavailableMessage(code, e, BUSY_WAIT_MS), { cause: e });
        if (write && !isBusy(code)) writeFault = failure;
        availability.failed(failure);
        throw failure;
      }
    }
  }
  return { run, write: (work) => run(() => client.transaction(work).immediate(), true), writeFault: () => writeFault };
}
