/**
 * `client verify`: reads every node's whole listing (page by page) and checks the
 * cluster against the expected records and the ring:
 *
 *   missing     an expected id is on no node
 *   unknown     an expected id not found, whose owner's listing failed before reaching
 *               it: not known to be missing (the listing is in id order)
 *   mismatched  an expected id is on its owner with other content
 *   misplaced   a record sits on a node that does not own it, and its owner lacks it
 *               (or, `ownerUnread`, its owner's listing failed before reaching it)
 *   extra       a second copy: a record on a non-owner while its owner has it too
 *
 * Placement is checked for every record found, not only the expected ids; records on
 * their owner outside the expected set are counted as `unchecked`. When the pattern is
 * clear, the report names the likely cause (diagnose.ts). As `client run`, verify first
 * asks every node its name (preflight.ts) and checks nothing under names the instances
 * do not go by.
 */
import { compareIds } from "../expenses/id.ts";
import type { ExpenseCreate } from "../expenses/model.ts";
import { compareRecord, type FieldDifference } from "./compare.ts";
import { likelyCauses, type LikelyCause } from "./diagnose.ts";
import { failureReason, ShardRequestError } from "./errors.ts";
import { preflight, type PreflightReport } from "./preflight.ts";
import { ringDisagreement } from "./ring-adoption.ts";
import type { ShardedExpenseClient } from "./sharded-client.ts";

export interface Placed {
  readonly id: string;
  /** Where the record was found. */
  readonly node: string;
  /** Where the ring puts it. */
  readonly owner: string;
  /**
   * Misplaced only: true when the owner's listing failed before reaching this id, so whether
   * the owner has it too (which would make this copy extra) is not known.
   */
  readonly ownerUnread?: true;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Expected ids checked. */
  readonly checked: number;
  /** Expected ids on their owner with the expected content. */
  readonly good: number;
  readonly nodes: readonly { node: string; url: string; records: number; error?: string }[];
  readonly missing: readonly { id: string; owner: string }[];
  /** Expected ids not found whose owner's listing failed before reaching them: neither found nor known missing. */
  readonly unknown: readonly { id: string; owner: string }[];
  readonly mismatched: readonly { id: string; owner: string; differences: readonly FieldDifference[] }[];
  readonly misplaced: readonly Placed[];
  readonly extra: readonly Placed[];
  /** Records on their owner whose id was not in the expected set. */
  readonly unchecked: number;
  /** Nodes whose listing could not be read: the check is incomplete. */
  readonly errors: readonly { node: string; url: string; message: string }[];
  /** The ring the check placed by (the client's, or a newer one it adopted from the instances). */
  readonly ring: string;
  /** Ring-aware nodes whose ring is not that one: what they hold (and refuse) follows another ring. */
  readonly rings: readonly { node: string; url: string; ring: string; problem: string }[];
  /** What the findings point to, when the pattern is clear. */
  readonly causes: readonly LikelyCause[];
  readonly preflight: PreflightReport;
}

export interface VerifyOptions {
  /** Records per listing request. Default 500. */
  readonly pageSize?: number;
}

export async function verifyRecords(
  client: ShardedExpenseClient,
  expected: readonly ExpenseCreate[],
  { pageSize = 500 }: VerifyOptions = {},
): Promise<VerifyReport> {
  const errors: { node: string; url: string; message: string }[] = [];
  const checked = await preflight(client);
  if (checked.misnamed.length > 0) {
    const nodes = client.nodes.map((n) => ({ node: n.name, url: n.url, records: 0 }));
    return {
      ok: false,
      checked: expected.length,
      good: 0,
      nodes,
      missing: [],
      unknown: [],
      mismatched: [],
      misplaced: [],
      extra: [],
      unchecked: 0,
      errors,
      ring: client.ring.label,
      rings: [],
      causes: [],
      preflight: checked,
    };
  }
  // Listing may make the client adopt a newer ring, whose nodes may be others: list again, once.
  let listed = await listEvery(client, pageSize);
  if (listed.ring !== client.ring) listed = await listEvery(client, pageSize);
  const { found, errors: listingErrors, listings, listedThrough, nodes } = listed;
  errors.push(...listingErrors);
  const rings = client.nodes.flatMap((n) => {
    const theirs = client.ringSeenAt(n.name);
    return typeof theirs === "string" && theirs !== client.ring.label
      ? [{ node: n.name, url: n.url, ring: theirs, problem: ringDisagreement(theirs, client.ring) }]
      : [];
  });
  /** Whether the listing of `node` read far enough to say that `id` is not there. */
  const reached = (node: string, id: string) => {
    const through = listedThrough.get(node);
    return through === "all" || (through !== undefined && compareIds(id, through) <= 0);
  };

  const missing: { id: string; owner: string }[] = [];
  const unknown: { id: string; owner: string }[] = [];
  const mismatched: { id: string; owner: string; differences: FieldDifference[] }[] = [];
  const expectedIds = new Set<string>();
  let good = 0;
  for (const record of expected) {
    const id = String(record.id);
    expectedIds.add(id);
    const owner = client.ownerOf(id).name;
    const where = found.get(id);
    if (where?.has(owner)) {
      const differences = compareRecord(record, where.get(owner));
      if (differences.length > 0) mismatched.push({ id, owner, differences });
      else good++;
    } else if (!where) {
      (reached(owner, id) ? missing : unknown).push({ id, owner });
    } // else: only on other nodes, reported as misplaced below
  }

  const misplaced: Placed[] = [];
  const extra: Placed[] = [];
  let unchecked = 0;
  for (const [id, where] of found) {
    const owner = client.ownerOf(id).name;
    for (const node of where.keys()) {
      if (node === owner) {
        if (!expectedIds.has(id)) unchecked++;
      } else if (where.has(owner)) {
        extra.push({ id, node, owner });
      } else {
        misplaced.push(reached(owner, id) ? { id, node, owner } : { id, node, owner, ownerUnread: true });
      }
    }
  }
  const byId = (a: { id: string }, b: { id: string }) => compareIds(a.id, b.id);
  misplaced.sort(byId);
  extra.sort(byId);

  const ok = errors.length === 0 && rings.length === 0 && missing.length + mismatched.length + misplaced.length + extra.length === 0;
  const causes = ok ? [] : likelyCauses(client.ring, listings, misplaced.length + extra.length);
  return {
    ok,
    checked: expected.length,
    good,
    nodes,
    missing,
    unknown,
    mismatched,
    misplaced,
    extra,
    unchecked,
    errors,
    ring: client.ring.label,
    rings,
    causes,
    preflight: checked,
  };
}

/** Every node's whole listing, under the client's ring as it stands when the listing starts. */
async function listEvery(client: ShardedExpenseClient, pageSize: number) {
  // id -> node name -> stored record
  const found = new Map<string, Map<string, unknown>>();
  const errors: { node: string; url: string; message: string }[] = [];
  // node name -> its ids in listing order
  const listings = new Map<string, string[]>();
  // node name -> how far its listing got: "all", or the last id read before it failed
  const listedThrough = new Map<string, "all" | string | undefined>();
  const ring = client.ring;
  const nodes = await Promise.all(
    client.nodes.map(async (n) => {
      let records = 0;
      let last: string | undefined;
      const listed: string[] = [];
      listings.set(n.name, listed);
      try {
        for await (const record of client.list(n.name, { pageSize })) {
          const id = String(record.id);
          let where = found.get(id);
          if (!where) {
            where = new Map();
            found.set(id, where);
          }
          where.set(n.name, record);
          listed.push(id);
          records++;
          last = id;
        }
        listedThrough.set(n.name, "all");
        return { node: n.name, url: n.url, records };
      } catch (e) {
        listedThrough.set(n.name, last);
        const message = failureReason(e);
        // "listing not sent: node down: ..." when its node's circuit kept it back; else how far it got
        const what =
          e instanceof ShardRequestError && e.unsent
            ? "listing"
            : records === 0
              ? "listing failed:"
              : `listing failed after ${records.toLocaleString("en-US")} record${records === 1 ? "" : "s"}:`;
        errors.push({ node: n.name, url: n.url, message: `${what} ${message}` });
        return { node: n.name, url: n.url, records, error: message };
      }
    }),
  );
  return { ring, found, errors, listings, listedThrough, nodes };
}
