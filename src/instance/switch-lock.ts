/**
 * A read/write lock for one process, in the shape a ring switch needs: requests hold it
 * shared for as long as they run (decision and execution), a ring switch holds it
 * exclusive, so no request is decided under one ring and executed under another.
 *
 * A waiting switch stops new requests from starting (they queue until it is done), so a
 * steady stream of requests cannot starve it; and it waits for the requests in flight at
 * most `timeoutMs`, after which it gives up without running (SwitchTimeout) and the queued
 * requests go on: a request stuck in the database cannot hold the instance forever.
 */

export class SwitchTimeout extends Error {
  override readonly name = "SwitchTimeout";

  constructor(
    readonly inFlight: number,
    readonly timeoutMs: number,
  ) {
    super(`${inFlight} request(s) in flight did not finish within ${timeoutMs} ms`);
  }
}

export class SwitchLock {
  #running = 0;
  /** Switches waiting or running: while there is one, requests queue. */
  #switches = 0;
  /** Requests that arrived while a switch was waiting or running. */
  #queued: (() => void)[] = [];
  /** Resolves the waiting switch when the last request in flight ends. */
  #drained: (() => void) | undefined;
  /** Switches run one at a time, in arrival order. */
  #lastSwitch: Promise<void> = Promise.resolve();

  /** Requests running now. */
  get inFlight(): number {
    return this.#running;
  }

  /** Runs `work` as one request: never while a switch runs. */
  async shared<T>(work: () => Promise<T>): Promise<T> {
    // A loop, not an if: a switch may arrive between the wake-up and this line.
    while (this.#switches > 0) await new Promise<void>((resolve) => this.#queued.push(resolve));
    this.#running++;
    try {
      return await work();
    } finally {
      if (--this.#running === 0) this.#drained?.();
    }
  }

  /** Runs `work` alone: after the requests in flight end, before any queued one starts. */
  async exclusive<T>(timeoutMs: number, work: () => Promise<T>): Promise<T> {
    this.#switches++; // at once: a request arriving from now on waits
    const previous = this.#lastSwitch;
    let done!: () => void;
    this.#lastSwitch = new Promise<void>((resolve) => (done = resolve));
    try {
      await previous;
      if (this.#running > 0) await this.#drain(timeoutMs);
      return await work();
    } finally {
      this.#drained = undefined;
      if (--this.#switches === 0) for (const wake of this.#queued.splice(0)) wake();
      done();
    }
  }

  async #drain(timeoutMs: number): Promise<void> {
    let timer: Timer | undefined;
    const drained = new Promise<boolean>((resolve) => {
      this.#drained = () => resolve(true);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      if (!(await drained)) throw new SwitchTimeout(this.#running, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }
}
