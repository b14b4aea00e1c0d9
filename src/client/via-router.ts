/**
 * A client that knows nothing of placement (curl, Postman), through `shardctl router`: POST
 * each record to the router, GET each back from it, and read which instance answered
 * (X-Shard-Node, X-Shard-Url).
 * The caller knows nothing of placement; the ring is used only to check that every
 * answer came from the owner.
 */
import { errorMessage } from "../errors.ts";
import type { ExpenseCreate } from "../expenses/model.ts";
import type { Ring } from "../ring/ring.ts";
import { compareRecord, describeDifferences } from "./compare.ts";
import { forEachLimit } from "./pool.ts";
import { DEFAULT_TIMEOUT_MS, bodyMessage } from "./transport.ts";

export interface ViaRouterRow {
  readonly id: string;
  /** The HTTP status of the POST and of the GET; undefined when there was no answer. */
  readonly post?: number;
  readonly get?: number;
  /** The instance that answered (X-Shard-Node) and its address (X-Shard-Url). */
  readonly node: string | null;
  readonly url: string | null;
  /** The owner on the ring: who should have answered. */
  readonly owner: string;
  readonly ok: boolean;
  readonly problem?: string;
}

export interface ViaRouterReport {
  readonly router: string;
  readonly rows: readonly ViaRouterRow[];
  /** Requests answered per instance: how evenly the ring spread the ids (5/1/4 for ids 1..10 on nodes 1, 2, 3 with one point each). */
  readonly nodes: readonly { readonly node: string; readonly url: string; readonly ids: number }[];
  /** Records in the router's merged listing (GET /v1/expenses, page by page). */
  readonly listed: number;
  readonly ok: boolean;
  readonly elapsedMs: number;
}

async function exchange(url: string, init: RequestInit = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {}
  return { status: res.status, body, node: res.headers.get("x-shard-node"), url: res.headers.get("x-shard-url") };
}

async function oneRecord(router: string, record: ExpenseCreate, ring: Ring): Promise<ViaRouterRow> {
  const id = String(record.id);
  const owner = ring.ownerOf(id).name;
  const failed = (problem: string, post?: number, get?: number, at?: { node: string | null; url: string | null }) => ({
    id,
    post,
    get,
    node: at?.node ?? null,
    url: at?.url ?? null,
    owner,
    ok: false,
    problem,
  });
  try {
    const post = await exchange(`${router}/v1/expenses`, { method: "POST", body: JSON.stringify(record) });
    // 409: stored by an earlier run; the GET below tells whether it is this record.
    if (post.status !== 201 && post.status !== 409) return failed(`POST: HTTP ${post.status}: ${bodyMessage(post.body)}`, post.status, undefined, post);
    const get = await exchange(`${router}/v1/expenses/${id}`);
    const row = { id, post: post.status, get: get.status, node: get.node, url: get.url, owner };
    if (get.status !== 200) return failed(`GET: HTTP ${get.status}: ${bodyMessage(get.body)}`, post.status, get.status, get);
    if (post.node !== owner || get.node !== owner) {
      return { ...row, ok: false, problem: `answered by node ${post.node} and ${get.node}; the owner is ${owner}` };
    }
    const differences = compareRecord(record, get.body);
    if (differences.length > 0) return { ...row, ok: false, problem: `GET differs: ${describeDifferences(differences)}` };
    return { ...row, ok: true };
  } catch (e) {
    return failed(errorMessage(e));
  }
}

/** Counts the records of the router's merged listing, following `next`. */
async function countListed(router: string): Promise<number> {
  let count = 0;
  let after: string | null = null;
  do {
    const page = await exchange(`${router}/v1/expenses?limit=1000${after === null ? "" : `&after=${after}`}`);
    const body = page.body as { items?: unknown[]; next?: string | null };
    if (page.status !== 200 || !Array.isArray(body?.items)) throw new Error(`GET /v1/expenses: HTTP ${page.status}: ${bodyMessage(page.body)}`);
    count += body.items.length;
    after = body.next ?? null;
  } while (after !== null);
  return count;
}

export async function runViaRouter(
  router: string,
  records: readonly ExpenseCreate[],
  ring: Ring,
  { concurrency = 8 }: { concurrency?: number } = {},
): Promise<ViaRouterReport> {
  const started = performance.now();
  const rows: ViaRouterRow[] = new Array(records.length);
  await forEachLimit(records, concurrency, async (record, i) => {
    rows[i] = await oneRecord(router, record, ring);
  });
  const counts = new Map(ring.nodes.map((n) => [n.name, { node: n.name, url: n.url, ids: 0 }]));
  for (const row of rows) if (row.node !== null && counts.has(row.node)) counts.get(row.node)!.ids++;
  const listed = await countListed(router);
  return { router, rows, nodes: [...counts.values()], listed, ok: rows.every((r) => r.ok), elapsedMs: performance.now() - started };
}
