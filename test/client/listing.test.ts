/**
 * ShardedExpenseClient.list and verify against listings that do not behave: pages larger
 * than asked, a `next` that skips, repeats or stands still, empty pages that say more
 * follows, records without a valid id. Every one must end (no endless paging), and none
 * may hide a record or crash verify. A scripted HTTP server plays the node.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { ShardRequestError } from "../../src/client/errors.ts";
import { ShardedExpenseClient } from "../../src/client/sharded-client.ts";
import { verifyRecords } from "../../src/client/verify.ts";
import { seedRecord } from "../../src/expenses/seed-data.ts";

const ALL = Array.from({ length: 25 }, (_, i) => ({ ...seedRecord(String(i + 1)), status: "pending", decision_date: "" }));
type Answer = (after: number, limit: number, rest: typeof ALL) => unknown;

let answer: Answer = () => ({ items: [], next: null });
let calls = 0;
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    // verify's pre-flight check: a node that is up
    if (new URL(req.url).pathname === "/readyz") return Response.json({ ready: true });
    // A bound of our own, so that a client that pages forever fails instead of hanging.
    if (++calls > 200) return Response.json({ message: "the client paged 200 times" }, { status: 400 });
    const url = new URL(req.url);
    const after = url.searchParams.has("after") ? Number(url.searchParams.get("after")) : -1;
    const limit = Number(url.searchParams.get("limit"));
    const body = answer(
      after,
      limit,
      ALL.filter((r) => Number(r.id) > after),
    );
    const status = (body as { status?: unknown } | null)?.status;
    return typeof status === "number" ? Response.json({ message: "scripted failure" }, { status }) : Response.json(body);
  },
});
afterAll(() => server.stop(true));

const client = new ShardedExpenseClient({ nodes: [{ name: "n", url: `http://127.0.0.1:${server.port}` }], retries: 0, checkNodeName: false });

/** The node answers `how` from now on, with its call count back at 0. */
function script(how: Answer): void {
  answer = how;
  calls = 0;
}

async function listAll(how: Answer, pageSize = 4): Promise<{ ids: string[]; error?: ShardRequestError; calls: number }> {
  script(how);
  const ids: string[] = [];
  try {
    for await (const r of client.list("n", { pageSize })) ids.push(String(r.id));
    return { ids, calls };
  } catch (e) {
    if (!(e instanceof ShardRequestError)) throw e;
    return { ids, error: e, calls };
  }
}

const every = ALL.map((r) => String(r.id));

describe("list pages to the end, whatever the page sizes", () => {
  test("the contract's { items, next }", async () => {
    const r = await listAll((_, limit, rest) => ({ items: rest.slice(0, limit), next: rest.length > limit ? rest[limit - 1]!.id : null }));
    expect(r).toEqual({ ids: every, calls: 7 });
  });

  test("pages three times larger than asked", async () => {
    const r = await listAll((_, limit, rest) => {
      const items = rest.slice(0, limit * 3);
      return { items, next: rest.length > items.length ? items.at(-1)!.id : null };
    });
    expect(r).toEqual({ ids: every, calls: 3 });
  });

  test("a next cursor that jumps past records the page did not hold hides none of them", async () => {
    // Pages of `limit`, but next points 3 ids further than the last item.
    const r = await listAll((_, limit, rest) => ({
      items: rest.slice(0, limit),
      next: rest.length > limit ? String(Number(rest[limit - 1]!.id) + 3) : null,
    }));
    expect(r.error).toBeUndefined();
    expect(r.ids).toEqual(every);
  });

  test("a next cursor behind the page's last item repeats no record", async () => {
    const r = await listAll((_, limit, rest) => ({ items: rest.slice(0, limit), next: rest.length > limit ? rest[0]!.id : null }));
    expect(r.error).toBeUndefined();
    expect(r.ids).toEqual(every);
  });
});

describe("a listing that would never end, or is not one, fails as an invalid response", () => {
  test("a node that ignores after and sends the first page again", async () => {
    const r = await listAll((_, limit) => ({ items: ALL.slice(0, limit), next: ALL[limit - 1]!.id }));
    expect(r.error?.kind).toBe("invalid-response");
    expect(r.error?.message).toContain("went back");
    expect(r.ids).toEqual(every.slice(0, 4));
  });

  test("a next that stands still", async () => {
    const r = await listAll((_, limit, rest) => ({ items: rest.slice(0, limit), next: "3" }));
    // The cursor is the last id received, so the listing still advances to the end;
    // there the empty page whose next is not null ends it as invalid.
    expect(r.calls).toBe(8); // seven pages of up to 4, then the empty page that still says more
    expect(r.ids).toEqual(every);
    expect(r.error?.kind).toBe("invalid-response");
  });

  test("empty pages that say more follows", async () => {
    const r = await listAll((after) => ({ items: [], next: String(after + 1) }));
    expect(r.calls).toBe(1);
    expect(r.error?.kind).toBe("invalid-response");
    expect(r.error?.message).toContain("empty page");
  });

  test("a record whose id is not a canonical id", async () => {
    const r = await listAll(() => ({ items: [{ ...ALL[0], id: "x1" }], next: null }));
    expect(r.error?.kind).toBe("invalid-response");
    expect(r.error?.message).toContain('"x1"');
  });

  test.each([
    ["a bare array", [ALL[0]]],
    ["records under another key", { expenses: [ALL[0]], next: null }],
    ["no next", { items: [ALL[0]] }],
    ["a next that is not an id or null", { items: [ALL[0]], next: 2 }],
  ])("%s (not the contract's { items, next })", async (_, body) => {
    const r = await listAll(() => body);
    expect(r.error?.kind).toBe("invalid-response");
    expect(r.error?.message).toContain('the listing is not { "items": [...], "next": <id> or null }');
    expect(r).toMatchObject({ ids: [], calls: 1 });
  });

  test("ids out of order within a page", async () => {
    const r = await listAll(() => ({ items: [ALL[3], ALL[1]], next: null }));
    expect(r.error?.kind).toBe("invalid-response");
    expect(r.ids).toEqual(["4"]);
  });
});

describe("verify over such listings", () => {
  const expected = ALL.map(({ status, decision_date, ...sent }) => sent);

  test("pages larger than the page size: every record counted once, verify clean", async () => {
    script((_, limit, rest) => ({ items: rest.slice(0, limit * 3), next: rest.length > limit * 3 ? rest[limit * 3 - 1]!.id : null }));
    const report = await verifyRecords(client, expected, { pageSize: 4 });
    expect(report).toMatchObject({ ok: true, good: 25, errors: [] });
    expect(report.nodes[0]!.records).toBe(25);
  });

  test("a listing that fails part-way: ids it read past are missing, the rest unknown", async () => {
    // Id 2 is not stored; the third page fails (after 9).
    script((after, limit, rest) => {
      if (after >= 9) return { status: 500 };
      const items = rest.filter((r) => r.id !== "2").slice(0, limit);
      return { items, next: items.at(-1)!.id };
    });
    const report = await verifyRecords(client, expected, { pageSize: 4 });
    expect(report.ok).toBe(false);
    expect(report.errors).toHaveLength(1);
    expect(report.missing).toEqual([{ id: "2", owner: "n" }]);
    expect(report.unknown.map((u) => u.id)).toEqual(every.slice(9));
    expect(report.good).toBe(8);
  });

  test("a record with an invalid id makes verify fail for that node, not crash", async () => {
    script(() => ({ items: [...ALL.slice(0, 2), { ...ALL[2], id: "007" }], next: null }));
    const report = await verifyRecords(client, expected, { pageSize: 4 });
    expect(report.ok).toBe(false);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]!.message).toContain('"007"');
  });
});
