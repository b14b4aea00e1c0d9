/**
 * The participant over HTTP (participant.ts): an instance's GET /ring, and the admin
 * endpoints of src/instance/rebalance/routes.ts, through the client's transport
 * (timeouts, retries with backoff, Retry-After; admin-client.ts). Every endpoint that
 * changes something is safe to send again.
 */
import type { Expense } from "../expenses/model.ts";
import { AdminClient, kindOf, type SendOptions } from "./admin-client.ts";
import type { Participant, RingAnswer } from "./participant.ts";
import {
  type ChangesAnswer,
  type CleanupAnswer,
  type FenceFigures,
  type FencePhase,
  type ImportAnswer,
  type LeaseRequest,
  type PlanAnswer,
  REBALANCE_ERRORS,
  type RebalanceDetail,
  type RebalanceProgress,
  type RebalanceSummary,
  type RecordsPage,
} from "./protocol.ts";

export type { AdminOptions } from "./admin-client.ts";

export class NodeAdmin extends AdminClient implements Participant {
  /** GET /ring: the ring document, or undefined when the instance has none (404). */
  async ring(): Promise<RingAnswer | undefined> {
    const res = await this.send("GET", "/ring", undefined, { retries: 1, timeoutMs: 3000 });
    if (res.status === 404) return undefined;
    return { doc: this.expect(res, "GET /ring") as never, servedBy: res.servedBy };
  }

  /** GET /rebalance: the rebalance the node takes part in, or undefined. */
  async detail(): Promise<RebalanceDetail | undefined> {
    const res = await this.send("GET", "/rebalance");
    if (res.status === 404 && kindOf(res.body) === REBALANCE_ERRORS.noRebalance) return undefined;
    return this.expect(res, "GET /rebalance") as RebalanceDetail;
  }

  lease(request: LeaseRequest): Promise<RebalanceDetail> {
    return this.#post("lease", request);
  }

  /** One try, a short wait: a heartbeat that fails is sent again next time. */
  heartbeat(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary> {
    return this.#post("heartbeat", { token, progress, fence }, { retries: 0, timeoutMs: 3000 });
  }

  phase(token: string, phase: FencePhase, next?: string): Promise<RebalanceSummary> {
    return this.#post("phase", { token, phase, next }, { timeoutMs: 3 * this.timeoutMs });
  }

  switchRing(token: string): Promise<{ label: string }> {
    return this.#post("switch", { token }, { timeoutMs: 3 * this.timeoutMs });
  }

  finish(token: string, progress?: RebalanceProgress, fence?: FenceFigures): Promise<RebalanceSummary> {
    return this.#post("finish", { token, progress, fence });
  }

  release(token: string): Promise<RebalanceSummary> {
    return this.#post("release", { token }, { retries: 1 });
  }

  abandon(token: string): Promise<{ abandoned: string }> {
    return this.#post("abandon", { token }, { retries: 1 });
  }

  plan(from: unknown, to: unknown): Promise<PlanAnswer> {
    return this.#post("plan", { from, to }, { bulk: true });
  }

  async records(side: "out" | "in", after: string | undefined, limit: number): Promise<RecordsPage> {
    const query = `side=${side}&limit=${limit}${after === undefined ? "" : `&after=${after}`}`;
    const res = await this.send("GET", `/rebalance/records?${query}`, undefined, { bulk: true });
    return this.expect(res, `GET /rebalance/records?${query}`) as RecordsPage;
  }

  async fetch(ids: readonly string[]): Promise<Expense[]> {
    return (await this.#post<{ items: Expense[] }>("records", { ids }, { bulk: true })).items;
  }

  import(token: string, put: readonly Expense[], deleted: readonly string[]): Promise<ImportAnswer> {
    return this.#post("import", { token, put, delete: deleted }, { bulk: true });
  }

  async changes(token: string, limit: number, afterSeq?: number): Promise<ChangesAnswer["items"]> {
    return (await this.#post<ChangesAnswer>("changes", { token, limit, afterSeq }, { bulk: true })).items;
  }

  async dropChanges(token: string, seqs: readonly number[]): Promise<void> {
    await this.#post("changes/drop", { token, seqs }, { bulk: true });
  }

  cleanup(token: string, after: string | undefined, limit: number): Promise<CleanupAnswer> {
    return this.#post("cleanup", { token, after, limit }, { bulk: true });
  }

  async #post<T>(endpoint: string, body: unknown, options?: SendOptions): Promise<T> {
    const res = await this.send("POST", `/rebalance/${endpoint}`, body, options);
    return this.expect(res, `POST /rebalance/${endpoint}`) as T;
  }
}
