/** The writes of a sync pass (sync.ts) to the targets: puts and deletes in batches, a few requests at once. */
import type { Expense } from "../expenses/model.ts";
import { onNode } from "./errors.ts";
import type { RebalanceStep } from "./protocol.ts";
import type { SyncContext } from "./sync.ts";

/** Puts and deletes for the targets, sent in batches, at most `concurrency` requests at once. */
export class BatchWriter {
  readonly #pending = new Map<string, { put: Expense[]; delete: string[] }>();
  readonly #inFlight = new Set<Promise<void>>();
  #failure: unknown;
  /** Records written (put or deleted) so far, answered by the targets. */
  written = 0;

  constructor(
    private readonly ctx: SyncContext,
    private readonly step: RebalanceStep,
    private readonly onWritten: (n: number) => void = () => {},
  ) {}

  async put(target: string, record: Expense): Promise<void> {
    const batch = this.#batch(target);
    batch.put.push(record);
    if (batch.put.length + batch.delete.length >= this.ctx.batchSize) await this.#send(target);
  }

  async delete(target: string, id: string): Promise<void> {
    const batch = this.#batch(target);
    batch.delete.push(id);
    if (batch.put.length + batch.delete.length >= this.ctx.batchSize) await this.#send(target);
  }

  /** Sends what is pending and waits for every request; throws the first failure. */
  async flush(): Promise<void> {
    for (const target of [...this.#pending.keys()]) await this.#send(target);
    await Promise.all(this.#inFlight);
    if (this.#failure) throw this.#failure;
  }

  #batch(target: string) {
    let batch = this.#pending.get(target);
    if (!batch) {
      batch = { put: [], delete: [] };
      this.#pending.set(target, batch);
    }
    return batch;
  }

  async #send(target: string): Promise<void> {
    const batch = this.#pending.get(target);
    this.#pending.delete(target);
    if (!batch || batch.put.length + batch.delete.length === 0) return;
    while (this.#inFlight.size >= this.ctx.concurrency) await Promise.race(this.#inFlight);
    if (this.#failure) throw this.#failure;
    if (this.ctx.signal?.aborted) throw this.ctx.signal.reason;
    const node = this.ctx.nodes.get(target)!;
    const first = batch.put[0]?.id ?? batch.delete[0]!;
    const request = onNode(this.step, node, () => node.import(this.ctx.token(), batch.put, batch.delete), first).then(
      () => {
        const n = batch.put.length + batch.delete.length;
        this.written += n;
        this.onWritten(n);
      },
      (e: unknown) => {
        this.#failure ??= e;
      },
    );
    const tracked = request.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }
}
