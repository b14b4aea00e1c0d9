/**
 * Before a repair changes anything: every node answers, under the name the ring gives it,
 * with the ring it holds. From that, the ring in force: the newest ring the nodes hold (the
 * client's adoption rule, client/ring-adoption.ts), or the one of the options when none
 * holds a ring; and the nodes to repair: those listed and those of that ring.
 *
 * Refused (nothing changed): a node that is down (exit 1), or answers under another name
 * (exit 2); nodes that hold different rings of one epoch, or a ring older than the newest
 * (a stale node: exit 1); a rebalance unfinished anywhere (exit 1); options that name a
 * ring newer than the cluster's (exit 2: that is a rebalance); two nodes that list the
 * same records (two instances on one database: a repair would delete the owner's copies).
 */
import { failureReason } from "../client/errors.ts";
import { UsageError } from "../errors.ts";
import type { Node } from "../ring/node.ts";
import { differingFields } from "../rebalance/sync.ts";
import { ringOfDocument } from "../ring/ring-file.ts";
import type { Ring } from "../ring/ring.ts";
import { atNode, RepairFailed } from "./errors.ts";
import type { RepairNode } from "./node.ts";

/** Records of each node's listing compared to find two instances on one database. */
const SAME_DATABASE_SAMPLE = 200;

export interface SurveyedNode {
  readonly node: RepairNode;
  /** The label of the ring it holds; null: none. */
  readonly held: string | null;
  /** Records it holds (its own count). */
  readonly records: number;
}

export interface RepairSurvey {
  readonly ring: Ring;
  readonly ringFrom: "cluster" | "options";
  /** The listed nodes, then those of the ring not listed. */
  readonly nodes: readonly SurveyedNode[];
}

interface Held {
  readonly node: RepairNode;
  readonly ring: Ring | undefined;
}

async function heldBy(node: RepairNode): Promise<Held> {
  let answer: Awaited<ReturnType<RepairNode["ring"]>>;
  try {
    answer = await node.ring();
  } catch (e) {
    throw new RepairFailed("survey", `node ${node.name} (${node.url}) is not up: ${failureReason(e)}; a repair needs every node`, { node: node.name });
  }
  if (answer.servedBy !== node.name) {
    throw new UsageError(
      `${node.url} answers as node "${answer.servedBy}", but the ring names it "${node.name}": fix --nodes (or the ring file) or the instance's --name; ` +
        `a repair by the wrong names would move records to the wrong nodes`,
    );
  }
  const rebalance = answer.doc?.rebalance;
  if (rebalance && rebalance.phase !== "done") {
    throw new RepairFailed(
      "survey",
      `node ${node.name} takes part in rebalance ${rebalance.job} (phase ${rebalance.phase}): finish it first (run shardctl rebalance again), then repair`,
      { node: node.name },
    );
  }
  if (!answer.doc) return { node, ring: undefined };
  const { rebalance: _, ...doc } = answer.doc;
  return { node, ring: ringOfDocument(doc, { what: `node ${node.name}'s ring` }) };
}

/** The ring in force and the nodes to repair, from the options' ring `given` (`source` names where it came from). */
export async function surveyForRepair(given: Ring, source: string, nodeOf: (node: Node) => RepairNode): Promise<RepairSurvey> {
  const listed = await Promise.all(given.nodes.map((n) => heldBy(nodeOf(n))));
  const holding = listed.filter((h) => h.ring !== undefined) as (Held & { ring: Ring })[];
  let ring = given;
  let ringFrom: RepairSurvey["ringFrom"] = "options";
  if (holding.length > 0) {
    const newest = holding.reduce((a, b) => (b.ring.epoch > a.ring.epoch ? b : a));
    for (const h of holding) {
      if (h.ring.epoch === newest.ring.epoch && h.ring.fingerprint !== newest.ring.fingerprint) {
        throw new RepairFailed(
          "survey",
          `nodes ${newest.node.name} and ${h.node.name} hold different rings of one epoch (${newest.ring.label}, ${h.ring.label}): ` +
            `the cluster has no one ring to repair by (shardctl ring check shows which node holds which)`,
        );
      }
    }
    if (given.epoch > newest.ring.epoch || (given.epoch === newest.ring.epoch && given.fingerprint !== newest.ring.fingerprint)) {
      throw new UsageError(
        `${source} gives ring ${given.label}, but the instances hold ring ${newest.ring.label}: a repair places records by the ring the cluster holds; ` +
          `to move the cluster to another ring, run shardctl rebalance`,
      );
    }
    ring = newest.ring;
    ringFrom = "cluster";
  }
  // the nodes of the ring in force that were not listed: their records are placed too
  const names = new Set(given.nodes.map((n) => n.name));
  const unlisted = await Promise.all(ring.nodes.filter((n) => !names.has(n.name)).map((n) => heldBy(nodeOf(n))));
  const all = [...listed, ...unlisted];
  for (const h of all) {
    if (h.ring && h.ring.label !== ring.label) {
      throw new RepairFailed(
        "survey",
        `node ${h.node.name} holds ring ${h.ring.label}, older than the cluster's ring ${ring.label}: it is stale; bring it to the cluster's ring ` +
          `(finish the rebalance that left it behind), then repair`,
        { node: h.node.name },
      );
    }
  }
  await checkDatabases(all.map((h) => h.node));
  const records = await Promise.all(all.map((h) => atNode("survey", h.node, () => h.node.count())));
  return { ring, ringFrom, nodes: all.map((h, i) => ({ node: h.node, held: h.ring ? h.ring.label : null, records: records[i]! })) };
}

/**
 * Refuses two nodes that list the same records, field for field: two instances answering
 * from one database, where removing a "stray" copy deletes the owner's.
 */
async function checkDatabases(nodes: readonly RepairNode[]): Promise<void> {
  const firsts = await Promise.all(nodes.map((n) => atNode("survey", n, () => n.firstRecords(SAME_DATABASE_SAMPLE))));
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const [a, b] = [firsts[i]!, firsts[j]!];
      if (a.length > 0 && a.length === b.length && a.every((r, k) => differingFields(r, b[k]!).length === 0)) {
        throw new RepairFailed(
          "survey",
          `nodes ${nodes[i]!.name} and ${nodes[j]!.name} list the same records (their first ${a.length}): two instances answering from one ` +
            `database? A repair would delete the owner's copies with the "strays"; give each instance its own --db, then repair`,
        );
      }
    }
  }
}
