/**
 * The repair's node over HTTP (node.ts): an instance's GET /ring, GET /status and first
 * listing page, and the admin endpoints of src/instance/repair/routes.ts, through the client's transport
 * (timeouts, retries with backoff, Retry-After). Every call is safe to send again.
 */
import type { Expense, ExpensePage } from "../expenses/model.ts";
import { AdminClient } from "../rebalance/admin-client.ts";
import type { HeldRing, RepairNode } from "./node.ts";
import type { BeginAnswer, LookOutcome, PlaceOutcome, RemoveOutcome, ReplaceOutcome, StraysPage } from "./protocol.ts";

export class NodeRepair extends AdminClient implements RepairNode {
  async ring(): Promise<HeldRing> {
    const res = await this.send("GET", "/ring", undefined, { retries: 1 });
    if (res.status === 404) return { doc: undefined, servedBy: res.servedBy };
    return { doc: this.expect(res, "GET /ring") as HeldRing["doc"], servedBy: res.servedBy };
  }

  async firstRecords(limit: number): Promise<Expense[]> {
    const res = await this.send("GET", `/v1/expenses?limit=${limit}`, undefined, { bulk: true });
    return (this.expect(res, "GET /v1/expenses") as ExpensePage).items;
  }

  async count(): Promise<number> {
    return (this.expect(await this.send("GET", "/status"), "GET /status") as { records: number }).records;
  }

  strays(ring: unknown, after: string | undefined, limit: number): Promise<StraysPage> {
    return this.#post("/repair/strays", { ring, after, limit });
  }

  async look(ids: readonly string[]): Promise<LookOutcome[]> {
    return (await this.#post<{ items: LookOutcome[] }>("/repair/look", { ids })).items;
  }

  begin(ring: unknown, held: string | null): Promise<BeginAnswer> {
    return this.#post("/repair/begin", { ring, held });
  }

  async place(session: string, records: readonly Expense[]): Promise<PlaceOutcome[]> {
    return (await this.#post<{ items: PlaceOutcome[] }>("/repair/place", { session, records })).items;
  }

  async replace(session: string, items: readonly { record: Expense; expect: Expense }[]): Promise<ReplaceOutcome[]> {
    return (await this.#post<{ items: ReplaceOutcome[] }>("/repair/replace", { session, items })).items;
  }

  async remove(session: string, records: readonly Expense[]): Promise<RemoveOutcome[]> {
    return (await this.#post<{ items: RemoveOutcome[] }>("/repair/remove", { session, records })).items;
  }

  async touch(session: string): Promise<void> {
    this.expect(await this.send("POST", "/repair/touch", { session }, { retries: 0 }), "POST /repair/touch");
  }

  async end(session: string, complete: boolean): Promise<void> {
    this.expect(await this.send("POST", "/repair/end", { session, complete }, { retries: 1 }), "POST /repair/end");
  }

  async #post<T>(path: string, body: unknown): Promise<T> {
    return this.expect(await this.send("POST", path, body, { bulk: true }), `POST ${path}`) as T;
  }
}
