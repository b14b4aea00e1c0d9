/**
 * `client run`: for each record, POST it to its owner, then GET it back from its owner
 * and compare it field by field. Per-id failures are collected, never thrown, so one
 * dead node does not stop the others' records.
 *
 * A pre-flight check comes first (preflight.ts): when the instances' names do not
 * match the node list nothing is sent; a node that does not answer has its circuit
 * opened, so its ids fail at once instead of each paying the retries.
 */
import { errorMessage } from "../errors.ts";
import type { ExpenseCreate } from "../expenses/model.ts";
import type { CircuitSnapshot } from "./circuit.ts";
import { compareRecord, describeDifferences } from "./compare.ts";
import { ShardRequestError, type FailureKind } from "./errors.ts";
import { forEachLimit } from "./pool.ts";
import { preflight, type PreflightReport } from "./preflight.ts";
import type { ShardedExpenseClient } from "./sharded-client.ts";

/** `not-started`: the run was interrupted before this id. */
export type PostOutcome = "created" | "exists" | "not-started" | FailureKind | "error";
export type GetOutcome = "match" | "differs" | "missing" | "skipped" | FailureKind | "error";

export interface Step<O extends string> {
  readonly ok: boolean;
  readonly outcome: O;
  /** The HTTP status of the answer that decided the outcome, when there was one. */
  readonly status?: number;
  /** Why it failed (or what differs). */
  readonly message?: string;
  /** The request was never sent (its node's circuit was open): a POST not sent stored nothing. */
  readonly unsent?: true;
}

export interface RunRow {
  readonly id: string;
  /** The id's owner: under the client's ring, or under the newer ring it adopted on the way. */
  node: string;
  url: string;
  post: Step<PostOutcome>;
  get: Step<GetOutcome>;
  ok: boolean;
}

export interface NodeCount {
  readonly node: string;
  readonly url: string;
  ids: number;
  /** Ids done: stored by this run, or found already stored with the same content; read back equal. */
  ok: number;
  created: number;
  exists: number;
  failed: number;
  /** The node's circuit breaker at the end of the run. */
  circuit?: CircuitSnapshot;
}

export interface RunReport {
  readonly ok: boolean;
  readonly rows: readonly RunRow[];
  readonly nodes: readonly NodeCount[];
  /** Ids stored by this run and read back equal. */
  readonly created: number;
  /** Ids already stored with the same content (a re-run) and read back equal. */
  readonly exists: number;
  /** Ids that failed (unfinished ones are not counted). */
  readonly failed: number;
  /** Ids the interrupted run did not finish: not started, or given up in flight (a re-run completes them). */
  readonly unfinished: number;
  /** Stopped by the caller's signal (Ctrl-C): a partial report. */
  readonly interrupted: boolean;
  readonly preflight: PreflightReport;
  readonly elapsedMs: number;
}

export interface RunProgress {
  /** Ids finished (ok or failed). */
  readonly done: number;
  readonly total: number;
  readonly failed: number;
}

export interface RunOptions {
  /** Ids in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Called after each id. */
  readonly onProgress?: (progress: RunProgress) => void;
  /** Stops the run: no new id starts, requests in flight give up; the report is partial. */
  readonly signal?: AbortSignal;
}

export async function runRecords(
  client: ShardedExpenseClient,
  records: readonly ExpenseCreate[],
  { concurrency = 8, onProgress, signal }: RunOptions = {},
): Promise<RunReport> {
  const started = performance.now();
  // First: the pre-flight check may also bring the client a newer ring, which then places the rows.
  const checked = await preflight(client);
  const rows: RunRow[] = records.map((r) => {
    const owner = client.ownerOf(r.id);
    return {
      id: String(r.id),
      node: owner.name,
      url: owner.url,
      post: { ok: false, outcome: "not-started" },
      get: { ok: false, outcome: "skipped", message: "POST failed" },
      ok: false,
    };
  });

  if (checked.misnamed.length > 0) {
    // Names decide placement: under names the instances do not go by, every id's owner may be wrong.
    const message = "not sent: the node names do not match the instances' (X-Shard-Node); nothing was sent";
    for (const row of rows) row.post = { ok: false, outcome: "wrong-node", message, unsent: true };
  } else {
    let done = 0;
    let failed = 0;
    await forEachLimit(records, concurrency, async (record, i) => {
      if (signal?.aborted) return;
      const row = rows[i]!;
      row.post = await postOne(client, record, signal, row);
      if (row.post.ok) row.get = await getOne(client, record, signal);
      row.ok = row.post.ok && row.get.ok;
      if (!row.ok) failed++;
      onProgress?.({ done: ++done, total: records.length, failed });
    });
  }

  const circuits = new Map(client.circuits().map((c) => [c.node, c]));
  const emptyCount = (n: { name: string; url: string }): NodeCount => ({
    node: n.name,
    url: n.url,
    ids: 0,
    ok: 0,
    created: 0,
    exists: 0,
    failed: 0,
    circuit: circuits.get(n.name),
  });
  const nodes = new Map<string, NodeCount>(client.nodes.map((n) => [n.name, emptyCount(n)]));
  let created = 0;
  let exists = 0;
  let failed = 0;
  let unfinished = 0;
  for (const row of rows) {
    // A row may name a node of the ring the client started with that the adopted ring dropped.
    if (!nodes.has(row.node)) nodes.set(row.node, emptyCount({ name: row.node, url: row.url }));
    const count = nodes.get(row.node)!;
    count.ids++;
    if (row.post.outcome === "not-started" || row.post.outcome === "interrupted" || row.get.outcome === "interrupted") unfinished++;
    else if (!row.ok) {
      count.failed++;
      failed++;
    } else {
      count.ok++;
      if (row.post.outcome === "created") {
        count.created++;
        created++;
      } else {
        count.exists++;
        exists++;
      }
    }
  }
  return {
    ok: failed + unfinished === 0,
    rows,
    nodes: [...nodes.values()],
    created,
    exists,
    failed,
    unfinished,
    interrupted: signal?.aborted ?? false,
    preflight: checked,
    elapsedMs: performance.now() - started,
  };
}

/** POSTs `record`; `row` learns where it went (the owner under a ring adopted on the way). */
async function postOne(client: ShardedExpenseClient, record: ExpenseCreate, signal: AbortSignal | undefined, row: RunRow): Promise<Step<PostOutcome>> {
  try {
    const r = await client.ensure(record, { signal });
    row.node = r.node.name;
    row.url = r.node.url;
    return { ok: true, outcome: r.outcome, status: r.outcome === "created" ? 201 : 409 };
  } catch (e) {
    return failure(e);
  }
}

async function getOne(client: ShardedExpenseClient, record: ExpenseCreate, signal?: AbortSignal): Promise<Step<GetOutcome>> {
  try {
    const stored = await client.get(record.id, { signal });
    if (!stored) return { ok: false, outcome: "missing", status: 404, message: `HTTP 404: not on its owner ${client.ownerOf(record.id).name}` };
    const diffs = compareRecord(record, stored);
    if (diffs.length > 0) return { ok: false, outcome: "differs", status: 200, message: describeDifferences(diffs) };
    return { ok: true, outcome: "match", status: 200 };
  } catch (e) {
    return failure(e);
  }
}

function failure(e: unknown): Step<FailureKind | "error"> {
  if (e instanceof ShardRequestError) {
    return { ok: false, outcome: e.kind, status: e.status, message: e.message, ...(e.unsent && { unsent: true as const }) };
  }
  return { ok: false, outcome: "error", message: errorMessage(e) };
}
