/**
 * A POST whose answer is lost after the record was stored (a timeout, a 5xx from a proxy)
 * is retried; the retry's 409 with an equal record must count as done: no false failure,
 * no second copy. A real instance sits behind a proxy that forwards every request and
 * then spoils the first answer to each POST.
 */
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { runRecords } from "../../src/client/run.ts";
import { recordsForIds } from "../../src/client/input.ts";
import { ShardedExpenseClient } from "../../src/client/sharded-client.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";
import { useCluster } from "../support/cluster.ts";

// Each spoiled answer costs a client timeout (1.5 s); leave room on a loaded machine.
setDefaultTimeout(30_000);

// Each test has its own instance and proxy, and sets how the proxy spoils answers.
const cluster = useCluster({ nodes: ["a"] });
let spoil: "slow" | "503" = "slow";
/** POSTs the proxy saw, per id. */
let posts = new Map<string, number>();
let proxy: ReturnType<typeof Bun.serve> | undefined;

beforeEach(() => {
  const upstream = cluster().nodes[0]!.url;
  posts = new Map();
  proxy = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const body = req.method === "POST" || req.method === "PUT" ? await req.text() : undefined;
      const res = await fetch(upstream + url.pathname + url.search, { method: req.method, body, headers: req.headers });
      const text = await res.text();
      if (req.method === "POST") {
        const id = String(JSON.parse(body!).id);
        const n = (posts.get(id) ?? 0) + 1;
        posts.set(id, n);
        if (n === 1) {
          // The instance has answered (and stored the record); the client never sees it.
          if (spoil === "503") return Response.json({ message: "bad gateway" }, { status: 503 });
          // Hold the answer until the client gives up (its timeout aborts the request).
          await Promise.race([new Promise((done) => req.signal.addEventListener("abort", done)), Bun.sleep(30_000)]);
        }
      }
      return new Response(text, { status: res.status, headers: res.headers });
    },
  });
});
afterEach(() => {
  proxy?.stop(true);
  proxy = undefined;
});

// The timeout only has to expire on the held answer; the retry has a generous second.
const client = () => new ShardedExpenseClient({ nodes: [{ name: "a", url: `http://127.0.0.1:${proxy!.port}` }], timeoutMs: 1500, retries: 2, backoffMs: 1 });

/** The ids stored on the instance, asked directly (not through the proxy). */
async function storedIds(): Promise<string[]> {
  const page = (await (await fetch(`${cluster().nodes[0]!.url}/v1/expenses?limit=1000`)).json()) as { items: { id: string }[] };
  return page.items.map((r) => r.id);
}

describe("a POST retried after its answer was lost", () => {
  test("after a timeout: ensure reports the record as there, sent twice, stored once", async () => {
    spoil = "slow";
    const r = await client().ensure(seedRecord("1"));
    expect(r.outcome).toBe("exists");
    expect(r.attempts).toBe(2);
    expect(r.record).toMatchObject(seedRecord("1"));
    expect(posts.get("1")).toBe(2);
    expect(await storedIds()).toEqual(["1"]);
  });

  test("after a 5xx: the same", async () => {
    spoil = "503";
    const r = await client().ensure(seedRecord("2"));
    expect([r.outcome, r.attempts, posts.get("2")]).toEqual(["exists", 2, 2]);
    expect(await storedIds()).toEqual(["2"]);
  });

  test("client run over such a node succeeds for every id, with no duplicate", async () => {
    spoil = "slow";
    const report = await runRecords(client(), recordsForIds(["10", "11", "12", "13"]), { concurrency: 4 });
    expect(report.rows.map((row) => [row.id, row.ok, row.post.outcome, row.get.outcome])).toEqual(
      ["10", "11", "12", "13"].map((id) => [id, true, "exists", "match"]),
    );
    expect(report.ok).toBe(true);
    expect(["10", "11", "12", "13"].map((id) => posts.get(id))).toEqual([2, 2, 2, 2]);
    expect(await storedIds()).toEqual(["10", "11", "12", "13"]);
  });
});
