/**
 * `client run`: POST every record to its owner, then GET every stored one back from
 * its owner and compare it field by field. Per-id failures are collected, never
 * thrown, so one dead node does not stop the others' records.
 */
import type { ExpenseCreate } from "../expenses/model.ts";
import { compareRecord, describeDifferences } from "./compare.ts";
import { ShardRequestError, type FailureKind } from "./errors.ts";
import { forEachLimit } from "./pool.ts";
import type { ShardedExpenseClient } from "./sharded-client.ts";

export type PostOutcome = "created" | "exists" | FailureKind | "error";
export type GetOutcome = "match" | "differs" | "missing" | "skipped" | FailureKind | "error";

export interface Step<O extends string> {
  readonly ok: boolean;
  readonly outcome: O;
  /** The HTTP status of the answer that decided the outcome, when there was one. */
  readonly status?: number;
  /** Why it failed (or what differs). */
  readonly message?: string;
}

export interface RunRow {
  readonly id: string;
  readonly node: string;
  readonly url: string;
  post: Step<PostOutcome>;
  get: Step<GetOutcome>;
  ok: boolean;
}

export interface NodeCount {
  readonly node: string;
  readonly url: string;
  ids: number;
  ok: number;
  failed: number;
}

export interface RunReport {
  readonly ok: boolean;
  readonly rows: readonly RunRow[];
  readonly nodes: readonly NodeCount[];
  readonly failed: number;
  readonly elapsedMs: number;
}

export interface RunOptions {
  /** Requests in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Called after each request of each phase. */
  readonly onProgress?: (phase: "POST" | "GET", done: number, total: number) => void;
}

export async function runRecords(
  client: ShardedExpenseClient,
  records: readonly ExpenseCreate[],
  { concurrency = 8, onProgress }: RunOptions = {},
): Promise<RunReport> {
  const started = performance.now();
  const rows: RunRow[] = records.map((r) => {
    const owner = client.ownerOf(r.id);
    return {
      id: String(r.id),
      node: owner.name,
      url: owner.url,
      post: { ok: false, outcome: "error", message: "not sent" },
      get: { ok: false, outcome: "skipped", message: "POST failed" },
      ok: false,
    };
  });

  // Before writing anything, ask each owner who it is: under a node list whose names do not
  // match the instances' --name, every record would be stored (201) and only then fail.
  const misnamed = new Map<string, Step<PostOutcome>>();
  await Promise.all(
    [...new Set(rows.map((r) => r.node))].map(async (name) => {
      try {
        await client.checkName(name);
      } catch (e) {
        const { outcome, message } = failure(e); // no status: the answer was /healthz's, not a POST's
        misnamed.set(name, { ok: false, outcome, message: `${message}; nothing was sent to it` });
      }
    }),
  );

  let done = 0;
  await forEachLimit(records, concurrency, async (record, i) => {
    rows[i]!.post = misnamed.get(rows[i]!.node) ?? (await postOne(client, record));
    onProgress?.("POST", ++done, records.length);
  });

  const stored = records.map((_, i) => i).filter((i) => rows[i]!.post.ok);
  done = 0;
  await forEachLimit(stored, concurrency, async (i) => {
    rows[i]!.get = await getOne(client, records[i]!);
    onProgress?.("GET", ++done, stored.length);
  });

  const nodes = new Map<string, NodeCount>(client.nodes.map((n) => [n.name, { node: n.name, url: n.url, ids: 0, ok: 0, failed: 0 }]));
  let failed = 0;
  for (const row of rows) {
    row.ok = row.post.ok && row.get.ok;
    const count = nodes.get(row.node)!;
    count.ids++;
    if (row.ok) count.ok++;
    else {
      count.failed++;
      failed++;
    }
  }
  return { ok: failed === 0, rows, nodes: [...nodes.values()], failed, elapsedMs: performance.now() - started };
}

async function postOne(client: ShardedExpenseClient, record: ExpenseCreate): Promise<Step<PostOutcome>> {
  try {
    const r = await client.ensure(record);
    return { ok: true, outcome: r.outcome, status: r.outcome === "created" ? 201 : 409 };
  } catch (e) {
    return failure(e);
  }
}

async function getOne(client: ShardedExpenseClient, record: ExpenseCreate): Promise<Step<GetOutcome>> {
  try {
    const stored = await client.get(record.id);
    if (!stored) return { ok: false, outcome: "missing", status: 404, message: `HTTP 404: not on its owner ${client.ownerOf(record.id).name}` };
    const diffs = compareRecord(record, stored);
    if (diffs.length > 0) return { ok: false, outcome: "differs", status: 200, message: describeDifferences(diffs) };
    return { ok: true, outcome: "match", status: 200 };
  } catch (e) {
    return failure(e);
  }
}

function failure(e: unknown): Step<FailureKind | "error"> {
  if (e instanceof ShardRequestError) return { ok: false, outcome: e.kind, status: e.status, message: e.message };
  return { ok: false, outcome: "error", message: e instanceof Error ? e.message : String(e) };
}
